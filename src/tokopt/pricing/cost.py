"""The cost of one call at a model's prices, computed the way genai-prices computes it.

genai-prices bills each priced kind of token once: cache reads, cache writes and 1-hour cache
writes are parts of the input; a part whose kind has no price is billed as its parent (a
cache read with no cache-read price at the input price, a 1-hour write with no 1-hour price at
the cache-write price). Long-context tiers apply to the whole call once its input tokens,
cache included, exceed a tier's start (`TieredPrices`: strictly above). Money is Decimal with
enough digits that no product is ever rounded; tests compare with genai-prices' own
`calc_price` digit for digit.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from tokopt.pricing.model import RATE_FIELDS, STANDARD_TIERS, ModelPrice, Rates
from tokopt.usage import KIND, TOKEN_KINDS, Cost, TokenKind, Usage

PER_MILLION = Decimal(1_000_000)
MONEY_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])


class NoSuchPrice(LookupError):
    """The model has no price for the mode asked (batch, or a service tier)."""


def _usd(tokens: int, per_million: Decimal | None) -> Decimal:
    if not tokens or per_million is None:
        return Decimal(0)
    with decimal.localcontext(MONEY_CONTEXT):
        return Decimal(tokens) * per_million / PER_MILLION


def tier_rates(rates: Rates, input_tokens: int) -> Rates:
    """`rates` with the long-context tier that applies to a call of `input_tokens` (cache included)."""
    chosen = None
    for tier in rates.tiers:
        if input_tokens > tier.threshold:
            chosen = tier
    if chosen is None:
        return rates
    # a tier prices only what the base prices
    return Rates(**{name: getattr(chosen, name) if getattr(rates, name) is not None else None for name in RATE_FIELDS})


def rates_for(model: ModelPrice, *, batch: bool = False, service_tier: str | None = None) -> Rates:
    """The model's prices under batch processing or a service tier; NoSuchPrice if it has none."""
    if batch and service_tier:
        raise NoSuchPrice(f"{model.id}: batch and a service tier together")
    if batch:
        if model.batch is not None:
            return model.batch
        if model.batch_input is not None and model.batch_output is not None:
            return _scaled_batch(model)
        raise NoSuchPrice(f"{model.id} has no batch price")
    if service_tier and service_tier not in STANDARD_TIERS and service_tier != model.service_tier:
        found = model.service_tier_rates(service_tier)
        if found is None:
            raise NoSuchPrice(f"{model.id} has no {service_tier} price")
        return found
    return model.standard


def _scaled_batch(model: ModelPrice) -> Rates:
    """A pricing file's batch_input/batch_output: cache prices scale with the input's discount."""
    assert model.batch_input is not None and model.batch_output is not None
    with decimal.localcontext(MONEY_CONTEXT):
        ratio = model.batch_input / model.input if model.input else Decimal(1)
        out_ratio = model.batch_output / model.output if model.output else Decimal(1)
        std = model.standard

        def scale(value: Decimal | None, r: Decimal = ratio) -> Decimal | None:
            return None if value is None else value * r

        scaled = [name for name in RATE_FIELDS if name not in ("input", "output")]
        return Rates(
            input=model.batch_input,
            output=model.batch_output,
            **{name: scale(getattr(std, name)) for name in scaled},
            tiers=tuple(
                t.model_copy(update={"input": t.input * ratio, "output": t.output * out_ratio, **{name: scale(getattr(t, name)) for name in scaled}})
                for t in std.tiers
            ),
        )


def price(rates: Rates, usage: Usage, *, batch: bool = False) -> Cost:
    """What one call with `usage` costs at `rates` (genai-prices' arithmetic)."""
    r = tier_rates(rates, usage.input_tokens)
    buckets = dict.fromkeys(_BUCKETS, Decimal(0))
    for kind in _PRICED:
        buckets[kind.bucket] += _usd(usage.billed(kind), _rate(r, kind))
    return Cost(**buckets, long_context=r is not rates, batch=batch)


def _rate(rates: Rates, kind: TokenKind) -> Decimal | None:
    """The price of `kind`'s tokens: its own, else that of the kind it falls back to, and so on."""
    while True:
        value = getattr(rates, kind.rate)
        if value is not None or kind.fallback is None:
            return value
        kind = KIND[kind.fallback]


# the kinds with a price of their own, and the Cost fields they add up in
_PRICED = tuple(k for k in TOKEN_KINDS if k.rate is not None)
_BUCKETS = tuple(dict.fromkeys(k.bucket for k in _PRICED))


def cost(model: ModelPrice, usage: Usage, *, batch: bool = False, service_tier: str | None = None) -> Cost:
    """One call on `model`; NoSuchPrice when the model has no price for that mode."""
    return price(rates_for(model, batch=batch, service_tier=service_tier), usage, batch=batch)
