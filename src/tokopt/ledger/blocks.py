"""Five-hour blocks: the windows subscription plans (Claude's among them) meter usage in.

A block starts at the hour (UTC) of the first message after the previous block ended and
lasts five hours; so a gap of five hours or more always starts a new block. Because a block
starts on a whole hour, which block a record falls in depends only on the hours that have
records: blocks are built from sums per UTC hour, one GROUP BY over the records in scope.

For each block: its tokens (input, the whole prompt, plus output) and cost, its burn rate
(per hour between its first and its last record), and for the block that is still open at
`now`, a projection to its end at that rate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from tokopt.ledger.reports import PATTERN_FILTERS, ModelSums, UnpricedModel
from tokopt.ledger.store import Filters, Store, Sums
from tokopt.ledger.timezones import zone_label

BLOCK = dt.timedelta(hours=5)
HOUR = dt.timedelta(hours=1)
UTC = dt.timezone.utc


@dataclass(frozen=True)
class Block:
    start: dt.datetime  # UTC, on the hour
    sums: Sums  # first and last: its first and last record
    models: list[ModelSums] = field(default_factory=list)
    active: bool = False  # `now` is inside it
    tokens_per_hour: int | None = None  # between its first and last record; None: one instant
    cost_per_hour: Decimal | None = None
    projected_tokens: int | None = None  # the active block at its end, at the burn rate
    projected_cost: Decimal | None = None
    over_limit: bool = False  # its tokens (or, active, its projection) above the token limit

    @property
    def end(self) -> dt.datetime:
        return self.start + BLOCK

    @property
    def tokens(self) -> int:
        return tokens_of(self.sums)


@dataclass(frozen=True)
class BlocksReport:
    user: str | None
    since: dt.datetime | None
    until: dt.datetime | None
    timezone: str
    now: dt.datetime
    blocks: list[Block]
    total: Sums
    token_limit: int | None
    limit_from: str | None  # "given", or "max" (the largest finished block)
    unpriced: list[UnpricedModel]
    match: dict[str, list[str]] = field(default_factory=dict)
    tz: dt.tzinfo = field(default=UTC, compare=False)  # the zone `timezone` names (compared by that label)


def tokens_of(sums: Sums) -> int:
    """What a block's token count is: the whole prompt (cache reads and writes included) and the output."""
    return sums.input_tokens + sums.output_tokens


def hour_of(text: str) -> dt.datetime:
    return dt.datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), tzinfo=UTC)


def floor_hour(when: dt.datetime) -> dt.datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def blocks_of(hours: Mapping[tuple[object, ...], Sums], now: dt.datetime) -> list[Block]:
    """Blocks from sums keyed (utc_hour, provider, model) (or (utc_hour,)), oldest first."""
    per_hour: dict[str, list[tuple[tuple[object, ...], Sums]]] = {}
    for key, sums in hours.items():
        per_hour.setdefault(str(key[0]), []).append((key[1:], sums))
    out: list[Block] = []
    start: dt.datetime | None = None
    parts: dict[tuple[object, ...], Sums] = {}
    for text in sorted(per_hour):
        hour = hour_of(text)
        if start is None or hour >= start + BLOCK:
            if start is not None:
                out.append(_block(start, parts, now))
            start, parts = hour, {}
        for model, sums in per_hour[text]:
            parts[model] = parts[model] + sums if model in parts else sums
    if start is not None:
        out.append(_block(start, parts, now))
    return out


def _block(start: dt.datetime, parts: Mapping[tuple[object, ...], Sums], now: dt.datetime) -> Block:
    total = sum(parts.values(), Sums())
    models = sorted(
        (ModelSums(None if k[0] is None else str(k[0]), str(k[1]), s) for k, s in parts.items() if len(k) == 2),
        key=lambda m: (m.sums.cost_usd is None, -(m.sums.cost_usd or 0), m.model),
    )
    block = Block(start=start, sums=total, models=models, active=start <= now < start + BLOCK)
    if total.first is None or total.last is None or total.last <= total.first:
        return dataclasses.replace(block, projected_tokens=block.tokens if block.active else None, projected_cost=total.cost_usd if block.active else None)
    seconds = Decimal((total.last - total.first).total_seconds())
    tokens_rate = Decimal(block.tokens) * 3600 / seconds
    cost_rate = total.cost_usd * 3600 / seconds if total.cost_usd is not None else None
    projected_tokens = projected_cost = None
    if block.active:
        left = Decimal(max((block.end - now).total_seconds(), 0)) / 3600
        projected_tokens = block.tokens + int(tokens_rate * left)
        projected_cost = total.cost_usd + cost_rate * left if total.cost_usd is not None and cost_rate is not None else None
    return dataclasses.replace(
        block,
        tokens_per_hour=int(tokens_rate),
        cost_per_hour=cost_rate,
        projected_tokens=projected_tokens,
        projected_cost=projected_cost,
    )


def with_limit(blocks: list[Block], limit: int | None) -> list[Block]:
    """The blocks, those above `limit` tokens marked (the active one by its projection too)."""
    if limit is None:
        return blocks
    return [
        dataclasses.replace(b, over_limit=b.tokens > limit or (b.active and (b.projected_tokens or 0) > limit)) for b in blocks
    ]


def max_finished(blocks: list[Block]) -> int | None:
    """The most tokens of a finished block (what `--token-limit max` means)."""
    done = [b.tokens for b in blocks if not b.active]
    return max(done) if done else None


def build(store: Store, filters: Filters, now: dt.datetime) -> list[Block]:
    """The blocks of the records in scope, inside the caller's read transaction."""
    return blocks_of(store.sums(["utc_hour", "model"], filters), now)


def report(store: Store, filters: Filters, tz: dt.tzinfo, now: dt.datetime, token_limit: int | str | None) -> BlocksReport:
    """The blocks report, inside the caller's read transaction; `token_limit` is a number of
    tokens, "max" (the most a finished block used), or None."""
    found = build(store, filters, now)
    unpriced = store.unpriced_models(filters) if any(b.sums.unpriced_records for b in found) else []
    if token_limit == "max":
        limit, limit_from = max_finished(found), "max"
    else:
        limit, limit_from = (None, None) if token_limit is None else (int(token_limit), "given")
    return BlocksReport(
        user=filters.user,
        since=filters.since,
        until=filters.until,
        timezone=zone_label(tz),
        now=now,
        blocks=with_limit(found, limit),
        total=sum((b.sums for b in found), Sums()),
        token_limit=limit,
        limit_from=limit_from,
        unpriced=[UnpricedModel(model=m, records=n) for m, n in unpriced],
        match={name: list(v) for name in PATTERN_FILTERS if (v := getattr(filters, name)) is not None},
        tz=tz,
    )


def anchor(store: Store, filters: Filters, now: dt.datetime, *, steps: int = 48) -> dt.datetime | None:
    """An hour at or before `now` that certainly starts a block (an hour with records after
    four hours without), so that the block open at `now` can be found from it alone; None
    when there is no record in the five hours before `now` (no block is open).

    Walks back from the latest record, one indexed lookup per hour of unbroken activity;
    after `steps` of them it gives up and returns the start of the time range (the caller
    then reads all hours).
    """
    latest = store.latest_time(dataclasses.replace(filters, until=now + dt.timedelta(microseconds=1)))
    if latest is None or latest < floor_hour(now) - 4 * HOUR:
        return None
    hour = floor_hour(latest)
    for _ in range(steps):
        before = store.latest_time(dataclasses.replace(filters, until=hour))
        if before is None or before < hour - 4 * HOUR:
            return hour
        hour = floor_hour(before)
    return filters.since or dt.datetime(1970, 1, 1, tzinfo=UTC)


def open_block(store: Store, filters: Filters, now: dt.datetime) -> Block | None:
    """The block open at `now`, read from an `anchor`: only the hours since it."""
    start = anchor(store, filters, now)
    if start is None:
        return None
    scoped = dataclasses.replace(filters, since=max(start, filters.since) if filters.since else start, until=now + dt.timedelta(microseconds=1))
    found = blocks_of(store.sums(["utc_hour"], scoped), now)
    return found[-1] if found and found[-1].active else None
