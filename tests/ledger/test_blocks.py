"""Five-hour blocks over a real ledger: where they start and end, burn rate and projection,
token limits, the block open now found from recent records only, and the status line's sums."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt.ledger import Ledger
from tokopt.ledger.blocks import BLOCK, floor_hour, open_block
from tokopt.ledger.sqlite import SqliteStore
from tokopt.ledger.store import Filters
from tokopt.usage import UsageRecord

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 7, 20, 9, 0, tzinfo=UTC)


def rec(n: int, when: dt.datetime, *, user: str = "alice", inp: int = 1000, out: int = 100, cost: str = "0.01", session: str | None = None, model: str = "claude-sonnet-4-5") -> UsageRecord:
    return UsageRecord(
        model=model, provider="anthropic", time=when, user=user, input_tokens=inp, output_tokens=out, cost_usd=Decimal(cost), dedupe_key=f"k{n}", session_id=session, agent="claude-code"
    )


def ledger_with(tmp_path, records) -> Ledger:
    path = tmp_path / "ledger.sqlite3"
    store = SqliteStore.open(path)
    with store.write():
        store.upsert_usage(records)
    store.close()
    return Ledger(path, user="alice")


def test_a_block_starts_at_the_hour_of_its_first_record_and_lasts_five_hours(tmp_path):
    times = [T0 + dt.timedelta(minutes=m) for m in (10, 90, 4 * 60 + 59)]  # 09:10, 10:30, 13:59
    times += [T0 + dt.timedelta(hours=5), T0 + dt.timedelta(hours=5, minutes=30)]  # 14:00 starts the next
    times += [T0 + dt.timedelta(hours=15, minutes=45)]  # after a gap: 00:45 -> block at 00:00
    with ledger_with(tmp_path, [rec(i, t) for i, t in enumerate(times)]) as book:
        report = book.blocks(timezone="UTC", now=T0 + dt.timedelta(days=2))
    assert [(b.start.strftime("%H:%M"), b.sums.records) for b in report.blocks] == [("09:00", 3), ("14:00", 2), ("00:00", 1)]
    first = report.blocks[0]
    assert first.end == T0 + BLOCK and first.tokens == 3 * 1100 and first.sums.cost_usd == Decimal("0.03")
    # burn rate between the first (09:10) and last (13:59) record: 289 minutes
    assert first.tokens_per_hour == int(Decimal(3300) * 60 / 289)
    assert first.cost_per_hour == Decimal("0.03") * 3600 / Decimal(289 * 60)
    assert report.blocks[2].tokens_per_hour is None  # one record: no rate
    assert not any(b.active for b in report.blocks)


def test_the_open_block_is_projected_to_its_end(tmp_path):
    records = [rec(1, T0 + dt.timedelta(minutes=5)), rec(2, T0 + dt.timedelta(minutes=65))]
    now = T0 + dt.timedelta(hours=2)
    with ledger_with(tmp_path, records) as book:
        (block,) = book.blocks(now=now, timezone="UTC").blocks
        status = book.status(now=now, timezone="UTC")
    assert block.active and block.end - now == dt.timedelta(hours=3)
    # 2,200 tokens in one hour -> 2,200 an hour, three hours left
    assert (block.tokens_per_hour, block.projected_tokens) == (2200, 2200 + 3 * 2200)
    assert block.projected_cost == Decimal("0.02") + Decimal("0.02") * 3
    assert status.block == dataclasses.replace(block, models=[])  # the status line names no models
    assert status.block_left == dt.timedelta(hours=3)


def test_token_limit_marks_blocks_over_it_and_max_is_the_largest_finished(tmp_path):
    records = [rec(1, T0, inp=5000), rec(2, T0 + dt.timedelta(hours=6), inp=9000), rec(3, T0 + dt.timedelta(hours=12), inp=1000)]
    records.append(rec(4, T0 + dt.timedelta(hours=12, minutes=30), inp=1000))  # 2,200 tokens so far, 4,400 an hour
    now = T0 + dt.timedelta(hours=13)
    with ledger_with(tmp_path, records) as book:
        given_limit = book.blocks(now=now, token_limit=6000)
        assert [b.over_limit for b in given_limit.blocks] == [False, True, True]  # the open one by its projection
        assert given_limit.blocks[2].projected_tokens > 6000 and given_limit.limit_from == "given"
        biggest = book.blocks(now=now, token_limit="max")
        assert (biggest.token_limit, biggest.limit_from) == (9100, "max")
        assert [b.over_limit for b in biggest.blocks] == [False, False, True]


def _blocks_by_records(times: list[dt.datetime]) -> list[tuple[dt.datetime, int]]:
    """The rule, record by record: a record at or after its block's end starts a new block."""
    out: list[list] = []
    for t in sorted(times):
        if not out or t >= out[-1][0] + BLOCK:
            out.append([floor_hour(t), 0])
        out[-1][1] += 1
    return [(s, n) for s, n in out]


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=72 * 3600), min_size=1, max_size=40),
    now_after=st.integers(min_value=0, max_value=6 * 3600),
)
def test_blocks_from_hourly_sums_are_the_rule_applied_record_by_record(tmp_path_factory, offsets, now_after):
    times = [T0 + dt.timedelta(seconds=s) for s in offsets]
    path = tmp_path_factory.getbasetemp() / "blocks.sqlite3"
    user = f"u{os.urandom(6).hex()}"
    store = SqliteStore.open(path)
    try:
        with store.write():
            store.upsert_usage([rec(i, t, user=user) for i, t in enumerate(times)])
        now = max(times) + dt.timedelta(seconds=now_after)
        with store.read():
            book = Ledger(path, user=user)
            found = book.blocks(now=now).blocks
            book.close()
            expected = _blocks_by_records(times)
            assert [(b.start, b.sums.records) for b in found] == expected
            # the block open now, found from an hour known to start a block, not from all records
            opened = open_block(store, Filters(user=user), now)
            full = found[-1] if found[-1].active else None
            assert (opened.start, opened.sums.records) == (full.start, full.sums.records) if full else opened is None
    finally:
        store.close()


def test_the_status_sums_today_the_session_and_the_block(tmp_path):
    now = dt.datetime(2026, 7, 20, 23, 30, tzinfo=UTC)
    records = [
        rec(1, now - dt.timedelta(days=1), session="s1"),  # yesterday
        rec(2, now - dt.timedelta(hours=3), session="s1", cost="0.02"),
        rec(3, now - dt.timedelta(minutes=10), session="s2", cost="0.04"),
        rec(4, now + dt.timedelta(minutes=10), session="s2", cost="1"),  # after now: not counted
    ]
    with ledger_with(tmp_path, records) as book:
        status = book.status(session="s1", timezone="UTC", now=now)
        berlin = book.status(timezone="Europe/Berlin", now=now)  # 01:30 on the 21st there
        nobody = book.status(session="s[12]", timezone="UTC", now=now)  # a session id is not a pattern
    assert status.today.cost_usd == Decimal("0.06") and status.session is not None and status.session.cost_usd == Decimal("0.03")
    assert status.block is not None and status.block.start == dt.datetime(2026, 7, 20, 20, tzinfo=UTC) and status.block.sums.cost_usd == Decimal("0.06")
    assert berlin.today.records == 1 and berlin.today.cost_usd == Decimal("0.04") and berlin.session is None
    assert nobody.session is not None and nobody.session.records == 0
