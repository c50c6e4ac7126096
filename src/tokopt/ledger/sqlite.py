"""The SQLite ledger (the default backend): one file in WAL mode, readable by its owner only.

`PRAGMA application_id` marks the file as a tokopt ledger, so a foreign or corrupt file is
refused and never written; an older schema is migrated (`migrations`) after a backup. Every
command is one transaction (`write()`), so a killed process leaves the ledger as it was.

Money is stored as Decimal text (`cost_usd`, exact, the record of truth) and, when it is a
whole number of pico-dollars, as that integer too (`cost_picousd`), so that reports can sum
a million costs in SQL exactly; rows without the integer are summed as Decimal in Python.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokopt.ledger.sqlitefile import PICO, connect, money_text, parse_time_text, picousd, prepare, time_text, translate
from tokopt.ledger.store import Filters, Run, Sums, UpsertResult
from tokopt.ledger.timezones import offset_spans
from tokopt.usage import TOKEN_FIELDS, UsageRecord


class SqliteStore:
    """An open SQLite ledger (see `store.Store`). Use `write()` or `read()` around every group of statements."""

    def __init__(self, db: sqlite3.Connection, path: Path | None) -> None:
        self.db = db
        self.path = path
        self.location = str(path) if path is not None else ":memory:"
        self.migrated_from: int | None = None
        self.backup_path: Path | None = None

    @property
    def backup(self) -> str | None:
        return str(self.backup_path) if self.backup_path is not None else None

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> SqliteStore:
        """Open (and if `create`, create) the ledger at `path`, migrating an older schema.

        Without `create`, a missing file opens as an empty in-memory ledger, so that reading
        commands never create files.
        """
        if not path.exists() and not create:
            return cls.memory()
        store = cls(connect(path), path)
        store.migrated_from, store.backup_path = prepare(store.db, path)
        return store

    @classmethod
    def memory(cls) -> SqliteStore:
        store = cls(sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False), None)
        prepare(store.db, None)
        return store

    def close(self) -> None:
        self.db.close()

    @property
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[SqliteStore]:
        """One write transaction; it takes the write lock at once so writers queue, never fail."""
        with self._translated():
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[SqliteStore]:
        """One read transaction: every query inside sees the same snapshot."""
        with self._translated():
            self.db.execute("BEGIN")
            try:
                yield self
            finally:
                if self.db.in_transaction:
                    self.db.execute("COMMIT")

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            error = translate(exc, self.path)
            if error is None:
                raise
            raise error from None

    # -- runs ---------------------------------------------------------------------------------

    def run_id_exists(self, run_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def insert_run(self, run: Run) -> None:
        self.db.execute(
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                run.id,
                run.user,
                run.name,
                json.dumps(run.labels, sort_keys=True, ensure_ascii=False),
                time_text(run.started_at),
                time_text(run.ended_at) if run.ended_at else None,
            ),
        )

    def get_run(self, run_id: str) -> Run | None:
        row = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_of(row) if row else None

    def runs_named(self, name: str, user: str | None) -> list[Run]:
        """Runs with this name (of `user`, or of anyone), newest first."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE name = ?"
        args: list[object] = [name]
        if user is not None:
            sql += " AND user = ?"
            args.append(user)
        rows = self.db.execute(sql + " ORDER BY started_at DESC, rowid DESC", args).fetchall()
        return [_run_of(r) for r in rows]

    def end_run(self, run_id: str, ended_at: dt.datetime) -> None:
        self.db.execute("UPDATE runs SET ended_at = ? WHERE id = ?", (time_text(ended_at), run_id))
        self.db.execute("DELETE FROM current_run WHERE run_id = ?", (run_id,))

    def delete_run(self, run_id: str) -> int:
        """Delete a run and its usage records; returns how many records went with it."""
        deleted = self.db.execute("DELETE FROM usage WHERE run_id = ?", (run_id,)).rowcount
        self.db.execute("DELETE FROM current_run WHERE run_id = ?", (run_id,))
        self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        return int(deleted)

    def current_run(self, user: str) -> Run | None:
        row = self.db.execute(
            f"SELECT {', '.join('r.' + c for c in _RUN_COLUMNS.split(', '))} "
            "FROM current_run c JOIN runs r ON r.id = c.run_id WHERE c.user = ?",
            (user,),
        ).fetchone()
        return _run_of(row) if row else None

    def set_current_run(self, user: str, run_id: str) -> None:
        self.db.execute(
            "INSERT INTO current_run (user, run_id) VALUES (?, ?) ON CONFLICT(user) DO UPDATE SET run_id = excluded.run_id",
            (user, run_id),
        )

    def list_runs(self, user: str | None) -> list[tuple[Run, Sums, bool]]:
        """Runs (of `user`, or everyone's) with their totals and whether each is its user's current run."""
        sql = (
            f"SELECT {', '.join('r.' + c for c in _RUN_COLUMNS.split(', '))}, "
            "(SELECT 1 FROM current_run c WHERE c.run_id = r.id) FROM runs r"
        )
        args: list[object] = []
        if user is not None:
            sql += " WHERE r.user = ?"
            args.append(user)
        runs = [(_run_of(row[:6]), bool(row[6])) for row in self.db.execute(sql + " ORDER BY r.started_at, r.rowid", args)]
        totals = _aggregate(self.db, ["run_id"], Filters(user=user)) if runs else {}
        return [(run, totals.get((run.id,), Sums()), current) for run, current in runs]

    # -- usage --------------------------------------------------------------------------------

    def upsert_usage(self, records: Iterable[UsageRecord]) -> UpsertResult:
        """Insert records; one whose (user, dedupe_key) is stored already replaces it only if larger."""
        before = self.db.execute("SELECT coalesce(max(id), 0) FROM usage").fetchone()[0]
        params = [_params(r) for r in records]
        changed = self.db.executemany(_UPSERT, params).rowcount if params else 0
        added = self.db.execute("SELECT count(*) FROM usage WHERE id > ?", (before,)).fetchone()[0]
        return UpsertResult(added=added, updated=changed - added, unchanged=len(params) - changed)

    def insert_usage(self, record: UsageRecord) -> int:
        """Insert one record and return its id (the stored record's id if its dedupe key was seen)."""
        cur = self.db.execute(_UPSERT + " RETURNING id", _params(record))
        found = cur.fetchone()
        if found is not None:
            return int(found[0])
        existing = self.db.execute(
            "SELECT id FROM usage WHERE user = ? AND dedupe_key = ?", (record.user, record.dedupe_key)
        ).fetchone()
        return int(existing[0])

    def get_usage(self, ids: Sequence[int]) -> list[UsageRecord]:
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = self.db.execute(f"SELECT id, {_USAGE_COLUMNS} FROM usage WHERE id IN ({marks}) ORDER BY id", list(ids))
        return [_record_of(r) for r in rows]

    def usage_rows(self, filters: Filters) -> list[UsageRecord]:
        where, args = _where(filters)
        rows = self.db.execute(f"SELECT id, {_USAGE_COLUMNS} FROM usage WHERE {where} ORDER BY time, id", args)
        return [_record_of(r) for r in rows]

    def count_usage(self, filters: Filters) -> int:
        where, args = _where(filters)
        return int(self.db.execute(f"SELECT count(*) FROM usage WHERE {where}", args).fetchone()[0])

    # -- reports ------------------------------------------------------------------------------

    def sums(self, group: Sequence[str], filters: Filters, *, tz: dt.tzinfo = dt.timezone.utc) -> dict[tuple[object, ...], Sums]:
        """Sums per group (`store.GROUPS`), days counted in `tz`."""
        if "day" not in group:
            return _aggregate(self.db, [{"run": "run_id"}.get(g, g) for g in group], filters)
        if list(group) != ["day"]:
            raise ValueError(f"cannot group by {', '.join(group)} together")
        return _days(self.db, filters, tz)

    def unpriced_models(self, filters: Filters) -> list[tuple[str, int]]:
        """Models whose records have no cost, with how many records each."""
        where, args = _where(filters)
        rows = self.db.execute(
            f"SELECT model, count(*) FROM usage WHERE {where} AND cost_usd IS NULL "
            "GROUP BY model ORDER BY count(*) DESC, model",
            args,
        )
        return [(str(m), int(c)) for m, c in rows]

    def total(self, filters: Filters) -> Sums:
        """One grand total: what budgets ask for."""
        return _aggregate(self.db, [], filters).get((), Sums())


_RUN_COLUMNS = "id, user, name, labels, started_at, ended_at"


def _run_of(row: Sequence[object]) -> Run:
    run_id, user, name, labels, started, ended = row
    return Run(
        id=str(run_id),
        user=str(user),
        name=str(name),
        labels=json.loads(str(labels)),
        started_at=parse_time_text(str(started)),
        ended_at=parse_time_text(str(ended)) if ended is not None else None,
    )


# One column per token kind, named as the Usage field (`migrations.add_token_columns` adds new ones).
_USAGE_COLUMNS = ", ".join(
    [
        "time, user, run_id, provider, model",
        *TOKEN_FIELDS,
        "cost_usd, cost_picousd, pricing_as_of, batch, estimated, source, dedupe_key, prompt_hash",
    ]
)
_N_COLUMNS = len(_USAGE_COLUMNS.split(", "))
# A record seen again (the same file imported twice, a streaming partial) replaces the stored
# one only when it has more tokens: every response counts once, with its largest counts.
_UPSERT = (
    f"INSERT INTO usage ({_USAGE_COLUMNS}) VALUES ({', '.join('?' * _N_COLUMNS)}) "
    "ON CONFLICT(user, dedupe_key) WHERE dedupe_key IS NOT NULL DO UPDATE SET "
    + ", ".join(
        f"{c} = excluded.{c}"
        for c in ["time", "provider", "model", *TOKEN_FIELDS]
        + "cost_usd cost_picousd pricing_as_of batch estimated source prompt_hash".split()
    )
    + " WHERE excluded.input_tokens + excluded.output_tokens > usage.input_tokens + usage.output_tokens"
)


def _params(row: UsageRecord) -> tuple[object, ...]:
    if row.time is None or row.user is None:
        raise ValueError("a stored usage record has a time and a user")
    return (
        time_text(row.time),
        row.user,
        row.run_id,
        row.provider,
        row.model,
        *[getattr(row, name) for name in TOKEN_FIELDS],
        money_text(row.cost_usd) if row.cost_usd is not None else None,
        picousd(row.cost_usd),
        row.pricing_as_of.isoformat() if row.pricing_as_of else None,
        int(row.batch),
        int(row.estimated),
        row.source,
        row.dedupe_key,
        row.prompt_hash,
    )


def _record_of(r: Sequence[Any]) -> UsageRecord:
    n = len(TOKEN_FIELDS)
    id_, time, user, run_id, provider, model = r[:6]
    cost, _pico, as_of, batch, estimated, source, key, phash = r[6 + n :]
    return UsageRecord(
        id=int(id_),
        time=parse_time_text(str(time)),
        user=str(user),
        run_id=None if run_id is None else str(run_id),
        provider=None if provider is None else str(provider),
        model=str(model),
        **{name: int(value) for name, value in zip(TOKEN_FIELDS, r[6 : 6 + n])},
        cost_usd=None if cost is None else Decimal(str(cost)),
        pricing_as_of=None if as_of is None else dt.date.fromisoformat(str(as_of)),
        batch=bool(batch),
        estimated=bool(estimated),
        source=str(source),
        dedupe_key=None if key is None else str(key),
        prompt_hash=None if phash is None else str(phash),
    )


def _where(filters: Filters, alias: str = "") -> tuple[str, list[object]]:
    p = f"{alias}." if alias else ""
    clauses: list[str] = []
    args: list[object] = []
    if filters.user is not None:
        clauses.append(f"{p}user = ?")
        args.append(filters.user)
    if filters.run_ids is not None:
        if not filters.run_ids:
            clauses.append("0")
        else:
            clauses.append(f"{p}run_id IN ({', '.join('?' * len(filters.run_ids))})")
            args.extend(filters.run_ids)
    if filters.since is not None:
        clauses.append(f"{p}time >= ?")
        args.append(time_text(filters.since))
    if filters.until is not None:
        clauses.append(f"{p}time < ?")
        args.append(time_text(filters.until))
    return (" AND ".join(clauses) or "1"), args


# SQL of the groups `_aggregate` knows
GROUPS = {
    "model": ("provider", "model"),
    "provider": ("provider",),
    "user": ("user",),
    "run_id": ("run_id",),
    "utc_hour": ("substr(time, 1, 13)",),
}


def _sums(exact_sql: bool) -> str:
    # count(x) counts non-null x: priced rows, and rows whose cost SQL can sum exactly
    cost, exact_rows = ("sum(cost_picousd)", "count(cost_picousd)") if exact_sql else ("0", "0")
    tokens = ", ".join(f"sum({name})" for name in TOKEN_FIELDS)
    return f"count(*), {tokens}, sum(estimated), count(cost_usd), {cost}, {exact_rows}"


def _aggregate(
    db: sqlite3.Connection,
    group: Sequence[str],
    filters: Filters,
    *,
    day_offset_minutes: int | None = None,
) -> dict[tuple[object, ...], Sums]:
    """Sums per group, in one pass over the rows.

    `group` holds keys of GROUPS (empty: one grand total); `day_offset_minutes` adds a
    day group: the date of (time + offset), so that a caller can group by local days.
    """
    exprs = [e for g in group for e in GROUPS[g]]
    if day_offset_minutes is not None:
        exprs.append(f"date(time, '{day_offset_minutes:+d} minutes')" if day_offset_minutes else "substr(time, 1, 10)")
    where, args = _where(filters)
    group_by = f" GROUP BY {', '.join(str(i + 1) for i in range(len(exprs)))}" if exprs else ""
    exact_sql = True
    try:
        rows = db.execute(f"SELECT {', '.join([*exprs, _sums(True)])} FROM usage WHERE {where}{group_by}", args).fetchall()
    except sqlite3.OperationalError as exc:
        if "integer overflow" not in str(exc):
            raise
        # Over 9.2 million USD in one group overflows SQLite's integers: add Decimals instead.
        exact_sql = False
        rows = db.execute(f"SELECT {', '.join([*exprs, _sums(False)])} FROM usage WHERE {where}{group_by}", args).fetchall()
    n, k = len(exprs), len(TOKEN_FIELDS)
    found: dict[tuple[object, ...], tuple[Sequence[Any], Decimal]] = {}
    decimal_rows = 0
    for row in rows:
        count, priced, exact = row[n], row[n + k + 2], row[n + k + 4]
        if not count:
            continue
        found[tuple(row[:n])] = (row[n:], Decimal(row[n + k + 3] or 0).scaleb(-PICO))
        decimal_rows += priced - exact
    if decimal_rows:
        which = "cost_picousd IS NULL AND cost_usd IS NOT NULL" if exact_sql else "cost_usd IS NOT NULL"
        select = ", ".join([*exprs, "cost_usd"])
        for row in db.execute(f"SELECT {select} FROM usage WHERE {where} AND {which}", args):
            sums, cost = found[tuple(row[:-1])]
            found[tuple(row[:-1])] = (sums, cost + Decimal(str(row[-1])))
    out: dict[tuple[object, ...], Sums] = {}
    for key, (sums, cost) in found.items():
        count, priced, estimated = sums[0], sums[k + 2], sums[k + 1]
        out[key] = Sums(
            **dict(zip(TOKEN_FIELDS, sums[1 : 1 + k])),
            records=count,
            cost_usd=cost if priced else None,
            unpriced_records=count - priced,
            estimated_records=estimated,
        )
    return out


def _days(db: sqlite3.Connection, filters: Filters, tz: dt.tzinfo) -> dict[tuple[object, ...], Sums]:
    if tz is dt.timezone.utc:
        return _aggregate(db, [], filters, day_offset_minutes=0)
    span = _time_range(db, filters)
    if span is None:
        return {}
    spans = offset_spans(tz, *span)
    out: dict[tuple[object, ...], Sums] = {}
    if all(offset % 60 == 0 for _, _, offset in spans) and all(lo is None or lo % 3600 == 0 for lo, _, _ in spans):
        # Whole-hour offsets that change on the hour (nearly every zone): sum per UTC hour in
        # SQL, then give each hour to its local day. Cheaper than a date() per row.
        for (hour,), t in _aggregate(db, ["utc_hour"], filters).items():
            start = dt.datetime.strptime(str(hour), "%Y-%m-%dT%H").replace(tzinfo=dt.timezone.utc)
            key = (start.astimezone(tz).date().isoformat(),)
            out[key] = out[key] + t if key in out else t
        return out
    for lo, hi, offset in spans:  # :30 and :45 zones: one pass per stretch of constant offset
        part = Filters(
            user=filters.user,
            run_ids=filters.run_ids,
            since=_later(filters.since, lo),
            until=_earlier(filters.until, hi),
        )
        for key, t in _aggregate(db, [], part, day_offset_minutes=offset).items():
            out[key] = out[key] + t if key in out else t
    return out


def _time_range(db: sqlite3.Connection, filters: Filters) -> tuple[dt.datetime, dt.datetime] | None:
    where, args = _where(filters)
    lo, hi = db.execute(f"SELECT min(time), max(time) FROM usage WHERE {where}", args).fetchone()
    if lo is None:
        return None
    return parse_time_text(lo), parse_time_text(hi)


def _later(a: dt.datetime | None, epoch: int | None) -> dt.datetime | None:
    b = dt.datetime.fromtimestamp(epoch, dt.timezone.utc) if epoch is not None else None
    if a is None or b is None:
        return a or b
    return max(a, b)


def _earlier(a: dt.datetime | None, epoch: int | None) -> dt.datetime | None:
    b = dt.datetime.fromtimestamp(epoch, dt.timezone.utc) if epoch is not None else None
    if a is None or b is None:
        return a or b
    return min(a, b)


def open(location: str, *, create: bool = True) -> SqliteStore:  # noqa: A001 - the backend interface
    """Open the SQLite ledger at a file path (or an sqlite:// URL)."""
    return SqliteStore.open(_path(location), create=create)


def exists(location: str) -> bool:
    return _path(location).exists()


def _path(location: str) -> Path:
    return Path(location.removeprefix("sqlite://")).expanduser()
