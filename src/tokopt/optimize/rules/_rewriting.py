"""What rules built on text rewrites share: each rewrite measured on every input, priced as one suggestion."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tokopt.optimize.context import Context, approx_note, scaled, sub
from tokopt.optimize.report import Suggestion
from tokopt.optimize.rewrite import Measured, Rewrite, measure_messages, measure_rewrites


def suggestions(ctx: Context, rewrites_of: Callable[[str], Sequence[Rewrite]]) -> list[Suggestion]:
    """One suggestion per rewrite that saves tokens: plain-text prompts and the message texts
    of chat requests, each counted exactly before and after in the model's encoding."""
    m = ctx.model
    enc = m.tokenizer.encoding
    texts = ctx.work.texts
    by_id: dict[str, list[tuple[int, Measured]]] = {}
    for k, prompt in enumerate(texts):
        measured, _ = measure_rewrites(prompt, enc, rewrites_of(prompt.text))
        for item in measured:
            by_id.setdefault(item.rewrite.id, []).append((k, item))
    for rid, items in measure_messages(ctx.work.requests, enc, rewrites_of).items():
        by_id.setdefault(rid, []).extend((len(texts) + r, item) for r, item in items)
    found = []
    for rid, items in by_id.items():
        rw = items[0][1].rewrite
        new_inputs = list(ctx.inputs)
        raw_saved = 0
        changes = 0
        for k, item in items:
            if k < len(texts):
                new_inputs[k] = scaled(m, item.after)
            else:
                new_inputs[k] -= scaled(m, item.before) - scaled(m, item.after)
            raw_saved += item.before - item.after
            changes += item.changes
        saved_tokens = sum(ctx.inputs) - sum(new_inputs)
        if saved_tokens <= 0:
            continue
        cost = ctx.cost(m, new_inputs, ctx.outputs, ctx.batch)
        where = ", ".join(dict.fromkeys(ctx.label(k) for k, _ in items))
        what = rw.what + (f" ({changes:,})" if changes else "")
        found.append(
            ctx.suggestion(
                sub(ctx.base, cost),
                id=rid,
                rule=rw.rule,
                title=rw.title,
                detail=f"{what}: {raw_saved:,} {enc} tokens fewer in {where}"
                + ("" if rw.written else "; not applied by --write (indentation can carry meaning, as in YAML)"),
                tokens_saved=saved_tokens,
                confidence="exact" if m.tokenizer.exact else "estimated",
                assumption=approx_note(m),
                rewrite=rw.written,
            )
        )
    return found
