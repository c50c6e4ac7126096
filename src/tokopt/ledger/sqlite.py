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

from tokopt.ledger.sqlitefile import connect, money_text, parse_time_text, picousd, prepare, time_text, translate
from tokopt.ledger.sqlitesums import aggregate, where
from tokopt.ledger.store import FileState, Filters, Run, Sums, UpsertResult, record_uid, this_machine
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
        # the change numbers of deleted records are never given again (a push may be past them)
        self.db.execute(
            "UPDATE ledger_info SET value = CAST(max(CAST(value AS INTEGER), (SELECT coalesce(max(seq), 0) FROM usage)) AS TEXT) WHERE key = 'seq_floor'"
        )
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
        totals = aggregate(self.db, ["run"], Filters(user=user)) if runs else {}
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
        params = _params(record)
        cur = self.db.execute(_UPSERT + " RETURNING id", params)
        found = cur.fetchone()
        if found is not None:
            return int(found[0])
        existing = self.db.execute("SELECT id FROM usage WHERE uid = ?", (params[_UID],)).fetchone()
        return int(existing[0])

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
        clause, args = where(filters)
        found = self.db.execute(f"SELECT max(time) FROM usage WHERE {clause}", args).fetchone()[0]
        return None if found is None else parse_time_text(str(found))

    # -- merging ledgers ----------------------------------------------------------------------

    @property
    def ledger_id(self) -> str:
        return str(self.db.execute("SELECT value FROM ledger_info WHERE key = 'ledger_id'").fetchone()[0])

    def sync_position(self, source: str) -> int:
        row = self.db.execute("SELECT position FROM sync_state WHERE source = ?", (source,)).fetchone()
        return int(row[0]) if row else 0

    def set_sync_position(self, source: str, position: int) -> None:
        self.db.execute(
            "INSERT INTO sync_state (source, position, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
            (source, position, time_text(dt.datetime.now(dt.timezone.utc))),
        )

    # -- incremental import -------------------------------------------------------------------

    def import_states(self, user: str, paths: Sequence[str]) -> dict[str, FileState]:
        """The stored state of each of these log files that `user` imported before."""
        out: dict[str, FileState] = {}
        wanted = list(dict.fromkeys(paths))
        for i in range(0, len(wanted), 500):  # SQLite takes at most 999 parameters by default
            chunk = wanted[i : i + 500]
            rows = self.db.execute(
                f"SELECT {_FILE_COLUMNS} FROM import_files WHERE user = ? AND path IN ({', '.join('?' * len(chunk))})",
                [user, *chunk],
            )
            for row in rows:
                path, size, mtime_ns, offset, lines, tail_len, tail_hash, state, imported_at = row
                out[str(path)] = FileState(
                    path=str(path),
                    size=int(size),
                    mtime_ns=int(mtime_ns),
                    offset=int(offset),
                    lines=int(lines),
                    tail_len=int(tail_len),
                    tail_hash=str(tail_hash),
                    state=json.loads(str(state)),
                    imported_at=parse_time_text(str(imported_at)),
                )
        return out

    def save_import_states(self, user: str, states: Sequence[FileState]) -> None:
        """Store (or replace) these files' states, in the caller's write transaction."""
        self.db.executemany(
            f"INSERT OR REPLACE INTO import_files (user, {_FILE_COLUMNS}) VALUES ({', '.join('?' * 10)})",
            [
                (
                    user,
                    f.path,
                    f.size,
                    f.mtime_ns,
                    f.offset,
                    f.lines,
                    f.tail_len,
                    f.tail_hash,
                    json.dumps(f.state, sort_keys=True, separators=(",", ":")),
                    time_text(f.imported_at),
                )
                for f in states
            ],
        )


_FILE_COLUMNS = "path, size, mtime_ns, offset, lines, tail_len, tail_hash, state, imported_at"
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


# What agent logs say about a call (migration m005)
_ATTRIBUTION = ("agent", "session_id", "project", "git_branch", "sidechain")
# One column per token kind, named as the Usage field (`migrations.add_token_columns` adds new ones).
_USAGE_COLUMNS = ", ".join(
    [
        "time, user, run_id, provider, model",
        *TOKEN_FIELDS,
        "cost_usd, cost_picousd, pricing_as_of, batch, estimated, source, dedupe_key, prompt_hash",
        ", ".join(_ATTRIBUTION),
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
# stored record without attribution (imported before the ledger kept it) gets it from the new.
_LARGER = "excluded.input_tokens + excluded.output_tokens > usage.input_tokens + usage.output_tokens"
_UNATTRIBUTED = "usage.session_id IS NULL AND excluded.session_id IS NOT NULL"
_UPSERT = (
    f"INSERT INTO usage ({_USAGE_COLUMNS}, seq) VALUES ({', '.join('?' * _N_COLUMNS)}, {_NEXT_SEQ}) "
    # a keyed record's uid is made from (user, dedupe_key): the same call has the same uid
    "ON CONFLICT(uid) DO UPDATE SET "
    + ", ".join(
        f"{c} = CASE WHEN {_LARGER} THEN excluded.{c} ELSE usage.{c} END"
        for c in ["time", "provider", "model", *TOKEN_FIELDS]
        + "cost_usd cost_picousd pricing_as_of batch estimated source prompt_hash origin".split()
    )
    + f", seq = {_NEXT_SEQ}"
    + ", "
    + ", ".join(f"{c} = CASE WHEN {_UNATTRIBUTED} THEN excluded.{c} ELSE usage.{c} END" for c in _ATTRIBUTION)
    + f" WHERE ({_LARGER}) OR ({_UNATTRIBUTED})"
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
        row.agent,
        row.session_id,
        row.project,
        row.git_branch,
        int(row.sidechain),
        record_uid(row.user, row.dedupe_key) if row.dedupe_key is not None or row.uid is None else row.uid,
        row.origin or this_machine(),
    )


def _record_of(r: Sequence[Any]) -> UsageRecord:
    n = len(TOKEN_FIELDS)
    id_, time, user, run_id, provider, model = r[:6]
    cost, _pico, as_of, batch, estimated, source, key, phash, agent, session, project, branch, sidechain, uid, origin = r[6 + n :]
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
