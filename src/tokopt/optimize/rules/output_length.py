"""Rule 7: output that is most of the cost; cap it and ask for shorter answers."""

from __future__ import annotations

import decimal
from decimal import Decimal

from tokopt import costing
from tokopt.optimize.context import Context, Rule, sub, total
from tokopt.optimize.report import Suggestion
from tokopt.usage import Usage, quantize

NAME = "output-length"

OUTPUT_SHARE = Decimal("0.5")  # the rule speaks up when output is at least this share of the cost

_SOURCE = {
    "option": "--output-tokens",
    "request": "the requests' max_tokens, an upper bound",
    "config": "your config",
    "default": "the default; set --output-tokens",
}


def find(ctx: Context) -> list[Suggestion]:
    m = ctx.model
    usages = [Usage(input_tokens=i, output_tokens=o) for i, o in zip(ctx.inputs, ctx.outputs)]
    costs = [costing.cost_of(m, u, batch=ctx.batch) for u in usages]
    out_usd = total(c.output_usd for c in costs)
    if not ctx.base or out_usd < ctx.base * OUTPUT_SHARE:
        return []
    caps = [o // 2 for o in ctx.outputs]
    new = ctx.cost(m, ctx.inputs, caps, ctx.batch)
    with decimal.localcontext(costing.MONEY_CONTEXT):
        share = quantize(out_usd / ctx.base * 100, 1, decimal.ROUND_HALF_EVEN)
    same = len(set(ctx.outputs)) == 1
    cap_text = f"{caps[0]:,} tokens" if same else "half of each call's output"
    return [
        ctx.suggestion(
            sub(ctx.base, new),
            id="output.cap",
            rule=NAME,
            title=f"cap the output at {cap_text} (max_tokens) and ask for shorter answers",
            detail=f"output is {share}% of the cost: {sum(ctx.outputs):,} output tokens per call ({_SOURCE[ctx.settings.output_from]})",
            tokens_saved=0,
            confidence="estimated",
            assumption=f"answers fit in {cap_text}; a reply cut at the cap is incomplete",
        )
    ]


RULE = Rule(NAME, "request", find)
