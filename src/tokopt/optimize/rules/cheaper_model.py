"""Rule 1: a cheaper model that fits every call.

It looks among the candidates `intake.candidates` chose (by default the model's own provider
and tier), in the same tier or higher, and one tier down as a labelled quality trade-off. A
model is cheaper by its prices, not by its tokenizer: where either count is approximate, the
other model must cost less on the same tokens too, so that a smaller approximation factor alone
never makes a suggestion.
"""

from __future__ import annotations

from decimal import Decimal

from tokopt import costing
from tokopt.optimize.context import Context, Rule, approx_note, join, sub
from tokopt.optimize.report import Suggestion
from tokopt.pricing.model import ModelPrice

NAME = "cheaper-model"

MAX_SAME_TIER = 3
MAX_LOWER_TIER = 2


def find(ctx: Context) -> list[Suggestion]:
    model = ctx.model
    rank = model.tier.rank
    same: list[tuple[Decimal, ModelPrice, int]] = []
    lower: list[tuple[Decimal, ModelPrice, int]] = []
    for m in ctx.settings.candidates:
        if m.id == model.id or m.tier.rank < rank - 1 or m.tokenizer.encoding not in ctx.work.encodings:
            continue
        ins = ctx.work.inputs_on(m)
        if any(costing.fit_problems(m, i, o) for i, o in zip(ins, ctx.outputs)):
            continue
        cost = ctx.cost(m, ins, ctx.outputs, ctx.batch)
        if cost >= ctx.base:
            continue
        if (m.approximate or model.approximate) and ctx.cost(m, ctx.inputs, ctx.outputs, ctx.batch) >= ctx.base:
            continue  # cheaper only because its approximate tokenizer counts fewer tokens
        (same if m.tier.rank >= rank else lower).append((cost, m, sum(ins)))
    same.sort(key=lambda x: (x[0], x[1].id))
    lower.sort(key=lambda x: (x[0], x[1].id))
    mine = sum(ctx.inputs)
    found = []
    for group, trade in ((same[:MAX_SAME_TIER], False), (lower[:MAX_LOWER_TIER], True)):
        for cost, m, theirs in group:
            relation = "one tier down: a quality trade-off" if trade else ("same tier" if m.tier == model.tier else "a higher tier")
            found.append(
                ctx.suggestion(
                    sub(ctx.base, cost),
                    id=f"model.{m.id}",
                    rule=NAME,
                    title=f"switch to {m.id} ({m.tier.value}, {relation})",
                    detail=f"{theirs:,} input tokens (now {mine:,}) at ${m.input}/${m.output} per 1M in/out "
                    f"(now ${model.input}/${model.output})"
                    + (f"; fits its {m.context_window:,}-token window" if m.context_window else ""),
                    tokens_saved=0,
                    confidence="exact" if m.tokenizer.exact and model.tokenizer.exact else "estimated",
                    assumption=join(approx_note(model), approx_note(m)),
                    target=m.id,
                    trade_off=trade,
                )
            )
    return found


RULE = Rule(NAME, "model", find)
