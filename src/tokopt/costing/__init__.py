"""Token counts x prices -> costs. Pure Decimal arithmetic; nothing is rounded here.

The estimate pipeline that uses it is `costing.pipeline`; the per-turn view `costing.turns`.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from decimal import Decimal

from tokopt.costing.report import ModelEstimate
from tokopt.pricing.model import ModelPrice
from tokopt.usage import KIND, TOKEN_KINDS, Cost, Usage, quantize


def __getattr__(name: str) -> object:
    # model_tokens lives with the counting (tokens.measure); it is here too for the callers that
    # price counts, without making the report models that render/ imports pull in the counting.
    if name == "model_tokens":
        from tokopt.tokens.measure import model_tokens

        return model_tokens
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CallGroup", "CallTotals", "bucket_usd", "cacheable_tokens", "combine", "cost_of", "fit_problems", "model_tokens", "priced", "rates", "sort_rows", "times"]

PER_MILLION = Decimal(1_000_000)
# Enough digits that no product of a token count and a price is ever rounded.
# Money arithmetic: 60 digits, so nothing on the way from price to display is rounded.
MONEY_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])


def _usd(tokens: int, per_million: Decimal) -> Decimal:
    with decimal.localcontext(MONEY_CONTEXT):
        return Decimal(tokens) * per_million / PER_MILLION


def rates(model: ModelPrice, *, input_tokens: int, batch: bool, service_tier: str | None = None) -> dict[str, Decimal]:
    """USD-per-1M rates for one request of `input_tokens`, by token kind field: the model's
    batch or service-tier prices where asked and it has them, at the long-context tier the
    request reaches (genai-prices' rule: strictly above a tier's start, cache included).

    A kind the model has no rate for costs what its fallback kind costs (`usage.TOKEN_KINDS`),
    as genai-prices bills it; an output with no price costs nothing. The arithmetic is
    `tokopt.pricing.cost`'s, which tests compare with genai-prices' calc_price.
    """
    from tokopt.pricing import cost as pricing_cost

    try:
        base = pricing_cost.rates_for(model, batch=batch, service_tier=service_tier)
    except pricing_cost.NoSuchPrice:
        base = model.standard  # marked by the caller (batch_unavailable), never under a batch label
    chosen = pricing_cost.tier_rates(base, input_tokens)
    r: dict[str, Decimal] = {}
    for kind in TOKEN_KINDS:
        if kind.rate is not None:
            given = getattr(chosen, kind.rate, None)
            r[kind.field] = given if given is not None else (r[kind.fallback] if kind.fallback else Decimal(0))
    return r


def level(model: ModelPrice, input_tokens: int) -> int:
    """How many long-context tiers a request of `input_tokens` reaches (0: standard rates)."""
    return sum(1 for t in model.standard.tiers if input_tokens > t.threshold)


def cost_of(model: ModelPrice, usage: Usage, *, batch: bool = False) -> Cost:
    """What one call with `usage` costs on `model`, in USD."""
    return priced(model, usage, batch=batch, long_context=level(model, usage.input_tokens))


def priced(model: ModelPrice, usage: Usage, *, batch: bool, long_context: bool | int) -> Cost:
    """`usage` (one call, or several added up) at the standard rates, or at long-context tier
    number `long_context` (True: the first)."""
    tiers = model.standard.tiers
    reached = min(int(long_context), len(tiers))
    r = rates(model, input_tokens=tiers[reached - 1].threshold + 1 if reached else 0, batch=batch)
    long_context = reached > 0
    return Cost(
        **bucket_usd(usage, r),
        long_context=long_context,
        batch=batch and model.has_batch,
    )


def bucket_usd(usage: Usage, r: dict[str, Decimal]) -> dict[str, Decimal]:
    """`usage` at the per-kind `rates` `r`, added up per `Cost` field (`priced` without the model)."""
    with decimal.localcontext(MONEY_CONTEXT):  # each amount as `_usd` makes it, in one context
        amounts = [(kind.bucket, Decimal(usage.billed(kind)) * r[kind.field] / PER_MILLION) for kind in _BUCKETED]
    usd: dict[str, Decimal] = {}
    for bucket, amount in amounts:  # added up outside it, as ever
        usd[bucket] = usd[bucket] + amount if bucket in usd else amount
    return usd


_BUCKETED = [kind for kind in TOKEN_KINDS if kind.bucket is not None]


def times(amount: Decimal, calls: int) -> Decimal:
    with decimal.localcontext(MONEY_CONTEXT):
        return amount * calls


def _share(tokens: int, window: int | None) -> Decimal | None:
    if window is None:
        return None
    with decimal.localcontext(MONEY_CONTEXT):
        share = Decimal(tokens) / Decimal(window)
    return quantize(share, "0.000001")


def fit_problems(model: ModelPrice, input_tokens: int, output_tokens: int) -> list[str]:
    """Why a request does not fit the model (empty when it does)."""
    problems = []
    # a limit the price data does not state is not checked
    if model.input_limit is not None and input_tokens > model.input_limit:
        problems.append(f"input {input_tokens:,} > max input {model.input_limit:,}")
    if model.max_output is not None and output_tokens > model.max_output:
        problems.append(f"output {output_tokens:,} > max output {model.max_output:,}")
    if model.context_window is not None and input_tokens + output_tokens > model.context_window:
        problems.append(f"input + output {input_tokens + output_tokens:,} > window {model.context_window:,}")
    return problems


class CallTotals:
    """Many calls on one model (the requests of a batch file), added up in integers.

    Money is computed once, in `estimate()`: calls below and above the model's long-context
    threshold are kept apart and each group is priced at its own rates, which is exact
    because a price is linear in tokens within a tier. One call gives the same figures as
    `estimate()`.
    """

    MAX_PROBLEMS = 5

    def __init__(self, model: ModelPrice, *, cached_tokens: int = 0, batch: bool = False, calls: int = 1) -> None:
        self.model = model
        self.cached_tokens = cached_tokens
        self.batch = batch
        self.calls = calls
        self.requests = 0
        self.approximate = model.approximate
        # [input, cached input, output] for calls at standard rates (0) and at each long-context tier
        self._tiers = {level: [0, 0, 0] for level in range(len(model.standard.tiers) + 1)}
        self._max_used = 0
        self.problems: list[str] = []
        self.misfits = 0
        # read once: add() runs for every call of every input on every model
        self._thresholds = tuple(t.threshold for t in model.standard.tiers)
        self._limits = (model.input_limit, model.max_output, model.context_window)
        # the band of the input tokens: each call's (low, high), its count when it has none
        self._band = [0, 0]
        self._banded = False

    def add(
        self,
        input_tokens: int,
        output_tokens: int,
        *,
        where: str | None = None,
        approximate: bool = False,
        band: tuple[int, int] | None = None,
    ) -> None:
        """One call of `input_tokens` in and `output_tokens` out; `where` labels its problems;
        `band` is the (low, high) of an approximate count."""
        self.requests += 1
        self.approximate |= approximate
        if band is None:
            self._band[0] += input_tokens
            self._band[1] += input_tokens
        else:
            self._band[0] += band[0]
            self._band[1] += band[1]
            self._banded = True
        thresholds = self._thresholds
        tier = self._tiers[sum(1 for t in thresholds if input_tokens > t) if thresholds else 0]  # level()
        tier[0] += input_tokens
        tier[1] += min(self.cached_tokens, input_tokens)
        tier[2] += output_tokens
        used = input_tokens + output_tokens
        if used > self._max_used:
            self._max_used = used
        max_input, max_output, window = self._limits
        if (max_input is None or input_tokens <= max_input) and (max_output is None or output_tokens <= max_output) and (window is None or used <= window):
            return  # fits: what fit_problems would say, without building its list
        found = fit_problems(self.model, input_tokens, output_tokens)
        if found:
            self.misfits += 1
            if len(self.problems) < self.MAX_PROBLEMS:
                self.problems.extend(f"{where}: {p}" for p in found) if where else self.problems.extend(found)

    def add_summed(self, calls: CallGroup) -> None:
        """The calls of `calls` (none of which reaches a long-context tier of this model or
        breaks one of its limits) as if each had been `add`ed: every figure they change is a sum
        or a maximum."""
        self.requests += calls.requests
        self.approximate |= calls.approximate
        self._band[0] += calls.low
        self._band[1] += calls.high
        self._banded |= calls.banded
        tier = self._tiers[0]
        tier[0] += calls.input
        tier[1] += calls.cached
        tier[2] += calls.output
        if calls.max_used > self._max_used:
            self._max_used = calls.max_used

    def estimate(self) -> ModelEstimate:
        model = self.model
        costs = [
            priced(
                model,
                Usage(input_tokens=t[0], cached_input_tokens=t[1], output_tokens=t[2]),
                batch=self.batch,
                long_context=long,
            )
            for long, t in self._tiers.items()
            if any(t) or not long
        ]
        cost = Cost(
            input_usd=sum((c.input_usd for c in costs), Decimal(0)),
            cached_input_usd=sum((c.cached_input_usd for c in costs), Decimal(0)),
            cache_write_usd=sum((c.cache_write_usd for c in costs), Decimal(0)),
            output_usd=sum((c.output_usd for c in costs), Decimal(0)),
            long_context=any(any(t) for n, t in self._tiers.items() if n),
            batch=self.batch and model.has_batch,
        )
        problems = list(self.problems)
        if self.misfits > self.MAX_PROBLEMS:
            problems.append(f"… {self.misfits:,} requests do not fit in all")
        totals = [sum(t[i] for t in self._tiers.values()) for i in range(3)]
        return ModelEstimate(
            model=model.id,
            provider=model.provider,
            tier=model.tier,
            tokenizer=model.tokenizer.label,
            approximate=self.approximate,
            input_tokens=totals[0],
            input_tokens_low=self._band[0] if self._banded else None,
            input_tokens_high=self._band[1] if self._banded else None,
            cached_input_tokens=totals[1],
            output_tokens=totals[2],
            cost=cost,
            calls=self.calls,
            total_usd=times(cost.total_usd, self.calls),
            context_window=model.context_window,
            max_output=model.max_output,
            context_share=_share(self._max_used, model.context_window),
            fits=self.misfits == 0,
            problems=problems,
            batch_unavailable=self.batch and not model.has_batch,
            as_of=model.as_of,
            service_tier=model.service_tier,
        )


class CallGroup:
    """Calls whose counts are the same on several models (one tokenizer), added up once for
    all of them: `add` takes a call that no model's long-context tier, input or output limit or
    window singles out into the sums and returns True; any other it leaves to the caller (False),
    which adds it to each model's `CallTotals`, where its tier and problems are found.

    `CallTotals.add_summed` then gives each model the sums: the same figures as adding each call
    to it, since a price is linear in tokens below every tier and a call that fits makes no
    problem. Thousands of small prompts on a dozen models are thus a few additions each."""

    __slots__ = ("cached_tokens", "max_input", "max_output", "max_used", "requests", "input", "cached", "output", "low", "high", "banded", "approximate", "_limits")

    def __init__(self, models: Sequence[ModelPrice], cached_tokens: int) -> None:
        def least(values: list[int | None]) -> float:
            given = [v for v in values if v is not None]
            return min(given) if given else math.inf

        # a call is plain on every model when its input is at most each tier's start (`level` 0)
        self._limits = (
            least([t.threshold for m in models for t in m.standard.tiers] + [m.input_limit for m in models]),
            least([m.max_output for m in models]),
            least([m.context_window for m in models]),
        )
        self.cached_tokens = cached_tokens
        self.requests = self.input = self.cached = self.output = self.low = self.high = self.max_used = 0
        self.banded = self.approximate = False

    def add(self, input_tokens: int, output_tokens: int, band: tuple[int, int] | None) -> bool:
        max_input, max_output, window = self._limits
        used = input_tokens + output_tokens
        if input_tokens > max_input or output_tokens > max_output or used > window:
            return False
        self.requests += 1
        self.input += input_tokens
        self.cached += min(self.cached_tokens, input_tokens)
        self.output += output_tokens
        if band is None:
            self.low += input_tokens
            self.high += input_tokens
        else:
            self.low += band[0]
            self.high += band[1]
            self.banded = self.approximate = True
        if used > self.max_used:
            self.max_used = used
        return True


def combine(rows: Sequence[ModelEstimate], labels: Sequence[str] | None = None) -> ModelEstimate:
    """One model's estimates for several prompts (one call each) added up; `labels` name the
    prompts in their problems."""
    first = rows[0]
    cost = Cost(
        input_usd=sum((r.cost.input_usd for r in rows), Decimal(0)),
        cached_input_usd=sum((r.cost.cached_input_usd for r in rows), Decimal(0)),
        cache_write_usd=sum((r.cost.cache_write_usd for r in rows), Decimal(0)),
        output_usd=sum((r.cost.output_usd for r in rows), Decimal(0)),
        long_context=any(r.cost.long_context for r in rows),
        batch=first.cost.batch,
    )
    problems = [p for r in rows for p in r.problems] if labels is None else [f"{label}: {p}" for label, r in zip(labels, rows) for p in r.problems]
    return first.model_copy(
        update={
            "input_tokens": sum(r.input_tokens for r in rows),
            "input_tokens_low": _band_sum(rows, "input_tokens_low"),
            "input_tokens_high": _band_sum(rows, "input_tokens_high"),
            "cached_input_tokens": sum(r.cached_input_tokens for r in rows),
            "output_tokens": sum(r.output_tokens for r in rows),
            "cost": cost,
            "total_usd": times(cost.total_usd, first.calls),
            "context_share": max((r.context_share for r in rows if r.context_share is not None), default=None),
            "fits": all(r.fits for r in rows),
            "problems": problems,
        }
    )


def _band_sum(rows: Sequence[ModelEstimate], end: str) -> int | None:
    """One end of the band of several rows' input tokens; None when none of them has one."""
    if all(getattr(r, end) is None for r in rows):
        return None
    return sum(v if (v := getattr(r, end)) is not None else r.input_tokens for r in rows)


SORT_KEYS = ("cost", "name", "tokens", "provider")


def sort_rows(rows: Sequence[ModelEstimate], key: str) -> list[ModelEstimate]:
    """Rows ordered by `key` (cheapest, models that fit first; name; fewest tokens; or provider then cost)."""
    if key == "cost":
        # the cheapest first, among the models that fit: one that cannot take the prompt is no answer
        return sorted(rows, key=lambda r: (not r.fits, r.cost.total_usd, r.model))
    if key == "name":
        return sorted(rows, key=lambda r: r.model)
    if key == "tokens":
        return sorted(rows, key=lambda r: (r.input_tokens, r.cost.total_usd, r.model))
    if key == "provider":
        return sorted(rows, key=lambda r: (r.provider, r.cost.total_usd, r.model))
    raise ValueError(f"unknown sort key: {key}")


def cacheable_tokens(model: ModelPrice, prompt: int) -> int:
    """What a prompt cache serves of a `prompt`-token prefix: nothing below the model's
    minimum cacheable length; OpenAI caches in steps of 128 tokens."""
    minimum = model.min_cache_tokens or 0
    if prompt < minimum or prompt <= 0:
        return 0
    if model.provider == "openai":
        return prompt // 128 * 128
    return prompt
