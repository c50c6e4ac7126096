"""What the ledger needs from a database: the `Store` protocol, the values it passes, and
`open_store`, which opens a ledger *location* with the backend its scheme names.

A location is a file path (SQLite, the default) or a URL whose scheme names a backend
(`postgresql://...`). Nothing outside a backend's own module knows what a location is. A new
backend is one module with `open(location, *, create)` and `exists(location)`, and one line
in `BACKENDS`.

What every backend keeps, whatever its SQL:

- one transaction per command (`write()` / `read()`); a killed process leaves the ledger as
  it was, and a damaged or foreign database is refused, never written;
- usage records with one column per token kind (`usage.TOKEN_FIELDS`) and per field of
  `UsageRecord`; a record whose (user, dedupe_key) is stored replaces it only when it has more
  tokens, so importing or pushing the same records again adds nothing;
- money as exact Decimal; times as aware UTC;
- each user's records apart: a query sees one user's records unless `Filters.user` is None;
- one provider response, one cost: with `Filters.user` None, a response that several users
  imported (the same dedupe key made by an importer) is seen once (`once_sql`).

Grouping is the backend's job, including days, hours or months in a time zone (`sums`), so
that each can do it in its own SQL. New record fields (agent, session, project, branch,
the machine a record came from) are new `UsageRecord` fields, columns added by a migration,
and group names or `Filters` fields; the methods below keep their shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from tokopt.usage import TOKEN_FIELDS, Usage, UsageRecord

# URL scheme -> the module of its backend; a location without a scheme is an SQLite file.
BACKENDS: dict[str, str] = {
    "": "tokopt.ledger.sqlite",
    "sqlite": "tokopt.ledger.sqlite",
    "postgresql": "tokopt.ledger.postgres",
    "postgres": "tokopt.ledger.postgres",
}

# What `Store.sums` can group by. A key names its values: "model" is (provider, model); the
# attribution groups are one value each (session: the agent's session id; branch: git branch).
GROUPS: tuple[str, ...] = ("model", "provider", "user", "run", "agent", "session", "project", "branch", *("hour", "day", "week", "month", "utc_hour"))
# Periods, as key text in the zone `sums` is given: hour "2026-07-20T09", day "2026-07-20",
# week "2026-07-13" (the Monday it starts on; weeks run Monday to Sunday), month "2026-07";
# utc_hour is the hour in UTC whatever the zone ("2026-07-20T07"), for 5-hour blocks.
# One period at most per call; it may go with any of the other groups.
TIME_GROUPS: tuple[str, ...] = ("hour", "day", "week", "month", "utc_hour")


@dataclass(frozen=True)
class Run:
    """A named stretch of one user's work that records go to."""

    id: str
    user: str
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    ended_at: dt.datetime | None = None


@dataclass(frozen=True)
class Filters:
    """Which usage records a query sees. `user=None` means every user; times are UTC, `until` exclusive."""

    user: str | None = None
    run_ids: tuple[str, ...] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    # Shell-style patterns (`*`, `?`, `[...]`, case-sensitive, as SQLite's GLOB): a record is
    # in scope when its value matches one of them; a record without a value matches none.
    models: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    agents: tuple[str, ...] | None = None
    sessions: tuple[str, ...] | None = None
    projects: tuple[str, ...] | None = None
    branches: tuple[str, ...] | None = None
    # With `user=None`, a provider response imported by several users is one record (see
    # `once_sql`); `copies=True` sees every user's copy instead: what sync sends and reprice prices.
    copies: bool = False


# A copy of a stored record with as many tokens replaces its price (model, provider, cost, price
# data) when it was priced with newer price data: a priced copy over an unpriced one, a later
# as_of (then version) over an earlier one. So `session reprice` then `push` reprices the other
# ledger's copy too. The rule compares only the two copies: ledgers merged in any order agree.
PRICE_COLUMNS = frozenset({"provider", "model", "cost_usd", "cost_picousd", "pricing_as_of", "pricing_version"})
REPRICED = (
    "excluded.input_tokens + excluded.output_tokens = usage.input_tokens + usage.output_tokens"
    " AND excluded.pricing_as_of IS NOT NULL AND (usage.pricing_as_of IS NULL"
    " OR (excluded.pricing_as_of, coalesce(excluded.pricing_version, '')) > (usage.pricing_as_of, coalesce(usage.pricing_version, '')))"
)


# Filters field -> the UsageRecord field it matches
PATTERN_FILTERS: dict[str, str] = {
    "models": "model",
    "providers": "provider",
    "agents": "agent",
    "sessions": "session_id",
    "projects": "project",
    "branches": "git_branch",
}


@dataclass(slots=True, kw_only=True)
class Sums(Usage):
    """Token and cost sums of a group of usage records. `cost_usd` covers the priced records
    and is None when none of them had a price (unknown, never $0)."""

    records: int = 0
    cost_usd: Decimal | None = None
    unpriced_records: int = 0
    estimated_records: int = 0
    first: dt.datetime | None = None  # the time of the earliest record (UTC)
    last: dt.datetime | None = None  # and of the latest

    def __post_init__(self) -> None:
        pass  # sums of valid records are valid, and may hold more than one call can

    def __add__(self, other: Sums) -> Sums:
        if self.cost_usd is None or other.cost_usd is None:
            cost = self.cost_usd if other.cost_usd is None else other.cost_usd
        else:
            cost = self.cost_usd + other.cost_usd
        return Sums(
            **{name: getattr(self, name) + getattr(other, name) for name in TOKEN_FIELDS},
            records=self.records + other.records,
            cost_usd=cost,
            unpriced_records=self.unpriced_records + other.unpriced_records,
            estimated_records=self.estimated_records + other.estimated_records,
            first=_earliest(self.first, other.first),
            last=_latest(self.last, other.last),
        )


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True)
class FileState:
    """Where the last import of one log file stopped (per user): the file's size and mtime
    then, the offset after its last whole line, how many lines that is, the length and
    sha256 of the bytes just before the offset (the last line, at most its last 64 KiB), and
    the importers' state at the offset (JSON-able), so that a grown file is read from there."""

    path: str
    size: int
    mtime_ns: int
    offset: int
    lines: int
    tail_len: int
    tail_hash: str
    state: dict[str, Any]
    imported_at: dt.datetime


@dataclass(frozen=True)
class Repriced:
    """A stored record's new price (`Store.set_prices`): the model id and provider it resolved
    to, its cost (None: unpriced) and the date and version of the price data."""

    id: int
    model: str
    provider: str | None
    cost_usd: Decimal | None
    pricing_as_of: dt.date | None
    pricing_version: str | None


@dataclass(frozen=True)
class UpsertResult:
    added: int
    updated: int
    unchanged: int


class Store(Protocol):
    """An open ledger. Every group of calls runs inside `write()` or `read()`."""

    location: str  # for messages; a URL's password is never in it
    migrated_from: int | None  # the schema version it was migrated from when opened, if it was
    backup: str | None  # where the ledger was copied before that migration

    @property
    def version(self) -> int: ...

    def close(self) -> None: ...

    def write(self) -> AbstractContextManager[Store]:
        """One write transaction: all of it happens, or none (writers queue, never fail)."""
        ...

    def read(self) -> AbstractContextManager[Store]:
        """One read transaction: every query inside sees the same snapshot."""
        ...

    # runs
    def run_id_exists(self, run_id: str) -> bool: ...
    def insert_run(self, run: Run) -> None: ...
    def get_run(self, run_id: str) -> Run | None: ...
    def runs_named(self, name: str, user: str | None) -> list[Run]:
        """Runs with this name (of `user`, or of anyone), newest first."""
        ...

    def end_run(self, run_id: str, ended_at: dt.datetime) -> None:
        """End a run; it stops being anyone's current run."""
        ...

    def delete_run(self, run_id: str) -> int:
        """Delete a run and its usage records; returns how many records went with it."""
        ...

    def current_run(self, user: str) -> Run | None: ...
    def set_current_run(self, user: str, run_id: str) -> None: ...
    def list_runs(self, user: str | None) -> list[tuple[Run, Sums, bool]]:
        """Runs (of `user`, or everyone's), oldest first, with their sums and whether each is its user's current run."""
        ...

    # usage records
    def upsert_usage(self, records: Iterable[UsageRecord]) -> UpsertResult:
        """Store records that have a time and a user; a stored (user, dedupe_key) is replaced only by a larger record."""
        ...

    def insert_usage(self, record: UsageRecord) -> int:
        """`upsert_usage` of one record; its id (the stored record's, if its dedupe key was seen)."""
        ...

    def set_prices(self, prices: Sequence[Repriced]) -> int:
        """Give these stored records (by id) their new model, provider, cost and price data, in
        the caller's write transaction; each gets a new change number. How many there were."""
        ...

    def get_usage(self, ids: Sequence[int]) -> list[UsageRecord]: ...
    def usage_batches(self, filters: Filters, size: int) -> Iterator[list[UsageRecord]]:
        """The records in scope, oldest first, `size` at a time (inside one `read()`)."""
        ...

    def usage_changes(self, filters: Filters, *, after: int, limit: int) -> list[tuple[int, UsageRecord]]:
        """Up to `limit` records in scope stored or changed after change number `after`, each
        with its change number, in change order (a record's number grows with every write of it)."""
        ...
    def usage_rows(self, filters: Filters) -> list[UsageRecord]:
        """The records in scope, oldest first."""
        ...

    def count_usage(self, filters: Filters) -> int: ...

    # merging ledgers
    @property
    def ledger_id(self) -> str:
        """This ledger's own id, made when it was created; another ledger knows it by this."""
        ...

    def sync_position(self, source: str) -> int:
        """How far the records of `source` (a ledger id and scope) have been merged into this one."""
        ...

    def set_sync_position(self, source: str, position: int) -> None: ...

    # reports
    def sums(self, group: Sequence[str], filters: Filters, *, tz: dt.tzinfo = dt.timezone.utc) -> dict[tuple[object, ...], Sums]:
        """Sums per group (names from GROUPS; none: one grand total), days counted in `tz`.
        Keys are tuples of the groups' values: a day is ISO text, a missing value None."""
        ...

    def total(self, filters: Filters) -> Sums: ...
    def latest_time(self, filters: Filters) -> dt.datetime | None:
        """The time of the latest record in scope (`filters.until` is exclusive), or None."""
        ...

    def unpriced_models(self, filters: Filters) -> list[tuple[str, int]]:
        """Models whose records have no cost, with how many records each, most first."""
        ...

    # incremental import
    def import_states(self, user: str, paths: Sequence[str]) -> dict[str, FileState]:
        """The stored state of each of these log files that `user` imported before."""
        ...

    def save_import_states(self, user: str, states: Sequence[FileState]) -> None:
        """Store (or replace) these files' states, in the caller's write transaction."""
        ...


# Which copy of a provider response counts when every user's records are summed. A response's
# identity is the dedupe key an importer made from it (source `import:<format>`: the provider's
# response or message id, or a hash of the object): two users who import the same log hold two
# copies of one response. The copy that counts is the most complete one (most input + output
# tokens, the measure that picks between two copies of one user), and of equal ones the copy of
# the user whose name sorts first. The rule reads only the copies themselves, never the order
# they arrived in, so every ledger that holds the same copies (after `session push` / `pull`)
# counts the same response once and for the same user. Keys a caller chose (`session record`,
# `Ledger.record(dedupe_key=...)`) are that user's own and never merge across users.
def once_sql(user: str, collate: str = "") -> str:
    """The rule above as SQL: a condition on the outer `usage` row, true for the copy that counts and
    for every record that is not a copy. `user` is the backend's quoting of the user column,
    `collate` what makes its `<` compare code points (as SQLite does). The inner scan reads
    only the dedupe-key index unless keys repeat."""
    a_total, b_total = "a.input_tokens + a.output_tokens", "b.input_tokens + b.output_tokens"
    return (
        "id NOT IN (SELECT b.id FROM usage AS b WHERE b.dedupe_key IN ("
        "SELECT dedupe_key FROM usage WHERE dedupe_key IS NOT NULL GROUP BY dedupe_key HAVING count(*) > 1)"
        " AND substr(b.source, 1, 7) = 'import:' AND EXISTS (SELECT 1 FROM usage AS a WHERE a.dedupe_key = b.dedupe_key"
        f" AND a.{user} <> b.{user} AND substr(a.source, 1, 7) = 'import:'"
        f" AND ({a_total} > {b_total} OR ({a_total} = {b_total} AND a.{user}{collate} < b.{user}{collate}))))"
    )


def record_uid(user: str, dedupe_key: str | None) -> str:
    """The id a record keeps in every ledger: from (user, dedupe key), so that the same call
    recorded on two machines is one record; a record without a key gets a random one."""
    if dedupe_key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{user}\x00{dedupe_key}".encode()).hexdigest()[:32]


_machine: str | None = None


def this_machine() -> str:
    """The name records made here carry as their origin: TOKOPT_MACHINE, else the host name."""
    global _machine
    from tokopt.paths import ENV_MACHINE

    named = os.environ.get(ENV_MACHINE, "").strip()
    if named:
        return named
    if _machine is None:
        import socket

        _machine = socket.gethostname() or "unknown"
    return _machine


def redact(location: str) -> str:
    """`location` as messages show it: a URL without its password (in the user part or the query)."""
    if "://" not in location:
        return location
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(location)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user, sep, _password = userinfo.partition(":")
            netloc = f"{user}{':***' if sep else ''}@{hostport}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in pairs], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        scheme = location.partition("://")[0]
        return f"{scheme}://***"


def _backend(location: str):  # type: ignore[no-untyped-def]
    scheme, sep, _ = location.partition("://")
    name = BACKENDS.get(scheme.lower() if sep else "")
    if name is None:
        from tokopt.errors import LedgerError

        known = ", ".join(f"{s}://" for s in sorted(BACKENDS) if s)
        raise LedgerError(f"unknown kind of ledger: {scheme}://", hint=f"a file path, or one of {known}")
    return importlib.import_module(name)


def open_store(location: str, *, create: bool = True) -> Store:
    """Open the ledger at `location`, migrating an older schema (after a backup). Without
    `create`, a ledger that does not exist opens empty and nothing is created."""
    return _backend(location).open(location, create=create)  # type: ignore[no-any-return]


def store_exists(location: str) -> bool:
    """Whether a ledger is at `location` (without creating one)."""
    return bool(_backend(location).exists(location))
