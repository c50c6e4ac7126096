"""Pricing a usage record by its model name, the way logs spell it.

The ledger's only door to prices: `Pricer(catalog).price(record)` returns the record with its
model resolved to a catalog id, its cost at the prices in force at the record's own time (its
date, and its time of day where a provider bills off-peak hours differently) and the date of
the price data it was priced with (`pricing_as_of`). A model the catalog does not know keeps
its name and no cost ("unpriced"), never $0; a hosted id is priced by its host, or not at all.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tokopt.usage import UsageRecord

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
        """`record` priced: its catalog model id and provider, cost (USD) and `pricing_as_of`;
        with `changes` to its other fields made in the same copy."""
        from tokopt.costing import cost_of

        price = self.resolve(record.model)
        if price is None:
            return record.replace(**changes, cost_usd=None, pricing_as_of=None, batch=False)
        moment = changes.get("time", record.time)
        if moment is not None:
            price = self.catalog.get_at(price.id, moment)
        return record.replace(
            **changes,
            model=price.id,
            provider=price.provider,
            cost_usd=cost_of(price, record, batch=record.batch).total_usd,
            pricing_as_of=price.as_of,
            batch=record.batch and price.has_batch,
        )
