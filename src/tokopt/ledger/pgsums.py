"""Sums of usage records in PostgreSQL: the same groups, periods and filters as `sqlitesums`,
in PostgreSQL's SQL. Money is `numeric`, so every sum is exact in SQL.

Periods in a zone: SQL sums per UTC hour (`date_trunc` in the session's UTC), and each hour
goes to its local period in Python, as the SQLite store does; zones with :30 or :45 offsets
are summed per local hour, one pass per stretch of constant offset. Keys are the same text as
SQLite's ("2026-07-20T09", "2026-07-20", the week's Monday, "2026-07").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from tokopt.ledger.sqlitesums import monday
from tokopt.ledger.store import PATTERN_FILTERS, TIME_GROUPS, Filters, Sums, once_sql
from tokopt.ledger.timezones import offset_spans
from tokopt.usage import TOKEN_FIELDS

COLUMNS = {
    "model": ("provider", "model"),
    "provider": ("provider",),
    "user": ('"user"',),
    "run": ("run_id",),
    "agent": ("agent",),
    "session": ("session_id",),
    "project": ("project",),
    "branch": ("git_branch",),
}
_K = len(TOKEN_FIELDS)
_SELECT = (
    "count(*), "
    + ", ".join(f"sum({name})" for name in TOKEN_FIELDS)
    + ", count(*) FILTER (WHERE estimated), count(cost_usd), sum(cost_usd), min(time), max(time)"
)
KeyMap = Callable[[tuple[Any, ...]], tuple[Any, ...]]


def glob_regex(pattern: str) -> str:
    """A shell-style pattern as SQLite's GLOB reads it (`*`, `?`, `[a-z]`, `[^x]`, case-sensitive), as an anchored POSIX regex."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            end = i + 1
            if end < len(pattern) and pattern[end] == "^":
                end += 1
            if end < len(pattern) and pattern[end] == "]":
                end += 1
            end = pattern.find("]", end)
            if end == -1:
                out.append("\\[")
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("^")
                body = body[1:] if negate else body
                out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
                i = end
        elif ch.isalnum() or ch in " _-/@:=,'\"":
            out.append(ch)
        else:
            out.append("\\" + ch)
        i += 1
    out.append("$")
    return "".join(out)


# every user's records: each provider response once (see `store.once_sql`); user names
# compare by code point, as in SQLite, so both stores pick the same copy
ONCE = once_sql('"user"', ' COLLATE "C"')


def where(filters: Filters) -> tuple[str, list[object]]:
    """The WHERE clause (and its arguments) of the records in scope."""
    clauses: list[str] = []
    args: list[object] = []
    if filters.user is not None:
        clauses.append('"user" = %s')
        args.append(filters.user)
    elif not filters.copies:
        clauses.append(ONCE)
    if filters.run_ids is not None:
        clauses.append("run_id = ANY(%s)")
        args.append(list(filters.run_ids))
    if filters.since is not None:
        clauses.append("time >= %s")
        args.append(filters.since)
    if filters.until is not None:
        clauses.append("time < %s")
        args.append(filters.until)
    for name, column in PATTERN_FILTERS.items():
        patterns = getattr(filters, name)
        if patterns is None:
            continue
        if not patterns:
            clauses.append("false")
            continue
        clauses.append(f"{column} ~ ANY(%s)")
        args.append([glob_regex(p) for p in patterns])
    return (" AND ".join(clauses) or "true"), args


class Totals:
    """Sums per key, added up from SQL rows (and from several passes)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[Any, ...], list[Any]] = {}

    def add(self, conn: Any, exprs: Sequence[str], filters: Filters, key_map: KeyMap | None = None) -> None:
        clause, args = where(filters)
        group_by = f" GROUP BY {', '.join(str(i + 1) for i in range(len(exprs)))}" if exprs else ""
        n = len(exprs)
        for row in conn.execute(f"SELECT {', '.join([*exprs, _SELECT])} FROM usage WHERE {clause}{group_by}", args):
            if not row[n]:
                continue  # an empty total
            key = tuple(row[:n])
            if key_map is not None:
                key = key_map(key)
            sums = list(row[n:])
            old = self.rows.get(key)
            if old is None:
                self.rows[key] = sums
                continue
            for i in range(_K + 3):
                old[i] += sums[i]
            if sums[_K + 3] is not None:
                old[_K + 3] = sums[_K + 3] if old[_K + 3] is None else old[_K + 3] + sums[_K + 3]
            old[_K + 4] = min(old[_K + 4], sums[_K + 4])
            old[_K + 5] = max(old[_K + 5], sums[_K + 5])

    def sums(self) -> dict[tuple[Any, ...], Sums]:
        out: dict[tuple[Any, ...], Sums] = {}
        for key, s in self.rows.items():
            count, priced = int(s[0]), int(s[_K + 2])
            out[key] = Sums(
                **{name: int(v) for name, v in zip(TOKEN_FIELDS, s[1 : 1 + _K])},
                records=count,
                cost_usd=Decimal(s[_K + 3]) if priced else None,
                unpriced_records=count - priced,
                estimated_records=int(s[_K + 1]),
                first=s[_K + 4].astimezone(dt.timezone.utc),
                last=s[_K + 5].astimezone(dt.timezone.utc),
            )
        return out


def aggregate(conn: Any, group: Sequence[str], filters: Filters, tz: dt.tzinfo = dt.timezone.utc) -> dict[tuple[Any, ...], Sums]:
    """Sums per group (`store.GROUPS`; at most one period), in one pass over the rows."""
    periods = [g for g in group if g in TIME_GROUPS]
    if len(periods) > 1:
        raise ValueError(f"cannot group by {' and '.join(periods)} together")
    exprs: list[str] = []
    at = -1
    for g in group:
        if g in TIME_GROUPS:
            at = len(exprs)
            exprs.append("")
        else:
            exprs.extend(COLUMNS[g])
    totals = Totals()
    if not periods:
        totals.add(conn, exprs, filters)
        return totals.sums()
    period = periods[0]
    if period == "utc_hour" or tz is dt.timezone.utc:
        exprs[at], to_key = _utc_period(period)
        totals.add(conn, exprs, filters, _mapping(at, to_key))
        return totals.sums()
    clause, args = where(filters)
    lo, hi = conn.execute(f"SELECT min(time), max(time) FROM usage WHERE {clause}", args).fetchone()
    if lo is None:
        return {}
    spans = offset_spans(tz, lo, hi)
    local = _PERIOD_OF_LOCAL_HOUR[period]
    if all(offset % 60 == 0 for _, _, offset in spans) and all(start is None or start % 3600 == 0 for start, _, _ in spans):
        exprs[at] = "date_trunc('hour', time)"

        def to_local(hour: dt.datetime) -> str:
            text = hour.astimezone(tz).strftime("%Y-%m-%dT%H")
            return local(text) if local else text

        totals.add(conn, exprs, filters, _mapping(at, to_local))
        return totals.sums()
    for start, end, offset in spans:  # :30 and :45 zones: one pass per stretch of constant offset
        part = dataclasses.replace(filters, since=_bound(filters.since, start, max), until=_bound(filters.until, end, min))
        exprs[at] = f"date_trunc('hour', time + interval '{offset:d} minutes')"

        def shifted(hour: dt.datetime) -> str:
            text = hour.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H")
            return local(text) if local else text

        totals.add(conn, exprs, part, _mapping(at, shifted))
    return totals.sums()


def _mapping(at: int, fn: Callable[[Any], str]) -> KeyMap:
    cache: dict[Any, str] = {}

    def key_map(key: tuple[Any, ...]) -> tuple[Any, ...]:
        value = key[at]
        mapped = cache.get(value)
        if mapped is None:
            mapped = cache[value] = fn(value)
        return (*key[:at], mapped, *key[at + 1 :])

    return key_map


def _utc_period(period: str) -> tuple[str, Callable[[Any], str]]:
    """The SQL of a period in UTC (the session's zone), and what turns its value into the key."""
    if period in ("hour", "utc_hour"):
        return "date_trunc('hour', time)", lambda t: t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H")
    if period == "month":
        return "date_trunc('month', time)", lambda t: t.astimezone(dt.timezone.utc).strftime("%Y-%m")
    day = lambda t: t.astimezone(dt.timezone.utc).strftime("%Y-%m-%d")  # noqa: E731
    if period == "day":
        return "date_trunc('day', time)", day
    return "date_trunc('day', time)", lambda t: monday(day(t))


_PERIOD_OF_LOCAL_HOUR: dict[str, Callable[[str], str] | None] = {
    "hour": None,
    "day": lambda hour: hour[:10],
    "week": lambda hour: monday(hour[:10]),
    "month": lambda hour: hour[:7],
}


def _bound(a: dt.datetime | None, epoch: int | None, pick: Any) -> dt.datetime | None:
    b = dt.datetime.fromtimestamp(epoch, dt.timezone.utc) if epoch is not None else None
    if a is None or b is None:
        return a or b
    return pick(a, b)  # type: ignore[no-any-return]
