"""What `tokopt tokenize` counts: per input, the tokens of its text and of its chat format per
encoding (and one model's input tokens); and the token pieces and ids of every message.

Plain text is a request with one user message: its text tokens and its chat tokens are the
same, its exact count (no chat overhead). A chat input's chat tokens are what OpenAI's chat
format bills (per-message overhead, names, tools), images left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tokopt import tokens
from tokopt.errors import InputError
from tokopt.requests.read import Input, Kind, PlainText, ReadOptions, open_inputs
from tokopt.tokens import measure
from tokopt.inputs import Source

if TYPE_CHECKING:
    from tokopt.pricing.model import ModelPrice


@dataclass
class InputTokens:
    """Counts for one input (or the total of several), per encoding."""

    source: str
    format: Kind
    requests: int = 0
    messages: int = 0
    chars: int = 0  # characters of the text that is counted
    bytes: int = 0  # of the input
    tokens: dict[str, int] = field(default_factory=dict)  # the text alone
    chat_tokens: dict[str, int] = field(default_factory=dict)  # as OpenAI's chat format bills it
    model_tokens: int | None = None  # with a model: its input tokens, images by its rule
    model_approximate: bool = False
    model_low: int | None = None  # the band of an approximate model count
    model_high: int | None = None
    not_counted_total: int = 0
    skipped: int = 0
    line_errors: list[str] = field(default_factory=list)


@dataclass
class TokenizeReport:
    encodings: list[str]
    model: ModelPrice | None
    inputs: list[InputTokens]
    total: InputTokens

    @property
    def plain(self) -> bool:
        """Every input is plain text."""
        return all(i.format == "text" for i in self.inputs)


def tokenize(
    sources: Sequence[Source],
    encodings: Sequence[str],
    model: ModelPrice | None = None,
    options: ReadOptions = ReadOptions(),
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> TokenizeReport:
    """Per input: its text tokens and chat tokens per encoding (and `model`'s input tokens)."""
    encs = list(dict.fromkeys([*encodings, *([model.tokenizer.encoding] if model else [])]))
    opened = open_inputs(sources, options)
    out = [InputTokens(i.source.label, i.kind, tokens=dict.fromkeys(encs, 0), chat_tokens=dict.fromkeys(encs, 0)) for i in opened]
    if model is not None:
        for item in out:
            item.model_tokens = 0
    classify = model is not None and not model.tokenizer.exact
    for index, counted in measure.count(opened, lambda _: encs, classify=classify, on_bytes=on_bytes):
        item = out[index]
        item.requests += 1
        item.messages += counted.n_messages
        item.chars += counted.chars
        item.not_counted_total += len(counted.not_counted())
        for e in encs:
            item.tokens[e] += counted.text_tokens(e)
            item.chat_tokens[e] += counted.chat_tokens(e)
        if isinstance(counted, measure.CountedText):
            item.bytes = counted.bytes
        if model is not None:
            mi = counted.model_input(model)
            item.model_tokens = (item.model_tokens or 0) + mi.tokens
            item.model_approximate |= mi.approximate
            if mi.low is not None and mi.high is not None:
                item.model_low = (item.model_low or 0) + mi.low
                item.model_high = (item.model_high or 0) + mi.high
    for item, source in zip(out, opened):
        item.format = source.kind
        if not source.is_text:
            item.bytes = source.source.size or 0
        item.skipped, item.line_errors = source.skipped, source.line_errors
    if not any(i.requests for i in out):
        raise InputError("nothing to count: no input held a request" + _skipped_detail(out))
    return TokenizeReport(encs, model, out, _total(out, encs, model))


def _total(items: Sequence[InputTokens], encodings: Sequence[str], model: ModelPrice | None) -> InputTokens:
    total = InputTokens(
        source=f"total ({len(items)} inputs)",
        format=items[0].format,
        requests=sum(c.requests for c in items),
        messages=sum(c.messages for c in items),
        chars=sum(c.chars for c in items),
        bytes=sum(c.bytes for c in items),
        tokens={e: sum(c.tokens[e] for c in items) for e in encodings},
        chat_tokens={e: sum(c.chat_tokens[e] for c in items) for e in encodings},
        model_approximate=any(c.model_approximate for c in items),
        not_counted_total=sum(c.not_counted_total for c in items),
        skipped=sum(c.skipped for c in items),
    )
    if model is not None:
        total.model_tokens = sum(c.model_tokens or 0 for c in items)  # each input is its own call
        if any(c.model_low is not None for c in items):
            total.model_low = sum(c.model_low if c.model_low is not None else c.model_tokens or 0 for c in items)
            total.model_high = sum(c.model_high if c.model_high is not None else c.model_tokens or 0 for c in items)
    return total


def _skipped_detail(items: Sequence[InputTokens]) -> str:
    skipped = [i for i in items if i.skipped]
    if not skipped:
        return ""
    first = skipped[0]
    lines = "line" if first.skipped == 1 else "lines"
    return f" ({first.skipped:,} {lines} of {first.source} skipped; the first: {first.line_errors[0]})"


# --- token pieces and ids -----------------------------------------------------------------------


@dataclass(frozen=True)
class Stretch:
    """A stretch of an input whose tokens are shown: a whole plain text, or one message."""

    source: str
    line: int | None = None  # of a JSONL input
    message: int | None = None  # 1-based; None: a plain text
    role: str | None = None


def _stretches(item: Input) -> Iterator[tuple[Stretch, Callable[[], Iterator[str]]]]:
    """Each stretch of an input, with a way to read its texts (safe-cut segments for plain text)."""
    for request in item.requests():
        if isinstance(request, PlainText):
            yield Stretch(item.source.label), lambda r=request: tokens.resegment(r.blocks())
            continue
        for k, message in enumerate(request.conversation.messages, 1):
            yield Stretch(request.source, request.line, k, message.role), lambda m=message: iter(m.texts())


def pieces(inputs: Sequence[Input], encoding: str) -> Iterator[tuple[Stretch, Iterator[tuple[str, int]]]]:
    """(stretch, its token pieces as (text, id)) for every stretch of every input, streamed."""
    for item in inputs:
        for stretch, texts in _stretches(item):
            yield stretch, (piece for text in texts() for piece in tokens.pieces(text, encoding))


def ids(inputs: Sequence[Input], encodings: Sequence[str]) -> Iterator[tuple[Stretch, str, list[int]]]:
    """(stretch, encoding, token ids) for every stretch of every input and each encoding."""
    for item in inputs:
        for stretch, texts in _stretches(item):
            for encoding in encodings:
                yield stretch, encoding, [i for text in texts() for i in tokens.encode(text, encoding)]
