"""The one usage record: token kinds declared once, checked once, priced from the list."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import PRICING_DIR
from tokopt.costing import cost_of
from tokopt.pricing import load_catalog
from tokopt.usage import KIND, MAX_TOKENS, TOKEN_FIELDS, TOKEN_KINDS, InvalidUsage, Usage, UsageRecord

CATALOG = load_catalog(PRICING_DIR)


def test_every_usage_field_is_a_token_kind_and_every_part_has_a_whole():
    assert TOKEN_FIELDS == tuple(f.name for f in dataclasses.fields(Usage))
    assert [f.name for f in dataclasses.fields(UsageRecord)][: len(TOKEN_FIELDS)] == list(TOKEN_FIELDS)
    for kind in TOKEN_KINDS:
        assert kind.part_of is None or KIND[kind.part_of].part_of is None
        assert kind.fallback is None or kind.fallback in KIND
        assert (kind.rate is None) == (kind.bucket is None)


@pytest.mark.parametrize(
    "counts, message",
    [
        ({"input_tokens": -1}, "input_tokens must be a whole number of tokens"),
        ({"output_tokens": 1.5}, "output_tokens must be a whole number of tokens"),
        ({"input_tokens": True}, "input_tokens must be a whole number of tokens"),
        ({"input_tokens": 10, "cached_input_tokens": 8, "cache_write_1h_tokens": 5}, r"cached and cache-write tokens \(13\) exceed the input tokens \(10\)"),
        ({"output_tokens": 1, "reasoning_tokens": 2_000}, r"reasoning tokens \(2,000\) exceed the output tokens \(1\)"),
    ],
)
def test_impossible_counts_are_one_clear_input_error(counts, message):
    with pytest.raises(InvalidUsage, match=message) as err:
        Usage(**counts)
    assert isinstance(err.value, ValueError) and err.value.exit_code == 2


def test_one_call_has_at_most_max_tokens_but_a_sum_may_have_more():
    Usage(input_tokens=MAX_TOKENS).check_call()
    with pytest.raises(InvalidUsage, match="input_tokens is more than"):
        Usage(input_tokens=MAX_TOKENS + 1).check_call()


calls = st.integers(0, 10**7).flatmap(
    lambda inp: st.tuples(st.just(inp), st.integers(0, inp)).flatmap(
        lambda t: st.tuples(st.just(t[0]), st.just(t[1]), st.integers(0, t[0] - t[1])).flatmap(
            lambda u: st.tuples(st.just(u[0]), st.just(u[1]), st.just(u[2]), st.integers(0, u[0] - u[1] - u[2]), st.integers(0, 10**6))
        )
    )
)


@given(call=calls, batch=st.booleans(), model=st.sampled_from(["claude-opus-4-8", "gpt-5.5", "gemini-2.5-pro", "claude-sonnet-4-6"]))
def test_the_cost_is_each_kind_at_its_rate(call, batch, model):
    inp, cached, write, write_1h, out = call
    price = CATALOG.get(model)
    usage = Usage(input_tokens=inp, cached_input_tokens=cached, cache_write_tokens=write, cache_write_1h_tokens=write_1h, output_tokens=out)
    cost = cost_of(price, usage, batch=batch)
    # by hand, at standard rates (no call here passes a long-context threshold of these models
    # unless it does: then the whole call is at the long-context rates, which cost_of says)
    if not cost.long_context and not (batch and price.has_batch):
        cw = price.cache_write if price.cache_write is not None else price.input
        by_hand = (
            Decimal(inp - cached - write - write_1h) * price.input
            + Decimal(cached) * (price.cached_input if price.cached_input is not None else price.input)
            + Decimal(write) * cw
            + Decimal(write_1h) * (price.cache_write_1h if price.cache_write_1h is not None else cw)
            + Decimal(out) * price.output
        ) / Decimal(1_000_000)
        assert cost.total_usd == by_hand
    # a record prices as its usage does
    record = UsageRecord(model=model, **usage.tokens(), batch=batch)
    assert cost_of(price, record, batch=batch) == cost


def test_replace_keeps_every_field_and_checks_the_counts():
    rec = UsageRecord(model="m", input_tokens=10, cached_input_tokens=4, output_tokens=3, reasoning_tokens=1, dedupe_key="k", batch=True)
    assert rec.replace(user="u") == dataclasses.replace(rec, user="u")
    with pytest.raises(InvalidUsage):
        rec.replace(cached_input_tokens=11)
