"""Views of a SuggestReport: grids for people, flat rows for CSV, a document for JSON."""

from __future__ import annotations

from typing import Any

from tokopt import __version__
from tokopt.optimize import SuggestReport, Suggestion
from tokopt.render import fmt
from tokopt.render.grid import Column, Grid

COLUMNS = [
    "id",
    "rule",
    "title",
    "detail",
    "tokens_saved",
    "cost_saved_per_call",
    "cost_saved_total",
    "calls",
    "confidence",
    "assumption",
    "model",
    "target",
    "trade_off",
    "rewrite",
]
SUMMARY_SIZE = 3
APPROX_MARK = "'s tokens are approximate ("
_FROM = {
    "option": "--target-model",
    "request": "the request's model",
    "config": "your config's first model",
    "default": "the first default model; choose with --target-model",
}


def _tokens(s: Suggestion) -> str:
    return fmt.count(s.tokens_saved) if s.tokens_saved else "—"


def _confidence(s: Suggestion) -> str:
    return "exact" if s.confidence == "exact" else "estimated*"


def grid(report: SuggestReport, *, limit: int | None = None, title: str | None = None) -> Grid:
    shown = report.suggestions[:limit] if limit else report.suggestions
    g = Grid(
        columns=[
            Column("#", justify="right"),
            Column("Suggestion", no_wrap=False, min_width=24),
            Column("Why", no_wrap=False, min_width=20, style="dim", drop_priority=2),
            Column("Tokens saved", justify="right", drop_priority=1),
            Column("Per call", justify="right", style="bold"),
            Column(f"× {report.calls:,} calls", justify="right"),
            Column("Confidence", min_width=10, drop_priority=3),
        ],
        title=title or _title(report),
    )
    for n, s in enumerate(shown, 1):
        g.add(
            str(n),
            s.title,
            s.detail,
            _tokens(s),
            fmt.usd(s.cost_saved_per_call),
            fmt.usd(s.cost_saved_total),
            _confidence(s) if s.confidence == "exact" else (_confidence(s), "yellow"),
        )
    g.notes = notes(report, shown, more=len(report.suggestions) - len(shown))
    return g


def _title(report: SuggestReport) -> str:
    what = report.inputs[0] if len(report.inputs) == 1 else f"{len(report.inputs)} inputs"
    return f"Suggestions for {what} on {report.model}"


def notes(report: SuggestReport, shown: list[Suggestion], *, more: int = 0) -> list[str]:
    calls = "one call of each input" if report.requests > 1 else "one call"
    lines = [
        f"today: {fmt.usd(report.cost_per_call)} per call, {fmt.usd(report.cost_total)} × {report.calls:,} calls "
        f"on {report.model} ({_FROM[report.model_from]}); {fmt.count(report.input_tokens, report.approximate)} input "
        f"+ {report.output_tokens:,} output tokens per call ({calls})"
    ]
    if not shown:
        lines.append("no suggestion saves anything here")
    approx: dict[str, None] = {}
    for n, s in enumerate(shown, 1):
        # "X's tokens are approximate (...)" is said once for all rows, the rest per row
        parts = (s.assumption or "").split("; ")
        own = [p for p in parts if p and APPROX_MARK not in p]
        approx.update(dict.fromkeys(p for p in parts if APPROX_MARK in p))
        if own:
            lines.append(f"* {n}: {'; '.join(own)}")
    if approx:
        lines.append("≈ " + "; ".join(approx))
    if more > 0:
        lines.append(f"{more} more: tokopt suggest")
    lines.extend(report.notes)
    return lines


def grids(report: SuggestReport) -> list[Grid]:
    return [grid(report)]


def summary_grid(report: SuggestReport) -> Grid:
    """The top few suggestions, for under `tokopt estimate --suggest`."""
    return grid(report, limit=SUMMARY_SIZE, title=f"Top suggestions on {report.model}")


def row(s: Suggestion) -> dict[str, Any]:
    return s.model_dump(mode="json")


def csv_rows(report: SuggestReport) -> list[dict[str, Any]]:
    return [s.model_dump() for s in report.suggestions]


def document(report: SuggestReport) -> dict[str, Any]:
    return {"tokopt_version": __version__, **report.model_dump(mode="json")}


def summary_lines(report: SuggestReport) -> list[str]:
    """The top few suggestions as lines for stderr (under `estimate --suggest --format csv`)."""
    lines = [
        f"suggestion: {s.title}: saves {fmt.usd(s.cost_saved_per_call)} per call, "
        f"{fmt.usd(s.cost_saved_total)} × {s.calls:,} ({s.confidence})"
        for s in report.suggestions[:SUMMARY_SIZE]
    ]
    return lines or ["suggestion: none saves anything here"]
