"""Views of a SuggestReport: grids for people, flat rows for CSV, a document for JSON."""

from __future__ import annotations

import re
from typing import Any

from tokopt import __version__
from tokopt.optimize.report import SuggestReport, Suggestion
from tokopt.render import fmt
from tokopt.render.grid import Column, Grid

COLUMNS = [
    "id",
    "rule",
    "kind",
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
    "scope",
    "run_calls",
]
SUMMARY_SIZE = 3
APPROX_MARK = "'s tokens are approximate ("
_FROM = {
    "option": "--target-model",
    "request": "the request's model",
    "config": "your config's first model",
    "assumed": "assumed: nothing names the model the calls use; name it with --target-model",
}
# under `estimate --suggest`, where the first -m names the model
_FROM_ESTIMATE = {**_FROM, "assumed": "assumed: nothing names the model the calls use; name it first with -m"}


def _tokens(s: Suggestion, approximate: bool) -> str:
    """Tokens saved on the target model: ≈ where its counts are approximate."""
    return fmt.count(s.tokens_saved, approximate) if s.tokens_saved else "—"


def _confidence(s: Suggestion) -> str:
    return "exact" if s.confidence == "exact" else "estimated*"


def grid(
    report: SuggestReport,
    *,
    limit: int | None = None,
    title: str | None = None,
    scope: str = "call",
    first: int = 1,
    origins: dict[str, str] = _FROM,
) -> Grid:
    """The suggestions of one scope: per call, or per run of a conversation's agent loop."""
    mine = [s for s in report.suggestions if s.scope == scope]
    shown = mine[:limit] if limit else mine
    per_run = scope == "run"
    run_calls = max((s.run_calls or 0 for s in mine), default=0)
    g = Grid(
        columns=[
            Column("#", justify="right"),
            Column("Suggestion", no_wrap=False, min_width=24),
            Column("Why", no_wrap=False, min_width=20, style="dim", drop_priority=2),
            Column("Tokens saved", justify="right", drop_priority=1),
            Column("Saves", justify="right", style="bold"),
            Column(f"× {report.calls:,} {'runs' if per_run else 'calls'}", justify="right"),
            Column("Confidence", min_width=10, drop_priority=3),
        ],
        title=title or (f"The conversation as an agent loop: one run is its {run_calls:,} calls" if per_run else _title(report)),
    )
    for n, s in enumerate(shown, first):
        g.add(
            str(n),
            s.title,
            s.detail,
            _tokens(s, report.approximate),
            fmt.usd(s.cost_saved_per_call),
            fmt.usd(s.cost_saved_total),
            _confidence(s) if s.confidence == "exact" else (_confidence(s), "yellow"),
        )
    if per_run:
        g.notes = _assumptions(shown, first) + [
            "a run: every assistant turn of the conversation sent as its own call, re-reading the history "
            "before it (tokopt estimate --by-turn shows each call)"
        ]
    else:
        g.notes = notes(report, shown, more=len(mine) - len(shown), origins=origins)
        if not limit and not shown and any(s.scope == "run" for s in report.suggestions):
            g.notes[1:2] = ["no per-call suggestion saves anything here"]
    return g


def _title(report: SuggestReport) -> str:
    what = report.inputs[0] if len(report.inputs) == 1 else f"{len(report.inputs)} inputs"
    return f"Suggestions for {what} on {report.model}"


def notes(report: SuggestReport, shown: list[Suggestion], *, more: int = 0, origins: dict[str, str] = _FROM) -> list[str]:
    calls = "one call of each input" if report.requests > 1 else "one call"
    lines = [
        f"today: {fmt.usd(report.cost_per_call)} per call, {fmt.usd(report.cost_total)} × {report.calls:,} calls "
        f"on {report.model} ({origins[report.model_from]}); {fmt.count(report.input_tokens, report.approximate)} input "
        f"+ {report.output_tokens:,} output tokens per call ({calls})"
    ]
    if not shown:
        lines.append("no suggestion saves anything here")
    lines += _assumptions(shown, 1)
    if more > 0:
        lines.append(f"{more} more: tokopt suggest" + (f" -t {report.model}" if report.model_from == "assumed" else ""))
    lines.extend(report.notes)
    return lines


def _assumptions(shown: list[Suggestion], first: int) -> list[str]:
    """`* n: assumption` per row; "X's tokens are approximate (...)" once for all rows."""
    lines = []
    approx: dict[str, None] = {}
    for n, s in enumerate(shown, first):
        parts = (s.assumption or "").split("; ")
        own = [p for p in parts if p and APPROX_MARK not in p]
        approx.update(dict.fromkeys(p for p in parts if APPROX_MARK in p))
        if own:
            lines.append(f"* {n}: {'; '.join(own)}")
    if approx:
        lines.append(_approx_line(list(approx)))
    return lines


_APPROX = re.compile(r"^(?P<model>.+)'s tokens are approximate \(≈ (?P<enc>\w+) × (?P<factor>[\d.]+)\)$")


def _approx_line(parts: list[str]) -> str:
    """One line for every approximate model: `≈ approximate counts, o200k_base × factor: a ×1.53, b ×1.0`."""
    by_encoding: dict[str, list[str]] = {}
    for part in parts:
        m = _APPROX.match(part)
        if m is None:
            return "≈ " + "; ".join(parts)  # a shape this does not know: say it as it is
        by_encoding.setdefault(m["enc"], []).append(f"{m['model']} ×{m['factor']}")
    groups = [f"{enc} × a measured factor: {', '.join(items)}" for enc, items in by_encoding.items()]
    return "≈ approximate token counts, " + "; ".join(groups)


def grids(report: SuggestReport) -> list[Grid]:
    """Per-call suggestions, then (for a conversation) those for one run of its agent loop:
    their figures are in different units, so they are never sorted into one table."""
    out = [grid(report)]
    n_call = sum(1 for s in report.suggestions if s.scope == "call")
    if n_call < len(report.suggestions):
        out.append(grid(report, scope="run", first=n_call + 1))
    return out


def summary_grid(report: SuggestReport) -> Grid:
    """The top few per-call suggestions, for under `tokopt estimate --suggest`."""
    g = grid(report, limit=SUMMARY_SIZE, title=f"Top suggestions on {report.model}", origins=_FROM_ESTIMATE)
    runs = sum(1 for s in report.suggestions if s.scope == "run")
    if runs:
        g.notes.append(f"{runs} more for the conversation as an agent loop: tokopt suggest")
    return g


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
        for s in [s for s in report.suggestions if s.scope == "call"][:SUMMARY_SIZE]
    ]
    return lines or ["suggestion: none saves anything here"]
