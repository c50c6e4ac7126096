"""Sums of usage records in SQLite: one GROUP BY pass per report, exact money, and periods
(hours, days, weeks, months) counted in any time zone.

Costs are summed in SQL as whole pico-dollars (`cost_picousd`); the rare rows whose cost has
more digits than that, or a group over 9.2 million USD, are added up as Decimal in Python.

Periods are summed per UTC hour in SQL, in the order of the report index (user, UTC hour,
provider, model: migration m011), so no record is sorted; each hour goes to its period in
Python, in UTC or in a zone (a zone changes its offset on the hour nearly everywhere). Zones
with :30 or :45 offsets are summed per local hour, one pass per stretch of constant offset.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from tokopt.ledger.sqlitefile import PICO, parse_time_text, time_text
from tokopt.ledger.store import PATTERN_FILTERS, TIME_GROUPS, Filters, Sums, once_sql
from tokopt.ledger.timezones import offset_spans
from tokopt.usage import TOKEN_FIELDS

# SQL of the groups that are columns
COLUMNS = {
    "model": ("provider", "model"),
    "provider": ("provider",),
    "user": ("user",),
    "run": ("run_id",),
    "agent": ("agent",),
    "session": ("session_id",),
    "project": ("project",),
    "branch": ("git_branch",),
}
_K = len(TOKEN_FIELDS)
# positions in a row of sums (after the key): records, tokens, estimated, priced, pico, exact, first, last
_EST, _PRICED, _PICO, _EXACT, _FIRST, _LAST = 1 + _K, 2 + _K, 3 + _K, 4 + _K, 5 + _K, 6 + _K


# every user's records: each provider response once (see `store.once_sql`)
ONCE = once_sql("user")


def where(filters: Filters) -> tuple[str, list[object]]:
    """The WHERE clause (and its arguments) of the records in scope."""
    clauses: list[str] = []
    args: list[object] = []
    if filters.user is not None:
        clauses.append("user = ?")
        args.append(filters.user)
    elif not filters.copies:
        clauses.append(ONCE)
    if filters.run_ids is not None:
        if not filters.run_ids:
            clauses.append("0")
        else:
            clauses.append(f"run_id IN ({', '.join('?' * len(filters.run_ids))})")
            args.extend(filters.run_ids)
    if filters.since is not None:
        clauses.append("time >= ?")
        args.append(time_text(filters.since))
    if filters.until is not None:
        clauses.append("time < ?")
        args.append(time_text(filters.until))
    for name, column in PATTERN_FILTERS.items():
        patterns = getattr(filters, name)
        if patterns is None:
            continue
        if not patterns:
            clauses.append("0")
            continue
        clauses.append("(" + " OR ".join(f"{column} GLOB ?" for _ in patterns) + ")")
        args.extend(patterns)
    return (" AND ".join(clauses) or "1"), args


def source(filters: Filters) -> str:
    """What a query of sums reads: one user's records in a time range through the (user, time)
    index. The report index (migration m011) holds every column the sums need but is ordered
    by hour; SQLite, which knows no statistics of a ledger, would read every one of the
    user's records through it rather than the range of a day (the status line's today)."""
    if filters.user is not None and filters.run_ids is None and (filters.since is not None or filters.until is not None):
        return "usage INDEXED BY usage_user_time"
    return "usage"


def _select(exact_sql: bool) -> str:
    # count(x) counts non-null x: priced rows, and rows whose cost SQL can sum exactly
    cost, exact_rows = ("sum(cost_picousd)", "count(cost_picousd)") if exact_sql else ("0", "0")
    tokens = ", ".join(f"sum({name})" for name in TOKEN_FIELDS)
    return f"count(*), {tokens}, sum(estimated), count(cost_usd), {cost}, {exact_rows}, min(time), max(time)"


KeyMap = Callable[[tuple[Any, ...]], tuple[Any, ...]]


class Totals:
    """Sums per key, added up from SQL rows (and from several passes)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[Any, ...], list[Any]] = {}
        self.decimal: dict[tuple[Any, ...], Decimal] = {}

    def add(self, db: sqlite3.Connection, exprs: Sequence[str], filters: Filters, key_map: KeyMap | None = None) -> None:
        """One GROUP BY pass over the records in scope; `key_map` turns each SQL key into its group's key."""
        clause, args = where(filters)
        group_by = f" GROUP BY {', '.join(str(i + 1) for i in range(len(exprs)))}" if exprs else ""
        exact_sql = True
        try:
            rows = db.execute(f"SELECT {', '.join([*exprs, _select(True)])} FROM {source(filters)} WHERE {clause}{group_by}", args).fetchall()
        except sqlite3.OperationalError as exc:
            if "integer overflow" not in str(exc):
                raise
            # Over 9.2 million USD in one group overflows SQLite's integers: add Decimals instead.
            exact_sql = False
            rows = db.execute(f"SELECT {', '.join([*exprs, _select(False)])} FROM {source(filters)} WHERE {clause}{group_by}", args).fetchall()
        n = len(exprs)
        decimal_rows = 0
        kept = self.rows
        for row in rows:
            if not row[n]:
                continue  # an empty total
            key = tuple(row[:n])
            if key_map is not None:
                key = key_map(key)
            sums = row[n:]
            decimal_rows += sums[_PRICED] - sums[_EXACT]
            old = kept.get(key)
            if old is None:
                kept[key] = fresh = list(sums)
                fresh[_PICO] = fresh[_PICO] or 0
            else:
                for i in range(_FIRST):
                    old[i] += sums[i] or 0
                old[_FIRST] = min(old[_FIRST], sums[_FIRST])
                old[_LAST] = max(old[_LAST], sums[_LAST])
        if decimal_rows:
            which = "cost_picousd IS NULL AND cost_usd IS NOT NULL" if exact_sql else "cost_usd IS NOT NULL"
            select = ", ".join([*exprs, "cost_usd"])
            for row in db.execute(f"SELECT {select} FROM usage WHERE {clause} AND {which}", args):
                key = tuple(row[:-1])
                if key_map is not None:
                    key = key_map(key)
                self.decimal[key] = self.decimal.get(key, Decimal(0)) + Decimal(str(row[-1]))

    def sums(self) -> dict[tuple[Any, ...], Sums]:
        out: dict[tuple[Any, ...], Sums] = {}
        for key, s in self.rows.items():
            priced = s[_PRICED]
            cost = Decimal(s[_PICO] or 0).scaleb(-PICO) + self.decimal.get(key, Decimal(0)) if priced else None
            out[key] = Sums(
                **dict(zip(TOKEN_FIELDS, s[1 : 1 + _K])),
                records=s[0],
                cost_usd=cost,
                unpriced_records=s[0] - priced,
                estimated_records=s[_EST] or 0,
                first=parse_time_text(s[_FIRST]),
                last=parse_time_text(s[_LAST]),
            )
        return out


def aggregate(db: sqlite3.Connection, group: Sequence[str], filters: Filters, tz: dt.tzinfo = dt.timezone.utc) -> dict[tuple[Any, ...], Sums]:
    """Sums per group (`store.GROUPS`; at most one period), in one pass over the rows."""
    periods = [g for g in group if g in TIME_GROUPS]
    if len(periods) > 1:
        raise ValueError(f"cannot group by {' and '.join(periods)} together")
    exprs: list[str] = []
    at = -1  # where the period's value is in the key
    for g in group:
        if g in TIME_GROUPS:
            at = len(exprs)
            exprs.append("")
        else:
            exprs.extend(COLUMNS[g])
    totals = Totals()
    if not periods:
        totals.add(db, exprs, filters)
        return totals.sums()
    period = periods[0]
    if period == "utc_hour" or tz is dt.timezone.utc:
        # per UTC hour, the report index's order (no sort), each hour then to its period
        exprs[at] = "substr(time, 1, 13)"
        local = None if period == "utc_hour" else _PERIOD_OF_LOCAL_HOUR[period]
        totals.add(db, exprs, filters, _mapping(at, local) if local else None)
        return totals.sums()
    span = _time_range(db, filters)
    if span is None:
        return {}
    spans = offset_spans(tz, *span)
    if all(offset % 60 == 0 for _, _, offset in spans) and all(lo is None or lo % 3600 == 0 for lo, _, _ in spans):
        # Whole-hour offsets that change on the hour (nearly every zone): sum per UTC hour in
        # SQL, then give each hour to its local period. Cheaper than a date() per row.
        exprs[at] = "substr(time, 1, 13)"
        to_local = _utc_hour_to(period, tz)
        totals.add(db, exprs, filters, _mapping(at, to_local))
        return totals.sums()
    local_hour = _PERIOD_OF_LOCAL_HOUR[period]
    for lo, hi, offset in spans:  # :30 and :45 zones: one pass per stretch of constant offset
        part = dataclasses.replace(filters, since=_later(filters.since, lo), until=_earlier(filters.until, hi))
        exprs[at] = f"strftime('%Y-%m-%dT%H', time, '{offset:+d} minutes')"
        totals.add(db, exprs, part, _mapping(at, local_hour) if local_hour else None)
    return totals.sums()


def _mapping(at: int, fn: Callable[[str], str]) -> KeyMap:
    cache: dict[str, str] = {}

    def key_map(key: tuple[Any, ...]) -> tuple[Any, ...]:
        value = key[at]
        mapped = cache.get(value)
        if mapped is None:
            mapped = cache[value] = fn(value)
        return (*key[:at], mapped, *key[at + 1 :])

    return key_map


def monday(day: str) -> str:
    """The Monday of the week (Monday to Sunday) of an ISO date."""
    date = dt.date(int(day[:4]), int(day[5:7]), int(day[8:10]))
    return (date - dt.timedelta(days=date.weekday())).isoformat()


# a local hour "2026-07-20T09" -> its period
_PERIOD_OF_LOCAL_HOUR: dict[str, Callable[[str], str] | None] = {
    "hour": None,
    "day": lambda hour: hour[:10],
    "week": lambda hour: monday(hour[:10]),
    "month": lambda hour: hour[:7],
}


def _utc_hour_to(period: str, tz: dt.tzinfo) -> Callable[[str], str]:
    local = _PERIOD_OF_LOCAL_HOUR[period]

    def convert(hour: str) -> str:
        start = dt.datetime(int(hour[:4]), int(hour[5:7]), int(hour[8:10]), int(hour[11:13]), tzinfo=dt.timezone.utc)
        text = start.astimezone(tz).strftime("%Y-%m-%dT%H")
        return local(text) if local else text

    return convert


def _time_range(db: sqlite3.Connection, filters: Filters) -> tuple[dt.datetime, dt.datetime] | None:
    clause, args = where(filters)
    lo, hi = db.execute(f"SELECT min(time), max(time) FROM usage WHERE {clause}", args).fetchone()
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
