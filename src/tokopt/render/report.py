"""Views of ledger reports (`session report`): a grid for people (with a compact form for
narrow terminals: abbreviated counts rather than missing columns), flat rows for CSV, one
document for JSON, and a bar chart of cost per row."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tokopt import __version__
from tokopt.ledger.reports import PERIODS, ModelSums, ReportRow, SessionReport, UnpricedModel
from tokopt.ledger.store import Run, Sums
from tokopt.render import fmt
from tokopt.render.fmt import short_model as short_model  # re-exported: the views name models so
from tokopt.render.grid import Cell, Column, Grid
from tokopt.usage import TOKEN_FIELDS, TOKEN_KINDS

SUM_FIELDS = ["records", *TOKEN_FIELDS, "cost_usd", "unpriced_records", "estimated_records"]
TIME_FIELDS = ["first", "last"]
# the table's "Cache write" column: every kind of cache write
_CACHE_WRITES = [k.field for k in TOKEN_KINDS if k.bucket == "cache_write_usd"]
KEY_FIELDS = {
    "model": ["provider", "model"],
    "run": ["run_id", "run", "user"],
    "session": ["session", "agent", "project"],
}
PARTIAL = "≥"  # a cost that leaves out records with no known price
_FILTER_WORDS = {"models": "model", "providers": "provider", "agents": "agent", "sessions": "session", "projects": "project", "branches": "branch"}


def key_fields(by: str) -> list[str]:
    return KEY_FIELDS.get(by, [by])


def visible(text: str) -> str:
    """Text from a log, as a grid holds it: as it is. Every grid's text is escaped where it is
    printed (`render.escape`: table.py for a terminal, to_markdown for Markdown), once."""
    return text


def cost_cell(sums: Sums) -> Cell:
    """The cost of a group: unknown when nothing in it has a price, a lower bound when part has."""
    if sums.records and sums.cost_usd is None:
        return ("unknown", "yellow")
    amount = fmt.usd(sums.cost_usd or Decimal(0))
    if sums.unpriced_records:
        return (f"{PARTIAL} {amount}", "yellow")
    return amount


def models_text(models: Sequence[ModelSums]) -> str:
    return ", ".join(dict.fromkeys(visible(short_model(m.model)) for m in models))


def short_count(n: int) -> str:
    """A count in a few characters: 950, 12.3K, 1.2M, 45B (never cut, only rounded)."""
    for size, unit in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= size:
            value = n / size
            return f"{value:.1f}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return str(n)


def when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


# ---------------------------------------------------------------------------------------------
# the grid


def _title(report: SessionReport) -> str:
    who = "all users" if report.user is None else report.user
    parts = [f"Usage of {who} by {report.by}"]
    if report.run is not None:
        parts.append("run " + ", ".join(f"{r.name} ({r.id})" if r.name != r.id else r.id for r in report.run))
    if report.since or report.until:
        since = when(report.since) + " UTC" if report.since else "the start"
        until = when(report.until) + " UTC" if report.until else "now"
        parts.append(f"{since} to {until}")
    if report.match:
        parts.append(", ".join(f"{_FILTER_WORDS[k]} {' or '.join(v)}" for k, v in report.match.items()))
    return visible(" — ".join(parts))


def _period_text(by: str, value: str | None) -> str:
    if value is None:
        return "(unknown)"
    return value.replace("T", " ") + ":00" if by == "hour" else value


def _key_cells(by: str, row: ReportRow) -> list[Cell]:
    k = row.key
    if by == "model":
        return [visible(k["provider"] or "—"), visible(k["model"] or "—")]
    if by == "run":
        if k["run_id"] is None:
            return [("(no run)", "dim"), "", ""]
        return [visible(k["run_id"] or ""), visible(k["run"] or ""), visible(k["user"] or "")]
    if by == "session":
        return [_short_id(k["session"]), visible(k["agent"] or ""), visible(k["project"] or ""), when(row.sums.last)]
    if by in PERIODS:
        return [_period_text(by, k[by])]
    value = k[by]
    none = {"agent": "(not an agent)", "project": "(no project)", "branch": "(no branch)", "session": "(no session)"}.get(by, "(unknown)")
    return [visible(value) if value is not None else (none, "dim")]


def _short_id(session: str | None) -> Cell:
    # sessions are long ids (UUIDs): their start tells them apart, as a short git hash does
    if session is None:
        return ("(none)", "dim")
    return visible(session if len(session) <= 12 else session[:8] + "…")


def _key_columns(by: str) -> list[Column]:
    if by == "model":
        return [Column("Provider", style="dim", drop_priority=5), Column("Model", min_width=10)]
    if by == "run":
        return [Column("Run"), Column("Name", no_wrap=False, min_width=8), Column("User", drop_priority=6)]
    if by == "session":
        return [
            Column("Session", no_wrap=False, min_width=8),
            Column("Agent", drop_priority=7),
            Column("Project", no_wrap=False, min_width=8, drop_priority=5),
            Column("Last activity", drop_priority=6),
        ]
    header = {"branch": "Git branch", "week": "Week of"}.get(by, by.capitalize())
    return [Column(header, no_wrap=by not in ("project",), min_width=8 if by == "project" else None)]


def _sum_cells(s: Sums, count: Any = fmt.count) -> list[Cell]:
    return [
        count(s.records),
        count(s.input_tokens),
        count(s.cached_input_tokens),
        count(sum(getattr(s, name) for name in _CACHE_WRITES)),
        count(s.output_tokens),
        count(s.reasoning_tokens),
        cost_cell(s),
    ]


# On a narrow terminal, counts are abbreviated first (the grid's compact form); then Reasoning,
# Records, the Models list and the extra key columns go, and only then the cache columns.
SUM_COLUMNS = [
    Column("Records", justify="right", drop_priority=2),
    Column("Input", justify="right"),
    Column("Cached", justify="right", drop_priority=9),
    Column("Cache write", justify="right", drop_priority=8),
    Column("Output", justify="right"),
    Column("Reasoning", justify="right", drop_priority=1),
    Column("Cost", justify="right", style="bold"),
]


def report_notes(report: SessionReport) -> list[str]:
    notes = []
    if not report.rows:
        notes.append("no usage recorded" + (" in this period" if report.since or report.until else "") + (" that matches" if report.match else ""))
    if report.unpriced:
        n = sum(u.records for u in report.unpriced)
        models = ", ".join(f"{visible(u.model)} ({u.records:,})" for u in report.unpriced[:5])
        more = f" and {len(report.unpriced) - 5} more" if len(report.unpriced) > 5 else ""
        notes.append(
            f"unpriced: {n:,} record{'s' if n != 1 else ''} of models with no known price: {models}{more}; "
            f"their cost is unknown and not in the totals ({PARTIAL}); add prices with --pricing"
        )
    if report.total.estimated_records:
        notes.append(f"{report.total.estimated_records:,} records are estimates (session record --from-file), not billed counts")
    notes.append("input is the whole prompt; cached and cache write are parts of it; reasoning is part of output")
    if report.by in PERIODS:
        notes.append(f"{report.by}s in {report.timezone}" + ("; a week runs Monday to Sunday" if report.by == "week" else ""))
    if report.by == "session":
        notes.append(f"last activity in {report.timezone}; long session ids shortened (…); --format json has them whole")
    notes.append("costs as priced when each record was written (each keeps its pricing as_of)")
    return notes


def report_grid(report: SessionReport, *, breakdown: bool = False) -> Grid:
    """The report for people; its `compact` form abbreviates counts (1.2M) to fit."""
    full = _grid(report, breakdown, compact=False)
    full.compact = _grid(report, breakdown, compact=True)
    full.drop_before_compact = 2  # Reasoning and Records go before counts are abbreviated
    return full


def _grid(report: SessionReport, breakdown: bool, *, compact: bool) -> Grid:
    by = report.by
    keys = _key_columns(by)
    with_models = by != "model"
    sums = [dataclasses.replace(c, header=c.header.replace(" ", "\n")) for c in SUM_COLUMNS] if compact else SUM_COLUMNS  # "Cache\nwrite"
    columns = [*keys, *([Column("Models", no_wrap=False, min_width=8, drop_priority=3)] if with_models else []), *sums]
    count = short_count if compact else fmt.count
    grid = Grid(columns=columns, title=_title(report))
    local = _localized(report)
    for row in report.rows:
        key_cells = _key_cells(by, local(row))
        grid.add(*key_cells, *([models_text(row.models)] if with_models else []), *_sum_cells(row.sums, count))
        if breakdown and with_models and len(row.models) > 1:
            for part in row.models:
                grid.add(*[""] * len(keys), (f"└ {visible(short_model(part.model))}", "dim"), *_dim(_sum_cells(part.sums, count)))
    grid.footer = ["Total", *[""] * (len(keys) - 1 + with_models), *_sum_cells(report.total, count)]
    grid.notes = report_notes(report)
    if compact:
        grid.notes.append("token counts abbreviated to fit (K thousands, M millions); --format json has them exact")
    return grid


def _dim(cells: list[Cell]) -> list[Cell]:
    return [(c, "dim") if isinstance(c, str) else c for c in cells]


def _localized(report: SessionReport) -> Any:
    """A row with its times in the report's zone (sessions show their last activity)."""
    if report.by != "session":
        return lambda row: row
    tz = report.tz

    def local(row: ReportRow) -> ReportRow:
        last = row.sums.last.astimezone(tz) if row.sums.last is not None else None
        return ReportRow(key=row.key, sums=Sums(**{**{f: getattr(row.sums, f) for f in _SUMS_FIELDS}, "last": last}), models=row.models)

    return local


_SUMS_FIELDS = [*TOKEN_FIELDS, "records", "cost_usd", "unpriced_records", "estimated_records", "first", "last"]


# ---------------------------------------------------------------------------------------------
# machine formats


def _sums_dict(s: Sums) -> dict[str, Any]:
    return {name: getattr(s, name) for name in [*SUM_FIELDS, *TIME_FIELDS]}


def report_columns(by: str, *, breakdown: bool = False) -> list[str]:
    return [*key_fields(by), *(["models"] if by != "model" else []), *(["model_of_row"] if breakdown and by != "model" else []), *SUM_FIELDS, *TIME_FIELDS]


def report_rows(report: SessionReport, *, breakdown: bool = False) -> list[dict[str, Any]]:
    """CSV: one row per group (with --breakdown, then one per model of it), then a `(total)` row."""
    keys = key_fields(report.by)
    with_models = report.by != "model"
    rows = []
    for row in report.rows:
        names = {"models": ", ".join(m.model for m in row.models)} if with_models else {}
        rows.append({**row.key, **names, **({"model_of_row": None} if breakdown and with_models else {}), **_sums_dict(row.sums)})
        if breakdown and with_models:
            rows.extend({**row.key, **names, "model_of_row": m.model, **_sums_dict(m.sums)} for m in row.models)
    total: dict[str, Any] = {name: None for name in keys}
    total[keys[0]] = "(total)"
    rows.append({**total, **({"models": None} if with_models else {}), **({"model_of_row": None} if breakdown and with_models else {}), **_sums_dict(report.total)})
    return rows


def unpriced_doc(unpriced: Sequence[UnpricedModel]) -> dict[str, Any]:
    """The records no price was known for, in total and per model."""
    return {"records": sum(u.records for u in unpriced), "models": [{"model": u.model, "records": u.records} for u in unpriced]}


def run_doc(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "user": run.user,
        "labels": run.labels,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
    }


def _row_doc(row: ReportRow, by: str, breakdown: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {**row.key, **_sums_dict(row.sums)}
    if by != "model":
        doc["models"] = [m.model for m in row.models]
        if breakdown:
            doc["breakdown"] = [{"provider": m.provider, "model": m.model, **_sums_dict(m.sums)} for m in row.models]
    return doc


def report_document(report: SessionReport, *, breakdown: bool = False) -> dict[str, Any]:
    return {
        "tokopt_version": __version__,
        "by": report.by,
        "user": report.user,
        "all_users": report.user is None,
        "runs": [run_doc(r) for r in report.run] if report.run is not None else None,
        "since": report.since,
        "until": report.until,
        "timezone": report.timezone,
        "filters": {_FILTER_WORDS[k]: v for k, v in report.match.items()},
        "rows": [_row_doc(row, report.by, breakdown) for row in report.rows],
        "total": _sums_dict(report.total),
        "unpriced": unpriced_doc(report.unpriced),
    }


def report_bars(report: SessionReport) -> list[Any]:
    """One bar per row: its cost (what `--chart` draws)."""
    from tokopt.render.chart import Bar

    local = _localized(report)
    return [
        Bar(
            label=" ".join(c if isinstance(c, str) else c[0] for c in _key_cells(report.by, local(row)) if (c if isinstance(c, str) else c[0])),
            cost=row.sums.cost_usd,
            partial=bool(row.sums.unpriced_records and row.sums.cost_usd is not None),
        )
        for row in report.rows
    ]
