"""The status line's figures read straight from an SQLite ledger file, for `tokopt statusline`.

Claude Code runs its status-line command after every message, so the whole process should
take well under 0.15 s. `Ledger.status` (ledger/status.py) answers the same question through
the store, whose modules load pydantic and the rest of the ledger: more than the status line
may spend. This module needs only sqlite3, decimal and tokopt's light modules (errors, paths,
timezones, the ledger file's checks), and runs the same indexed queries: today's records by
time, the session's by session id, and the open 5-hour block from an hour known to start
one (`blocks.anchor`'s walk back).

It answers only for a current SQLite ledger file. Anything else (no file yet, another
backend, an older schema to migrate, a file not in WAL mode, a total too large for SQLite's
integers) returns None, and the caller asks `Ledger.status`, which knows what to do. Tests
compare the two answers on the same ledgers.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tokopt import paths
from tokopt.ledger.migrations import APPLICATION_ID, SCHEMA_VERSION
from tokopt.ledger.sqlitefile import PICO, connect, parse_time_text, time_text, translate
from tokopt.ledger.timezones import parse_when, utcnow, zone
from tokopt.ledger.user import current_user

BLOCK = dt.timedelta(hours=5)
HOUR = dt.timedelta(hours=1)
UTC = dt.timezone.utc


@dataclass(frozen=True)
class Figure:
    """What the status line shows of a group of records (the fields of `store.Sums` it reads)."""

    records: int = 0
    cost_usd: Decimal | None = None  # None: none of them has a price
    unpriced_records: int = 0


@dataclass(frozen=True)
class OpenBlock:
    start: dt.datetime  # UTC, on the hour
    sums: Figure

    @property
    def end(self) -> dt.datetime:
        return self.start + BLOCK


@dataclass(frozen=True)
class QuickStatus:
    """The parts of `status.Status` the status line shows."""

    now: dt.datetime
    today: Figure
    block: OpenBlock | None
    session: Figure | None

    @property
    def block_left(self) -> dt.timedelta | None:
        return None if self.block is None else max(self.block.end - self.now, dt.timedelta(0))


class _Elsewhere(Exception):
    """The full path must answer (a sum over SQLite's 64-bit integers)."""


def quick_status(location: str | None, user: str | None, timezone: str | None, session_id: str | None, now: dt.datetime | None = None) -> QuickStatus | None:
    """The status (as `Ledger(location, user=user).status(...)` gives it), or None when the
    ledger is not a current SQLite file and the full path must answer."""
    location = location if location is not None else paths.default_ledger()
    me = current_user(user)
    tz = zone(timezone)
    scheme, sep, rest = location.partition("://")
    if sep and scheme.lower() != "sqlite":
        return None
    path = Path(location.removeprefix("sqlite://")).expanduser()
    if not path.exists():
        return None  # the full path reads a missing ledger as an empty one, creating nothing
    db, _ = connect(path)
    try:
        if not _current(db):
            return None
        db.execute("BEGIN")
        try:
            return _status(db, me, tz, now or utcnow(), session_id or None)
        finally:
            if db.in_transaction:
                db.execute("COMMIT")
    except _Elsewhere:
        return None
    except sqlite3.DatabaseError as exc:
        error = translate(exc, path)
        if error is None:
            raise
        raise error from None
    finally:
        db.close()


def _current(db: sqlite3.Connection) -> bool:
    """A tokopt ledger of this schema, in WAL mode: nothing to do before reading it (else
    opening it the full way migrates it, or refuses it).

    Its token columns are not checked: the status line reads no token counts, so a ledger
    made before a newer token kind (the full path adds that column when it next opens the
    ledger) gives the same figures."""
    app_id, version, mode = db.execute(
        "SELECT (SELECT application_id FROM pragma_application_id()), (SELECT user_version FROM pragma_user_version()), "
        "(SELECT journal_mode FROM pragma_journal_mode())"
    ).fetchone()
    return app_id == APPLICATION_ID and version == SCHEMA_VERSION and str(mode).lower() == "wal"


def _status(db: sqlite3.Connection, me: str, tz: dt.tzinfo, now: dt.datetime, session_id: str | None) -> QuickStatus:
    until = time_text(now + dt.timedelta(microseconds=1))
    midnight = parse_when(now.astimezone(tz).date(), tz)
    assert midnight is not None
    today = _figure(db, "user = ? AND time >= ? AND time < ?", [me, time_text(midnight), until], _BY_TIME)
    session = _figure(db, "user = ? AND session_id = ?", [me, session_id]) if session_id else None
    return QuickStatus(now=now, today=today, block=_open_block(db, me, now, until), session=session)


_SUMS = "count(*), count(cost_usd), sum(cost_picousd), count(cost_picousd)"
_BY_TIME = "usage INDEXED BY usage_user_time"  # a time range of one user's: as `sqlitesums.source` reads it


def _sums(db: sqlite3.Connection, key: str, clause: str, args: list[object], table: str = "usage") -> dict[str, list[object]]:
    """[records, priced, picousd, cost] per `key` (an SQL expression, or '' for one total):
    costs summed in SQL as whole pico-dollars, those with more digits as Decimal (as `sqlitesums.Totals`)."""
    select = f"{key}, {_SUMS}" if key else f"'', {_SUMS}"
    group = " GROUP BY 1" if key else ""
    try:
        rows = db.execute(f"SELECT {select} FROM {table} WHERE {clause}{group}", args).fetchall()
    except sqlite3.OperationalError as exc:
        if "integer overflow" in str(exc):
            raise _Elsewhere from None
        raise
    out: dict[str, list[object]] = {}
    decimal_rows = 0
    for k, records, priced, pico, exact in rows:
        if records:
            out[k] = [records, priced, pico or 0, Decimal(0)]
            decimal_rows += priced - exact
    if decimal_rows:
        select = f"{key}, cost_usd" if key else "'', cost_usd"
        for k, cost in db.execute(f"SELECT {select} FROM usage WHERE {clause} AND cost_picousd IS NULL AND cost_usd IS NOT NULL", args):
            out[k][3] += Decimal(str(cost))  # type: ignore[operator]
    return out


def _cost(row: list[object]) -> Decimal | None:
    records, priced, pico, extra = row
    return Decimal(pico).scaleb(-PICO) + extra if priced else None  # type: ignore[arg-type,operator]


def _figure(db: sqlite3.Connection, clause: str, args: list[object], table: str = "usage") -> Figure:
    row = _sums(db, "", clause, args, table).get("")
    if row is None:
        return Figure()
    return Figure(records=int(row[0]), cost_usd=_cost(row), unpriced_records=int(row[0]) - int(row[1]))  # type: ignore[call-overload]


def _latest(db: sqlite3.Connection, me: str, before: str) -> dt.datetime | None:
    found = db.execute("SELECT max(time) FROM usage WHERE user = ? AND time < ?", (me, before)).fetchone()[0]
    return None if found is None else parse_time_text(str(found))


def _floor_hour(when: dt.datetime) -> dt.datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _anchor(db: sqlite3.Connection, me: str, now: dt.datetime, until: str, steps: int = 48) -> dt.datetime | None:
    """As `blocks.anchor`: an hour at or before `now` that certainly starts a block, or None."""
    latest = _latest(db, me, until)
    if latest is None or latest < _floor_hour(now) - 4 * HOUR:
        return None
    hour = _floor_hour(latest)
    for _ in range(steps):
        before = _latest(db, me, time_text(hour))
        if before is None or before < hour - 4 * HOUR:
            return hour
        hour = _floor_hour(before)
    return dt.datetime(1970, 1, 1, tzinfo=UTC)


def _open_block(db: sqlite3.Connection, me: str, now: dt.datetime, until: str) -> OpenBlock | None:
    """As `blocks.open_block`: the block open at `now`, from the hours since an anchor."""
    anchor = _anchor(db, me, now, until)
    if anchor is None:
        return None
    hours = _sums(db, "substr(time, 1, 13)", "user = ? AND time >= ? AND time < ?", [me, time_text(anchor), until], _BY_TIME)
    start: dt.datetime | None = None
    records = priced = 0
    cost: Decimal | None = None
    for text in sorted(hours):
        hour = dt.datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), tzinfo=UTC)
        if start is None or hour >= start + BLOCK:
            start, records, priced, cost = hour, 0, 0, None
        row = hours[text]
        records += int(row[0])  # type: ignore[call-overload]
        priced += int(row[1])  # type: ignore[call-overload]
        part = _cost(row)
        cost = cost if part is None else part if cost is None else cost + part
    if start is None or not start <= now < start + BLOCK:
        return None
    return OpenBlock(start=start, sums=Figure(records=records, cost_usd=cost, unpriced_records=records - priced))
