"""The ledger's pricer against costing's own arithmetic: the rates it looks up once per model
and long-context tier give the same exact Decimal cost as `costing.cost_of`, call by call."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger.test_facade import CATALOG
from tokopt.costing import cost_of
from tokopt.ledger import Pricer
from tokopt.ledger.pricer import _mode
from tokopt.usage import UsageRecord

PRICER = Pricer(CATALOG)  # one for every example: its caches are what is tested
# models with long-context tiers, batch prices, time-of-day prices, and plain ones
MODELS = ["claude-sonnet-4-5-20250929", "gemini-2.5-pro", "gpt-5", "claude-opus-4-1-20250805", "deepseek-chat", "gpt-4o-mini"]


@settings(max_examples=150, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    inp=st.integers(0, 2_000_000),
    cached=st.integers(0, 100),
    write=st.integers(0, 100),
    write_1h=st.integers(0, 100),
    out=st.integers(0, 100_000),
    reasoning=st.integers(0, 100),
    batch=st.booleans(),
    minutes=st.integers(0, 60 * 24 * 400),
)
def test_each_cost_is_cost_of(model, inp, cached, write, write_1h, out, reasoning, batch, minutes):
    cached, write, write_1h = inp * cached // 300, inp * write // 300, inp * write_1h // 300
    rec = UsageRecord(
        model=model,
        time=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=minutes),
        input_tokens=inp,
        cached_input_tokens=cached,
        cache_write_tokens=write,
        cache_write_1h_tokens=write_1h,
        output_tokens=out,
        reasoning_tokens=out * reasoning // 100,
        batch=batch,
    )
    priced = PRICER.price(rec)
    found = PRICER.resolve(model)
    assert found is not None
    billed = _mode(CATALOG.get_at(found.id, rec.time), batch, None)
    if billed is None:
        assert priced.cost_usd is None
    else:
        expected = cost_of(billed, rec, batch=batch).total_usd
        assert priced.cost_usd == expected and str(priced.cost_usd) == str(expected)
        # an import prices its own records in place: the same fields as the copy
        own = rec.replace()
        assert PRICER.price_own(own, user="ann") is own
        assert own == priced.replace(user="ann") and str(own.cost_usd) == str(priced.cost_usd)


def test_price_own_of_an_unknown_model_leaves_it_unpriced():
    rec = UsageRecord(model="no-such-model-x", time=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), input_tokens=10, output_tokens=5, cost_usd=None)
    assert PRICER.price_own(rec, user="ann") is rec
    assert (rec.model, rec.cost_usd, rec.pricing_as_of, rec.user) == ("no-such-model-x", None, None, "ann")
