"""Views of token counts: a grid per run, CSV rows, a JSON document, and token ids."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tokopt import __version__, inputs, tokens
from tokopt.costing import model_tokens
from tokopt.inputs import EncodingErrors, Source
from tokopt.models import ModelPrice, TextCount
from tokopt.render import fmt
from tokopt.render.grid import Column, Grid


def _ratio(n_tokens: int, chars: int) -> Decimal | None:
    if chars == 0:
        return None
    return (Decimal(n_tokens) / Decimal(chars)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _total(counts: Sequence[TextCount], encodings: Sequence[str]) -> TextCount:
    return TextCount(
        source=f"total ({len(counts)} inputs)",
        chars=sum(c.chars for c in counts),
        bytes=sum(c.bytes for c in counts),
        tokens={e: sum(c.tokens[e] for c in counts) for e in encodings},
    )


def _row(count: TextCount, encodings: Sequence[str], model: ModelPrice | None) -> dict[str, Any]:
    row: dict[str, Any] = {"source": count.source, "chars": count.chars, "bytes": count.bytes}
    for e in encodings:
        row[f"{e}_tokens"] = count.tokens[e]
        row[f"{e}_tokens_per_char"] = _ratio(count.tokens[e], count.chars)
    if model is not None and model.approximate:
        row[f"{model.id}_tokens_approx"] = model_tokens(model, count.tokens)
    return row


def csv_rows(counts: Sequence[TextCount], encodings: Sequence[str], model: ModelPrice | None) -> list[dict[str, Any]]:
    rows = [_row(c, encodings, model) for c in counts]
    if len(counts) > 1:
        rows.append(_row(_total(counts, encodings), encodings, model))
    return rows


def document(counts: Sequence[TextCount], encodings: Sequence[str], model: ModelPrice | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "tokopt_version": __version__,
        "encodings": list(encodings),
        "inputs": [_row(c, encodings, model) for c in counts],
        "total": _row(_total(counts, encodings), encodings, model),
    }
    if model is not None:
        doc["model"] = {"id": model.id, "tokenizer": model.tokenizer.label, "approximate": model.approximate}
    return doc


def grid(counts: Sequence[TextCount], encodings: Sequence[str], model: ModelPrice | None) -> Grid:
    approx = model is not None and model.approximate
    columns = [Column("Source"), Column("Chars", justify="right"), Column("Bytes", justify="right", drop_priority=3)]
    for i, e in enumerate(encodings):
        columns += [Column(e, justify="right", style="bold"), Column("tok/char", justify="right", style="dim", drop_priority=1 + (i == 0))]
    if approx:
        assert model is not None
        columns.append(Column(f"≈ {model.id}", justify="right", style="bold"))
    g = Grid(columns=columns)

    def cells(c: TextCount) -> list[str]:
        out = [c.source, fmt.count(c.chars), fmt.count(c.bytes)]
        for e in encodings:
            ratio = _ratio(c.tokens[e], c.chars)
            out += [fmt.count(c.tokens[e]), "—" if ratio is None else str(ratio)]
        if approx:
            assert model is not None
            out.append(fmt.count(model_tokens(model, c.tokens), approximate=True))
        return out

    for c in counts:
        g.add(*cells(c))
    if len(counts) > 1:
        g.footer = list(cells(_total(counts, encodings)))
    if approx:
        assert model is not None
        g.notes.append(f"≈ {model.id}: {model.tokenizer.label}; {model.tokenizer.source}")
    return g


def token_pieces(source: Source, encoding: str, *, errors: EncodingErrors) -> Iterator[tuple[str, int]]:
    for segment in tokens.resegment(inputs.read_blocks(source, errors=errors)):
        yield from tokens.pieces(segment, encoding)


def ids_json(sources: Sequence[Source], encodings: Sequence[str], *, errors: EncodingErrors) -> str:
    """One object per (source, encoding), always a list, so the shape never depends on the input."""
    items = []
    for source in sources:
        text = inputs.read_text(source, errors=errors)
        for e in encodings:
            ids = tokens.encode(text, e)
            items.append({"source": source.label, "encoding": e, "count": len(ids), "ids": ids})
    # One object per line keeps a long id list on one line instead of one id per line.
    return "[\n" + ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in items) + "\n]\n"
