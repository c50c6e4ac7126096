"""Reports and spend over a real ledger: days in a time zone (daylight saving, :30 and :45
offsets), periods, and the offset spans the SQLite store groups days by."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import PRICING_DIR
from tokopt.costing import cost_of
from tokopt.errors import InputError
from tokopt.ledger import Ledger, offset_spans, zone
from tokopt.pricing import load_catalog
from tokopt.usage import Usage

CATALOG = load_catalog(PRICING_DIR)
UTC = dt.timezone.utc


@pytest.fixture
def path(ledger_location):
    """A fresh ledger: each test runs once on an SQLite file and once on PostgreSQL."""
    return ledger_location


def ledger(path, user="alice"):
    return Ledger(path, user=user, catalog=CATALOG)


def price(model, **usage):
    return cost_of(CATALOG.get(model), Usage(**usage)).total_usd


def test_report_by_day_honours_the_time_zone_across_a_dst_change(path):
    berlin = "Europe/Berlin"  # clocks go back at 2026-10-25 01:00 UTC (03:00 CEST -> 02:00 CET)
    times = [
        dt.datetime(2026, 10, 24, 21, 59, tzinfo=UTC),  # 23:59 CEST, the 24th
        dt.datetime(2026, 10, 24, 22, 0, tzinfo=UTC),  # 00:00 CEST, the 25th
        dt.datetime(2026, 10, 25, 22, 59, tzinfo=UTC),  # 23:59 CET, the 25th
        dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC),  # 00:00 CET, the 26th
    ]
    with ledger(path) as book:
        for n, when in enumerate(times, 1):
            book.record(model="gpt-5.5", input_tokens=n, output_tokens=0, time=when)
        local = {r.key["day"]: r.sums.input_tokens for r in book.report(by="day", timezone=berlin).rows}
        assert local == {"2026-10-24": 1, "2026-10-25": 2 + 3, "2026-10-26": 4}
        utc = {r.key["day"]: r.sums.input_tokens for r in book.report(by="day", timezone="UTC").rows}
        assert utc == {"2026-10-24": 1 + 2, "2026-10-25": 3 + 4}
        # --since/--until are whole days in the report's zone, both included
        assert book.report(by="day", timezone=berlin, since="2026-10-25", until="2026-10-25").total.input_tokens == 5
        assert book.report(by="day", timezone="UTC", since="2026-10-25").total.input_tokens == 7
        assert book.report(timezone="UTC", since="2026-10-24T22:00:00Z", until="2026-10-25T23:00:00+00:00").total.input_tokens == 5
        with pytest.raises(InputError, match="unknown time zone"):
            book.report(by="day", timezone="Mars/Olympus")
        with pytest.raises(InputError, match="not a date"):
            book.report(since="last tuesday")


@settings(max_examples=40)
@given(
    stamps=st.lists(st.integers(min_value=1_700_000_000, max_value=1_830_000_000), min_size=1, max_size=25),
    tz_name=st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"]),
)
def test_days_match_python_for_any_times_and_zone(shared_ledger_location, stamps, tz_name):
    path = shared_ledger_location
    user = f"u{os.urandom(6).hex()}"
    tz = zone(tz_name)
    with Ledger(path, user=user, catalog=CATALOG) as book:
        book.record_many([{"model": "gpt-5.5", "input": 1, "time": dt.datetime.fromtimestamp(s, UTC)} for s in stamps])
        got = {r.key["day"]: r.sums.records for r in book.report(by="day", timezone=tz_name).rows}
    expected: dict[str, int] = {}
    for s in stamps:
        day = dt.datetime.fromtimestamp(s, UTC).astimezone(tz).date().isoformat()
        expected[day] = expected.get(day, 0) + 1
    assert got == expected


def test_offset_spans_split_at_each_change():
    tz = zone("Europe/Berlin")
    spans = offset_spans(tz, dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 12, 31, tzinfo=UTC))
    assert [s[2] for s in spans] == [60, 120, 60]
    assert dt.datetime.fromtimestamp(spans[1][0], UTC) == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert dt.datetime.fromtimestamp(spans[2][0], UTC) == dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)


def test_spend_by_period_is_what_issue_6_budgets_ask(path):
    with ledger(path) as book:
        book.record(model="gpt-5.5", input_tokens=1000, output_tokens=0, time=dt.datetime(2026, 6, 30, 23, 0, tzinfo=UTC))
        book.record(model="gpt-5.5", input_tokens=2000, output_tokens=0, time=dt.datetime(2026, 7, 1, 1, 0, tzinfo=UTC))
        july = book.spend(since="2026-07-01", until="2026-07-31", timezone="UTC")
        assert july.records == 1 and july.cost_usd == price("gpt-5.5", input_tokens=2000)
        assert book.spend(since=dt.datetime(2026, 6, 30, tzinfo=UTC)).records == 2
        assert book.total_cost(until=dt.date(2026, 6, 30), timezone="UTC") == price("gpt-5.5", input_tokens=1000)
        assert isinstance(july.cost_usd, Decimal)
