"""Pricing stored records again with the price data in use (`tokopt session reprice`).

Each record is priced as a new one would be (`Pricer.price`): at the prices in force at its
own time, in its own mode (batch, service tier). A record that had no price gets one once the
data knows its model; one priced before keeps its price when the data has not changed for its
model and time, and also when the data in use does not know its model at all (a price that
came from a pricing file not given this time is kept, never thrown away). Everything happens
in one write transaction (all or nothing); a dry run reads the same records in a read
transaction and writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from tokopt.ledger.pricer import Pricer
from tokopt.ledger.store import Filters, Repriced, Store
from tokopt.pricing.layer import data_version
from tokopt.usage import UsageRecord

BATCH = 5_000  # records read at a time


@dataclass(frozen=True)
class RepricedModel:
    """One model's records before and after: their costs (None: none of them was priced) and
    how many had no price. Keyed by the model id the record has after repricing."""

    model: str
    provider: str | None
    records: int
    changed: int  # records whose model, cost or price data changed
    kept: int  # priced records kept as they were: the data in use does not know their model
    before_usd: Decimal | None
    after_usd: Decimal | None
    unpriced_before: int
    unpriced_after: int

    @property
    def change_usd(self) -> Decimal:
        """After less before, unpriced counting as nothing."""
        return (self.after_usd or Decimal(0)) - (self.before_usd or Decimal(0))


@dataclass(frozen=True)
class RepriceReport:
    dry_run: bool
    models: list[RepricedModel]  # costliest after first
    total: RepricedModel  # every model added up (model "(total)")
    data: str  # the price data used: its label
    data_version: str | None  # its version, as records keep it (gp:...)
    copies: int = 0  # other users' copies of the same responses, repriced too and not counted

    @property
    def records(self) -> int:
        return self.total.records

    @property
    def changed(self) -> int:
        return self.total.changed

    @property
    def kept(self) -> int:
        return self.total.kept


class _Sum:
    def __init__(self, model: str, provider: str | None) -> None:
        self.model, self.provider = model, provider
        self.records = self.changed = self.kept = self.unpriced_before = self.unpriced_after = 0
        self.before: Decimal | None = None
        self.after: Decimal | None = None

    def add(self, old: UsageRecord, new: UsageRecord, changed: bool) -> None:
        self.records += 1
        self.changed += changed
        if old.cost_usd is None:
            self.unpriced_before += 1
        else:
            self.before = old.cost_usd if self.before is None else self.before + old.cost_usd
        if new.cost_usd is None:
            self.unpriced_after += 1
        else:
            self.after = new.cost_usd if self.after is None else self.after + new.cost_usd

    def merge(self, other: _Sum) -> None:
        self.records += other.records
        self.changed += other.changed
        self.kept += other.kept
        self.unpriced_before += other.unpriced_before
        self.unpriced_after += other.unpriced_after
        for name in ("before", "after"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs if mine is None else mine if theirs is None else mine + theirs)

    def done(self) -> RepricedModel:
        return RepricedModel(
            self.model, self.provider, self.records, self.changed, self.kept, self.before, self.after, self.unpriced_before, self.unpriced_after
        )


_COMPARED = ("model", "provider", "cost_usd", "pricing_as_of", "pricing_version")


def _differs(old: UsageRecord, new: UsageRecord) -> bool:
    return any(getattr(old, name) != getattr(new, name) for name in _COMPARED)


def reprice_records(records: Iterable[UsageRecord], pricer: Pricer, sums: dict[str, _Sum], updates: list[Repriced] | None) -> None:
    """Price `records` again, adding each to its model's sums, and its new price to `updates`
    when it changed."""
    for old in records:
        kept = old.cost_usd is not None and pricer.resolve(old.model) is None
        new = old if kept else pricer.price(old)
        changed = _differs(old, new)
        group = sums.get(new.model)
        if group is None:
            group = sums[new.model] = _Sum(new.model, new.provider)
        group.add(old, new, changed)
        group.kept += kept
        if changed and updates is not None:
            assert old.id is not None
            updates.append(Repriced(old.id, new.model, new.provider, new.cost_usd, new.pricing_as_of, new.pricing_version))


def reprice(store: Store, pricer: Pricer, filters: Filters, *, dry_run: bool = False) -> RepriceReport:
    """Price the records in scope again with `pricer`'s catalog and, unless `dry_run`, store
    the new prices (one transaction); what changed, per model."""
    sums: dict[str, _Sum] = {}
    updates: list[Repriced] = []
    copies = 0
    with store.read() if dry_run else store.write() as tx:
        # every user's copy of a response is priced, so each user's own report is priced too
        for batch in tx.usage_batches(dataclasses.replace(filters, copies=True), BATCH):
            reprice_records(batch, pricer, sums, updates)
        if filters.user is None and not filters.copies:
            # ...but the summary of all users counts a response once, as every all-users
            # report does: the same records again, one copy of each response
            every, sums = sums, {}
            for batch in tx.usage_batches(filters, BATCH):
                reprice_records(batch, pricer, sums, None)
            copies = sum(g.records for g in every.values()) - sum(g.records for g in sums.values())
        if updates and not dry_run:
            tx.set_prices(updates)
    total = _Sum("(total)", None)
    for group in sums.values():
        total.merge(group)
    models = sorted((g.done() for g in sums.values()), key=lambda m: (-(m.after_usd or Decimal(0)), m.model))
    catalog = pricer.catalog
    info = catalog.data
    return RepriceReport(
        dry_run=dry_run,
        models=models,
        total=total.done(),
        data=info.label if info is not None else "tokopt's pricing files",
        data_version=data_version(info.sha256) if info is not None else None,
        copies=copies,
    )
