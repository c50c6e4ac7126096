"""Views of token counts: a grid per run, CSV rows, a JSON document, and token ids."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from tokopt import __version__, inputs, tokens
from tokopt.costing import model_tokens
from tokopt.inputs import EncodingErrors, Source
from tokopt.pricing.model import ModelPrice
from tokopt.costing.report import TextCount
from tokopt.render import fmt
from tokopt.render.grid import Column, Grid

if TYPE_CHECKING:
    from tokopt.costing.pipeline import ChatTokenCount, Options
    from tokopt.requests.model import Message


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


def ids_json(
    sources: Sequence[Source], encodings: Sequence[str], *, errors: EncodingErrors, options: Options | None = None
) -> str:
    """One object per (source, encoding), always a list, so the shape never depends on the input.

    Chat inputs (`options` given): one object per (message, encoding), with the message's
    number and role (and the JSONL line), its texts' ids one after another."""
    items: list[dict[str, Any]] = []
    for source in sources:
        if options is not None and not is_text(source, options):
            items.extend(_chat_ids(source, encodings, options))
            continue
        text = inputs.read_text(source, errors=errors)
        for e in encodings:
            ids = tokens.encode(text, e)
            items.append({"source": source.label, "encoding": e, "count": len(ids), "ids": ids})
    # One object per line keeps a long id list on one line instead of one id per line.
    return "[\n" + ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in items) + "\n]\n"


# --- chat requests ----------------------------------------------------------------------------


def _chat_row(c: ChatTokenCount, encodings: Sequence[str], model: ModelPrice | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": c.source,
        "format": c.format,
        "requests": c.requests,
        "messages": c.messages,
        "chars": c.chars,
        "bytes": c.bytes,
    }
    for e in encodings:
        row[f"{e}_tokens"] = c.tokens[e]
        row[f"{e}_chat_tokens"] = c.chat_tokens[e]
    if model is not None:
        row[f"{model.id}_tokens"] = c.model_tokens
        row[f"{model.id}_approximate"] = c.model_approximate
    row["not_counted"] = c.not_counted_total
    row["skipped_lines"] = c.skipped
    return row


def _chat_total(results: Sequence[ChatTokenCount], encodings: Sequence[str], model: ModelPrice | None) -> ChatTokenCount:
    from tokopt.costing.pipeline import ChatTokenCount

    return ChatTokenCount(
        source=f"total ({len(results)} inputs)",
        format=results[0].format,
        requests=sum(c.requests for c in results),
        messages=sum(c.messages for c in results),
        chars=sum(c.chars for c in results),
        bytes=sum(c.bytes for c in results),
        tokens={e: sum(c.tokens[e] for c in results) for e in encodings},
        chat_tokens={e: sum(c.chat_tokens[e] for c in results) for e in encodings},
        model_tokens=sum(c.model_tokens or 0 for c in results) if model else None,
        model_approximate=any(c.model_approximate for c in results),
        not_counted_total=sum(c.not_counted_total for c in results),
        skipped=sum(c.skipped for c in results),
    )


def chat_csv_rows(results: Sequence[ChatTokenCount], encodings: Sequence[str], model: ModelPrice | None) -> list[dict[str, Any]]:
    rows = [_chat_row(c, encodings, model) for c in results]
    if len(results) > 1:
        rows.append(_chat_row(_chat_total(results, encodings, model), encodings, model))
    return rows


def chat_document(results: Sequence[ChatTokenCount], encodings: Sequence[str], model: ModelPrice | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "tokopt_version": __version__,
        "encodings": list(encodings),
        "inputs": [_chat_row(c, encodings, model) for c in results],
        "total": _chat_row(_chat_total(results, encodings, model), encodings, model),
    }
    if model is not None:
        doc["model"] = {"id": model.id, "tokenizer": model.tokenizer.label, "approximate": model.approximate}
    return doc


def chat_grid(results: Sequence[ChatTokenCount], encodings: Sequence[str], model: ModelPrice | None) -> Grid:
    columns = [Column("Source"), Column("Requests", justify="right", drop_priority=2), Column("Chars", justify="right", drop_priority=3)]
    for e in encodings:
        columns += [Column(f"{e} text", justify="right", drop_priority=1), Column(f"{e} chat", justify="right", style="bold")]
    if model is not None:
        columns.append(Column(model.id, justify="right", style="bold"))
    g = Grid(columns=columns)

    def cells(c: ChatTokenCount) -> list[str]:
        out = [c.source, fmt.count(c.requests), fmt.count(c.chars)]
        for e in encodings:
            out += [fmt.count(c.tokens[e]), fmt.count(c.chat_tokens[e])]
        if model is not None:
            out.append(fmt.count(c.model_tokens or 0, c.model_approximate))
        return out

    for c in results:
        g.add(*cells(c))
    if len(results) > 1:
        g.footer = cells(_chat_total(results, encodings, model))
    g.notes.append(
        "text: the messages' text alone; chat: as OpenAI's chat format bills it "
        "(3 per message, 1 per name, 3 for the reply, tools), images left out"
    )
    if model is not None:
        approx = f"; {model.tokenizer.label}" if model.approximate else ""
        g.notes.append(f"{model.id}: its input tokens, images by its provider's rule{approx}")
    missing = sum(c.not_counted_total for c in results)
    if missing:
        plural = "s" if missing > 1 else ""
        g.notes.append(f"✗ {missing:,} part{plural} not counted (audio, files, images of unknown size): tokopt estimate lists them")
    return g


def is_text(source: Source, options: Options) -> bool:
    from tokopt.inputs.formats import sniff

    return sniff(source, options.input_format) == "text"


def _message_texts(message: Message) -> list[str]:
    from tokopt.requests.model import TextPart, ToolCallPart, ToolResultPart

    out: list[str] = []

    def walk(parts: Sequence[Any]) -> None:
        for part in parts:
            if isinstance(part, TextPart):
                out.append(part.text)
            elif isinstance(part, ToolCallPart):
                out.extend([part.name, part.arguments])
            elif isinstance(part, ToolResultPart):
                walk(part.parts)

    if message.name:
        out.append(message.name)
    walk(message.parts)
    return [t for t in out if t]


def conversation_pieces(source: Source, encoding: str, options: Options) -> Iterator[tuple[str, Iterator[tuple[str, int]]]]:
    """(label, token pieces) for every message of every request of a chat input."""
    from tokopt.costing.pipeline import iter_requests

    for request in iter_requests(source, options):
        for k, message in enumerate(request.conversation.messages, 1):
            texts = _message_texts(message)
            yield (
                f"{request.where} · message {k} · {message.role}",
                (piece for text in texts for piece in tokens.pieces(text, encoding)),
            )


def _chat_ids(source: Source, encodings: Sequence[str], options: Options) -> list[dict[str, Any]]:
    from tokopt.costing.pipeline import iter_requests

    items = []
    for request in iter_requests(source, options):
        for k, message in enumerate(request.conversation.messages, 1):
            texts = _message_texts(message)
            for e in encodings:
                ids = [i for text in texts for i in tokens.encode(text, e)]
                item: dict[str, Any] = {"source": source.label}
                if request.line is not None:
                    item["line"] = request.line
                item.update({"message": k, "role": message.role, "encoding": e, "count": len(ids), "ids": ids})
                items.append(item)
    return items
