"""Rule 2: prompt caching of what calls share (a prefix, an end that could come first, a
conversation's history), priced with the model's cache reads and writes.

Advice follows each provider's rules. Anthropic caches only up to the breakpoints a request
marks (`cache_control`), so marking them is the suggestion. OpenAI, DeepSeek, xAI and Gemini
(2.5 and later, "implicit caching") cache a request's prefix by themselves: a shared prefix that
already comes first needs no change, and is a note that says what the cache already saves; only
moving a shared part to the front is a suggestion. A provider not listed gets the general advice.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tokopt import costing, tokens
from tokopt.optimize.context import Context, Rule, approx_note, calls_cost, join, scaled, sub
from tokopt.optimize.report import Suggestion
from tokopt.optimize.segments import shared_prefix, shared_suffix
from tokopt.requests.model import Conversation
from tokopt.tokens.billing import Counted
from tokopt.usage import Usage

NAME = "caching"

# Providers that cache a request's prefix without being asked (their docs: OpenAI "Prompt
# caching", DeepSeek "Context caching", xAI "Prompt caching", Gemini "implicit caching"); and
# those that cache only what a request marks.
AUTOMATIC = {"openai": "OpenAI", "deepseek": "DeepSeek", "xai": "xAI", "google": "Gemini"}
EXPLICIT = {"anthropic"}


def find(ctx: Context) -> list[Suggestion]:
    m = ctx.model
    if m.cached_input is None or m.cached_input >= m.input:
        return []
    found = _texts(ctx)
    requests = ctx.work.requests
    if len(requests) >= 2:
        found += _requests(ctx)
    for k, counted in enumerate(requests):
        if len(requests) == 1:
            found += _conversation(ctx, counted, len(ctx.work.texts) + k)
    return found


def _saving(ctx: Context, prefix: int, sharing: Sequence[int]) -> tuple[Decimal, int]:
    """Saving per run when the calls at `sharing` (indices) share a `prefix`-token prefix:
    the first writes the cache, the rest read it."""
    m = ctx.model
    cached = costing.cacheable_tokens(m, prefix)
    if not cached or len(sharing) < 2:
        return Decimal(0), 0
    plain = []
    with_cache = []
    for n, k in enumerate(sharing):
        i, o = ctx.inputs[k], ctx.outputs[k]
        c = min(cached, i)
        plain.append(Usage(input_tokens=i, output_tokens=o))
        if n == 0:
            writes = c if m.cache_write is not None else 0
            with_cache.append(Usage(input_tokens=i, cache_write_tokens=writes, output_tokens=o))
        else:
            with_cache.append(Usage(input_tokens=i, cached_input_tokens=c, output_tokens=o))
    saved = sub(calls_cost(m, plain, ctx.batch), calls_cost(m, with_cache, ctx.batch))
    return saved, cached * (len(sharing) - 1)


def _assumption(ctx: Context) -> str:
    m = ctx.model
    text = "every call after the first reads the prefix from the cache (calls within the cache lifetime, about 5 minutes, of each other)"
    if m.cache_write is not None:
        text += f"; the first call writes it at ${m.cache_write} per 1M"
    return join(text, approx_note(m)) or text


def _where(ctx: Context, explicit: str, other: str) -> str:
    if ctx.model.provider in EXPLICIT:
        return explicit
    return other


def _automatic(ctx: Context) -> str | None:
    """The provider's name if it caches prefixes by itself."""
    return AUTOMATIC.get(ctx.model.provider)


def _minimum(ctx: Context) -> str:
    m = ctx.model
    return f" of {m.min_cache_tokens:,}+ tokens" if m.min_cache_tokens else ""


def _already(ctx: Context, what: str) -> None:
    """A note for a shared prefix an automatic cache already reads: nothing to change."""
    m = ctx.model
    ctx.notes.append(
        f"caching: {_automatic(ctx)} caches prefixes{_minimum(ctx)} by itself: {what} "
        f"at ${m.cached_input} per 1M instead of ${m.input}, with nothing to change but keeping it first and "
        "unchanged (the cost above leaves the cache out)"
    )


def _then(ctx: Context) -> str:
    """What makes the moved part cached, on this provider."""
    if ctx.model.provider in EXPLICIT:
        return "; then put cache_control at its end"
    auto = _automatic(ctx)
    return f"; {auto} then caches it by itself" if auto else ""


def _texts(ctx: Context) -> list[Suggestion]:
    """Plain-text prompts that start (or end) alike."""
    m = ctx.model
    texts = ctx.work.texts
    if len(texts) < 2:
        return []
    found = []
    minimum = m.min_cache_tokens or 0
    enc = m.tokenizer.encoding
    prefix_end = shared_prefix([t.text for t in texts])
    prefix = scaled(m, tokens.count(texts[0].text[:prefix_end], enc)) if prefix_end else 0
    saved, reads = _saving(ctx, prefix, range(len(texts)))
    if saved > 0 and _automatic(ctx):
        _already(ctx, f"the {len(texts)} prompts' shared first {prefix:,} tokens are read from the cache after the first call")
    elif saved > 0:
        line = texts[0].text.count("\n", 0, prefix_end)
        found.append(
            ctx.suggestion(
                saved,
                id="cache.prefix",
                rule=NAME,
                title=f"cache the shared first {prefix:,} tokens of the {len(texts)} prompts",
                detail=_where(
                    ctx,
                    f"send the shared start (through line {line + 1:,}) as its own system block with cache_control on it",
                    f"keep the shared start (through line {line + 1:,}) first and unchanged",
                ),
                tokens_saved=reads,
                confidence="estimated",
                assumption=_assumption(ctx),
            )
        )
    elif prefix_end and prefix < minimum:
        ctx.notes.append(f"caching: the prompts share a prefix of {prefix:,} tokens, below {m.id}'s minimum of {minimum:,}")
    suffix_start = shared_suffix([t.text for t in texts])
    if suffix_start is not None:
        suffix = scaled(m, tokens.count(texts[0].text[suffix_start:], enc))
        if suffix > prefix:
            saved2, reads2 = _saving(ctx, suffix, range(len(texts)))
            saved2 = sub(saved2, saved) if saved > 0 else saved2
            found.append(
                ctx.suggestion(
                    saved2,
                    id="cache.reorder",
                    rule=NAME,
                    title=f"move the shared last {suffix:,} tokens before the parts that vary, and cache them",
                    detail=f"the {len(texts)} prompts end with the same {suffix:,} tokens but share only {prefix:,} at the start"
                    + _then(ctx),
                    tokens_saved=max(reads2 - reads, 0),
                    confidence="estimated",
                    assumption=join("the order of the parts does not matter to the answer", _assumption(ctx)),
                )
            )
    return found


def _requests(ctx: Context) -> list[Suggestion]:
    """Chat requests that share their leading messages."""
    m = ctx.model
    requests = ctx.work.requests
    convs = [c.plan.conversation for c in requests]
    if any(any(msg.cache_breakpoint for msg in c.messages) for c in convs):
        ctx.notes.append("caching: the requests already mark cache breakpoints (cache_control); nothing to add")
        return []
    shared = 0
    first = convs[0].messages
    while shared < len(first) - 1 and all(len(c.messages) > shared + 1 and c.messages[shared] == first[shared] for c in convs[1:]):
        shared += 1
    if not shared:
        return _reorder_first_message(ctx, convs)
    own, _, _ = requests[0].turn_tokens(m)
    prefix = sum(own[:shared])
    offset = len(ctx.work.texts)
    saved, reads = _saving(ctx, prefix, range(offset, offset + len(requests)))
    where = f"message {shared} ({first[shared - 1].role})"
    if saved > 0 and _automatic(ctx):
        _already(ctx, f"the {_first(shared)} ({prefix:,} tokens) that the {len(requests)} requests share are read from the cache after the first request")
        return []
    if saved > 0:
        return [
            ctx.suggestion(
                saved,
                id="cache.prefix",
                rule=NAME,
                title=f"cache the {_first(shared)} ({prefix:,} tokens) that the {len(requests)} requests share",
                detail=_where(ctx, f"put cache_control on the last block of {where}", f"keep message{'s 1–' if shared > 1 else ' '}{shared} first and unchanged"),
                tokens_saved=reads,
                confidence="estimated",
                assumption=_assumption(ctx),
            )
        ]
    if prefix < (m.min_cache_tokens or 0):
        ctx.notes.append(f"caching: the requests share {prefix:,} leading tokens, below {m.id}'s minimum of {m.min_cache_tokens:,}")
    return []


def _first(n: int) -> str:
    return "first message" if n == 1 else f"first {n} messages"


def _reorder_first_message(ctx: Context, convs: Sequence[Conversation]) -> list[Suggestion]:
    """Requests whose first messages differ only at the start: the shared end could come
    first (a date or a name before long instructions is the usual case)."""
    m = ctx.model
    texts = [c.messages[0].text for c in convs]
    if not all(texts) or len({c.messages[0].role for c in convs}) != 1:
        return []
    start = shared_suffix(texts)
    if start is None:
        return []
    suffix = scaled(m, tokens.count(texts[0][start:], m.tokenizer.encoding))
    offset = len(ctx.work.texts)
    saved, reads = _saving(ctx, suffix, range(offset, offset + len(convs)))
    return [
        ctx.suggestion(
            saved,
            id="cache.reorder",
            rule=NAME,
            title=f"move the shared end of message 1 ({suffix:,} tokens) before the part that varies, and cache it",
            detail=f"the first messages of the {len(convs)} requests differ in their first {texts[0].count(chr(10), 0, start) + 1:,} "
            f"line(s) and then agree; put the shared part first, the varying part after it" + _then(ctx),
            tokens_saved=reads,
            confidence="estimated",
            assumption=join("the order of the parts does not matter to the answer", _assumption(ctx)),
        )
    ]


def _conversation(ctx: Context, counted: Counted, index: int) -> list[Suggestion]:
    """One conversation: each call reads the history the call before it wrote."""
    from tokopt.costing.turns import turn_table

    m = ctx.model
    conv = counted.plan.conversation
    if conv.roles.count("assistant") < 1:
        return []
    if any(msg.cache_breakpoint for msg in conv.messages):
        ctx.notes.append("caching: the conversation already marks cache breakpoints (cache_control); nothing to add")
        return []
    table = turn_table(counted, m, ctx.outputs[index], batch=ctx.batch)
    saved = sub(table.total_usd, table.total_cached_usd)
    reads = sum(r.cached_input_tokens or 0 for r in table.rows)
    if saved > 0 and _automatic(ctx):
        _already(ctx, f"each of the conversation's {table.calls} calls reads the history the call before it sent ({reads:,} tokens a run)")
        return []
    return [
        ctx.suggestion(
            saved,
            id="cache.turns",
            rule=NAME,
            title=f"cache the conversation's history between its {table.calls} calls",
            detail=_where(
                ctx,
                "put cache_control on the last message of each call, so the next call reads the history from the cache",
                "keep earlier messages unchanged from call to call",
            )
            + f"; saving over one run of the conversation's {table.calls} calls",
            tokens_saved=reads,
            scope="run",
            run_calls=table.calls,
            confidence="estimated",
            assumption=_assumption(ctx),
        )
    ]


RULE = Rule(NAME, "request", find)
