"""The headline of a check, as a PR review reads it: what the budgets' prompts cost a month at
their configured traffic before (the base revision) and after, the difference, and which
prompts changed, each prompt one line with its models collapsed.

A prompt is a budgeted file, or one request of a request or batch file, under one budget. A
budget prices its prompts on one model or on several: on one, a prompt's monthly cost is one
figure; on several it is a span, from the model where it costs least to the one where it costs
most. Totals add the spans' ends (every prompt on its cheapest model, and on its dearest), and a
difference is taken end by end, so a span of one model is just a number.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal

from tokopt import costing
from tokopt.budgets.results import Change, CheckRow, Headline, PromptLine, Span


def _span(values: Iterable[Decimal]) -> Span | None:
    found = list(values)
    if not found:
        return None
    return Span(cheapest=min(found), dearest=max(found))


def _add(spans: Iterable[Span | None]) -> Span:
    with decimal.localcontext(costing.MONEY_CONTEXT):
        cheap = dear = Decimal(0)
        for s in spans:
            if s is not None:
                cheap += s.cheapest
                dear += s.dearest
    return Span(cheapest=cheap, dearest=dear)


def _minus(after: Span | None, before: Span | None) -> Span:
    a = after or Span(cheapest=Decimal(0), dearest=Decimal(0))
    b = before or Span(cheapest=Decimal(0), dearest=Decimal(0))
    with decimal.localcontext(costing.MONEY_CONTEXT):
        return Span(cheapest=a.cheapest - b.cheapest, dearest=a.dearest - b.dearest)


def _pct(delta: Span, before: Span | None) -> Span | None:
    """The difference as a percentage of the cost before, end by end; None when it was 0."""
    if before is None or before.cheapest <= 0 or before.dearest <= 0:
        return None
    q = Decimal("0.0001")
    with decimal.localcontext(costing.MONEY_CONTEXT):
        cheap = (delta.cheapest * 100 / before.cheapest).quantize(q, rounding=decimal.ROUND_HALF_UP)
        dear = (delta.dearest * 100 / before.dearest).quantize(q, rounding=decimal.ROUND_HALF_UP)
    return Span(cheapest=cheap, dearest=dear)


def _change(rows: Sequence[CheckRow]) -> Change | None:
    changes = {r.change for r in rows}
    for kind in ("changed", "new", "deleted"):
        if kind in changes:
            return kind  # type: ignore[return-value]
    return rows[0].change


def prompt_lines(rows: Sequence[CheckRow]) -> list[PromptLine]:
    """Each prompt of each budget, its models collapsed, in the rows' order."""
    groups: dict[tuple[int, str, str | None], list[CheckRow]] = {}
    for row in rows:
        groups.setdefault((row.budget, row.file, row.request), []).append(row)
    out = []
    for (budget, file, request), mine in groups.items():
        base = _span(r.base.monthly_usd for r in mine if r.base is not None)
        head = _span(r.current.monthly_usd for r in mine if r.current is not None)
        change = _change(mine)
        compared = change is not None
        delta = _minus(head, base) if compared else None
        out.append(
            PromptLine(
                budget=budget,
                file=file,
                request=request,
                models=[r.model for r in mine],
                approximate=any(r.approximate for r in mine),
                calls_per_month=mine[0].calls_per_month,
                cached_share=mine[0].cached_share,
                change=change,
                base_monthly_usd=base,
                head_monthly_usd=head,
                delta_monthly_usd=delta,
                delta_pct=_pct(delta, base) if delta is not None and change == "changed" else None,
                ok=all(r.ok for r in mine),
            )
        )
    return out


def headline(rows: Sequence[CheckRow], *, compared: bool) -> Headline:
    """The monthly cost of every budgeted prompt before and after, and the prompts that changed
    (new, changed or deleted since the base), largest difference first. A prompt that several
    budgets cover is counted once, under the first of them."""
    lines = prompt_lines(rows)
    seen: set[tuple[str, str | None]] = set()
    once = []
    for p in lines:
        if (p.file, p.request) not in seen:
            seen.add((p.file, p.request))
            once.append(p)
    head = _add(p.head_monthly_usd for p in once)
    base = _add(p.base_monthly_usd for p in once) if compared else None
    delta = _minus(head, base) if compared else None
    changed = [p for p in once if p.change in ("changed", "new", "deleted")]
    changed.sort(key=lambda p: (-max(abs(p.delta_monthly_usd.cheapest), abs(p.delta_monthly_usd.dearest)) if p.delta_monthly_usd else 0, p.file, p.request or ""))
    return Headline(
        prompts=len(once),
        prompts_changed=len(changed),
        base_monthly_usd=base,
        head_monthly_usd=head,
        delta_monthly_usd=delta,
        delta_pct=_pct(delta, base) if delta is not None else None,
        changed=changed,
        lines=lines,
    )
