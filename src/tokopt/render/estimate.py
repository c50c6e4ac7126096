"""Views of an EstimateReport: grids for people, flat rows for CSV, a document for JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tokopt import __version__
from tokopt.models import EstimateReport, ModelEstimate
from tokopt.render import fmt
from tokopt.render.grid import Cell, Column, Grid

APPROX_NOTE = "≈ approximate: the provider publishes no local tokenizer; count = o200k_base × a measured factor (tokopt models)"


def _context_cell(row: ModelEstimate) -> Cell:
    text = fmt.share(row.context_share)
    if not row.fits:
        return (f"✗ {text}", "bold red")
    if row.context_share > Decimal("0.8"):
        return (text, "yellow")
    return text


def _grid(rows: list[ModelEstimate], report: EstimateReport, title: str | None) -> Grid:
    calls = report.assumptions.calls
    grid = Grid(
        columns=[
            Column("Provider", style="dim", drop_priority=3),
            Column("Model", min_width=12),
            Column("Input tok", justify="right"),
            Column("Input", justify="right", drop_priority=2),
            Column("Output", justify="right", drop_priority=1),
            Column("Per call", justify="right", style="bold"),
            Column(f"× {calls:,} calls", justify="right"),
            Column("Context", justify="right"),
        ],
        title=title,
    )
    for row in rows:
        model = row.model + (" (batch n/a)" if row.batch_unavailable else "")
        grid.add(
            row.provider,
            model,
            fmt.count(row.input_tokens, row.approximate),
            fmt.usd(row.cost.prompt_usd),
            fmt.usd(row.cost.output_usd),
            fmt.usd(row.cost.total_usd),
            fmt.usd(row.total_usd),
            _context_cell(row),
        )
    return grid


def notes(report: EstimateReport, rows: list[ModelEstimate]) -> list[str]:
    a = report.assumptions
    source = {
        "option": "--output-tokens",
        "config": "from your config",
        "default": "default; set with --output-tokens",
        "request": "the request's max_tokens",
    }[a.output_tokens_from]
    lines = [f"output: {a.output_tokens:,} tokens per call ({source})"]
    if len(report.inputs) > 1:
        lines[0] += f"; {len(report.inputs)} inputs, one call each"
    if a.cached_tokens:
        lines.append(f"cached prefix: {a.cached_tokens:,} tokens at cached-input prices")
    if a.batch:
        lines.append("batch API prices" + ("; (batch n/a): no batch API, standard price" if any(r.batch_unavailable for r in rows) else ""))
    if any(r.cost.long_context for r in rows):
        lines.append("long-context prices apply where the input passes the model's threshold")
    if any(r.approximate for r in rows):
        lines.append(APPROX_NOTE)
    misfits = [r for r in rows if not r.fits]
    for r in misfits[:5]:
        lines.append(f"✗ {r.model}: {'; '.join(r.problems[:3])}")
    dates = sorted({r.as_of for r in rows})
    if dates:
        lines.append("prices as of " + ", ".join(d.isoformat() for d in dates))
    return lines


def grids(report: EstimateReport, *, per_file: bool) -> list[Grid]:
    out = []
    if per_file and len(report.per_file) > 1:
        for item in report.per_file:
            text = next(t for t in report.inputs if t.source == item.source)
            title = f"{item.source} — {text.chars:,} chars"
            out.append(_grid(item.models, report, title))
    title = _inputs_title(report)
    grid = _grid(report.models, report, title)
    grid.notes = notes(report, report.models)
    out.append(grid)
    return out


def _inputs_title(report: EstimateReport) -> str:
    if len(report.inputs) == 1:
        text = report.inputs[0]
        return f"{text.source} — {text.chars:,} chars, {text.bytes:,} bytes"
    chars = sum(t.chars for t in report.inputs)
    return f"Total of {len(report.inputs)} inputs — {chars:,} chars"


COLUMNS = [
    "source",
    "provider",
    "model",
    "tier",
    "tokenizer",
    "approximate",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "input_cost_usd",
    "uncached_input_cost_usd",
    "cached_input_cost_usd",
    "cache_write_cost_usd",
    "output_cost_usd",
    "per_call_usd",
    "calls",
    "total_usd",
    "context_window",
    "max_output",
    "context_share",
    "fits",
    "problems",
    "batch",
    "batch_unavailable",
    "long_context",
    "as_of",
]


def row_dict(row: ModelEstimate, source: str) -> dict[str, Any]:
    return {
        "source": source,
        "provider": row.provider,
        "model": row.model,
        "tier": row.tier.value,
        "tokenizer": row.tokenizer,
        "approximate": row.approximate,
        "input_tokens": row.input_tokens,
        "cached_input_tokens": row.cached_input_tokens,
        "output_tokens": row.output_tokens,
        "input_cost_usd": row.cost.prompt_usd,
        "uncached_input_cost_usd": row.cost.input_usd,
        "cached_input_cost_usd": row.cost.cached_input_usd,
        "cache_write_cost_usd": row.cost.cache_write_usd,
        "output_cost_usd": row.cost.output_usd,
        "per_call_usd": row.cost.total_usd,
        "calls": row.calls,
        "total_usd": row.total_usd,
        "context_window": row.context_window,
        "max_output": row.max_output,
        "context_share": row.context_share,
        "fits": row.fits,
        "problems": row.problems,
        "batch": row.cost.batch,
        "batch_unavailable": row.batch_unavailable,
        "long_context": row.cost.long_context,
        "as_of": row.as_of,
    }


def csv_rows(report: EstimateReport, *, per_file: bool) -> list[dict[str, Any]]:
    if per_file and len(report.per_file) > 1:
        return [row_dict(r, item.source) for item in report.per_file for r in item.models]
    source = report.inputs[0].source if len(report.inputs) == 1 else "(total)"
    return [row_dict(r, source) for r in report.models]


def document(report: EstimateReport, *, per_file: bool) -> dict[str, Any]:
    total_label = report.inputs[0].source if len(report.inputs) == 1 else "(total)"
    doc: dict[str, Any] = {
        "tokopt_version": __version__,
        "inputs": [t.model_dump() for t in report.inputs],
        "assumptions": report.assumptions.model_dump(),
        "models": [row_dict(r, total_label) for r in report.models],
    }
    if per_file and len(report.per_file) > 1:
        doc["per_file"] = [
            {"source": item.source, "models": [row_dict(r, item.source) for r in item.models]}
            for item in report.per_file
        ]
    return doc
