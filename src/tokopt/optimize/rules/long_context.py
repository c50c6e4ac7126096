"""Rule 8: prompts past the model's long-context threshold, billed at its higher rate; split them."""

from __future__ import annotations

from tokopt.optimize.context import Context, Rule, approx_note, calls_cost, join, sub
from tokopt.optimize.report import Suggestion
from tokopt.usage import Usage

NAME = "long-context"


def find(ctx: Context) -> list[Suggestion]:
    m = ctx.model
    lc = m.long_context
    if lc is None:
        return []
    over = [k for k, i in enumerate(ctx.inputs) if i > lc.threshold]
    if not over:
        return []
    before = []
    after = []
    parts_total = 0
    for k in over:
        i, o = ctx.inputs[k], ctx.outputs[k]
        parts = -(-i // lc.threshold)
        parts_total += parts
        before.append(Usage(input_tokens=i, output_tokens=o))
        for p in range(parts):
            after.append(Usage(input_tokens=i // parts + (1 if p < i % parts else 0), output_tokens=o // parts + (1 if p < o % parts else 0)))
    saved = sub(calls_cost(m, before, ctx.batch), calls_cost(m, after, ctx.batch))
    biggest = max(ctx.inputs[k] for k in over)
    return [
        ctx.suggestion(
            saved,
            id="long-context.split",
            rule=NAME,
            title=f"split prompts over {lc.threshold:,} tokens into {parts_total} parts below it",
            detail=f"{len(over)} call(s) pass {m.id}'s long-context threshold of {lc.threshold:,} input tokens (the largest: {biggest:,}) "
            f"and are billed ${lc.input}/${lc.output} per 1M in/out instead of ${m.input}/${m.output}",
            tokens_saved=0,
            confidence="estimated",
            assumption=join(
                "the prompt splits into independent parts, its output shared among them; instructions each part needs add their tokens",
                approx_note(m),
            ),
        )
    ]


RULE = Rule(NAME, "request", find)
