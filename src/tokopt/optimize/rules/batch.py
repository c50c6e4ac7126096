"""Rule 3: the provider's batch API, for calls that need no answer right away."""

from __future__ import annotations

from tokopt.optimize.context import Context, Rule, sub
from tokopt.optimize.report import Suggestion

NAME = "batch"


def find(ctx: Context) -> list[Suggestion]:
    m = ctx.model
    if ctx.batch or not m.has_batch:
        return []
    cost = ctx.cost(m, ctx.inputs, ctx.outputs, True)
    return [
        ctx.suggestion(
            sub(ctx.base, cost),
            id="batch",
            rule=NAME,
            title=f"use the {m.provider} batch API",
            detail=f"${m.batch_input}/${m.batch_output} per 1M in/out (now ${m.input}/${m.output})",
            tokens_saved=0,
            confidence="estimated",
            assumption="the workload is not interactive: results within 24 hours are fine",
        )
    ]


RULE = Rule(NAME, "request", find)
