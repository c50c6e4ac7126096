"""Views of a TokenizeReport: a grid, CSV rows, a JSON document; labels and ids of token pieces.

Plain texts alone are shown per encoding with tokens per character; any chat input shows each
encoding's text and chat-format tokens instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tokopt import __version__
from tokopt.render import fmt
from tokopt.render.escape import json_text
from tokopt.render.grid import Column, Grid
from tokopt.decimals import quantize

if TYPE_CHECKING:
    from tokopt.pricing.model import ModelPrice
    from tokopt.tokens.tokenize import InputTokens, Stretch, TokenizeReport


def _ratio(n_tokens: int, chars: int) -> Decimal | None:
    if chars == 0:
        return None
    return quantize(Decimal(n_tokens) / Decimal(chars), "0.0001")


def _text_row(c: InputTokens, report: TokenizeReport) -> dict[str, Any]:
    row: dict[str, Any] = {"source": c.source, "chars": c.chars, "bytes": c.bytes}
    for e in report.encodings:
        row[f"{e}_tokens"] = c.tokens[e]
        row[f"{e}_tokens_per_char"] = _ratio(c.tokens[e], c.chars)
    model = report.model
    if model is not None and model.approximate:
        row[f"{model.id}_tokens_approx"] = c.model_tokens
        row[f"{model.id}_approx_low"] = c.model_low
        row[f"{model.id}_approx_high"] = c.model_high
    return row


def _chat_row(c: InputTokens, report: TokenizeReport) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": c.source,
        "format": c.format,
        "requests": c.requests,
        "messages": c.messages,
        "chars": c.chars,
        "bytes": c.bytes,
    }
    for e in report.encodings:
        row[f"{e}_tokens"] = c.tokens[e]
        row[f"{e}_chat_tokens"] = c.chat_tokens[e]
    if report.model is not None:
        row[f"{report.model.id}_tokens"] = c.model_tokens
        row[f"{report.model.id}_approximate"] = c.model_approximate
        row[f"{report.model.id}_approx_low"] = c.model_low
        row[f"{report.model.id}_approx_high"] = c.model_high
    row["not_counted"] = c.not_counted_total
    row["skipped_lines"] = c.skipped
    return row


def _row(c: InputTokens, report: TokenizeReport) -> dict[str, Any]:
    return _text_row(c, report) if report.plain else _chat_row(c, report)


def csv_rows(report: TokenizeReport) -> list[dict[str, Any]]:
    rows = [_row(c, report) for c in report.inputs]
    if len(report.inputs) > 1:
        rows.append(_row(report.total, report))
    return rows


def document(report: TokenizeReport) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "tokopt_version": __version__,
        "encodings": list(report.encodings),
        "inputs": [_row(c, report) for c in report.inputs],
        "total": _row(report.total, report),
    }
    model = report.model
    if model is not None:
        from tokopt.pricing import certainty  # only with -m: a plain tokenize loads no price models

        doc["model"] = {
            "id": model.id,
            "tokenizer": model.tokenizer.label,
            "approximate": model.approximate,
            "counting": certainty.of(model).as_dict(),
        }
    return doc


def grid(report: TokenizeReport) -> Grid:
    return _text_grid(report) if report.plain else _chat_grid(report)


def _text_grid(report: TokenizeReport) -> Grid:
    model = report.model
    approx = model is not None and model.approximate
    columns = [Column("Source"), Column("Chars", justify="right"), Column("Bytes", justify="right", drop_priority=3)]
    for i, e in enumerate(report.encodings):
        columns += [Column(e, justify="right", style="bold"), Column("tok/char", justify="right", style="dim", drop_priority=1 + (i == 0))]
    if model is not None and approx:
        columns.append(Column(f"≈ {model.id}", justify="right", style="bold"))
    g = Grid(columns=columns)

    def cells(c: InputTokens) -> list[str]:
        out = [c.source, fmt.count(c.chars), fmt.count(c.bytes)]
        for e in report.encodings:
            ratio = _ratio(c.tokens[e], c.chars)
            out += [fmt.count(c.tokens[e]), "—" if ratio is None else str(ratio)]
        if approx:
            out.append(fmt.count_band(c.model_tokens or 0, c.model_low, c.model_high))
        return out

    for c in report.inputs:
        g.add(*cells(c))
    if len(report.inputs) > 1:
        g.footer = list(cells(report.total))
    if model is not None:
        g.notes += counting_notes(model)
    return g


def counting_notes(model: ModelPrice) -> list[str]:
    """How `model`'s counts are made: exact, rule-based (and the rules' sources), or approximate
    (its factors per content class with their bands, and where they come from)."""
    from tokopt.pricing import certainty
    from tokopt.pricing.model import CONTENT_CLASSES

    c = certainty.of(model)
    mark = "≈ " if c.overall is not None else ""
    if c.overall is None:
        return [
            f"{model.id}: {c.kind}: text counted with {c.source}",
            f"  chat: {c.chat_rule}",
            f"  tools: {c.tool_rule}",
        ]
    parts = [f"{name} ×{b.factor} (±{b.pct}%)" for name, b in c.classes]
    if len(c.classes) < len(CONTENT_CLASSES):
        rest = "others" if c.classes else "all text"
        parts.append(f"{rest} ×{c.overall.factor} (±{c.overall.pct}%)")
    out = [f"{mark}{model.id}: approximate: {c.encoding} × a factor per content class: {', '.join(parts)}"]
    if c.family:
        out.append(f"  the factors of the family {c.family!r}, not measured on this model")
    out.append(f"  source: {c.source}" + (" (each class's: tokopt models MODEL --format json)" if c.classes else ""))
    return out


def _chat_grid(report: TokenizeReport) -> Grid:
    model = report.model
    columns = [Column("Source"), Column("Requests", justify="right", drop_priority=2), Column("Chars", justify="right", drop_priority=3)]
    for e in report.encodings:
        columns += [Column(f"{e} text", justify="right", drop_priority=1), Column(f"{e} chat", justify="right", style="bold")]
    if model is not None:
        columns.append(Column(model.id, justify="right", style="bold"))
    g = Grid(columns=columns)

    def cells(c: InputTokens) -> list[str]:
        out = [c.source, fmt.count(c.requests), fmt.count(c.chars)]
        for e in report.encodings:
            out += [fmt.count(c.tokens[e]), fmt.count(c.chat_tokens[e])]
        if model is not None:
            out.append(fmt.count_band(c.model_tokens or 0, c.model_low, c.model_high, c.model_approximate))
        return out

    for c in report.inputs:
        g.add(*cells(c))
    if len(report.inputs) > 1:
        g.footer = cells(report.total)
    g.notes.append(
        "text: the messages' text alone; chat: as OpenAI's chat format bills it "
        "(3 per message, 1 per name, 3 for the reply, tools), images left out"
    )
    if model is not None:
        g.notes.append(f"{model.id}: its input tokens, images by its provider's rule")
        g.notes += counting_notes(model)
    missing = report.total.not_counted_total
    if missing:
        plural = "s" if missing > 1 else ""
        g.notes.append(f"✗ {missing:,} part{plural} not counted (audio, files, images of unknown size): tokopt estimate lists them")
    return g


def warnings(report: TokenizeReport) -> list[str]:
    """Skipped JSONL lines (the first few of each input), for stderr."""
    return [f"skipped {line}" for item in report.inputs for line in item.line_errors[:10]]


def label(stretch: Stretch) -> str:
    """`prompt.txt`, or `chat.jsonl:3 · message 2 · user` for one message of a chat input."""
    if stretch.message is None:
        return stretch.source
    where = stretch.source if stretch.line is None else f"{stretch.source}:{stretch.line}"
    return f"{where} · message {stretch.message} · {stretch.role}"


def ids_json(items: Iterable[tuple[Stretch, str, Sequence[int]]], charset: str = "utf-8") -> str:
    """One object per (stretch, encoding), always a list, so the shape never depends on the input.

    A chat input's objects are per message, with the message's number and role (and the JSONL line)."""
    out: list[dict[str, Any]] = []
    for stretch, encoding, ids in items:
        item: dict[str, Any] = {"source": stretch.source}
        if stretch.message is not None:
            if stretch.line is not None:
                item["line"] = stretch.line
            item.update({"message": stretch.message, "role": stretch.role})
        item.update({"encoding": encoding, "count": len(ids), "ids": list(ids)})
        out.append(item)
    # One object per line keeps a long id list on one line instead of one id per line.
    return json_text("[\n" + ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in out) + "\n]\n", charset)
