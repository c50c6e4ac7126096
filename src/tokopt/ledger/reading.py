"""What `Ledger` answers without writing: spend, records, reports, 5-hour blocks and the
status line. Each method is one read transaction; nothing is created by reading."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from tokopt.errors import InputError
from tokopt.ledger import blocks, reports
from tokopt.ledger.blocks import BlocksReport
from tokopt.ledger.reports import REPORT_BY, Run, SessionReport, Spend, Who
from tokopt.ledger.status import Status, status_of
from tokopt.ledger.store import Filters, Store
from tokopt.ledger.timezones import parse_when, utcnow, zone
from tokopt.usage import UsageRecord

When = str | dt.date | dt.datetime | None


class LedgerReading:
    """The reading half of `Ledger` (which provides `user`, `_lock` and `_open`)."""

    user: str
    _lock: threading.RLock

    def _open(self, *, create: bool) -> Store:
        raise NotImplementedError

    def spend(self, *, user: Who = None, run: str | None = None, since: When = None, until: When = None, timezone: str | None = None) -> Spend:
        """What was spent (USD, Decimal) by this user (or `user`, or ALL_USERS), optionally in
        one run (id or name) and period: `since`/`until` as in `report` (dates are whole days
        in `timezone`, both included). Records with no known price are counted apart."""
        tz = zone(timezone)
        start, end = parse_when(since, tz), parse_when(until, tz, end=True)
        with self._lock, self._open(create=False).read() as store:
            filters, _ = reports.scope(store, user=user, me=self.user, run=run, since=start, until=end)
            return Spend.of(store.total(filters))

    def total_cost(self, **kwargs: Any) -> Decimal:
        """`spend(...).cost_usd`: the USD total of the priced records."""
        return self.spend(**kwargs).cost_usd

    def usage(self, *, user: Who = None, run: str | None = None) -> list[UsageRecord]:
        """Every stored record in scope, oldest first (for tests and small exports)."""
        with self._lock, self._open(create=False).read() as store:
            filters, _ = reports.scope(store, user=user, me=self.user, run=run, since=None, until=None)
            return store.usage_rows(dataclasses.replace(filters, copies=True))

    def report(
        self, *, by: str = "model", user: Who = None, run: str | None = None, since: When = None, until: When = None, timezone: str | None = None, **match: Sequence[str]
    ) -> SessionReport:
        """Totals per model, run, user, provider, agent, session, project, branch or period
        (hour, day, week, month, in `timezone`), each row with its models, and a grand total.

        `since` / `until` are dates (whole days in `timezone`, both included) or times;
        `match` narrows to records whose models, providers, agents, sessions, projects or
        branches match a shell-style pattern (e.g. `models=["claude-*"]`)."""
        if by not in REPORT_BY:
            raise InputError(f"cannot report by {by}", hint=f"one of {', '.join(REPORT_BY)}")
        tz = zone(timezone)
        with self._lock, self._open(create=False).read() as store:
            filters, runs = scope_of(store, self.user, user, run, since, until, tz, match)
            return reports.build(store, by, filters, runs, tz)

    def blocks(
        self, *, user: Who = None, since: When = None, until: When = None, timezone: str | None = None, token_limit: int | str | None = None, now: dt.datetime | None = None, **match: Sequence[str]
    ) -> BlocksReport:
        """The 5-hour blocks of the records in scope (see `ledger.blocks`); `token_limit` marks
        the blocks above it (a number, or "max": the most a finished block used)."""
        tz = zone(timezone)
        with self._lock, self._open(create=False).read() as store:
            filters, _ = scope_of(store, self.user, user, None, since, until, tz, match)
            return blocks.report(store, filters, tz, now or utcnow(), token_limit)

    def status(self, *, session: str | None = None, timezone: str | None = None, now: dt.datetime | None = None) -> Status:
        """What a status line shows: today's cost (in `timezone`), the open 5-hour block, and
        the cost of one agent session; reads only those records."""
        tz = zone(timezone)
        with self._lock, self._open(create=False).read() as store:
            filters, _ = reports.scope(store, user=None, me=self.user, run=None, since=None, until=None)
            return status_of(store, filters, tz, now or utcnow(), session)


def scope_of(store: Store, me: str, user: Who, run: str | None, since: When, until: When, tz: dt.tzinfo, match: Mapping[str, Sequence[str]]) -> tuple[Filters, list[Run] | None]:
    start, end = parse_when(since, tz), parse_when(until, tz, end=True)
    if start is not None and end is not None and start >= end:
        raise InputError("--since is not before --until")
    return reports.scope(store, user=user, me=me, run=run, since=start, until=end, match=reports.patterns(**match))
