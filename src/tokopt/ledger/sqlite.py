"""The SQLite ledger (the default backend): one file in WAL mode, readable by its owner only.

`PRAGMA application_id` marks the file as a tokopt ledger, so a foreign or corrupt file is
refused and never written; an older schema is migrated (`migrations`) after a backup. Every
command is one transaction (`write()`), so a killed process leaves the ledger as it was.

Money is stored as Decimal text (`cost_usd`, exact, the record of truth) and, when it is a
whole number of pico-dollars, as that integer too (`cost_picousd`), so that reports can sum
a million costs in SQL exactly; rows without the integer are summed as Decimal in Python.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokopt.ledger.sqlitebooks import SqliteBookkeeping
from tokopt.ledger.sqlitefile import check_pages, connect, file_identity, money_text, parse_time_text, picousd, prepare, remove_new, same_files, time_text, translate
from tokopt.ledger.sqliteruns import SqliteRuns
from tokopt.ledger.sqlitesums import aggregate, where
from tokopt.ledger.store import PRICE_COLUMNS, REPRICED, Filters, Repriced, Sums, UpsertResult, record_uid, this_machine
from tokopt.usage import TOKEN_FIELDS, UsageRecord


class SqliteStore(SqliteRuns, SqliteBookkeeping):
    """An open SQLite ledger (see `store.Store`). Use `write()` or `read()` around every group of statements.

    Its runs are kept by `SqliteRuns`, what it knows of itself (its id, sync positions, imported
    files) by `SqliteBookkeeping`; here: opening, transactions, usage records and reports."""

    def __init__(self, db: sqlite3.Connection, path: Path | None) -> None:
        self.db = db
        self.path = path
        self.location = str(path) if path is not None else ":memory:"
        self.migrated_from: int | None = None
        self.backup_path: Path | None = None
        self._files: tuple[object, ...] | None = None  # the ledger's and its journal's identity
        self._checked = False  # quick_check passed once, under the write lock

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
        if not path.exists() and not path.is_symlink() and not create:
            return cls.memory()
        db, created = connect(path)
        store = cls(db, path)
        try:
            store.migrated_from, store.backup_path = prepare(store.db, path)
        except BaseException:
            if created:  # a new ledger that could not be made (a full disk): leave nothing
                remove_new(path)
            raise
        store._files = file_identity(path)
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
                if self.path is not None:
                    self._check_before_writing()
                yield self
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _check_before_writing(self) -> None:
        """Holding the write lock: the files are the ones opened, and (once) no page is damaged."""
        assert self.path is not None
        self._files = same_files(self.path, self._files)
        if not self._checked:
            check_pages(self.db, self.path)
            self._checked = True

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

    # -- usage --------------------------------------------------------------------------------

    def upsert_usage(self, records: Iterable[UsageRecord]) -> UpsertResult:
        """Insert records; one whose (user, dedupe_key) is stored already replaces it only if larger."""
        before = self.db.execute("SELECT coalesce(max(id), 0) FROM usage").fetchone()[0]
        here = this_machine()  # once, not per record: it reads the environment
        # the change numbers from the next one on, one per record in order, given by us rather
        # than looked up twice per record in SQL: inside this write nothing else takes one, and
        # a record left unchanged leaves its number unused (numbers only need to grow)
        first = self.db.execute(f"SELECT {_NEXT_SEQ}").fetchone()[0]
        params = [(*_params(r, here), seq) for seq, r in enumerate(records, first)]
        if len(params) > _BIG_WRITE and self.path is not None:
            # a big import touches every index's pages many times over: kept in memory (up to
            # 64 MiB), not spilled to the WAL mid-transaction and read back (a tenth of its time)
            self.db.execute("PRAGMA cache_size = -65536")
        changed = self.db.executemany(_UPSERT_NUMBERED, params).rowcount if params else 0
        added = self.db.execute("SELECT count(*) FROM usage WHERE id > ?", (before,)).fetchone()[0]
        return UpsertResult(added=added, updated=changed - added, unchanged=len(params) - changed)

    def insert_usage(self, record: UsageRecord) -> int:
        """Insert one record and return its id (the stored record's id if its dedupe key was seen)."""
        params = _params(record)
        cur = self.db.execute(_UPSERT + " RETURNING id", params)
        found = cur.fetchone()
        if found is not None:
            return int(found[0])
        existing = self.db.execute("SELECT id FROM usage WHERE uid = ?", (params[_UID],)).fetchone()
        return int(existing[0])

    def set_prices(self, prices: Sequence[Repriced]) -> int:
        """Give these records their new model, provider, cost and price data (and change number)."""
        self.db.executemany(
            "UPDATE usage SET model = ?, provider = ?, cost_usd = ?, cost_picousd = ?, pricing_as_of = ?, pricing_version = ?, "
            f"seq = {_NEXT_SEQ} WHERE id = ?",
            [
                (
                    p.model,
                    p.provider,
                    money_text(p.cost_usd) if p.cost_usd is not None else None,
                    picousd(p.cost_usd),
                    p.pricing_as_of.isoformat() if p.pricing_as_of else None,
                    p.pricing_version,
                    p.id,
                )
                for p in prices
            ],
        )
        return len(prices)

    def get_usage(self, ids: Sequence[int]) -> list[UsageRecord]:
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = self.db.execute(f"SELECT id, {_USAGE_COLUMNS} FROM usage WHERE id IN ({marks}) ORDER BY id", list(ids))
        return [_record_of(r) for r in rows]

    def usage_batches(self, filters: Filters, size: int) -> Iterator[list[UsageRecord]]:
        """The records in scope, oldest first, `size` at a time (inside one `read()`)."""
        clause, args = where(filters)
        cur = self.db.execute(f"SELECT id, {_USAGE_COLUMNS} FROM usage WHERE {clause} ORDER BY time, id", args)
        while rows := cur.fetchmany(size):
            yield [_record_of(r) for r in rows]

    def usage_changes(self, filters: Filters, *, after: int, limit: int) -> list[tuple[int, UsageRecord]]:
        """Up to `limit` records in scope written after change number `after`, in change order."""
        clause, args = where(filters)
        rows = self.db.execute(
            # by the change-number index: the planner would rather take (user, time) and sort
            # every record of the user for each batch
            f"SELECT seq, id, {_USAGE_COLUMNS} FROM usage INDEXED BY usage_seq WHERE seq > ? AND {clause} ORDER BY seq LIMIT ?",
            [after, *args, limit],
        )
        return [(int(r[0]), _record_of(r[1:])) for r in rows]

    def usage_rows(self, filters: Filters) -> list[UsageRecord]:
        clause, args = where(filters)
        rows = self.db.execute(f"SELECT id, {_USAGE_COLUMNS} FROM usage WHERE {clause} ORDER BY time, id", args)
        return [_record_of(r) for r in rows]

    def count_usage(self, filters: Filters) -> int:
        clause, args = where(filters)
        return int(self.db.execute(f"SELECT count(*) FROM usage WHERE {clause}", args).fetchone()[0])

    # -- reports ------------------------------------------------------------------------------

    def sums(self, group: Sequence[str], filters: Filters, *, tz: dt.tzinfo = dt.timezone.utc) -> dict[tuple[object, ...], Sums]:
        """Sums per group (`store.GROUPS`), periods counted in `tz`."""
        return aggregate(self.db, group, filters, tz)

    def unpriced_models(self, filters: Filters) -> list[tuple[str, int]]:
        """Models whose records have no cost, with how many records each."""
        clause, args = where(filters)
        rows = self.db.execute(
            f"SELECT model, count(*) FROM usage WHERE {clause} AND cost_usd IS NULL "
            "GROUP BY model ORDER BY count(*) DESC, model",
            args,
        )
        return [(str(m), int(c)) for m, c in rows]

    def total(self, filters: Filters) -> Sums:
        """One grand total: what budgets ask for."""
        return aggregate(self.db, [], filters).get((), Sums())

    def latest_time(self, filters: Filters) -> dt.datetime | None:
        """The time of the latest record in scope (`filters.until` exclusive)."""
        clause, args = where(dataclasses.replace(filters, copies=True))  # copies of a response share its time
        found = self.db.execute(f"SELECT max(time) FROM usage WHERE {clause}", args).fetchone()[0]
        return None if found is None else parse_time_text(str(found))


# What agent logs say about a call (migration m005)
_ATTRIBUTION = ("agent", "session_id", "project", "git_branch", "sidechain")
# One column per token kind, named as the Usage field (`migrations.add_token_columns` adds new ones).
_USAGE_COLUMNS = ", ".join(
    [
        "time, user, run_id, provider, model",
        *TOKEN_FIELDS,
        "cost_usd, cost_picousd, pricing_as_of, batch, estimated, source, dedupe_key, prompt_hash",
        ", ".join(_ATTRIBUTION),
        "pricing_version, service_tier",  # migration m008
        "uid, origin",  # migration m007: its id in every ledger, the machine it was recorded on
    ]
)
_N_COLUMNS = len(_USAGE_COLUMNS.split(", "))
_UID = _N_COLUMNS - 2  # where the uid is in `_params`
# Every insert and update of a record gives it the next change number, never one used before
# (writers queue on SQLite's write lock, so numbers grow in commit order): `session push` sends
# what changed since its last position.
_NEXT_SEQ = (
    "(max((SELECT coalesce(max(seq), 0) FROM usage), "
    "(SELECT CAST(value AS INTEGER) FROM ledger_info WHERE key = 'seq_floor')) + 1)"
)
# A record seen again (the same file imported twice, a streaming partial) replaces the stored
# one only when it has more tokens: every response counts once, with its largest counts. A
# stored record without attribution (imported before the ledger kept it) gets it from the new;
# one priced with older price data gets the new price (store.REPRICED).
_LARGER = "excluded.input_tokens + excluded.output_tokens > usage.input_tokens + usage.output_tokens"
_UNATTRIBUTED = "usage.session_id IS NULL AND excluded.session_id IS NOT NULL"
_UPSERT = (
    f"INSERT INTO usage ({_USAGE_COLUMNS}, seq) VALUES ({', '.join('?' * _N_COLUMNS)}, {_NEXT_SEQ}) "
    # a keyed record's uid is made from (user, dedupe_key): the same call has the same uid
    "ON CONFLICT(uid) DO UPDATE SET "
    + ", ".join(
        f"{c} = CASE WHEN {_LARGER} OR ({REPRICED}) THEN excluded.{c} ELSE usage.{c} END"
        if c in PRICE_COLUMNS
        else f"{c} = CASE WHEN {_LARGER} THEN excluded.{c} ELSE usage.{c} END"
        for c in ["time", "provider", "model", *TOKEN_FIELDS]
        + "cost_usd cost_picousd pricing_as_of pricing_version batch service_tier estimated source prompt_hash origin".split()
    )
    + f", seq = {_NEXT_SEQ}"
    + ", "
    + ", ".join(f"{c} = CASE WHEN {_UNATTRIBUTED} THEN excluded.{c} ELSE usage.{c} END" for c in _ATTRIBUTION)
    + f" WHERE ({_LARGER}) OR ({_UNATTRIBUTED}) OR ({REPRICED})"
)


# the same, with each record's change number given as its last parameter (`upsert_usage`)
_UPSERT_NUMBERED = _UPSERT.replace(f", {_NEXT_SEQ}) ", ", ?) ", 1).replace(f"seq = {_NEXT_SEQ}", "seq = excluded.seq")
assert _NEXT_SEQ not in _UPSERT_NUMBERED


_BIG_WRITE = 5_000  # records
_COUNTS = operator.attrgetter(*TOKEN_FIELDS)


def _params(row: UsageRecord, here: str | None = None) -> tuple[object, ...]:
    if row.time is None or row.user is None:
        raise ValueError("a stored usage record has a time and a user")
    return (
        time_text(row.time),
        row.user,
        row.run_id,
        row.provider,
        row.model,
        *_COUNTS(row),
        money_text(row.cost_usd) if row.cost_usd is not None else None,
        picousd(row.cost_usd),
        row.pricing_as_of.isoformat() if row.pricing_as_of else None,
        int(row.batch),
        int(row.estimated),
        row.source,
        row.dedupe_key,
        row.prompt_hash,
        row.agent,
        row.session_id,
        row.project,
        row.git_branch,
        int(row.sidechain),
        row.pricing_version,
        row.service_tier,
        record_uid(row.user, row.dedupe_key) if row.dedupe_key is not None or row.uid is None else row.uid,
        row.origin or here or this_machine(),
    )


def _record_of(r: Sequence[Any]) -> UsageRecord:
    n = len(TOKEN_FIELDS)
    id_, time, user, run_id, provider, model = r[:6]
    cost, _pico, as_of, batch, estimated, source, key, phash, agent, session, project, branch, sidechain, version, tier, uid, origin = r[6 + n :]
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
        pricing_version=None if version is None else str(version),
        batch=bool(batch),
        service_tier=None if tier is None else str(tier),
        estimated=bool(estimated),
        source=str(source),
        dedupe_key=None if key is None else str(key),
        prompt_hash=None if phash is None else str(phash),
        agent=None if agent is None else str(agent),
        session_id=None if session is None else str(session),
        project=None if project is None else str(project),
        git_branch=None if branch is None else str(branch),
        sidechain=bool(sidechain),
        uid=None if uid is None else str(uid),
        origin=None if origin is None else str(origin),
    )


def open(location: str, *, create: bool = True) -> SqliteStore:  # noqa: A001 - the backend interface
    """Open the SQLite ledger at a file path (or an sqlite:// URL)."""
    return SqliteStore.open(_path(location), create=create)


def exists(location: str) -> bool:
    return _path(location).exists()


def _path(location: str) -> Path:
    return Path(location.removeprefix("sqlite://")).expanduser()
