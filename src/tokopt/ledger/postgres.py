"""The PostgreSQL ledger (for teams): the same records, reports and guarantees as the SQLite one.

`--ledger postgresql://user@host/db` (or TOKOPT_LEDGER) points every ledger command at a
database; `pgschema` creates and migrates its tables. One command is one transaction:
`write()` also takes a database-wide advisory lock, so writers queue as they do on SQLite,
change numbers (`seq`) grow in commit order (what lets `session pull` from here resume where
it stopped), and an upsert can tell what it added, replaced or left alone. `read()` is one
REPEATABLE READ snapshot. Money is `numeric` (exact Decimal), times `timestamptz` in UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from tokopt.ledger import pgschema
from tokopt.ledger.pgbooks import PostgresBookkeeping
from tokopt.ledger.pgruns import PostgresRuns
from tokopt.ledger.pgsums import aggregate, where
from tokopt.ledger.sqlitefile import money_text
from tokopt.ledger.store import PRICE_COLUMNS, REPRICED, Filters, Repriced, Sums, UpsertResult, record_uid, redact, this_machine
from tokopt.usage import TOKEN_FIELDS, UsageRecord

# Upserts of more records than this go through COPY into a staging table.
COPY_FROM = 64


class PostgresStore(PostgresRuns, PostgresBookkeeping):
    """An open PostgreSQL ledger (see `store.Store`). Use `write()` or `read()` around every group of statements.

    Its runs are kept by `PostgresRuns`, what it knows of itself (its id, sync positions,
    imported files) by `PostgresBookkeeping`; here: opening, transactions, usage records, reports."""

    def __init__(self, conn: Any, location: str) -> None:
        self.conn = conn
        self._url = location  # for scrubbing messages; never shown
        self.location = redact(location)
        self.migrated_from: int | None = None
        self.backup: str | None = None  # a database is not copied before a migration; its transaction undoes a failed one

    @classmethod
    def open(cls, location: str) -> PostgresStore:
        conn = pgschema.connect(location)
        store = cls(conn, location)
        try:
            with store._translated():
                store.migrated_from = pgschema.prepare(conn, location)
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self.conn.close()

    @property
    def version(self) -> int:
        (version,) = self.conn.execute("SELECT coalesce(max(version), 0) FROM tokopt_migrations").fetchone()
        return int(version)

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[PostgresStore]:
        """One write transaction; writers queue on the ledger's advisory lock, never fail."""
        with self._translated():
            # one round trip: the transaction and its lock (no parameters: a simple query)
            self.conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({pgschema.WRITE_LOCK:d})")
            try:
                yield self
            except BaseException:
                self._rollback()
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[PostgresStore]:
        """One read transaction: every query inside sees the same snapshot."""
        with self._translated():
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield self
            except BaseException:
                self._rollback()
                raise
            self.conn.execute("COMMIT")

    def _rollback(self) -> None:
        if not self.conn.closed and self.conn.info.transaction_status != 0:
            try:
                self.conn.execute("ROLLBACK")
            except Exception:  # the connection is gone: the server has undone the transaction
                pass

    @contextmanager
    def _translated(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            error = pgschema.translate(exc, self._url)
            if error is None:
                raise
            raise error from None

    # -- usage --------------------------------------------------------------------------------

    def upsert_usage(self, records: Iterable[UsageRecord]) -> UpsertResult:
        """Insert records; one whose uid (its user and dedupe key) is stored is replaced only by a
        larger one, gets attribution it lacks (agent, session, ...) from a record that has it, and
        a newer price from one as large priced with newer price data (store.REPRICED).

        Runs under the write lock, so the stored rows read first are the ones the insert meets.
        Records repeated within `records` are merged and counted here the way SQLite counts them
        one at a time, and one row per uid is sent."""
        rows = [_params(r) for r in records]
        if not rows:
            return UpsertResult(added=0, updated=0, unchanged=0)
        uids = list({row[_UID] for row in rows})
        found = self.conn.execute(
            "SELECT uid, input_tokens + output_tokens, session_id IS NULL, pricing_as_of, pricing_version FROM usage WHERE uid = ANY(%s)", (uids,)
        ).fetchall()
        state: dict[Any, tuple[int, bool, Any]] = {uid: (int(size), bool(bare), (as_of, version)) for uid, size, bare, as_of, version in found}
        merged: dict[Any, list[object]] = {}
        added = updated = unchanged = 0
        for row in rows:
            uid, size, bare = row[_UID], row[_INPUT] + row[_OUTPUT], row[_SESSION] is None  # type: ignore[operator]
            price = (row[_AS_OF], row[_VERSION])
            if uid not in state:
                added += 1
                state[uid] = (size, bare, price)
                merged[uid] = list(row)
                continue
            stored_size, stored_bare, stored_price = state[uid]
            larger, attributes = size > stored_size, stored_bare and not bare
            repriced = size == stored_size and _newer_price(price, stored_price)
            if not (larger or attributes or repriced):
                unchanged += 1
                continue
            updated += 1
            state[uid] = (max(size, stored_size), stored_bare and bare, price if larger or repriced else stored_price)
            into = merged.get(uid)
            if into is None:
                merged[uid] = list(row)  # merged with the stored row by the SQL's own rule
                continue
            if larger:
                for i in _MAIN:
                    into[i] = row[i]
            elif repriced:
                for i in _PRICE:
                    into[i] = row[i]
            if attributes:
                for i in _ATTR:
                    into[i] = row[i]
        self._write_rows([tuple(r) for r in merged.values()])
        return UpsertResult(added=added, updated=updated, unchanged=unchanged)

    def _write_rows(self, rows: list[tuple[object, ...]]) -> None:
        if not rows:
            return
        if len(rows) <= COPY_FROM:
            with self.conn.cursor() as cur:
                cur.executemany(f"INSERT INTO usage ({_COLUMNS}) VALUES ({', '.join(['%s'] * _N_COLUMNS)}) {_ON_CONFLICT}", rows)
            return
        self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS tokopt_incoming ON COMMIT DELETE ROWS AS SELECT {_COLUMNS} FROM usage WITH NO DATA")
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY tokopt_incoming ({_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(f"INSERT INTO usage ({_COLUMNS}) SELECT {_COLUMNS} FROM tokopt_incoming {_ON_CONFLICT}")
            cur.execute("TRUNCATE tokopt_incoming")

    def insert_usage(self, record: UsageRecord) -> int:
        """`upsert_usage` of one record; its id (the stored record's, if its dedupe key was seen)."""
        params = _params(record)
        inserted = self.conn.execute(
            f"INSERT INTO usage ({_COLUMNS}) VALUES ({', '.join(['%s'] * _N_COLUMNS)}) {_ON_CONFLICT} RETURNING id", params
        ).fetchone()
        if inserted is not None:
            return int(inserted[0])
        (found,) = self.conn.execute("SELECT id FROM usage WHERE uid = %s", (params[_UID],)).fetchone()
        return int(found)

    def set_prices(self, prices: Sequence[Repriced]) -> int:
        """Give these records their new model, provider, cost and price data (and change number)."""
        money = [Decimal(money_text(p.cost_usd)) if p.cost_usd is not None else None for p in prices]
        with self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE usage SET model = %s, provider = %s, cost_usd = %s, pricing_as_of = %s, pricing_version = %s, "
                "seq = nextval('usage_changes') WHERE id = %s",
                [(p.model, p.provider, cost, p.pricing_as_of, p.pricing_version, p.id) for p, cost in zip(prices, money)],
            )
        return len(prices)

    def get_usage(self, ids: Sequence[int]) -> list[UsageRecord]:
        if not ids:
            return []
        rows = self.conn.execute(f"SELECT id, {_COLUMNS} FROM usage WHERE id = ANY(%s) ORDER BY id", (list(ids),))
        return [_record_of(r) for r in rows]

    def usage_rows(self, filters: Filters) -> list[UsageRecord]:
        clause, args = where(filters)
        rows = self.conn.execute(f"SELECT id, {_COLUMNS} FROM usage WHERE {clause} ORDER BY time, id", args)
        return [_record_of(r) for r in rows]

    def usage_batches(self, filters: Filters, size: int) -> Iterator[list[UsageRecord]]:
        """The records in scope, oldest first, `size` at a time (inside one `read()`): a server-side cursor."""
        clause, args = where(filters)
        with self.conn.cursor(name="tokopt_batches") as cur:
            cur.itersize = size
            cur.execute(f"SELECT id, {_COLUMNS} FROM usage WHERE {clause} ORDER BY time, id", args)
            while rows := cur.fetchmany(size):
                yield [_record_of(r) for r in rows]

    def usage_changes(self, filters: Filters, *, after: int, limit: int) -> list[tuple[int, UsageRecord]]:
        """Up to `limit` records in scope written after change number `after`, in change order."""
        clause, args = where(filters)
        rows = self.conn.execute(
            f"SELECT seq, id, {_COLUMNS} FROM usage WHERE seq > %s AND {clause} ORDER BY seq LIMIT %s", [after, *args, limit]
        )
        return [(int(r[0]), _record_of(r[1:])) for r in rows]

    def count_usage(self, filters: Filters) -> int:
        clause, args = where(filters)
        (n,) = self.conn.execute(f"SELECT count(*) FROM usage WHERE {clause}", args).fetchone()
        return int(n)

    # -- reports ------------------------------------------------------------------------------

    def sums(self, group: Sequence[str], filters: Filters, *, tz: dt.tzinfo = dt.timezone.utc) -> dict[tuple[object, ...], Sums]:
        """Sums per group (`store.GROUPS`), periods counted in `tz`."""
        return aggregate(self.conn, group, filters, tz)

    def total(self, filters: Filters) -> Sums:
        return aggregate(self.conn, [], filters).get((), Sums())

    def latest_time(self, filters: Filters) -> dt.datetime | None:
        """The time of the latest record in scope (`filters.until` exclusive)."""
        clause, args = where(dataclasses.replace(filters, copies=True))  # copies of a response share its time
        (found,) = self.conn.execute(f"SELECT max(time) FROM usage WHERE {clause}", args).fetchone()
        return None if found is None else found.astimezone(dt.timezone.utc)

    def unpriced_models(self, filters: Filters) -> list[tuple[str, int]]:
        clause, args = where(filters)
        rows = self.conn.execute(
            f"SELECT model, count(*) FROM usage WHERE {clause} AND cost_usd IS NULL GROUP BY model ORDER BY count(*) DESC, model", args
        )
        return [(str(m), int(c)) for m, c in rows]


_COLUMN_NAMES = [
    "time", '"user"', "run_id", "provider", "model", *TOKEN_FIELDS,
    "cost_usd", "pricing_as_of", "batch", "estimated", "source", "dedupe_key", "prompt_hash",
    "agent", "session_id", "project", "git_branch", "sidechain", "pricing_version", "service_tier", "uid", "origin",
]  # fmt: skip
_COLUMNS = ", ".join(_COLUMN_NAMES)
_N_COLUMNS = len(_COLUMN_NAMES)
_UID = _COLUMN_NAMES.index("uid")
_INPUT = _COLUMN_NAMES.index("input_tokens")
_OUTPUT = _COLUMN_NAMES.index("output_tokens")
_SESSION = _COLUMN_NAMES.index("session_id")
# what a larger record replaces; what a record with attribution gives one without
_MAIN_NAMES = ["time", "provider", "model", *TOKEN_FIELDS, "cost_usd", "pricing_as_of", "pricing_version", "batch", "service_tier"]
_MAIN_NAMES += ["estimated", "source", "prompt_hash", "origin"]
_ATTR_NAMES = ["agent", "session_id", "project", "git_branch", "sidechain"]
_MAIN = [_COLUMN_NAMES.index(c) for c in _MAIN_NAMES]
_PRICE = [_COLUMN_NAMES.index(c) for c in _MAIN_NAMES if c in PRICE_COLUMNS]
_AS_OF, _VERSION = _COLUMN_NAMES.index("pricing_as_of"), _COLUMN_NAMES.index("pricing_version")
_ATTR = [_COLUMN_NAMES.index(c) for c in _ATTR_NAMES]
# The SQLite store's rule: a stored record is replaced only by a larger one, a stored record
# without attribution gets it from one that has it, and one priced with older price data gets the
# newer price (store.REPRICED); every write gives the next change number.
_LARGER = "excluded.input_tokens + excluded.output_tokens > usage.input_tokens + usage.output_tokens"
_UNATTRIBUTED = "usage.session_id IS NULL AND excluded.session_id IS NOT NULL"
_ON_CONFLICT = (
    "ON CONFLICT (uid) DO UPDATE SET "
    + ", ".join(
        f"{c} = CASE WHEN {_LARGER} OR ({REPRICED}) THEN excluded.{c} ELSE usage.{c} END"
        if c in PRICE_COLUMNS
        else f"{c} = CASE WHEN {_LARGER} THEN excluded.{c} ELSE usage.{c} END"
        for c in _MAIN_NAMES
    )
    + ", "
    + ", ".join(f"{c} = CASE WHEN {_UNATTRIBUTED} THEN excluded.{c} ELSE usage.{c} END" for c in _ATTR_NAMES)
    + ", seq = nextval('usage_changes')"
    + f" WHERE ({_LARGER}) OR ({_UNATTRIBUTED}) OR ({REPRICED})"
)


def _newer_price(price: tuple[Any, Any], stored: tuple[Any, Any]) -> bool:
    """store.REPRICED in Python: priced (as_of, version) over unpriced, later over earlier."""
    (as_of, version), (stored_as_of, stored_version) = price, stored
    return as_of is not None and (stored_as_of is None or (as_of, version or "") > (stored_as_of, stored_version or ""))


def _params(row: UsageRecord) -> tuple[object, ...]:
    if row.time is None or row.user is None:
        raise ValueError("a stored usage record has a time and a user")
    if row.time.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return (
        row.time,
        row.user,
        row.run_id,
        row.provider,
        row.model,
        *[getattr(row, name) for name in TOKEN_FIELDS],
        Decimal(money_text(row.cost_usd)) if row.cost_usd is not None else None,
        row.pricing_as_of,
        bool(row.batch),
        bool(row.estimated),
        row.source,
        row.dedupe_key,
        row.prompt_hash,
        row.agent,
        row.session_id,
        row.project,
        row.git_branch,
        bool(row.sidechain),
        row.pricing_version,
        row.service_tier,
        record_uid(row.user, row.dedupe_key) if row.dedupe_key is not None or row.uid is None else row.uid,
        row.origin or this_machine(),
    )


def _record_of(r: Sequence[Any]) -> UsageRecord:
    n = len(TOKEN_FIELDS)
    id_, time, user, run_id, provider, model = r[:6]
    cost, as_of, batch, estimated, source, key, phash, agent, session, project, branch, sidechain, version, tier, uid, origin = r[6 + n :]
    return UsageRecord(
        id=int(id_),
        time=time.astimezone(dt.timezone.utc),
        user=user,
        run_id=run_id,
        provider=provider,
        model=model,
        **{name: int(value) for name, value in zip(TOKEN_FIELDS, r[6 : 6 + n])},
        cost_usd=cost,
        pricing_as_of=as_of,
        pricing_version=version,
        batch=bool(batch),
        service_tier=tier,
        estimated=bool(estimated),
        source=source,
        dedupe_key=key,
        prompt_hash=phash,
        agent=agent,
        session_id=session,
        project=project,
        git_branch=branch,
        sidechain=bool(sidechain),
        uid=uid,
        origin=origin,
    )


def open(location: str, *, create: bool = True) -> Any:  # noqa: A001 - the backend interface
    """Open the PostgreSQL ledger at a postgresql:// URL. Without `create`, a database with no
    ledger yet reads as an empty ledger and nothing is created in it."""
    if not create:
        conn = pgschema.connect(location)
        try:
            marked, _ = pgschema.check(conn, location)
        finally:
            conn.close()
        if not marked:
            from tokopt.ledger.sqlite import SqliteStore

            empty = SqliteStore.memory()
            empty.location = redact(location)
            return empty
    return PostgresStore.open(location)


def exists(location: str) -> bool:
    """Whether the database holds a tokopt ledger (a database of something else is an error)."""
    conn = pgschema.connect(location)
    try:
        marked, _ = pgschema.check(conn, location)
    finally:
        conn.close()
    return marked
