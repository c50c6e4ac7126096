"""Views of the session ledger: reports, runs, imports and recorded usage, as grids for people,
flat rows for CSV and one document for JSON."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tokopt import __version__
from tokopt.ledger.reports import ImportSummary, ReportRow, RunListing, SessionReport
from tokopt.ledger.store import Run, Sums
from tokopt.render import fmt
from tokopt.render.grid import Cell, Column, Grid
from tokopt.usage import TOKEN_FIELDS, TOKEN_KINDS, UsageRecord

SUM_FIELDS = ["records", *TOKEN_FIELDS, "cost_usd", "unpriced_records", "estimated_records"]
# the table's "Cache write" column: every kind of cache write
_CACHE_WRITES = [k.field for k in TOKEN_KINDS if k.bucket == "cache_write_usd"]
KEY_FIELDS = {
    "model": ["provider", "model"],
    "run": ["run_id", "run", "user"],
    "day": ["day"],
    "user": ["user"],
    "provider": ["provider"],
}
PARTIAL = "≥"  # a cost that leaves out records with no known price


def cost_cell(sums: Sums) -> Cell:
    """The cost of a group: unknown when nothing in it has a price, a lower bound when part has."""
    if sums.records and sums.cost_usd is None:
        return ("unknown", "yellow")
    amount = fmt.usd(sums.cost_usd or Decimal(0))
    if sums.unpriced_records:
        return (f"{PARTIAL} {amount}", "yellow")
    return amount


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


# ---------------------------------------------------------------------------------------------
# report


def _title(report: SessionReport) -> str:
    who = "all users" if report.user is None else report.user
    parts = [f"Usage of {who} by {report.by}"]
    if report.run is not None:
        parts.append("run " + ", ".join(f"{r.name} ({r.id})" if r.name != r.id else r.id for r in report.run))
    if report.since or report.until:
        since = _when(report.since) + " UTC" if report.since else "the start"
        until = _when(report.until) + " UTC" if report.until else "now"
        parts.append(f"{since} to {until}")
    return " — ".join(parts)


def _key_cells(by: str, row: ReportRow) -> list[Cell]:
    k = row.key
    if by == "model":
        return [k["provider"] or "—", k["model"] or "—"]
    if by == "run":
        if k["run_id"] is None:
            return [("(no run)", "dim"), "", ""]
        return [k["run_id"] or "", k["run"] or "", k["user"] or ""]
    value = k[by]
    return [value if value is not None else ("(unknown)", "dim")]


def _key_columns(by: str) -> list[Column]:
    if by == "model":
        return [Column("Provider", style="dim", drop_priority=5), Column("Model", min_width=10)]
    if by == "run":
        return [Column("Run"), Column("Name", no_wrap=False, min_width=8), Column("User", drop_priority=6)]
    return [Column(by.capitalize())]


def _sum_cells(s: Sums) -> list[Cell]:
    return [
        fmt.count(s.records),
        fmt.count(s.input_tokens),
        fmt.count(s.cached_input_tokens),
        fmt.count(sum(getattr(s, name) for name in _CACHE_WRITES)),
        fmt.count(s.output_tokens),
        fmt.count(s.reasoning_tokens),
        cost_cell(s),
    ]


SUM_COLUMNS = [
    Column("Records", justify="right", drop_priority=4),
    Column("Input", justify="right"),
    Column("Cached", justify="right", drop_priority=2),
    Column("Cache write", justify="right", drop_priority=1),
    Column("Output", justify="right"),
    Column("Reasoning", justify="right", drop_priority=3),
    Column("Cost", justify="right", style="bold"),
]


def report_notes(report: SessionReport) -> list[str]:
    notes = []
    if not report.rows:
        notes.append("no usage recorded" + (" in this period" if report.since or report.until else ""))
    if report.unpriced:
        n = sum(u.records for u in report.unpriced)
        models = ", ".join(f"{u.model} ({u.records:,})" for u in report.unpriced[:5])
        more = f" and {len(report.unpriced) - 5} more" if len(report.unpriced) > 5 else ""
        notes.append(
            f"unpriced: {n:,} record{'s' if n != 1 else ''} of models with no known price: {models}{more}; "
            f"their cost is unknown and not in the totals ({PARTIAL}); add prices with --pricing"
        )
    if report.total.estimated_records:
        notes.append(f"{report.total.estimated_records:,} records are estimates (session record --from-file), not billed counts")
    notes.append("input is the whole prompt; cached and cache write are parts of it; reasoning is part of output")
    if report.by == "day":
        notes.append(f"days in {report.timezone}")
    notes.append("costs as priced when each record was written (each keeps its pricing as_of)")
    return notes


def report_grid(report: SessionReport) -> Grid:
    grid = Grid(columns=[*_key_columns(report.by), *SUM_COLUMNS], title=_title(report))
    for row in report.rows:
        grid.add(*_key_cells(report.by, row), *_sum_cells(row.sums))
    keys = len(_key_columns(report.by))
    grid.footer = ["Total", *[""] * (keys - 1), *_sum_cells(report.total)]
    grid.notes = report_notes(report)
    return grid


def _sums_dict(s: Sums) -> dict[str, Any]:
    return {name: getattr(s, name) for name in SUM_FIELDS}


def report_columns(by: str) -> list[str]:
    return [*KEY_FIELDS[by], *SUM_FIELDS]


def report_rows(report: SessionReport) -> list[dict[str, Any]]:
    """CSV: one row per group, then a `(total)` row."""
    rows = [{**row.key, **_sums_dict(row.sums)} for row in report.rows]
    total = {name: None for name in KEY_FIELDS[report.by]}
    total[KEY_FIELDS[report.by][0]] = "(total)"
    rows.append({**total, **_sums_dict(report.total)})
    return rows


def _run_doc(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "user": run.user,
        "labels": run.labels,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
    }


def report_document(report: SessionReport) -> dict[str, Any]:
    return {
        "tokopt_version": __version__,
        "by": report.by,
        "user": report.user,
        "all_users": report.user is None,
        "runs": [_run_doc(r) for r in report.run] if report.run is not None else None,
        "since": report.since,
        "until": report.until,
        "timezone": report.timezone,
        "rows": [{**row.key, **_sums_dict(row.sums)} for row in report.rows],
        "total": _sums_dict(report.total),
        "unpriced": {
            "records": sum(u.records for u in report.unpriced),
            "models": [{"model": u.model, "records": u.records} for u in report.unpriced],
        },
    }


# ---------------------------------------------------------------------------------------------
# runs

RUN_COLUMNS = ["id", "name", "user", "labels", "started_at", "ended_at", "current", *SUM_FIELDS]


def runs_grid(listing: Sequence[RunListing], *, all_users: bool) -> Grid:
    grid = Grid(
        columns=[
            Column("Run"),
            Column("Name", no_wrap=False, min_width=8),
            Column("User", drop_priority=5),
            Column("Labels", no_wrap=False, drop_priority=2),
            Column("Started (UTC)", drop_priority=3),
            Column("Ended (UTC)", drop_priority=1),
            Column("Records", justify="right", drop_priority=4),
            Column("Cost", justify="right", style="bold"),
        ],
        title="Runs of all users" if all_users else (f"Runs of {listing[0].run.user}" if listing else "Runs"),
    )
    for item in listing:
        run = item.run
        name = run.name + (" *" if item.current else "")
        grid.add(
            run.id,
            (name, "bold") if item.current else name,
            run.user,
            ", ".join(f"{k}={v}" for k, v in sorted(run.labels.items())),
            _when(run.started_at),
            _when(run.ended_at) if run.ended_at else ("open", "green"),
            fmt.count(item.sums.records),
            cost_cell(item.sums) if item.sums.records else "—",
        )
    grid.notes = ["* the current run: new records go to it (TOKOPT_RUN or --run choose another)"] if any(i.current for i in listing) else []
    if not listing:
        grid.notes.append("no runs yet: tokopt session start --run NAME")
    return grid


def run_rows(listing: Sequence[RunListing]) -> list[dict[str, Any]]:
    return [{**_run_doc(i.run), "current": i.current, **_sums_dict(i.sums)} for i in listing]


def runs_document(listing: Sequence[RunListing]) -> dict[str, Any]:
    return {"tokopt_version": __version__, "runs": run_rows(listing)}


# ---------------------------------------------------------------------------------------------
# import

IMPORT_COLUMNS = ["source", "format", "lines", "records", "duplicates", "garbage"]


def import_grid(summary: ImportSummary) -> Grid:
    grid = Grid(
        columns=[
            Column("File", no_wrap=False, min_width=12),
            Column("Format"),
            Column("Lines", justify="right", drop_priority=2),
            Column("Records", justify="right", style="bold"),
            Column("Duplicates", justify="right", drop_priority=1),
            Column("Garbage", justify="right"),
        ],
    )
    for f in summary.files:
        grid.add(
            f.source,
            f.format if f.records or f.format not in {"unrecognised", "unreadable"} else (f.format, "yellow"),
            fmt.count(f.lines),
            fmt.count(f.records),
            fmt.count(f.duplicates),
            (fmt.count(f.garbage), "yellow") if f.garbage else "0",
        )
    if len(summary.files) > 1:
        grid.footer = [
            f"{len(summary.files)} files",
            "",
            fmt.count(sum(f.lines for f in summary.files)),
            fmt.count(sum(f.records for f in summary.files)),
            fmt.count(sum(f.duplicates for f in summary.files)),
            fmt.count(sum(f.garbage for f in summary.files)),
        ]
    run = f" into run {summary.run.name} ({summary.run.id})" if summary.run and summary.run.name != summary.run.id else (
        f" into run {summary.run.id}" if summary.run else ""
    )
    grid.notes = [
        f"{summary.added:,} records added{run}, {summary.updated:,} updated with larger counts, "
        f"{summary.unchanged:,} already in the ledger"
    ]
    return grid


def import_rows(summary: ImportSummary) -> list[dict[str, Any]]:
    return [{name: getattr(f, name) for name in IMPORT_COLUMNS} for f in summary.files]


def _file_doc(f: Any) -> dict[str, Any]:
    return {name: getattr(f, name) for name in [*IMPORT_COLUMNS, "garbage_examples"]}


def import_document(summary: ImportSummary) -> dict[str, Any]:
    return {
        "tokopt_version": __version__,
        "run": _run_doc(summary.run) if summary.run else None,
        "files": [_file_doc(f) for f in summary.files],
        "records": summary.records,
        "added": summary.added,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "unpriced": {
            "records": sum(u.records for u in summary.unpriced),
            "models": [{"model": u.model, "records": u.records} for u in summary.unpriced],
        },
    }


# ---------------------------------------------------------------------------------------------
# recorded usage

RECORD_COLUMNS = [
    "id", "time", "user", "run_id", "provider", "model", *TOKEN_FIELDS,
    "cost_usd", "pricing_as_of", "pricing_version", "batch", "service_tier", "estimated", "source", "prompt_hash",
]  # fmt: skip


def _record_doc(r: UsageRecord) -> dict[str, Any]:
    return {name: getattr(r, name) for name in RECORD_COLUMNS}


def records_grid(records: Sequence[UsageRecord]) -> Grid:
    grid = Grid(
        columns=[
            Column("Time (UTC)", drop_priority=2),
            Column("Run", drop_priority=3),
            Column("Model"),
            Column("Input", justify="right"),
            Column("Cached", justify="right", drop_priority=1),
            Column("Output", justify="right"),
            Column("Cost", justify="right", style="bold"),
        ]
    )
    for r in records:
        cost: Cell = ("unknown", "yellow") if r.cost_usd is None else fmt.usd(r.cost_usd)
        grid.add(
            _when(r.time),
            r.run_id or "",
            r.model,
            fmt.count(r.input_tokens, r.estimated),
            fmt.count(r.cached_input_tokens),
            fmt.count(r.output_tokens),
            cost,
        )
    if any(r.estimated for r in records):
        grid.notes.append("≈ an estimate from the prompt file, not a billed count")
    if any(r.cost_usd is None for r in records):
        grid.notes.append("unknown: no price for this model; the record is kept unpriced (add prices with --pricing)")
    return grid


def record_rows(records: Sequence[UsageRecord]) -> list[dict[str, Any]]:
    return [_record_doc(r) for r in records]


def records_document(records: Sequence[UsageRecord]) -> dict[str, Any]:
    return {"tokopt_version": __version__, "records": [_record_doc(r) for r in records]}
