"""Views of the session ledger: runs, imports and recorded usage, as grids for people, flat
rows for CSV and one document for JSON (reports: `render.report`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from tokopt import __version__
from tokopt.ledger.reports import ImportSummary, RunListing
from tokopt.ledger.store import Sums
from tokopt.render import fmt
from tokopt.render.grid import Cell, Column, Grid
from tokopt.render.report import cost_cell, run_doc, unpriced_doc, visible
from tokopt.usage import TOKEN_FIELDS, UsageRecord

SUM_FIELDS = ["records", *TOKEN_FIELDS, "cost_usd", "unpriced_records", "estimated_records"]


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _sums_dict(s: Sums) -> dict[str, Any]:
    return {name: getattr(s, name) for name in SUM_FIELDS}


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
    return [{**run_doc(i.run), "current": i.current, **_sums_dict(i.sums)} for i in listing]


def runs_document(listing: Sequence[RunListing]) -> dict[str, Any]:
    return {"tokopt_version": __version__, "runs": run_rows(listing)}


# ---------------------------------------------------------------------------------------------
# import

IMPORT_COLUMNS = ["source", "agent", "format", "status", "lines", "records", "duplicates", "garbage"]
# more files than this are shown one row per agent directory (json and csv list every file)
FILES_LISTED = 20
_STATUS_WORDS = {"new": "new", "grown": "grown", "changed": "changed", "unchanged": "unchanged", "read": "read"}


def _status_cell(f: Any) -> Cell:
    if f.status == "grown":
        return f"grown (from byte {f.read_from:,})"
    return (f.status, "dim") if f.status == "unchanged" else f.status


def import_grid(summary: ImportSummary) -> Grid:
    files = summary.files
    # the logs found in agents' directories are shown by directory, as are many named files
    grouped = len(files) > FILES_LISTED or any(f.agent for f in files)
    grid = Grid(
        columns=[
            Column("Directory" if grouped else "File", no_wrap=False, min_width=12),
            Column("Files" if grouped else "Format", justify="right" if grouped else "left"),
            Column("Read", no_wrap=False, drop_priority=3),
            Column("Lines", justify="right", drop_priority=2),
            Column("Records", justify="right", style="bold"),
            Column("Duplicates", justify="right", drop_priority=1),
            Column("Garbage", justify="right"),
        ],
    )
    if grouped:
        for label, group in _groups(files).items():
            counts = {st: sum(1 for f in group if f.status == st) for st in _STATUS_WORDS}
            read = ", ".join(f"{n:,} {st}" for st, n in counts.items() if n)
            grid.add(visible(label), fmt.count(len(group)), read, *_file_counts(group))
    else:
        for f in files:
            fmt_cell: Cell = f.format if f.records or f.format not in {"unrecognised", "unreadable"} else (f.format, "yellow")
            grid.add(visible(f.source), "—" if f.status == "unchanged" else fmt_cell, _status_cell(f), *_file_counts([f]))
    if len(files) > 1:
        grid.footer = [f"{len(files):,} files", "", "", *_file_counts(files)]
    run = f" into run {summary.run.name} ({summary.run.id})" if summary.run and summary.run.name != summary.run.id else (
        f" into run {summary.run.id}" if summary.run else ""
    )
    grid.notes = [
        f"{summary.added:,} records added{run}, {summary.updated:,} updated with larger counts, "
        f"{summary.unchanged:,} already in the ledger"
    ]
    unchanged = sum(1 for f in files if f.status == "unchanged")
    if unchanged:
        grid.notes.append(f"{unchanged:,} file{'s' if unchanged != 1 else ''} unchanged since the last import: not read again")
    if grouped:
        grid.notes.append("--format json lists every file")
    return grid


def _groups(files: Sequence[Any]) -> dict[str, list[Any]]:
    """Files by the agent that wrote them and their directory (the one above a dated tree)."""
    out: dict[str, list[Any]] = {}
    for f in files:
        parent = str(PurePath(f.source).parent)
        out.setdefault(f"{f.agent or 'logs'}: {_top(parent)}", []).append(f)
    return out


def _top(directory: str) -> str:
    # ~/.claude/projects/-home-dev-app -> ~/.claude/projects; sessions/2026/07/21 -> sessions
    parts = PurePath(directory).parts
    for anchor in ("projects", "sessions", "archived_sessions", "tmp", "message", "threads"):
        if anchor in parts:
            return str(PurePath(*parts[: len(parts) - parts[::-1].index(anchor)]))
    return directory


def _file_counts(group: Sequence[Any]) -> list[Cell]:
    garbage = sum(f.garbage for f in group)
    return [
        fmt.count(sum(f.lines for f in group)),
        fmt.count(sum(f.records for f in group)),
        fmt.count(sum(f.duplicates for f in group)),
        (fmt.count(garbage), "yellow") if garbage else "0",
    ]


def import_rows(summary: ImportSummary) -> list[dict[str, Any]]:
    return [{name: getattr(f, name) for name in IMPORT_COLUMNS} for f in summary.files]


def _file_doc(f: Any) -> dict[str, Any]:
    return {name: getattr(f, name) for name in [*IMPORT_COLUMNS, "read_from", "garbage_examples"]}


def import_document(summary: ImportSummary) -> dict[str, Any]:
    return {
        "tokopt_version": __version__,
        "run": run_doc(summary.run) if summary.run else None,
        "files": [_file_doc(f) for f in summary.files],
        "records": summary.records,
        "added": summary.added,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "unpriced": unpriced_doc(summary.unpriced),
    }


# ---------------------------------------------------------------------------------------------
# recorded usage

RECORD_COLUMNS = [
    "id", "time", "user", "run_id", "provider", "model", *TOKEN_FIELDS,
    "cost_usd", "pricing_as_of", "pricing_version", "batch", "service_tier", "estimated", "source", "prompt_hash",
]  # fmt: skip


def _record_doc(r: UsageRecord) -> dict[str, Any]:
    return {name: getattr(r, name) for name in RECORD_COLUMNS}


RECORDS_SHOWN = 20  # rows of `session record` drawn before the total stands for the rest


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
    for r in records[:RECORDS_SHOWN] if len(records) > RECORDS_SHOWN + 1 else records:
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
    if len(records) > RECORDS_SHOWN + 1:
        # thousands of rows are slow to draw and to read: the first ones, then the total
        priced = [r.cost_usd for r in records if r.cost_usd is not None]
        grid.footer = [
            f"Total of {len(records):,}",
            "",
            "",
            fmt.count(sum(r.input_tokens for r in records), any(r.estimated for r in records)),
            fmt.count(sum(r.cached_input_tokens for r in records)),
            fmt.count(sum(r.output_tokens for r in records)),
            fmt.usd(sum(priced, Decimal(0))) if priced else ("unknown", "yellow"),
        ]
        grid.notes.append(f"{len(records) - RECORDS_SHOWN:,} more records recorded and not shown here (-f json or csv lists every one)")
    if any(r.estimated for r in records):
        grid.notes.append("≈ an estimate from the prompt file, not a billed count")
    if any(r.cost_usd is None for r in records):
        grid.notes.append("unknown: no price for this model; the record is kept unpriced (add prices with --pricing)")
    return grid


def record_rows(records: Sequence[UsageRecord]) -> list[dict[str, Any]]:
    return [_record_doc(r) for r in records]


def records_document(records: Sequence[UsageRecord]) -> dict[str, Any]:
    return {"tokopt_version": __version__, "records": [_record_doc(r) for r in records]}
