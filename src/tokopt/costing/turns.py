"""The per-turn view of one conversation: every assistant reply as the call that produced it.

`tokopt estimate --by-turn`: each message's tokens, the context so far, and what each reply
cost as its own call, with and without a prompt cache.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from tokopt.costing import cacheable_tokens, cost_of
from tokopt.pricing.model import ModelPrice
from tokopt.tokens.billing import Counted
from tokopt.usage import Usage, Usd


class TurnRow(BaseModel):
    """One message of a conversation, and the API call that produced it if it is a reply."""

    turn: int
    role: str
    tokens: int = Field(description="the message's own tokens, its share of the chat format included")
    context_tokens: int = Field(description="what the conversation holds up to and including this message")
    input_tokens: int | None = Field(None, description="replies: the input of the call that produced it")
    cached_input_tokens: int | None = Field(None, description="of that input, what a prompt cache would serve")
    output_tokens: int | None = None
    call_usd: Usd | None = None
    call_cached_usd: Usd | None = None
    cumulative_usd: Usd | None = None
    cumulative_cached_usd: Usd | None = None
    pending: bool = False  # the reply this request asks for, not yet in the conversation


class TurnTable(BaseModel):
    source: str
    model: str
    provider: str
    approximate: bool
    fixed_tokens: int = Field(description="read by every call: tools, response schema, reply priming")
    calls: int
    total_usd: Usd
    total_cached_usd: Usd
    rows: list[TurnRow]


def turn_table(counted: Counted, model: ModelPrice, output_tokens: int, *, batch: bool = False) -> TurnTable:
    """Each message of a conversation on `model`, with the calls an agent loop makes.

    Every assistant message is the reply of one call whose input is everything before it
    (plus the fixed part: tools, schemas, reply priming). The cached columns assume a prompt
    cache: each call reads the previous call's input from the cache at cached-input prices
    (from the model's minimum cacheable length up), and where the model bills cache writes, the
    rest of its input is written at cache-write prices. A conversation that does not end with
    an assistant message ends with the call the request itself makes (`pending`).
    """
    own, content, fixed = counted.turn_tokens(model)
    roles = counted.plan.roles
    rows: list[TurnRow] = []
    context = fixed
    previous_input = 0
    total = total_cached = Decimal(0)
    calls = 0

    def call(input_tokens: int, out: int) -> tuple[Decimal, Decimal, int]:
        nonlocal previous_input
        cached = min(cacheable_tokens(model, previous_input), input_tokens)
        writes = 0
        if model.cache_write is not None and cacheable_tokens(model, input_tokens):
            writes = input_tokens - cached
        plain = cost_of(model, Usage(input_tokens=input_tokens, output_tokens=out), batch=batch)
        with_cache = cost_of(
            model,
            Usage(input_tokens=input_tokens, cached_input_tokens=cached, cache_write_tokens=writes, output_tokens=out),
            batch=batch,
        )
        previous_input = input_tokens
        return plain.total_usd, with_cache.total_usd, cached

    for k, role in enumerate(roles):
        row = TurnRow(turn=k + 1, role=role, tokens=own[k], context_tokens=context + own[k])
        if role == "assistant":
            calls += 1
            plain, cached_usd, cached = call(context, content[k])
            total += plain
            total_cached += cached_usd
            row = row.model_copy(
                update={
                    "input_tokens": context,
                    "cached_input_tokens": cached,
                    "output_tokens": content[k],
                    "call_usd": plain,
                    "call_cached_usd": cached_usd,
                    "cumulative_usd": total,
                    "cumulative_cached_usd": total_cached,
                }
            )
        context += own[k]
        rows.append(row)
    if not roles or roles[-1] != "assistant":
        calls += 1
        plain, cached_usd, cached = call(context, output_tokens)
        total += plain
        total_cached += cached_usd
        rows.append(
            TurnRow(
                turn=len(roles) + 1,
                role="assistant",
                tokens=output_tokens,
                context_tokens=context + output_tokens,
                input_tokens=context,
                cached_input_tokens=cached,
                output_tokens=output_tokens,
                call_usd=plain,
                call_cached_usd=cached_usd,
                cumulative_usd=total,
                cumulative_cached_usd=total_cached,
                pending=True,
            )
        )
    return TurnTable(
        source=counted.plan.request.source,
        model=model.id,
        provider=model.provider,
        approximate=counted.model_input(model).approximate,
        fixed_tokens=fixed,
        calls=calls,
        total_usd=total,
        total_cached_usd=total_cached,
        rows=rows,
    )
