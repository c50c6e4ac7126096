"""The usage ledger's SQL, and only here: connect, check, migrate, write, query.

One SQLite file in WAL mode. The schema is the ordered list `MIGRATIONS` of small functions;
`PRAGMA user_version` holds how many have been applied and `PRAGMA application_id` marks the
file as a tokopt ledger, so a foreign or corrupt file is refused and never written. Every
command is one transaction (`Store.write()`), so a killed process leaves the ledger as it was.

Money is stored as Decimal text (`cost_usd`, exact, the record of truth) and, when it is a
whole number of pico-dollars, as that integer too (`cost_picousd`), so that reports can sum
a million costs in SQL exactly; rows without the integer are summed as Decimal in Python.

A PostgreSQL backend would replace this module and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tokopt.errors import LedgerError

APPLICATION_ID = 0x746F6B6F  # "toko"
SQLITE_MAGIC = b"SQLite format 3\x00"
PICO = 12  # cost_picousd = cost_usd x 10^12 when that is an integer
_INT64_MAX = 2**63 - 1
BUSY_TIMEOUT_S = 60.0


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass(frozen=True)
class RunRow:
    id: str
    user: str
    name: str
    labels: dict[str, str]
    started_at: dt.datetime
    ended_at: dt.datetime | None = None


@dataclass(frozen=True)
class UsageRow:
    """One API call's usage as stored. `input_tokens` is the whole prompt; cached and
    cache-write tokens are parts of it; `reasoning_tokens` is a part of `output_tokens`."""

    time: dt.datetime
    user: str
    model: str
    run_id: str | None = None
    provider: str | None = None
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal | None = None
    pricing_as_of: dt.date | None = None
    batch: bool = False
    estimated: bool = False
    source: str = "api"
    dedupe_key: str | None = None
    prompt_hash: str | None = None
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Filters:
    """Which usage rows a query sees. `user=None` means every user; times are UTC, `until` exclusive."""

    user: str | None = None
    run_ids: tuple[str, ...] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass
class Totals:
    """Sums over a group of usage rows. `cost_usd` covers the priced rows only."""

    records: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    unpriced_records: int = 0
    estimated_records: int = 0

    def add(self, other: Totals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class UpsertResult:
    added: int
    updated: int
    unchanged: int


# ---------------------------------------------------------------------------------------------
# Value conversion: ISO-8601 UTC text with microseconds, so text order is time order and
# substr(time, 1, 10) is the UTC date.


def time_text(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time_text(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def money_text(value: Decimal) -> str:
    """Plain decimal text, never an exponent: Decimal('5E-7') -> '0.0000005'."""
    # Not value.normalize(): that rounds to the context's 28 digits, and stored money is exact.
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", "0", ""} else text


def picousd(value: Decimal | None) -> int | None:
    """The cost as a whole number of 10^-12 USD, or None when that would round or overflow."""
    if value is None:
        return None
    scaled = value.scaleb(PICO)
    try:
        whole = scaled.to_integral_value()
    except InvalidOperation:
        return None
    if whole != scaled or abs(whole) > _INT64_MAX:
        return None
    return int(whole)


def _picousd_of_text(text: str | None) -> int | None:
    return None if text is None else picousd(Decimal(text))


# ---------------------------------------------------------------------------------------------
# Migrations: append only. Never edit one that has shipped; add a new one.

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_runs_and_usage(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            name TEXT NOT NULL,
            labels TEXT NOT NULL DEFAULT '{}',
            started_at TEXT NOT NULL,
            ended_at TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            user TEXT NOT NULL,
            run_id TEXT REFERENCES runs(id),
            provider TEXT,
            model TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            cached_input_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            cache_write_1h_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_usd TEXT,
            pricing_as_of TEXT,
            batch INTEGER NOT NULL DEFAULT 0,
            estimated INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            dedupe_key TEXT,
            prompt_hash TEXT
        )"""
    )
    db.execute("CREATE UNIQUE INDEX usage_dedupe ON usage(user, dedupe_key) WHERE dedupe_key IS NOT NULL")
    db.execute(
        "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


@migration
def m002_current_run(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE current_run (user TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id))")


@migration
def m003_report_indexes(db: sqlite3.Connection) -> None:
    db.execute("CREATE INDEX usage_user_time ON usage(user, time)")
    db.execute("CREATE INDEX usage_run ON usage(run_id)")
    db.execute("CREATE INDEX runs_user_name ON runs(user, name, started_at)")
    # the "unpriced" line of a report reads only this small index
    db.execute("CREATE INDEX usage_unpriced ON usage(user, model, time) WHERE cost_usd IS NULL")


@migration
def m004_cost_picousd(db: sqlite3.Connection) -> None:
    # Exact integer costs let SQL sum them; older rows are filled in from their Decimal text.
    db.execute("ALTER TABLE usage ADD COLUMN cost_picousd INTEGER")
    db.create_function("tokopt_picousd", 1, _picousd_of_text, deterministic=True)
    db.execute("UPDATE usage SET cost_picousd = tokopt_picousd(cost_usd) WHERE cost_usd IS NOT NULL")


SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection, upto: int | None = None) -> None:
    """Apply the migrations after the file's version, in order, inside the caller's transaction."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    target = SCHEMA_VERSION if upto is None else upto
    now = time_text(dt.datetime.now(dt.timezone.utc))
    for version in range(current + 1, target + 1):
        fn = MIGRATIONS[version - 1]
        fn(db)
        db.execute("INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)", (version, fn.__name__, now))
        db.execute(f"PRAGMA user_version = {version:d}")
    if current == 0 and target > 0:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")


# ---------------------------------------------------------------------------------------------
# Opening


def _not_a_ledger(path: Path, what: str) -> LedgerError:
    return LedgerError(
        f"{path} is not a tokopt ledger ({what}); it was left untouched",
        hint="move it away, or point --ledger / TOKOPT_LEDGER at another file",
    )


def _check_header(path: Path) -> None:
    """Refuse anything that is not an SQLite file before SQLite itself touches it."""
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except IsADirectoryError:
        raise LedgerError(f"ledger path is a directory: {path}", hint="name a file, e.g. ledger.sqlite3") from None
    except OSError as exc:
        raise LedgerError(f"cannot read ledger {path}: {exc.strerror}") from None
    if head and (len(head) < 100 or not head.startswith(SQLITE_MAGIC)):
        raise _not_a_ledger(path, "not an SQLite database")


def _create_file(path: Path) -> None:
    """Create an empty file readable by its owner only; another process may win the race."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"cannot create the ledger's directory {path.parent}: {exc.strerror}") from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise LedgerError(f"cannot create ledger {path}: {exc.strerror}") from None
    os.close(fd)


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    return type(exc) is sqlite3.DatabaseError or "malformed" in str(exc) or "not a database" in str(exc)


# What SQLite says when the file or the disk is the problem, not tokopt's SQL.
_ENVIRONMENT = ("locked", "readonly", "read-only", "disk i/o", "full", "unable to open", "busy")


def _translate(exc: sqlite3.DatabaseError, path: Path | None) -> LedgerError | None:
    """A LedgerError the user can act on, or None for a bug (which must show its traceback)."""
    if _is_corrupt(exc):
        return LedgerError(
            f"ledger {path} is damaged ({exc}); it was left untouched",
            hint="restore a backup (ledger.sqlite3.v*.bak) or move the file away",
        )
    if isinstance(exc, sqlite3.OperationalError) and any(word in str(exc).lower() for word in _ENVIRONMENT):
        return LedgerError(f"cannot use ledger {path}: {exc}")
    return None


class Store:
    """An open ledger file. Use `write()` or `read()` around every group of statements."""

    def __init__(self, db: sqlite3.Connection, path: Path | None) -> None:
        self.db = db
        self.path = path
        self.migrated_from: int | None = None
        self.backup_path: Path | None = None

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Store:
        """Open (and if `create`, create) the ledger at `path`, migrating an older schema.

        Without `create`, a missing file opens as an empty in-memory ledger, so that reading
        commands never create files.
        """
        if not path.exists():
            if not create:
                return cls.memory()
            _create_file(path)
        _check_header(path)
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open ledger {path}: {exc}") from None
        store = cls(db, path)
        try:
            store._prepare()
        except sqlite3.DatabaseError as exc:
            db.close()
            error = _translate(exc, path)
            if error is None:
                raise
            raise error from None
        except BaseException:
            db.close()
            raise
        return store

    @classmethod
    def memory(cls) -> Store:
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        store = cls(db, None)
        store._prepare()
        return store

    def _prepare(self) -> None:
        db = self.db
        # One statement, one snapshot: read apart, a first migration committed by another
        # process in between would look like tables without our application id.
        app_id, version, tables = db.execute(
            "SELECT (SELECT application_id FROM pragma_application_id()), "
            "(SELECT user_version FROM pragma_user_version()), (SELECT count(*) FROM sqlite_master)"
        ).fetchone()
        if app_id != APPLICATION_ID and (app_id != 0 or tables or version):
            raise _not_a_ledger(self.path or Path(":memory:"), "an SQLite database of another application")
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"ledger {self.path} has schema version {version}; this tokopt knows up to {SCHEMA_VERSION}",
                hint="upgrade tokopt (pip install -U tokopt)",
            )
        db.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                self._set_wal()
            db.execute("PRAGMA synchronous = NORMAL")
        if version < SCHEMA_VERSION:
            self._migrate()

    def _set_wal(self) -> None:
        # Switching needs a moment without other connections; a concurrent first use may hold
        # the file, so wait for it like any busy statement.
        import time

        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _migrate(self) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                if version > 0 and self.path is not None:
                    self.backup_path = self._backup(version)
                migrate(db)
                self.migrated_from = version
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _backup(self, version: int) -> Path:
        """A consistent copy of the ledger before migrating it (we hold the write lock)."""
        assert self.path is not None
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.v{version}-{stamp}.bak")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.v{version}-{stamp}-{n}.bak")
        _create_file(target)
        source = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        return target

    def close(self) -> None:
        self.db.close()

    @property
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Store]:
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
    def read(self) -> Iterator[Store]:
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
            error = _translate(exc, self.path)
            if error is None:
                raise
            raise error from None

    # -- runs ---------------------------------------------------------------------------------

    _RUN_COLUMNS = "id, user, name, labels, started_at, ended_at"

    @staticmethod
    def _run(row: Sequence[object]) -> RunRow:
        run_id, user, name, labels, started, ended = row
        return RunRow(
            id=str(run_id),
            user=str(user),
            name=str(name),
            labels=json.loads(str(labels)),
            started_at=parse_time_text(str(started)),
            ended_at=parse_time_text(str(ended)) if ended is not None else None,
        )

    def run_id_exists(self, run_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def insert_run(self, run: RunRow) -> None:
        self.db.execute(
            f"INSERT INTO runs ({self._RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                run.id,
                run.user,
                run.name,
                json.dumps(run.labels, sort_keys=True, ensure_ascii=False),
                time_text(run.started_at),
                time_text(run.ended_at) if run.ended_at else None,
            ),
        )

    def get_run(self, run_id: str) -> RunRow | None:
        row = self.db.execute(f"SELECT {self._RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._run(row) if row else None

    def runs_named(self, name: str, user: str | None) -> list[RunRow]:
        """Runs with this name (of `user`, or of anyone), newest first."""
        sql = f"SELECT {self._RUN_COLUMNS} FROM runs WHERE name = ?"
        args: list[object] = [name]
        if user is not None:
            sql += " AND user = ?"
            args.append(user)
        rows = self.db.execute(sql + " ORDER BY started_at DESC, rowid DESC", args).fetchall()
        return [self._run(r) for r in rows]

    def end_run(self, run_id: str, ended_at: dt.datetime) -> None:
        self.db.execute("UPDATE runs SET ended_at = ? WHERE id = ?", (time_text(ended_at), run_id))
        self.db.execute("DELETE FROM current_run WHERE run_id = ?", (run_id,))

    def delete_run(self, run_id: str) -> int:
        """Delete a run and its usage records; returns how many records went with it."""
        deleted = self.db.execute("DELETE FROM usage WHERE run_id = ?", (run_id,)).rowcount
        self.db.execute("DELETE FROM current_run WHERE run_id = ?", (run_id,))
        self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        return int(deleted)

    def current_run(self, user: str) -> RunRow | None:
        row = self.db.execute(
            f"SELECT {', '.join('r.' + c for c in self._RUN_COLUMNS.split(', '))} "
            "FROM current_run c JOIN runs r ON r.id = c.run_id WHERE c.user = ?",
            (user,),
        ).fetchone()
        return self._run(row) if row else None

    def set_current_run(self, user: str, run_id: str) -> None:
        self.db.execute(
            "INSERT INTO current_run (user, run_id) VALUES (?, ?) ON CONFLICT(user) DO UPDATE SET run_id = excluded.run_id",
            (user, run_id),
        )

    def list_runs(self, user: str | None) -> list[tuple[RunRow, Totals, bool]]:
        """Runs (of `user`, or everyone's) with their totals and whether each is its user's current run."""
        sql = (
            f"SELECT {', '.join('r.' + c for c in self._RUN_COLUMNS.split(', '))}, "
            "(SELECT 1 FROM current_run c WHERE c.run_id = r.id) FROM runs r"
        )
        args: list[object] = []
        if user is not None:
            sql += " WHERE r.user = ?"
            args.append(user)
        runs = [(self._run(row[:6]), bool(row[6])) for row in self.db.execute(sql + " ORDER BY r.started_at, r.rowid", args)]
        totals = self.aggregate(["run_id"], Filters(user=user)) if runs else {}
        return [(run, totals.get((run.id,), Totals()), current) for run, current in runs]

    # -- usage --------------------------------------------------------------------------------

    _USAGE_COLUMNS = (
        "time, user, run_id, provider, model, input_tokens, cached_input_tokens, cache_write_tokens, "
        "cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd, cost_picousd, pricing_as_of, "
        "batch, estimated, source, dedupe_key, prompt_hash"
    )
    # A record seen again (the same file imported twice, a streaming partial) replaces the stored
    # one only when it has more tokens: every response counts once, with its largest counts.
    _UPSERT = (
        f"INSERT INTO usage ({_USAGE_COLUMNS}) VALUES ({', '.join('?' * 19)}) "
        "ON CONFLICT(user, dedupe_key) WHERE dedupe_key IS NOT NULL DO UPDATE SET "
        + ", ".join(
            f"{c} = excluded.{c}"
            for c in (
                "time provider model input_tokens cached_input_tokens cache_write_tokens cache_write_1h_tokens "
                "output_tokens reasoning_tokens cost_usd cost_picousd pricing_as_of batch estimated source prompt_hash"
            ).split()
        )
        + " WHERE excluded.input_tokens + excluded.output_tokens > usage.input_tokens + usage.output_tokens"
    )

    @staticmethod
    def _usage_params(row: UsageRow) -> tuple[object, ...]:
        return (
            time_text(row.time),
            row.user,
            row.run_id,
            row.provider,
            row.model,
            row.input_tokens,
            row.cached_input_tokens,
            row.cache_write_tokens,
            row.cache_write_1h_tokens,
            row.output_tokens,
            row.reasoning_tokens,
            money_text(row.cost_usd) if row.cost_usd is not None else None,
            picousd(row.cost_usd),
            row.pricing_as_of.isoformat() if row.pricing_as_of else None,
            int(row.batch),
            int(row.estimated),
            row.source,
            row.dedupe_key,
            row.prompt_hash,
        )

    def upsert_usage(self, rows: Iterable[UsageRow]) -> UpsertResult:
        """Insert rows; a row whose (user, dedupe_key) is stored already replaces it only if larger."""
        before = self.db.execute("SELECT coalesce(max(id), 0) FROM usage").fetchone()[0]
        params = [self._usage_params(r) for r in rows]
        changed = self.db.executemany(self._UPSERT, params).rowcount if params else 0
        added = self.db.execute("SELECT count(*) FROM usage WHERE id > ?", (before,)).fetchone()[0]
        return UpsertResult(added=added, updated=changed - added, unchanged=len(params) - changed)

    def insert_usage(self, row: UsageRow) -> int:
        """Insert one row and return its id (the stored row's id if its dedupe key was seen)."""
        cur = self.db.execute(self._UPSERT + " RETURNING id", self._usage_params(row))
        found = cur.fetchone()
        if found is not None:
            return int(found[0])
        existing = self.db.execute(
            "SELECT id FROM usage WHERE user = ? AND dedupe_key = ?", (row.user, row.dedupe_key)
        ).fetchone()
        return int(existing[0])

    def get_usage(self, ids: Sequence[int]) -> list[UsageRow]:
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = self.db.execute(f"SELECT id, {self._USAGE_COLUMNS} FROM usage WHERE id IN ({marks}) ORDER BY id", list(ids))
        return [self._usage(r) for r in rows]

    def usage_rows(self, filters: Filters) -> list[UsageRow]:
        where, args = self._where(filters)
        rows = self.db.execute(f"SELECT id, {self._USAGE_COLUMNS} FROM usage WHERE {where} ORDER BY time, id", args)
        return [self._usage(r) for r in rows]

    @staticmethod
    def _usage(r: Sequence[object]) -> UsageRow:
        (id_, time, user, run_id, provider, model, inp, cached, cw, cw1h, out, reasoning, cost, _pico, as_of, batch,
         estimated, source, key, phash) = r  # fmt: skip
        return UsageRow(
            id=int(id_),  # type: ignore[call-overload]
            time=parse_time_text(str(time)),
            user=str(user),
            run_id=None if run_id is None else str(run_id),
            provider=None if provider is None else str(provider),
            model=str(model),
            input_tokens=int(inp),  # type: ignore[call-overload]
            cached_input_tokens=int(cached),  # type: ignore[call-overload]
            cache_write_tokens=int(cw),  # type: ignore[call-overload]
            cache_write_1h_tokens=int(cw1h),  # type: ignore[call-overload]
            output_tokens=int(out),  # type: ignore[call-overload]
            reasoning_tokens=int(reasoning),  # type: ignore[call-overload]
            cost_usd=None if cost is None else Decimal(str(cost)),
            pricing_as_of=None if as_of is None else dt.date.fromisoformat(str(as_of)),
            batch=bool(batch),
            estimated=bool(estimated),
            source=str(source),
            dedupe_key=None if key is None else str(key),
            prompt_hash=None if phash is None else str(phash),
        )

    def count_usage(self, filters: Filters) -> int:
        where, args = self._where(filters)
        return int(self.db.execute(f"SELECT count(*) FROM usage WHERE {where}", args).fetchone()[0])

    # -- reports ------------------------------------------------------------------------------

    @staticmethod
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

    GROUPS = {
        "model": ("provider", "model"),
        "provider": ("provider",),
        "user": ("user",),
        "run_id": ("run_id",),
        "utc_hour": ("substr(time, 1, 13)",),
    }

    @staticmethod
    def _sums(exact_sql: bool) -> str:
        # count(x) counts non-null x: priced rows, and rows whose cost SQL can sum exactly
        cost, exact_rows = ("sum(cost_picousd)", "count(cost_picousd)") if exact_sql else ("0", "0")
        return (
            "count(*), sum(input_tokens), sum(cached_input_tokens), sum(cache_write_tokens), "
            "sum(cache_write_1h_tokens), sum(output_tokens), sum(reasoning_tokens), sum(estimated), "
            f"count(cost_usd), {cost}, {exact_rows}"
        )

    def aggregate(
        self,
        group: Sequence[str],
        filters: Filters,
        *,
        day_offset_minutes: int | None = None,
    ) -> dict[tuple[object, ...], Totals]:
        """Totals per group, in one pass over the rows.

        `group` holds keys of GROUPS (empty: one grand total); `day_offset_minutes` adds a
        day group: the date of (time + offset), so that a caller can group by local days.
        """
        exprs = [e for g in group for e in self.GROUPS[g]]
        if day_offset_minutes is not None:
            exprs.append(f"date(time, '{day_offset_minutes:+d} minutes')" if day_offset_minutes else "substr(time, 1, 10)")
        where, args = self._where(filters)
        group_by = f" GROUP BY {', '.join(str(i + 1) for i in range(len(exprs)))}" if exprs else ""
        exact_sql = True
        try:
            rows = self.db.execute(f"SELECT {', '.join([*exprs, self._sums(True)])} FROM usage WHERE {where}{group_by}", args).fetchall()
        except sqlite3.OperationalError as exc:
            if "integer overflow" not in str(exc):
                raise
            # Over 9.2 million USD in one group overflows SQLite's integers: add Decimals instead.
            exact_sql = False
            rows = self.db.execute(f"SELECT {', '.join([*exprs, self._sums(False)])} FROM usage WHERE {where}{group_by}", args).fetchall()
        n = len(exprs)
        out: dict[tuple[object, ...], Totals] = {}
        decimal_rows = 0
        for row in rows:
            count, inp, cached, cw, cw1h, out_t, reasoning, estimated, priced, pico, exact = row[n:]
            if not count:
                continue
            out[tuple(row[:n])] = Totals(
                records=count,
                input_tokens=inp,
                cached_input_tokens=cached,
                cache_write_tokens=cw,
                cache_write_1h_tokens=cw1h,
                output_tokens=out_t,
                reasoning_tokens=reasoning,
                cost_usd=Decimal(pico or 0).scaleb(-PICO),
                unpriced_records=count - priced,
                estimated_records=estimated,
            )
            decimal_rows += priced - exact
        if decimal_rows:
            which = "cost_picousd IS NULL AND cost_usd IS NOT NULL" if exact_sql else "cost_usd IS NOT NULL"
            select = ", ".join([*exprs, "cost_usd"])
            for row in self.db.execute(f"SELECT {select} FROM usage WHERE {where} AND {which}", args):
                out[tuple(row[:-1])].cost_usd += Decimal(str(row[-1]))
        return out

    def time_range(self, filters: Filters) -> tuple[dt.datetime, dt.datetime] | None:
        where, args = self._where(filters)
        lo, hi = self.db.execute(f"SELECT min(time), max(time) FROM usage WHERE {where}", args).fetchone()
        if lo is None:
            return None
        return parse_time_text(lo), parse_time_text(hi)

    def unpriced_models(self, filters: Filters) -> list[tuple[str, int]]:
        """Models whose records have no cost, with how many records each."""
        where, args = self._where(filters)
        rows = self.db.execute(
            f"SELECT model, count(*) FROM usage WHERE {where} AND cost_usd IS NULL "
            "GROUP BY model ORDER BY count(*) DESC, model",
            args,
        )
        return [(str(m), int(c)) for m, c in rows]

    def total(self, filters: Filters) -> Totals:
        """One grand total: what budgets ask for."""
        return self.aggregate([], filters).get((), Totals())
