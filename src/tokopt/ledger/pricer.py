"""Pricing a usage record by its model name, the way logs spell it.

The ledger's only door to prices: `Pricer(catalog).price(record)` returns the record with its
model resolved to a catalog id, its cost at the prices in force at the record's own time (its
date, and its time of day where a provider bills off-peak hours differently) and the date of
the price data it was priced with (`pricing_as_of`, `pricing_version`). A model the catalog
does not know keeps its name and no cost ("unpriced"), never $0; a hosted id is priced by its
host, or not at all; a batch or flex call on a model with no batch or flex price is unpriced too.
"""

from __future__ import annotations

import operator
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tokopt.usage import TOKEN_FIELDS, TOKEN_KINDS, Usage, UsageRecord

if TYPE_CHECKING:
    from tokopt.pricing import Catalog
    from tokopt.pricing.model import ModelPrice

_BEDROCK = re.compile(r"^(?:(?:us|eu|apac|global)\.)?(?:anthropic|meta|amazon|mistral)\.(.+?)(?:-v\d+(?::\d+)?)?$")


def model_candidates(name: str) -> list[str]:
    """Spellings of one model name as logs write it: as is, `models/x`, Vertex `x@date`, Bedrock ids."""
    out = [name]
    bare = name.strip()
    if bare.startswith("models/"):
        bare = bare[len("models/") :]
        out.append(bare)
    if "@" in bare:
        base, _, date = bare.partition("@")
        out += [f"{base}-{date}" if date and date != "latest" else base, base]
    match = _BEDROCK.match(bare)
    if match:
        out.append(match.group(1))
    return list(dict.fromkeys(out))


class Pricer:
    """Prices usage records with the catalog; remembers how each model name resolved."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._resolved: dict[str, ModelPrice | None] = {}
        # (id of a billed ModelPrice, batch) -> (it, its long-context thresholds, rates per tier reached)
        self._rates: dict[tuple[int, bool], tuple[ModelPrice, list[int], dict[int, Terms]]] = {}

    def resolve(self, name: str) -> ModelPrice | None:
        if name not in self._resolved:
            found = None
            for candidate in model_candidates(name):
                found = self.catalog.find(candidate)
                if found is not None:
                    break
            self._resolved[name] = found
        return self._resolved[name]

    def price(self, record: UsageRecord, **changes: Any) -> UsageRecord:
        """`record` priced: its catalog model id and provider, cost (USD), and the date and
        version of the price data (`pricing_as_of`, `pricing_version`); with `changes` to its
        other fields made in the same copy.

        A batch record is priced at the model's batch prices, and a record of a service tier
        (flex, priority) at that tier's; a model with no price for that mode leaves the record
        unpriced, as an unknown model does, never priced at the standard rate."""
        return record.replace(**changes, **self._priced(record, changes))

    def price_own(self, record: UsageRecord, **changes: Any) -> UsageRecord:
        """`price`, changing `record` itself rather than a copy: for a record nothing else
        holds (an import's own records; copying each one is a tenth of a big import)."""
        fields = {**changes, **self._priced(record, changes)}
        for name, value in fields.items():
            setattr(record, name, value)
        return record

    def _priced(self, record: UsageRecord, changes: dict[str, Any]) -> dict[str, Any]:
        """The fields `price` sets (the record with `changes` made is the one priced)."""
        price = self.resolve(record.model)
        if price is None:
            return {"cost_usd": None, "pricing_as_of": None, "pricing_version": None}
        moment = changes.get("time", record.time)
        if moment is not None:
            price = self.catalog.get_at(price.id, moment)
        batch = changes.get("batch", record.batch)
        billed = _mode(price, batch, changes.get("service_tier", record.service_tier))
        if billed is None:
            return {"model": price.id, "provider": price.provider, "cost_usd": None, "pricing_as_of": None, "pricing_version": None}
        return {
            "model": price.id,
            "provider": price.provider,
            "cost_usd": self._cost(billed, record, batch),
            "pricing_as_of": billed.as_of,
            "pricing_version": billed.data_version,
        }

    def _cost(self, billed: ModelPrice, usage: Usage, batch: bool) -> Decimal:
        """`costing.cost_of(billed, usage, batch=batch).total_usd`, the same arithmetic, with the
        rates of each model and long-context tier looked up once (an import prices many records)."""
        from tokopt import costing  # loaded once, when the first record is priced

        key = (id(billed), batch)
        plan = self._rates.get(key)
        if plan is None or plan[0] is not billed:
            plan = self._rates[key] = (billed, [t.threshold for t in billed.standard.tiers], {})
        _, thresholds, by_tier = plan
        reached = sum(1 for t in thresholds if usage.input_tokens > t) if thresholds else 0  # costing.level
        terms = by_tier.get(reached)
        if terms is None:
            r = costing.rates(billed, input_tokens=thresholds[reached - 1] + 1 if reached else 0, batch=batch)
            terms = by_tier[reached] = _terms(r)
        # costing.bucket_usd, then Cost.total_usd, step for step: each kind's amount made in the
        # money context, added up per bucket and the buckets in order in the caller's context
        money, per_million = costing.MONEY_CONTEXT, costing.PER_MILLION
        multiply, divide = money.multiply, money.divide
        counts = _COUNTS(usage)
        total = None
        for group in terms:
            bucket = None
            for i, parts, rate in group:
                n = counts[i]
                for p in parts:
                    n -= counts[p]
                amount = divide(multiply(Decimal(n), rate), per_million)
                bucket = amount if bucket is None else bucket + amount
            total = bucket if total is None else total + bucket
        assert total is not None
        return total


_COUNTS = operator.attrgetter(*TOKEN_FIELDS)
Terms = list[list[tuple[int, tuple[int, ...], Decimal]]]


def _terms(r: dict[str, Decimal]) -> Terms:
    """The rates `r` as costing.bucket_usd applies them: per bucket of Cost, in order, each of its
    kinds as (its count's place in TOKEN_FIELDS, the places of its parts that have rates of
    their own and so are not billed at its rate, its rate)."""
    groups: dict[str, list[tuple[int, tuple[int, ...], Decimal]]] = {}
    for kind in TOKEN_KINDS:
        if kind.bucket is None:
            continue
        parts = tuple(TOKEN_FIELDS.index(k.field) for k in TOKEN_KINDS if k.part_of == kind.field and k.rate is not None)
        groups.setdefault(kind.bucket, []).append((TOKEN_FIELDS.index(kind.field), parts, r[kind.field]))
    return list(groups.values())


def _mode(price: ModelPrice, batch: bool, service_tier: str | None) -> ModelPrice | None:
    """The model as it bills a call made in batch or on `service_tier`; None if it has no such price.
    A batch call is billed at batch prices whatever tier its response names."""
    if batch:
        return price if price.has_batch else None
    return price.at_service_tier(service_tier)
