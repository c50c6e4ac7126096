"""Views of an EstimateReport: grids for people, flat rows for CSV, a document for JSON.

One report for plain text and chat requests alike. A report of plain texts alone keeps the
shape it always had (no per-request columns or keys); any chat input adds them.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tokopt import __version__
from tokopt.costing.report import EstimateReport, ModelEstimate, TextCount
from tokopt.render import fmt
from tokopt.render.grid import Cell, Column, Grid

if TYPE_CHECKING:
    from tokopt.costing.report import InputSummary
    from tokopt.costing.turns import TurnTable

APPROX_NOTE = (
    "≈ approximate: the provider publishes no local tokenizer; count = o200k_base × factors measured per content class,"
    " ± their spread (tokopt models MODEL)"
)


def _context_cell(row: ModelEstimate) -> Cell:
    if row.context_share is None:
        return "—"
    text = fmt.share(row.context_share)
    if not row.fits:
        return (f"✗ {text}", "bold red")
    if row.context_share > Decimal("0.8"):
        return (text, "yellow")
    return text


def _grid(
    rows: list[ModelEstimate],
    report: EstimateReport,
    title: str | None,
    *,
    calls_in_row: int = 1,
    requests: dict[str, int] | None = None,
) -> Grid:
    """A row per model. One call per row: its cost "Per call", then × N calls; several calls
    (requests, inputs) per row: their "Total", then × N runs of the whole set."""
    calls = report.assumptions.calls
    per = report.assumptions.per
    per_call, times = ("Total", "runs") if calls_in_row > 1 else ("Per call", "calls")
    projection = (
        [Column("A day", justify="right"), Column("A month", justify="right")] if per else [Column(f"× {calls:,} {times}", justify="right")]
    )
    grid = Grid(
        columns=[
            Column("Provider", style="dim", drop_priority=3),
            Column("Model", min_width=12),
            Column("Input tok", justify="right"),
            Column("Input", justify="right", drop_priority=2),
            Column("Output", justify="right", drop_priority=1),
            Column(per_call, justify="right", style="bold"),
            *projection,
            Column("Context", justify="right"),
        ],
        title=title,
    )
    for row in rows:
        model = row.model + (" (batch n/a)" if row.batch_unavailable else "")
        if requests is not None and row.model in requests:
            model += f" ({requests[row.model]:,} req)"
        grid.add(
            row.provider,
            model,
            fmt.count_band(row.input_tokens, row.input_tokens_low, row.input_tokens_high, row.approximate),
            fmt.usd(row.cost.prompt_usd),
            fmt.usd(row.cost.output_usd),
            fmt.usd(row.cost.total_usd),
            *(
                [fmt.usd(row.per_day_usd or 0), fmt.usd(row.per_month_usd or 0)]
                if per
                else [fmt.usd(row.total_usd)]
            ),
            _context_cell(row),
        )
    return grid


def grids(report: EstimateReport, *, per_file: bool) -> list[Grid]:
    """Per-turn tables, per-input tables (with --per-file), then the total with its notes."""
    out = [_turn_grid(t) for t in report.turns]
    if per_file and len(report.per_file) > 1:
        for item, summary, text in zip(report.per_file, report.summaries, report.inputs, strict=True):
            title = f"{item.source} — {text.chars:,} chars" if report.plain else f"{item.source} — {_describe(summary)}"
            out.append(_grid(item.models, report, title, calls_in_row=summary.requests))
    title = _inputs_title(report) if report.plain else _chat_title(report)
    by_model = None if report.plain else _requests_by_model(report)
    grid = _grid(report.models, report, title, calls_in_row=report.requests, requests=by_model)
    grid.notes = _notes(report)
    out.append(grid)
    return out


def _each_request_is_a_call(report: EstimateReport) -> str:
    calls = report.assumptions.calls
    return f"each of the {report.requests:,} requests is one call; the columns add them up; × {calls:,}: the whole set run that many times"


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
    "approx_low",
    "approx_high",
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
    "service_tier",
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
        "approx_low": row.input_tokens_low,
        "approx_high": row.input_tokens_high,
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
        "service_tier": row.service_tier,
        **({"per_day_usd": row.per_day_usd, "per_month_usd": row.per_month_usd} if row.per_day_usd is not None else {}),
    }


def columns(report: EstimateReport) -> list[str]:
    """The CSV header: per turn, or per model (with a requests column when any input is chat)."""
    if report.turns:
        return TURN_COLUMNS
    base = COLUMNS if report.plain else CHAT_COLUMNS
    return [*base, "per_day_usd", "per_month_usd"] if report.assumptions.per else base


def csv_rows(report: EstimateReport, *, per_file: bool) -> list[dict[str, Any]]:
    if report.turns:
        return [row for t in report.turns for row in _turn_rows(t)]
    requests = None if report.plain else _request_counts(report)
    if per_file and len(report.per_file) > 1:
        return [_row(r, item.source, requests) for item in report.per_file for r in item.models]
    return [_row(r, _total_label(report), requests) for r in report.models]


def document(report: EstimateReport, *, per_file: bool) -> dict[str, Any]:
    requests = None if report.plain else _request_counts(report)
    doc: dict[str, Any] = {"tokopt_version": __version__, "inputs": [_flat(t) for t in report.inputs]}
    if requests is not None:
        doc["conversations"] = [asdict(s) for s in report.summaries]
    doc["assumptions"] = asdict(report.assumptions)
    doc["models"] = [_row(r, _total_label(report), requests) for r in report.models]
    if requests is not None:
        doc["model_notes"] = [asdict(n) for n in report.model_notes]
    if per_file and len(report.per_file) > 1:
        doc["per_file"] = [
            {"source": item.source, "models": [_row(r, item.source, requests) for r in item.models]} for item in report.per_file
        ]
    if report.turns:
        doc["turns"] = [{**t.model_dump(exclude={"rows"}), "rows": [r.model_dump() for r in t.rows]} for t in report.turns]
    if requests is not None:
        doc["notes"] = report.notes
    return doc


_TEXT_COUNT_FIELDS = tuple(f.name for f in fields(TextCount))


def _flat(count: TextCount) -> dict[str, Any]:
    """asdict() of a TextCount (flat: its tokens a dict of ints) without asdict's generic deep
    copy, which costs more than the rest of the document for thousands of inputs."""
    return {name: (dict(v) if isinstance(v := getattr(count, name), dict) else v) for name in _TEXT_COUNT_FIELDS}


def _total_label(report: EstimateReport) -> str:
    return report.inputs[0].source if len(report.inputs) == 1 else "(total)"


def _row(row: ModelEstimate, source: str, requests: dict[str, int] | None) -> dict[str, Any]:
    """A model's row; with `requests` (any chat input), the requests it priced."""
    out = row_dict(row, source)
    if requests is not None:
        out["requests"] = requests.get(row.model, 1)
    return out


def warnings(report: EstimateReport) -> list[str]:
    """Skipped JSONL lines, one warning each (the first few), for stderr."""
    out: list[str] = []
    for item in report.summaries:
        for line in item.line_errors[:MAX_WARNINGS]:
            out.append(f"skipped {line}")
        if item.skipped > min(len(item.line_errors), MAX_WARNINGS):
            out.append(f"{item.source}: {item.skipped - min(len(item.line_errors), MAX_WARNINGS):,} more lines skipped (listed in --format json)")
    return out


def messages(report: EstimateReport) -> list[str]:
    """Notes for stderr: a table of plain texts has no place for them."""
    return report.notes if report.plain else []


# --- conversations, request files, batch files -----------------------------------------------

CHAT_COLUMNS = [*COLUMNS, "requests"]
TURN_COLUMNS = [
    "source",
    "model",
    "turn",
    "role",
    "tokens",
    "context_tokens",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "call_usd",
    "call_cached_usd",
    "cumulative_usd",
    "cumulative_cached_usd",
    "pending",
    "approximate",
]
MAX_WARNINGS = 10
MAX_NOTE_LINES = 5


def _n(count: int, word: str) -> str:
    """`1 image`, `3 images`."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


FORMAT_LABELS: dict[str, str] = {
    "text": "plain text",
    "openai": "OpenAI chat request",
    "anthropic": "Anthropic Messages request",
    "requests": "JSONL of chat requests",
    "batch": "batch API input",
    "transcript": "JSONL transcript, one message per line",
}


def _describe(item: InputSummary) -> str:
    parts = []
    if item.format in ("requests", "batch"):
        parts.append(_n(item.requests, "request"))
    if item.format != "text":
        parts.append(_n(item.messages, "message"))
    if item.tools:
        parts.append(_n(item.tools, "tool"))
    if item.images:
        parts.append(_n(item.images, "image"))
    if item.skipped:
        parts.append(_n(item.skipped, "line") + " skipped")
    text = FORMAT_LABELS[item.format]
    return f"{text}: {', '.join(parts)}" if parts else text


def _chat_title(report: EstimateReport) -> str:
    if len(report.summaries) == 1:
        item = report.summaries[0]
        if item.format == "text":
            return _inputs_title(report)
        return f"{item.source} — {_describe(item)}"
    return f"Total of {len(report.summaries)} inputs — {_n(report.requests, 'request')}"


def _requests_by_model(report: EstimateReport) -> dict[str, int] | None:
    """Requests each model priced, when they differ between models (else None)."""
    counts = _request_counts(report)
    return None if all(v == report.requests for v in counts.values()) else counts


def _answers(report: EstimateReport) -> list[str]:
    """What --per, --fits and --cheapest did."""
    a = report.assumptions
    lines = []
    if a.per:
        calls = f"{a.calls:,} call{'' if a.calls == 1 else 's'}"
        lines.append(f"--per {a.per}: {calls} a {a.per}; a month is 30 days")
    if a.fits or a.cheapest is not None:
        shown, total = len(report.models), len(report.models) + a.left_out
        fitting = total - a.not_fitting
        if a.fits and a.cheapest is not None:
            tail = f" ({a.not_fitting:,} of {total:,} do not)" if a.not_fitting else ""
            lines.append(f"--fits --cheapest {a.cheapest:,}: the {_n(shown, 'cheapest model')} of the {fitting:,} that fit{tail}")
        elif a.fits and a.not_fitting:
            lines.append(f"--fits: {shown:,} of {total:,} models fit; the {a.not_fitting:,} that do not are left out")
        elif a.fits:
            lines.append("--fits: every model fits")
        else:
            lines.append(f"--cheapest {a.cheapest:,}: the {_n(shown, 'cheapest model')} of {total:,}")
        if a.fits and not shown:
            lines.append("no model fits: try --all, or models with a larger context window")
    return lines


def _notes(report: EstimateReport) -> list[str]:
    """Under the total: what was assumed, and what is approximate, left out or does not fit."""
    rows = report.models
    a = report.assumptions
    summaries = report.summaries
    lines = []
    own = sum(i.output_from_requests for i in summaries)
    total_requests = report.requests
    if a.output_tokens_from == "option":
        lines.append(f"output: {a.output_tokens:,} tokens per call (--output-tokens)")
    elif a.output_tokens_from == "request":
        lines.append("output: each request's own max_tokens (an upper bound; set an expected length with --output-tokens)")
    elif own:
        lines.append(
            f"output: the request's own max_tokens for {own:,} of {total_requests:,} requests, "
            f"else {a.output_tokens:,} ({'from your config' if a.output_tokens_from == 'config' else 'default'})"
        )
    else:
        source = "from your config" if a.output_tokens_from == "config" else "default; set with --output-tokens"
        lines.append(f"output: {a.output_tokens:,} tokens per call ({source})")
    if total_requests > 1:
        lines.append(_each_request_is_a_call(report))
    lines += _answers(report)
    if any(i.request_models for i in summaries) and not any(r for r in rows if r.model not in _named(report)):
        lines.append("models: the requests' own; compare others with --model or --all")
    if a.cached_tokens:
        line = f"cached prefix: {a.cached_tokens:,} tokens per call at cached-input prices"
        calls = _request_counts(report)
        if any(r.cached_input_tokens < a.cached_tokens * calls.get(r.model, 1) for r in rows):
            line += " (capped at the prompt: where the prompt is shorter, all of it is priced as cached)"
        lines.append(line)
    batch_inputs = [i.source for i in summaries if i.batch]
    if a.batch or batch_inputs:
        why = f" ({', '.join(batch_inputs)}: batch API input)" if batch_inputs and not a.batch else ""
        if batch_inputs and a.batch and len(batch_inputs) == len(summaries):
            why = " (a batch API input file)"
        lines.append("batch API prices" + why + ("; (batch n/a): no batch API, standard price" if any(r.batch_unavailable for r in rows) else ""))
    if any(r.cost.long_context for r in rows):
        lines.append("long-context prices apply to requests whose input passes the model's threshold")
    if any(not r.approximate for r in rows) and any(i.format != "text" for i in summaries):
        lines.append("OpenAI rows: chat format as the API bills it (3 tokens per message, 1 per name, 3 for the reply; tools as the API renders them for the model)")
    for reason in sorted({r for i in summaries for r in i.approximations}):
        lines.append(f"≈ {reason}")
    if any(r.approximate for r in rows):
        lines.append(APPROX_NOTE)
        if any(i.format != "text" for i in summaries):
            lines.append("≈ other providers' chat format: 3 tokens per message and 3 for the reply, as OpenAI's; Anthropic adds its tool-use system prompt")
    counted_images = sum(n.image_tokens for n in report.model_notes)
    if counted_images:
        lines.append("images: by each provider's published rule (OpenAI tiles or patches, Anthropic 28-px patches)")
    missing = [n for n in report.model_notes if n.images_not_counted]
    for n in missing[:MAX_NOTE_LINES]:
        example = f": {n.examples[0]}" if n.examples else ""
        lines.append(f"✗ not counted on {n.model}: {_n(n.images_not_counted, 'image')}{example}")
    if len(missing) > MAX_NOTE_LINES:
        lines.append(f"✗ … and on {len(missing) - MAX_NOTE_LINES} more models (listed in --format json)")
    for item in summaries:
        for text in item.not_counted[:MAX_NOTE_LINES]:
            lines.append(f"✗ not counted: {text if len(summaries) == 1 else item.source + ': ' + text}")
        if item.not_counted_total > MAX_NOTE_LINES:
            lines.append(f"✗ … {item.not_counted_total - MAX_NOTE_LINES:,} more parts not counted (listed in --format json)")
        if item.skipped:
            lines.append(f"✗ {item.source}: {_n(item.skipped, 'line')} skipped (--keep-going); see the warnings")
    for r in [r for r in rows if not r.fits][:5]:
        lines.append(f"✗ {r.model}: {'; '.join(r.problems[:3])}")
    if not report.plain:  # a table of plain texts leaves them to stderr (`messages`)
        lines.extend(report.notes)
    dates = sorted({r.as_of for r in rows})
    if dates:
        lines.append("prices as of " + ", ".join(d.isoformat() for d in dates))
    return lines


def _named(report: EstimateReport) -> set[str]:
    return {m for i in report.summaries for m in i.request_models}


def _turn_grid(table: TurnTable) -> Grid:
    approx = table.approximate
    grid = Grid(
        columns=[
            Column("#", justify="right"),
            Column("Role"),
            Column("Tokens", justify="right"),
            Column("Context", justify="right", drop_priority=2),
            Column("Call input", justify="right"),
            Column("Cached", justify="right", drop_priority=1),
            Column("Output", justify="right", drop_priority=3),
            Column("Call", justify="right", drop_priority=4),
            Column("Cumulative", justify="right", style="bold"),
            Column("With cache", justify="right"),
        ],
        title=f"{table.source} on {table.model} — per turn: {table.calls} call{'s' if table.calls != 1 else ''}",
    )
    for row in table.rows:
        call = row.input_tokens is not None
        grid.add(
            str(row.turn),
            "→ reply" if row.pending else row.role,
            fmt.count(row.tokens, approx),
            fmt.count(row.context_tokens, approx),
            fmt.count(row.input_tokens, approx) if call else "",
            fmt.count(row.cached_input_tokens or 0, approx) if call else "",
            fmt.count(row.output_tokens or 0, approx) if call else "",
            fmt.usd(row.call_usd) if row.call_usd is not None else "",
            fmt.usd(row.cumulative_usd) if row.cumulative_usd is not None else "",
            fmt.usd(row.cumulative_cached_usd) if row.cumulative_cached_usd is not None else "",
        )
    grid.notes = [
        f"every reply is one call that re-reads the conversation before it, plus {table.fixed_tokens:,} fixed tokens "
        "(tools, schemas, reply priming)",
        "with cache: each call reads the previous call's input from a prompt cache at cached-input prices "
        "(from the model's minimum cacheable length; cache writes where the model bills them)",
        f"total {fmt.usd(table.total_usd)}; with a prompt cache {fmt.usd(table.total_cached_usd)}",
    ]
    if any(r.pending for r in table.rows):
        grid.notes.insert(0, "→ reply: the call this request makes, with the assumed output")
    return grid


def _turn_rows(table: TurnTable) -> list[dict[str, Any]]:
    return [
        {"source": table.source, "model": table.model, **r.model_dump(), "approximate": table.approximate}
        for r in table.rows
    ]


def _request_counts(report: EstimateReport) -> dict[str, int]:
    return {n.model: n.requests for n in report.model_notes}
