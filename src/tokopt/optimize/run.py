"""Run every registered rule on a workload and put the report together."""

from __future__ import annotations

from collections.abc import Sequence

from tokopt import costing
from tokopt.optimize.context import Context
from tokopt.optimize.report import SuggestReport, Suggestion
from tokopt.optimize.rules import RULES
from tokopt.optimize.workload import Settings, Workload


def suggest(work: Workload, settings: Settings, *, inputs: Sequence[str]) -> SuggestReport:
    """Every rule on the workload, priced on `settings.model`; fixes first, then model switches."""
    ctx = Context(work, settings)
    found = [s for rule in RULES for s in rule.run(ctx) if s.cost_saved_per_call > 0]
    return SuggestReport(
        inputs=list(inputs),
        requests=work.n_calls,
        model=settings.model.id,
        model_from=settings.model_from,
        approximate=settings.model.approximate,
        input_tokens=sum(ctx.inputs),
        output_tokens=sum(work.outputs),
        output_from=settings.output_from,
        calls=settings.calls,
        batch=work.batch,
        cost_per_call=ctx.base,
        cost_total=costing.times(ctx.base, settings.calls),
        suggestions=order(found),
        notes=ctx.notes,
    )


def order(found: Sequence[Suggestion]) -> list[Suggestion]:
    """Per-call suggestions first, then those for a run of a conversation (different units).
    In each, the fixes a writer can make (the prompt, how the request is sent) come before
    switching models, whatever a switch saves: a switch trades quality the figures cannot show.
    Then by saving, largest first."""
    return sorted(found, key=lambda s: (s.scope != "call", s.kind == "model", -s.cost_saved_per_call, s.id))
