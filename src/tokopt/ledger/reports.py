"""What the ledger answers: reports grouped by model, run, user, provider, agent, session,
project, branch or period (hour, day, week, month); spend; run listings; import summaries.
Plain values (money as Decimal), built from a `Store`'s sums."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING

from tokopt.errors import InputError
from tokopt.ledger.store import PATTERN_FILTERS, Filters, Run, Store, Sums
from tokopt.ledger.timezones import zone_label
from tokopt.usage import UsageRecord

if TYPE_CHECKING:  # an import's summary names its files; the importers are not needed to report
    from tokopt.ledger.importers import FileImport

REPORT_BY: tuple[str, ...] = ("model", "run", "day", "user", "provider", "hour", "week", "month", "agent", "session", "project", "branch")
PERIODS: tuple[str, ...] = ("hour", "day", "week", "month")
# what a row of each report is keyed by, as store groups ("session" rows also name the agent
# and project; a session that moved between directories is one row, with its main project)
_GROUPS: dict[str, list[str]] = {"session": ["session", "agent", "project"]}


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
class ModelSums:
    """One model's part of a report row."""

    provider: str | None
    model: str
    sums: Sums


@dataclass(frozen=True)
class ReportRow:
    """One group of a report: `key` names it (e.g. {"day": "2026-07-18"}); `models` are its
    models' parts, costliest first (empty in a report by model)."""

    key: dict[str, str | None]
    sums: Sums
    models: list[ModelSums] = field(default_factory=list)


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
    match: dict[str, list[str]] = field(default_factory=dict)  # the pattern filters applied, by Filters field
    tz: dt.tzinfo = field(default=dt.timezone.utc, compare=False)  # the zone `timezone` names (compared by that label: a local zone object is made afresh each time)


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


def patterns(*, models: Iterable[str] = (), providers: Iterable[str] = (), agents: Iterable[str] = (), sessions: Iterable[str] = (), projects: Iterable[str] = (), branches: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
    """Pattern filters as people give them (an empty list: no filter). A project without a `/`
    is a directory's name: it matches that directory wherever it is."""
    given = {"models": models, "providers": providers, "agents": agents, "sessions": sessions, "projects": projects, "branches": branches}
    out: dict[str, tuple[str, ...]] = {}
    for name, values in given.items():
        cleaned = tuple(v.strip() for v in values if v.strip())
        if name == "projects":
            cleaned = tuple(p for v in cleaned for p in ((v,) if "/" in v else (v, "*/" + v)))
        if cleaned:
            out[name] = cleaned
    return out


def scope(
    store: Store, *, user: Who, me: str, run: str | None, since: dt.datetime | None, until: dt.datetime | None, match: dict[str, tuple[str, ...]] | None = None
) -> tuple[Filters, list[Run] | None]:
    """The filters for `user` (None: me; ALL_USERS: everyone) and `run` (an id, or a name: that
    user's latest run of that name, or everyone's runs of that name), and the runs it names;
    `match` adds pattern filters (see `patterns`)."""
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
    run_ids = tuple(r.id for r in runs) if runs is not None else None
    return Filters(user=who, run_ids=run_ids, since=since, until=until, **(match or {})), runs


def build(store: Store, by: str, filters: Filters, runs: list[Run] | None, tz: dt.tzinfo) -> SessionReport:
    """The report by `by`, read from `store` inside one read transaction of the caller's: one
    pass that sums each row's models too."""
    keyed = _GROUPS.get(by, [by])
    groups = store.sums(keyed if by == "model" else [*keyed, "model"], filters, tz=tz)
    unpriced = store.unpriced_models(filters) if any(t.unpriced_records for t in groups.values()) else []
    rows = _rows(by, groups, len(keyed) if by != "model" else None)
    if by == "run":
        named = {run.id: run for key in {r.key["run_id"] for r in rows} if key and (run := store.get_run(key)) is not None}
        rows = [ReportRow(key=_run_key(r.key["run_id"], named), sums=r.sums, models=r.models) for r in rows]
    if by in PERIODS:
        rows.sort(key=lambda r: r.key[by] or "")
    elif by == "session":  # oldest activity first, as periods are: the latest is next to the total
        rows.sort(key=lambda r: (r.sums.last or dt.datetime.min.replace(tzinfo=dt.timezone.utc), r.key["session"] or ""))
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
        total=sum((r.sums for r in rows), Sums()),
        unpriced=[UnpricedModel(model=m, records=n) for m, n in unpriced],
        match={name: list(v) for name in PATTERN_FILTERS if (v := getattr(filters, name)) is not None},
        tz=tz,
    )


def _rows(by: str, groups: Mapping[tuple[object, ...], Sums], width: int | None) -> list[ReportRow]:
    """Report rows from sums keyed (row key..., provider, model): each row with its models."""
    if width is None:  # by model
        return [ReportRow(key={"provider": _text(k[0]), "model": _text(k[1])}, sums=t) for k, t in groups.items()]
    parts: dict[tuple[object, ...], list[tuple[tuple[object, ...], ModelSums]]] = {}
    for key, sums in groups.items():
        row = key[:1] if by == "session" else key[:width]
        parts.setdefault(row, []).append((key[:width], ModelSums(_text(key[width]), str(key[width + 1]), sums)))
    rows = []
    for row_key, found in parts.items():
        models: dict[tuple[str | None, str], Sums] = {}
        for _, m in found:
            models[(m.provider, m.model)] = models[(m.provider, m.model)] + m.sums if (m.provider, m.model) in models else m.sums
        listed = sorted((ModelSums(p, m, t) for (p, m), t in models.items()), key=lambda m: (m.sums.cost_usd is None, -(m.sums.cost_usd or 0), m.model))
        total = sum((m.sums for m in listed), Sums())
        if by == "session":
            key = _session_key(row_key, found)
        else:
            key = {by if by != "run" else "run_id": _text(row_key[0])}
        rows.append(ReportRow(key=key, sums=total, models=listed))
    return rows


def _session_key(row_key: tuple[object, ...], found: list[tuple[tuple[object, ...], ModelSums]]) -> dict[str, str | None]:
    # a session's agent and project: those most of its records name
    weight: dict[tuple[object, ...], int] = {}
    for key, part in found:
        weight[key] = weight.get(key, 0) + part.sums.records
    _, agent, project = max(weight, key=lambda k: (weight[k], [str(v) for v in k]))
    return {"session": _text(row_key[0]), "agent": _text(agent), "project": _text(project)}


def _run_key(run_id: str | None, runs: Mapping[str, Run]) -> dict[str, str | None]:
    found = runs.get(run_id or "")
    return {"run_id": run_id, "run": found.name if found else None, "user": found.user if found else None}


def _text(value: object) -> str | None:
    return None if value is None else str(value)
