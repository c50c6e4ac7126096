"""Cost arithmetic: exact Decimal, additive and monotone in tokens, tiers and discounts applied."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokopt import costing
from tokopt.pricing.model import LongContext, ModelPrice, Tier, Tokenizer
from tokopt.usage import Usage


def model(**overrides) -> ModelPrice:
    fields = dict(
        id="m",
        provider="p",
        as_of=dt.date(2026, 7, 18),
        source="test",
        tier=Tier.strong,
        tokenizer=Tokenizer(encoding="o200k_base", exact=True),
        context_window=1_000_000,
        max_output=100_000,
        input=D("3.00"),
        cached_input=D("0.30"),
        cache_write=D("3.75"),
        cache_write_1h=D("6.00"),
        output=D("15.00"),
        batch_input=D("1.50"),
        batch_output=D("7.50"),
        long_context=LongContext(threshold=200_000, input=D("6.00"), output=D("22.50"), cached_input=D("0.60")),
    )
    fields.update(overrides)
    return ModelPrice(**fields)


def one_call(m: ModelPrice, input_tokens: int, output_tokens: int, **kw):
    """One call's estimate on `m` (CallTotals of a single call)."""
    totals = costing.CallTotals(m, **kw)
    totals.add(input_tokens, output_tokens)
    return totals.estimate()


def test_one_call_to_the_last_digit():
    cost = costing.cost_of(
        model(),
        Usage(input_tokens=10_000, cached_input_tokens=4_000, cache_write_tokens=1_000, cache_write_1h_tokens=500, output_tokens=777),
    )
    assert cost.input_usd == D("4500") * D("3.00") / D(1_000_000) == D("0.0135")
    assert cost.cached_input_usd == D("0.0012")
    assert cost.cache_write_usd == D("0.00375") + D("0.003")
    assert cost.output_usd == D("0.011655")
    assert cost.total_usd == D("0.0135") + D("0.0012") + D("0.00675") + D("0.011655")
    assert not cost.long_context and not cost.batch


def test_long_context_prices_the_whole_request_above_the_threshold():
    m = model()
    at = costing.cost_of(m, Usage(input_tokens=200_000, output_tokens=1000))
    above = costing.cost_of(m, Usage(input_tokens=200_001, cached_input_tokens=1, output_tokens=1000))
    assert not at.long_context and at.input_usd == D("0.6")
    assert above.long_context
    assert above.input_usd == D(200_000) * D("6.00") / D(1_000_000)
    assert above.cached_input_usd == D("0.60") / D(1_000_000)
    assert above.output_usd == D(1000) * D("22.50") / D(1_000_000)


def test_batch_halves_input_output_and_cache_rates_in_proportion():
    m = model()
    plain = costing.cost_of(m, Usage(input_tokens=1000, cached_input_tokens=100, cache_write_tokens=100, output_tokens=100))
    batch = costing.cost_of(m, Usage(input_tokens=1000, cached_input_tokens=100, cache_write_tokens=100, output_tokens=100), batch=True)
    assert batch.batch
    assert batch.input_usd * 2 == plain.input_usd
    assert batch.cached_input_usd * 2 == plain.cached_input_usd
    assert batch.cache_write_usd * 2 == plain.cache_write_usd
    assert batch.output_usd * 2 == plain.output_usd


def test_batch_on_a_model_without_batch_api_is_flagged_and_priced_normally():
    m = model(batch_input=None, batch_output=None)
    row = one_call(m, 100, 10, batch=True)
    assert row.batch_unavailable and not row.cost.batch
    assert row.cost.total_usd == D(100) * D(3) / D(10**6) + D(10) * D(15) / D(10**6)


def test_approximate_models_scale_the_base_count_and_round_half_up():
    m = model(tokenizer=Tokenizer(encoding="o200k_base", factor=D("1.18"), source="measured"))
    assert costing.model_tokens(m, {"o200k_base": 429}) == 506  # 506.22
    assert costing.model_tokens(m, {"o200k_base": 25}) == 30  # 29.5 rounds up
    assert costing.model_tokens(m, {"o200k_base": 0}) == 0


def test_context_fit_checks_input_cap_output_cap_and_window():
    m = model(context_window=400_000, max_input=272_000, max_output=128_000)
    rows = {
        n: one_call(m, n, out)
        for n, out in [(100_000, 1000), (272_001, 1000), (200_000, 128_001), (271_000, 128_000)]
    }
    assert rows[100_000].fits and rows[100_000].problems == []
    assert not rows[272_001].fits and "max input" in rows[272_001].problems[0]
    assert not rows[200_000].fits and "max output" in rows[200_000].problems[0]
    assert rows[271_000].fits and rows[271_000].context_share == D("0.9975")


def test_cached_tokens_are_capped_at_the_prompt_and_calls_multiply():
    row = one_call(model(), 50, 0, cached_tokens=1000, calls=1000)
    assert row.cached_input_tokens == 50
    assert row.total_usd == row.cost.total_usd * 1000 == D(50) * D("0.30") / D(10**6) * 1000


tokens_st = st.integers(0, 150_000)


@given(a=tokens_st, b=tokens_st, out=st.integers(0, 50_000))
def test_cost_is_additive_and_monotone_below_the_threshold(a, b, out):
    m = model()
    ca = costing.cost_of(m, Usage(input_tokens=a, output_tokens=out)).total_usd
    cb = costing.cost_of(m, Usage(input_tokens=b)).total_usd
    cab = costing.cost_of(m, Usage(input_tokens=a + b, output_tokens=out)).total_usd
    if a + b <= 200_000:
        assert cab == ca + cb
    assert cab >= ca


@given(n=st.integers(0, 3_000_000), price=st.decimals(min_value=0, max_value=500, places=6))
def test_no_rounding_ever_happens_in_the_core(n, price):
    m = model(input=price, long_context=None, batch_input=None, batch_output=None, cached_input=None)
    cost = costing.cost_of(m, Usage(input_tokens=n))
    assert cost.input_usd * D(1_000_000) == D(n) * price


@pytest.mark.parametrize("key", costing.SORT_KEYS)
def test_sort_keys(key):
    rows = [one_call(model(id="b", input=D(1)), 10, 0), one_call(model(id="a", input=D(2)), 10, 0)]
    got = [r.model for r in costing.sort_rows(rows, key)]
    assert got == (["b", "a"] if key in ("cost", "tokens", "provider") else ["a", "b"])


# --- CallTotals ---------------------------------------------------------------------------------


@given(
    st.lists(st.tuples(st.integers(0, 900), st.integers(0, 400)), min_size=1, max_size=30),
    st.integers(0, 200),
    st.booleans(),
)
def test_call_totals_equal_the_sum_of_single_calls(calls, cached, batch):
    m = model(context_window=1_000, max_output=300, long_context=LongContext(threshold=400, input=D("6.00"), output=D("22.50"), cached_input=D("0.60")))
    totals = costing.CallTotals(m, cached_tokens=cached, batch=batch, calls=7)
    for i, (inp, out) in enumerate(calls):
        totals.add(inp, out, where=f"f:{i}")
    row = totals.estimate()
    singles = [
        costing.cost_of(m, Usage(input_tokens=i, cached_input_tokens=min(cached, i), output_tokens=o), batch=batch) for i, o in calls
    ]
    assert row.cost.input_usd == sum((c.input_usd for c in singles), D(0))
    assert row.cost.cached_input_usd == sum((c.cached_input_usd for c in singles), D(0))
    assert row.cost.output_usd == sum((c.output_usd for c in singles), D(0))
    assert row.total_usd == row.cost.total_usd * 7
    assert row.input_tokens == sum(i for i, _ in calls)
    assert row.cost.long_context == any(i > 400 for i, _ in calls)
    assert row.fits == all(i <= 1000 and o <= 300 and i + o <= 1000 for i, o in calls)


def test_one_call_is_priced_as_cost_of_prices_it():
    m = model(context_window=1_000, max_output=300, long_context=LongContext(threshold=400, input=D("6.00"), output=D("22.50"), cached_input=D("0.60")))
    for inp, out in [(100, 50), (500, 10), (990, 200)]:
        totals = costing.CallTotals(m, cached_tokens=30, calls=5)
        totals.add(inp, out)
        row = totals.estimate()
        cost = costing.cost_of(m, Usage(input_tokens=inp, cached_input_tokens=30, output_tokens=out))
        assert row.cost == cost and row.total_usd == cost.total_usd * 5
        assert (row.input_tokens, row.cached_input_tokens, row.output_tokens) == (inp, 30, out)
        assert row.context_share == (D(inp + out) / D(1000)).quantize(D("0.000001"))
        assert row.problems == costing.fit_problems(m, inp, out)
