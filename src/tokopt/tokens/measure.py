"""Counted requests: the counting stage of the pipeline (sources → requests → counted requests).

`count(inputs, encodings_for)` counts every request of every input once in each encoding it
needs, all inputs through one pool of counting threads, and yields them in input order:

- a plain-text request becomes a `CountedText`: the exact tokens of its text and nothing else
  (a text prompt is counted as tiktoken counts it, with no chat overhead). Its text is streamed
  in segments that end at safe cuts, so a file of any size is counted in bounded memory;
- a chat request becomes a `tokens.billing.Counted`: its texts counted per billing bucket, from
  which each model's input tokens follow by that model's rules.

Both answer the same questions: `text_tokens(encoding)`, `chat_tokens(encoding)` (as OpenAI's
chat format bills it), `model_input(model)`, `not_counted()`. Request and batch files stream:
requests are counted in batches of about a megabyte of text while the next lines are parsed, and
nothing is kept unless the caller keeps it, so memory does not grow with the file.

Chat rules are imported only when an input is not plain text.
"""

from __future__ import annotations

import decimal
import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Union

from tokopt import tokens
from tokopt.tokens import countcache
from tokopt.errors import InputError
from tokopt.requests.read import AnyRequest, Input, PlainText, ReadOptions, open_inputs
from tokopt.inputs import EncodingErrors, Source
from tokopt.inputs.formats import InputFormat

if TYPE_CHECKING:
    from tokopt.costing.report import TextCount
    from tokopt.pricing.model import ModelPrice
    from tokopt.tokens.approx import Mix
    from tokopt.tokens.billing import Counted

CHUNK_CHARS = 1 << 20  # request text per counting task: big enough to amortise a task, small enough to overlap
_ROUNDING = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class ModelInput:
    """One request's input on one model: tokens, whether approximate, and what is not in it."""

    tokens: int
    approximate: bool
    uncounted: tuple[str, ...] = ()  # images of known size the model has no rule for
    image_tokens: int = 0
    notes: tuple[str, ...] = ()  # why this model's count is ≈, besides the request's own reasons
    low: int | None = None  # an approximate count's band (tokens/approx.py); None: exact
    high: int | None = None


def model_tokens(model: ModelPrice, counts: Mapping[str, int], mix: Mix | None = None) -> int:
    """The model's input tokens from per-encoding counts (scaled where it is an approximation,
    rounded half up: by the factors of the text's content classes when `mix` is known, else
    by the model's overall factor)."""
    base = counts[model.tokenizer.encoding]
    if model.tokenizer.exact:
        return base
    if mix is not None:
        return _approx().estimate(model.tokenizer, base, mix).tokens
    num, den = _ratio(model.tokenizer.factor)
    # base * factor rounded half up, in integers: what Decimal gives, without a context per call
    return (2 * base * num + den) // (2 * den) if base >= 0 else _scaled(base, model.tokenizer.factor)


def model_input(model: ModelPrice, counts: Mapping[str, int], mix: Mix | None = None) -> ModelInput:
    """A text's input tokens on `model`, with the band of an approximate count."""
    base = counts[model.tokenizer.encoding]
    if model.tokenizer.exact:
        return ModelInput(base, False)
    a = _approx().estimate(model.tokenizer, base, mix)
    return ModelInput(a.tokens, True, low=a.low, high=a.high)


def _approx() -> Any:
    """tokens.approx, imported when an approximate model is first priced (not at start-up)."""
    global _approx_module
    if _approx_module is None:
        from tokopt.tokens import approx as _approx_module
    return _approx_module


_approx_module: Any = None


@functools.lru_cache(maxsize=256)
def _ratio(factor: Decimal) -> tuple[int, int]:
    return factor.as_integer_ratio()


def _scaled(base: int, factor: Decimal) -> int:
    with decimal.localcontext(_ROUNDING):
        return int((Decimal(base) * factor).to_integral_value())


class CountedText:
    """A plain-text request, counted: its text's exact tokens per encoding, nothing added."""

    __slots__ = ("request", "chars", "bytes", "sums", "text", "mix")
    n_messages = 1
    n_images = 0
    n_tools = 0
    approximations: tuple[str, ...] = ()

    def __init__(
        self, request: PlainText, sums: dict[str, int], chars: int, nbytes: int, text: str | None = None, mix: Mix | None = None
    ) -> None:
        self.request = request
        self.sums = sums
        self.chars = chars
        self.bytes = nbytes
        self.text = text  # kept only when the caller asked for it
        self.mix = mix  # its content classes, when an approximate model prices it

    def content(self) -> Mix | None:
        """The text's content classes: found while it was read, or from the kept text."""
        if self.mix is None and self.text is not None:
            from tokopt.tokens import approx

            self.mix = approx.classify(self.text)
        return self.mix

    def text_tokens(self, encoding: str) -> int:
        return self.sums[encoding]

    def chat_tokens(self, encoding: str) -> int:
        """Plain text is counted as it is: no per-message or reply overhead."""
        return self.sums[encoding]

    def model_input(self, model: ModelPrice) -> ModelInput:
        return model_input(model, self.sums, None if model.tokenizer.exact else self.content())

    def not_counted(self) -> list[str]:
        return []

    def texts_to_count(self) -> list[str]:
        """The kept text in segments that end at safe cuts (their counts add up to the text's)."""
        if self.text is None:
            raise ValueError(f"{self.request.where}: the text was not kept, so it cannot be counted again")
        return tokens.split_text(self.text, tokens.SEGMENT_CHARS) if self.text else []

    def add_counts(self, counts: dict[str, list[int]]) -> None:
        """Add counts of (segments of) the text in encodings it was not counted in."""
        for encoding, values in counts.items():
            self.sums[encoding] = self.sums.get(encoding, 0) + sum(values)


AnyCounted = Union["Counted", CountedText]


@dataclass(eq=False)
class _TextRun:
    """A plain-text request while its segments are being counted."""

    request: PlainText
    encodings: tuple[str, ...]
    chars: int = 0
    nbytes: int = 0
    text: str | None = None
    cached: dict[str, int] | None = None  # its counts, from the count cache
    digest: tuple[bytes, tuple[int, int]] | None = None  # (content hash, (size, mtime)) to cache them
    mix: Mix | None = None  # its content classes, found segment by segment when asked for


class _Cache:
    """The count cache, opened when the first input big enough to use it comes."""

    def __init__(self) -> None:
        self._opened = False
        self._cache: countcache.CountCache | None = None

    def get(self) -> countcache.CountCache | None:
        if not self._opened:
            self._opened = True
            self._cache = countcache.CountCache.open()
        return self._cache


def _stamp(path: Any) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def _from_cache(run: _TextRun, cache: _Cache, on_bytes: Callable[[int], None] | None) -> bool:
    """Fill `run` from the count cache if every encoding's count is there; else note the file's
    hash, so that its counts are cached once made. False when it is not cached."""
    source = run.request.source
    if source.path is None or source.content is not None or (source.size or 0) < countcache.MIN_BYTES or not run.encodings:
        return False
    found = cache.get()
    if found is None:
        return False
    try:
        stamp = _stamp(source.path)
        digest = countcache.content_hash(source.path)
    except OSError:
        return False  # the reader reports it
    hits = [found.get(digest, e, run.request.errors) for e in run.encodings]
    if all(hits) and len({chars for _, chars in hits}) == 1:  # type: ignore[misc]
        run.cached = {e: tokens for e, (tokens, _) in zip(run.encodings, hits)}  # type: ignore[misc]
        run.chars, run.nbytes = hits[0][1], stamp[0]  # type: ignore[index]
        if on_bytes is not None and stamp[0]:
            on_bytes(stamp[0])
        return True
    run.digest = (digest, stamp)
    return False


def _to_cache(run: _TextRun, sums: dict[str, int], cache: _Cache) -> None:
    """Cache a text's counts, unless the file changed while it was counted."""
    found = cache.get()
    if run.digest is None or found is None:
        return
    digest, stamp = run.digest
    try:
        if _stamp(run.request.source.path) != stamp or run.nbytes != stamp[0]:
            return
    except OSError:
        return
    for encoding, n in sums.items():
        found.put(digest, encoding, run.request.errors, n, run.chars)


def _classify_only(run: _TextRun) -> None:
    """The content classes of a text whose counts came from the count cache: read again and
    classified segment by segment as `_text_batches` does, so the mix is the same (reading
    and classifying cost a fraction of counting)."""
    from tokopt.tokens.approx import classify_sampled

    assert run.mix is not None
    for segment in tokens.resegment(run.request.blocks(lambda n: None), first=tokens.FIRST_SEGMENT_CHARS):
        run.mix.add(classify_sampled(segment))


def _text_batches(
    index: int, run: _TextRun, keep_text: bool, on_bytes: Callable[[int], None] | None, cache: _Cache
) -> Iterator[tuple[Any, list[str], tuple[str, ...]]]:
    """One batch per segment; the last one says so (an empty text is one empty batch, and so
    is a text whose counts come from the count cache)."""
    if not keep_text and _from_cache(run, cache, on_bytes):
        if run.mix is not None:
            _classify_only(run)
        yield (index, run, True), [], run.encodings
        return

    def seen(n: int) -> None:
        run.nbytes += n
        if on_bytes is not None:
            on_bytes(n)

    kept: list[str] = []
    blocks = run.request.blocks(seen)
    if keep_text and not run.encodings:  # read to be kept, counted later (`count_more`)
        run.text = "".join(blocks)
        run.chars = len(run.text)
        yield (index, run, True), [], run.encodings
        return
    if keep_text:
        blocks = (kept.append(b) or b for b in blocks)  # type: ignore[func-returns-value]
    previous: str | None = None
    classify = None
    if run.mix is not None:
        from tokopt.tokens.approx import classify_sampled as classify
    for segment in tokens.resegment(blocks, first=tokens.FIRST_SEGMENT_CHARS):
        run.chars += len(segment)
        if classify is not None:
            run.mix.add(classify(segment))  # type: ignore[union-attr]
        if previous is not None:
            yield (index, run, False), [previous], run.encodings
        previous = segment
    if keep_text:
        run.text = "".join(kept)
    yield (index, run, True), [previous] if previous else [], run.encodings


def count(
    inputs: Sequence[Input],
    encodings_for: Callable[[AnyRequest], Sequence[str]],
    *,
    openai_rules: bool = True,
    other_rules: bool = True,
    keep_text: bool = False,
    classify: bool = False,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, AnyCounted]]:
    """(input index, counted request) for every request of every input, in input order.

    `encodings_for(request)` names the encodings a request is counted in; an InputError it
    raises skips the request as a bad line (with --keep-going) or stops. `openai_rules` and
    `other_rules` say which models' rules will be asked for, so that texts only the other
    needs are not counted. `keep_text` keeps each plain text in its CountedText; `classify`
    finds each plain text's content classes as it is read, for approximate models (a chat
    request finds its own when one is asked for).
    """
    sizes = [i.source.size for i in inputs]
    expected = None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)
    cache = _Cache()

    def batches() -> Iterator[tuple[Any, list[str], tuple[str, ...]]]:
        for index, item in enumerate(inputs):
            if item.is_text:
                (request,) = item.requests()
                assert isinstance(request, PlainText)
                encodings = _encodings(encodings_for, item, request)
                assert encodings is not None  # a plain text is one call: an error stops
                run = _TextRun(request, encodings)
                if classify and encodings:
                    from tokopt.tokens.approx import Mix

                    run.mix = Mix()
                yield from _text_batches(index, run, keep_text, on_bytes, cache)
            else:
                yield from _request_batches(index, item, encodings_for, openai_rules, other_rules, on_bytes)

    text_sums: dict[int, dict[str, int]] = {}
    counted_type: type[Counted] | None = None
    for key, counts in tokens.count_batches(batches(), expected_chars=expected):
        index, payload, last = key
        if isinstance(payload, _TextRun):
            sums = text_sums.setdefault(index, dict.fromkeys(payload.encodings, 0))
            for encoding, values in counts.items():
                sums[encoding] += sum(values)
            if last:
                del text_sums[index]
                if payload.cached is not None:
                    sums = dict(payload.cached)
                elif payload.digest is not None:
                    _to_cache(payload, sums, cache)
                yield index, CountedText(payload.request, sums, payload.chars, payload.nbytes, payload.text, payload.mix)
            continue
        if counted_type is None:
            from tokopt.tokens.billing import Counted as counted_type
        offset = 0
        for plan in payload:
            n = len(plan.texts)
            yield index, counted_type(plan, {e: values[offset : offset + n] for e, values in counts.items()})
            offset += n


def _encodings(encodings_for: Callable[[AnyRequest], Sequence[str]], item: Input, request: AnyRequest) -> tuple[str, ...] | None:
    try:
        return tuple(encodings_for(request))
    except InputError as exc:
        item.reject(request, exc)
        return None


def _request_batches(
    index: int,
    item: Input,
    encodings_for: Callable[[AnyRequest], Sequence[str]],
    openai_rules: bool,
    other_rules: bool,
    on_bytes: Callable[[int], None] | None,
) -> Iterator[tuple[Any, list[str], tuple[str, ...]]]:
    """The requests of a chat input in batches of about CHUNK_CHARS of text per set of encodings."""
    from tokopt.tokens import billing

    pending: dict[tuple[str, ...], tuple[list[billing.Plan], list[str]]] = {}
    sizes: dict[tuple[str, ...], int] = {}
    for request in item.requests(on_bytes):
        encodings = _encodings(encodings_for, item, request)
        if encodings is None:
            continue
        plan = billing.plan(request, openai_rules=openai_rules, other_rules=other_rules)  # type: ignore[arg-type]
        plans, texts = pending.setdefault(encodings, ([], []))
        plans.append(plan)
        texts.extend(plan.texts)
        sizes[encodings] = sizes.get(encodings, 0) + plan.chars
        if sizes[encodings] >= CHUNK_CHARS:
            yield (index, plans, False), texts, encodings
            del pending[encodings]
            sizes[encodings] = 0
    for encodings, (plans, texts) in pending.items():
        yield (index, plans, False), texts, encodings


def count_more(counted: Sequence[AnyCounted], encodings: Sequence[str]) -> None:
    """Count requests already counted (and kept) in the `encodings` they lack, in one pool:
    their texts are in memory, so nothing is read or parsed again."""

    def batches() -> Iterator[tuple[AnyCounted, list[str], tuple[str, ...]]]:
        for c in counted:
            missing = tuple(e for e in encodings if e not in c.sums)
            if not missing:
                continue
            texts = c.texts_to_count()
            if isinstance(c, CountedText):  # a long text: its segments are counted on all cores
                for text in texts or [""]:
                    yield c, [text], missing
            else:
                yield c, texts, missing

    expected = sum(c.chars for c in counted)
    for c, counts in tokens.count_batches(batches(), expected_chars=expected):
        c.add_counts(counts)


@dataclass
class CountedInput:
    """One input and its counted requests, all in memory."""

    input: Input
    requests: list[AnyCounted]


def count_inputs(
    sources: Sequence[Source],
    encodings: Sequence[str],
    *,
    options: ReadOptions = ReadOptions(),
    keep_text: bool = False,
    on_bytes: Callable[[int], None] | None = None,
) -> list[CountedInput]:
    """Every input with its requests counted in `encodings` (plain texts kept with `keep_text`),
    for the commands that look at all requests at once (suggest, check, init)."""
    opened = open_inputs(sources, options)
    out = [CountedInput(i, []) for i in opened]
    encs = tuple(encodings)
    for index, counted in count(opened, lambda _: encs, keep_text=keep_text, on_bytes=on_bytes):
        out[index].requests.append(counted)
    return out


def count_sources(
    sources: Sequence[Source],
    encodings: Sequence[str],
    *,
    errors: EncodingErrors = "strict",
    on_bytes: Callable[[int], None] | None = None,
) -> list[TextCount]:
    """Characters, bytes and exact tokens per encoding of each source read as plain text, in order.

    (For budgets/ and the ledger until they read through `count`.)"""
    from tokopt.costing.report import TextCount

    opened = open_inputs(sources, ReadOptions(input_format=InputFormat.text, errors=errors))
    encs = tuple(encodings)
    out = []
    for index, counted in count(opened, lambda _: encs, on_bytes=on_bytes):
        assert isinstance(counted, CountedText)
        out.append(TextCount(sources[index].label, counted.chars, counted.bytes, counted.sums))
    return out
