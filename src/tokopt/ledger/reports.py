"""What the ledger answers: reports grouped by model, run, day, user or provider; spend; run
listings; import summaries. Plain values (money as Decimal), built from a `Store`'s sums."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from tokopt.errors import InputError
from tokopt.ledger.importers import FileImport
from tokopt.ledger.store import Filters, Run, Store, Sums
from tokopt.ledger.timezones import zone_label
from tokopt.usage import UsageRecord

REPORT_BY: tuple[str, ...] = ("model", "run", "day", "user", "provider")


class _AllUsers(Enum):
    token = 0


ALL_USERS = _AllUsers.token  # `user=ALL_USERS`: every user's records, not only yours
Who = str | None | _AllUsers


@dataclass(frozen=True)
class RunListing:
    run: Run
    current: bool
    sums: Sums


@dataclass(frozen=True)
class ReportRow:
    """One group of a report: `key` names it (e.g. {"day": "2026-07-18"})."""

    key: dict[str, str | None]
    sums: Sums


@dataclass(frozen=True)
class UnpricedModel:
    model: str
    records: int


@dataclass(frozen=True)
class SessionReport:
    by: str
    user: str | None  # None: every user
    run: list[Run] | None
    since: dt.datetime | None
    until: dt.datetime | None
    timezone: str
    rows: list[ReportRow]
    total: Sums
    unpriced: list[UnpricedModel]


@dataclass(frozen=True)
class Spend:
    """What a user, run or period cost: the priced records' total, and what has no price."""

    cost_usd: Decimal
    records: int
    unpriced_records: int
    estimated_records: int

    @classmethod
    def of(cls, t: Sums) -> Spend:
        cost = t.cost_usd if t.cost_usd is not None else Decimal(0)
        return cls(cost_usd=cost, records=t.records, unpriced_records=t.unpriced_records, estimated_records=t.estimated_records)


@dataclass(frozen=True)
class ImportSummary:
    run: Run | None
    files: list[FileImport]
    records: int
    added: int
    updated: int
    unchanged: int
    unpriced: list[UnpricedModel]


def unpriced_of(records: Iterable[UsageRecord]) -> list[UnpricedModel]:
    """Models of the records that have no cost, most records first."""
    counts: dict[str, int] = {}
    for r in records:
        if r.cost_usd is None:
            counts[r.model] = counts.get(r.model, 0) + 1
    return [UnpricedModel(model=m, records=n) for m, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def scope(store: Store, *, user: Who, me: str, run: str | None, since: dt.datetime | None, until: dt.datetime | None) -> tuple[Filters, list[Run] | None]:
    """The filters for `user` (None: me; ALL_USERS: everyone) and `run` (an id, or a name: that
    user's latest run of that name, or everyone's runs of that name), and the runs it names."""
    who = None if user is ALL_USERS else (user if isinstance(user, str) else me)
    runs = None
    if run is not None:
        by_id = store.get_run(run)
        if by_id is not None and (who is None or by_id.user == who):
            runs = [by_id]
        else:
            runs = store.runs_named(run, who)
            if who is not None:
                runs = runs[:1]  # a name means the user's latest run of that name
        if not runs:
            raise InputError(f"no run {run} for {who or 'anyone'}", hint="tokopt session list" + (" --all-users" if who is None else ""))
    return Filters(user=who, run_ids=tuple(r.id for r in runs) if runs is not None else None, since=since, until=until), runs


def build(store: Store, by: str, filters: Filters, runs: list[Run] | None, tz: dt.tzinfo) -> SessionReport:
    """The report by `by`, read from `store` inside one read transaction of the caller's."""
    groups = store.sums([by], filters, tz=tz)
    unpriced = store.unpriced_models(filters) if any(t.unpriced_records for t in groups.values()) else []
    named: dict[str, Run] = {}
    if by == "run":
        for key in groups:
            found = store.get_run(str(key[0])) if key[0] is not None else None
            if found is not None:
                named[found.id] = found
    total = sum(groups.values(), Sums())
    rows = [ReportRow(key=_key(by, key, named), sums=t) for key, t in groups.items()]
    if by == "day":
        rows.sort(key=lambda r: r.key["day"] or "")
    else:
        rows.sort(key=lambda r: (r.sums.cost_usd is None, -(r.sums.cost_usd or 0), [v or "" for v in r.key.values()]))
    return SessionReport(
        by=by,
        user=filters.user,
        run=runs,
        since=filters.since,
        until=filters.until,
        timezone=zone_label(tz),
        rows=rows,
        total=total,
        unpriced=[UnpricedModel(model=m, records=n) for m, n in unpriced],
    )


def _key(by: str, key: Sequence[object], runs: Mapping[str, Run]) -> dict[str, str | None]:
    values = [None if v is None else str(v) for v in key]
    if by == "model":
        return {"provider": values[0], "model": values[1]}
    if by == "run":
        found = runs.get(values[0] or "")
        return {"run_id": values[0], "run": found.name if found else None, "user": found.user if found else None}
    return {by: values[0]}
