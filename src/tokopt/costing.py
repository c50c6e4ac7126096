"""Token counts x prices -> costs. Pure Decimal arithmetic; nothing is rounded here."""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from decimal import Decimal

from tokopt.models import (
    Assumptions,
    Cost,
    EstimateReport,
    FileEstimate,
    ModelEstimate,
    ModelPrice,
    TextCount,
    Usage,
)

PER_MILLION = Decimal(1_000_000)
# Enough digits that no product of a token count and a price is ever rounded.
_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])


def _usd(tokens: int, per_million: Decimal) -> Decimal:
    with decimal.localcontext(_CONTEXT):
        return Decimal(tokens) * per_million / PER_MILLION


def rates(model: ModelPrice, *, input_tokens: int, batch: bool) -> dict[str, Decimal]:
    """USD-per-1M rates for one request of `input_tokens`, after the long-context and batch rules.

    Long context: once the input exceeds the threshold the whole request is billed at the
    higher rates (OpenAI, Anthropic, Google and xAI all bill it this way). Batch: the batch
    discount applies to cache reads and writes in the same ratio as to input, as OpenAI and
    Anthropic document it.
    """
    r = {
        "input": model.input,
        "output": model.output,
        "cached_input": model.cached_input if model.cached_input is not None else model.input,
        "cache_write": model.cache_write if model.cache_write is not None else model.input,
        "cache_write_1h": model.cache_write_1h
        if model.cache_write_1h is not None
        else (model.cache_write if model.cache_write is not None else model.input),
    }
    lc = model.long_context
    if lc is not None and input_tokens > lc.threshold:
        scale = lc.input / model.input if model.input else Decimal(1)
        r["input"] = lc.input
        r["output"] = lc.output
        for key in ("cached_input", "cache_write", "cache_write_1h"):
            given = getattr(lc, key)
            r[key] = given if given is not None else r[key] * scale
    if batch and model.batch_input is not None and model.batch_output is not None:
        with decimal.localcontext(_CONTEXT):
            input_ratio = model.batch_input / model.input if model.input else Decimal(1)
            output_ratio = model.batch_output / model.output if model.output else Decimal(1)
            for key in ("input", "cached_input", "cache_write", "cache_write_1h"):
                r[key] = r[key] * input_ratio
            r["output"] = r["output"] * output_ratio
    return r


def cost_of(model: ModelPrice, usage: Usage, *, batch: bool = False) -> Cost:
    """What one call with `usage` costs on `model`, in USD."""
    r = rates(model, input_tokens=usage.input_tokens, batch=batch)
    lc = model.long_context
    return Cost(
        input_usd=_usd(usage.uncached_input_tokens, r["input"]),
        cached_input_usd=_usd(usage.cached_input_tokens, r["cached_input"]),
        cache_write_usd=_usd(usage.cache_write_tokens, r["cache_write"])
        + _usd(usage.cache_write_1h_tokens, r["cache_write_1h"]),
        output_usd=_usd(usage.output_tokens, r["output"]),
        long_context=lc is not None and usage.input_tokens > lc.threshold,
        batch=batch and model.has_batch,
    )


def times(amount: Decimal, calls: int) -> Decimal:
    with decimal.localcontext(_CONTEXT):
        return amount * calls


def model_tokens(model: ModelPrice, counts: Mapping[str, int]) -> int:
    """The model's input tokens from per-encoding counts (scaled where it is an approximation)."""
    base = counts[model.tokenizer.encoding]
    if model.tokenizer.exact:
        return base
    with decimal.localcontext(_CONTEXT):
        return int((Decimal(base) * model.tokenizer.factor).to_integral_value(rounding=decimal.ROUND_HALF_UP))


def estimate(
    models: Sequence[ModelPrice],
    counts: Mapping[str, int],
    *,
    output_tokens: int,
    calls: int = 1,
    cached_tokens: int = 0,
    batch: bool = False,
    extra_input_tokens: Mapping[str, int] | None = None,
) -> list[ModelEstimate]:
    """Price one prompt (given as token counts per encoding) on each model.

    `cached_tokens` is the prompt prefix served from the provider's cache, capped at the prompt
    length. `extra_input_tokens` adds model-specific overhead (chat formatting, images) by id.
    """
    rows = []
    for model in models:
        input_tokens = model_tokens(model, counts) + (extra_input_tokens or {}).get(model.id, 0)
        cached = min(cached_tokens, input_tokens)
        usage = Usage(input_tokens=input_tokens, cached_input_tokens=cached, output_tokens=output_tokens)
        cost = cost_of(model, usage, batch=batch)
        problems = []
        if input_tokens > model.input_limit:
            problems.append(f"input {input_tokens:,} > max input {model.input_limit:,}")
        if output_tokens > model.max_output:
            problems.append(f"output {output_tokens:,} > max output {model.max_output:,}")
        if input_tokens + output_tokens > model.context_window:
            problems.append(f"input + output {input_tokens + output_tokens:,} > window {model.context_window:,}")
        with decimal.localcontext(_CONTEXT):
            share = Decimal(input_tokens + output_tokens) / Decimal(model.context_window)
        rows.append(
            ModelEstimate(
                model=model.id,
                provider=model.provider,
                tier=model.tier,
                tokenizer=model.tokenizer.label,
                approximate=model.approximate,
                input_tokens=input_tokens,
                cached_input_tokens=cached,
                output_tokens=output_tokens,
                cost=cost,
                calls=calls,
                total_usd=times(cost.total_usd, calls),
                context_window=model.context_window,
                max_output=model.max_output,
                context_share=share.quantize(Decimal("0.000001"), rounding=decimal.ROUND_HALF_UP),
                fits=not problems,
                problems=problems,
                batch_unavailable=batch and not model.has_batch,
                as_of=model.as_of,
            )
        )
    return rows


def combine(rows: Sequence[ModelEstimate], labels: Sequence[str]) -> ModelEstimate:
    """One model's estimates for several prompts (one call each) added up."""
    first = rows[0]
    cost = Cost(
        input_usd=sum((r.cost.input_usd for r in rows), Decimal(0)),
        cached_input_usd=sum((r.cost.cached_input_usd for r in rows), Decimal(0)),
        cache_write_usd=sum((r.cost.cache_write_usd for r in rows), Decimal(0)),
        output_usd=sum((r.cost.output_usd for r in rows), Decimal(0)),
        long_context=any(r.cost.long_context for r in rows),
        batch=first.cost.batch,
    )
    problems = [f"{label}: {p}" for label, r in zip(labels, rows) for p in r.problems]
    return first.model_copy(
        update={
            "input_tokens": sum(r.input_tokens for r in rows),
            "cached_input_tokens": sum(r.cached_input_tokens for r in rows),
            "output_tokens": sum(r.output_tokens for r in rows),
            "cost": cost,
            "total_usd": times(cost.total_usd, first.calls),
            "context_share": max(r.context_share for r in rows),
            "fits": all(r.fits for r in rows),
            "problems": problems,
        }
    )


SORT_KEYS = ("cost", "name", "tokens", "provider")


def sort_rows(rows: Sequence[ModelEstimate], key: str) -> list[ModelEstimate]:
    """Rows ordered by `key` (cheapest, name, fewest tokens, or provider then cost)."""
    if key == "cost":
        return sorted(rows, key=lambda r: (r.cost.total_usd, r.model))
    if key == "name":
        return sorted(rows, key=lambda r: r.model)
    if key == "tokens":
        return sorted(rows, key=lambda r: (r.input_tokens, r.cost.total_usd, r.model))
    if key == "provider":
        return sorted(rows, key=lambda r: (r.provider, r.cost.total_usd, r.model))
    raise ValueError(f"unknown sort key: {key}")


def build_report(
    inputs: Sequence[TextCount],
    models: Sequence[ModelPrice],
    assumptions: Assumptions,
    *,
    sort: str = "cost",
    extra_input_tokens: Sequence[Mapping[str, int]] | None = None,
) -> EstimateReport:
    """Price every input on every model; each input is one call, and the total adds them up."""
    per_file = []
    for index, text in enumerate(inputs):
        rows = estimate(
            models,
            text.tokens,
            output_tokens=assumptions.output_tokens,
            calls=assumptions.calls,
            cached_tokens=assumptions.cached_tokens,
            batch=assumptions.batch,
            extra_input_tokens=extra_input_tokens[index] if extra_input_tokens else None,
        )
        per_file.append(FileEstimate(source=text.source, models=sort_rows(rows, sort)))
    labels = [text.source for text in inputs]
    if len(per_file) == 1:
        totals = per_file[0].models
    else:
        by_model: dict[str, list[ModelEstimate]] = {}
        for item in per_file:
            for row in item.models:
                by_model.setdefault(row.model, []).append(row)
        totals = sort_rows([combine(rows, labels) for rows in by_model.values()], sort)
    return EstimateReport(inputs=list(inputs), assumptions=assumptions, models=totals, per_file=per_file)
