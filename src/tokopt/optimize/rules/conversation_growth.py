"""Rule 6: a conversation that re-sends its whole history on every call; keep a window of it."""

from __future__ import annotations

from tokopt.optimize.context import Context, Rule, approx_note, calls_cost, join, sub
from tokopt.optimize.report import Suggestion
from tokopt.usage import Usage

NAME = "conversation-growth"

HISTORY_KEEP = 4  # messages kept verbatim besides the system prompt


def find(ctx: Context) -> list[Suggestion]:
    if len(ctx.work.requests) != 1:
        return []
    counted = ctx.work.requests[0]
    m = ctx.model
    roles = counted.plan.roles
    own, content, fixed = counted.turn_tokens(m)
    index = len(ctx.work.texts)
    out_default = ctx.outputs[index]
    keep = HISTORY_KEEP
    calls: list[tuple[int, int, int]] = []  # (input, truncated input, output)
    for j in range(len(roles) + 1):
        if j < len(roles) and roles[j] != "assistant":
            continue
        if j == len(roles) and roles and roles[-1] == "assistant":
            break
        full = fixed + sum(own[:j])
        history = [k for k in range(j) if roles[k] not in ("system", "developer")]
        system = [k for k in range(j) if roles[k] in ("system", "developer")]
        window = history[-keep:]
        short = fixed + sum(own[k] for k in system) + sum(own[k] for k in window)
        out = content[j] if j < len(roles) else out_default
        calls.append((full, short, out))
    trimmed = [c for c in calls if c[1] < c[0]]
    if not trimmed:
        return []
    plain = calls_cost(m, (Usage(input_tokens=i, output_tokens=o) for i, _, o in calls), ctx.batch)
    short = calls_cost(m, (Usage(input_tokens=s, output_tokens=o) for _, s, o in calls), ctx.batch)
    first = next(n for n, c in enumerate(calls) if c[1] < c[0]) + 1
    return [
        ctx.suggestion(
            sub(plain, short),
            id="history.window",
            rule=NAME,
            title=f"from call {first} on, send the system prompt and only the last {keep} messages",
            detail=f"the conversation re-sends its whole history: {calls[-1][0]:,} input tokens by its last call; "
            f"K = {keep} messages kept from call {first} on ({len(trimmed)} of {len(calls)} calls shorter); saving over one run of the conversation",
            tokens_saved=sum(c[0] - c[1] for c in calls),
            scope="run",
            run_calls=len(calls),
            confidence="estimated",
            assumption=join(
                f"the answers do not need messages older than the last {keep} (a summary in their place costs its own tokens)",
                approx_note(m),
            ),
        )
    ]


RULE = Rule(NAME, "request", find)
