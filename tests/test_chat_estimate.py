"""Pricing request files: totals that equal their parts, request defaults, per-turn rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from tests.chatdata import COOKBOOK_MESSAGES, write_json, write_jsonl
from tests.conftest import PRICING_DIR
from hypothesis import given
from hypothesis import strategies as st

from tokopt import costing, pricing, tokens
from tokopt.tokens import billing
from tokopt.costing import pipeline
from tokopt.requests import parse
from tokopt.errors import InputError
from tokopt.inputs import Source
from tokopt.pricing.model import LongContext, ModelPrice, Tier, Tokenizer
from tokopt.usage import Usage


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def options(catalog, **kw) -> pipeline.Options:
    base = dict(
        selected=None,
        defaults=catalog.select(["gpt-4o", "claude-sonnet-4-5"]),
        output_tokens=None,
        default_output=500,
        default_output_from="default",
        calls=1000,
    )
    base.update(kw)
    return pipeline.Options(**base)


def src(path) -> Source:
    return Source(path.name, path, path.stat().st_size)


def model(**overrides) -> ModelPrice:
    fields = dict(
        id="m",
        provider="p",
        as_of=dt.date(2026, 7, 18),
        source="test",
        tier=Tier.strong,
        tokenizer=Tokenizer(encoding="o200k_base", exact=True),
        context_window=1_000,
        max_output=300,
        input=D("3.00"),
        cached_input=D("0.30"),
        output=D("15.00"),
        batch_input=D("1.50"),
        batch_output=D("7.50"),
        long_context=LongContext(threshold=400, input=D("6.00"), output=D("22.50"), cached_input=D("0.60")),
    )
    fields.update(overrides)
    return ModelPrice(**fields)


# --- CallTotals ---------------------------------------------------------------------------------


@given(
    st.lists(st.tuples(st.integers(0, 900), st.integers(0, 400)), min_size=1, max_size=30),
    st.integers(0, 200),
    st.booleans(),
)
def test_call_totals_equal_the_sum_of_single_calls(calls, cached, batch):
    m = model()
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
    m = model()
    for inp, out in [(100, 50), (500, 10), (990, 200)]:
        totals = costing.CallTotals(m, cached_tokens=30, calls=5)
        totals.add(inp, out)
        row = totals.estimate()
        cost = costing.cost_of(m, Usage(input_tokens=inp, cached_input_tokens=30, output_tokens=out))
        assert row.cost == cost and row.total_usd == cost.total_usd * 5
        assert (row.input_tokens, row.cached_input_tokens, row.output_tokens) == (inp, 30, out)
        assert row.context_share == (D(inp + out) / D(1000)).quantize(D("0.000001"))
        assert row.problems == costing.fit_problems(m, inp, out)


# --- estimate_inputs -----------------------------------------------------------------------------


def test_a_request_prices_on_its_own_model_and_max_tokens(tmp_path, catalog):
    path = write_json(tmp_path / "chat.json", {"model": "gpt-4o", "max_tokens": 256, "messages": COOKBOOK_MESSAGES})
    result = pipeline.estimate_inputs([src(path)], catalog, options(catalog))
    (row,) = result.report.models
    assert (row.model, row.input_tokens, row.output_tokens) == ("gpt-4o", 124, 256)
    assert result.report.assumptions.output_tokens_from == "request"
    assert result.report.assumptions.output_tokens == 256
    assert result.inputs[0].format == "openai" and result.inputs[0].request_models == ["gpt-4o"]


def test_the_command_line_wins_over_the_request(tmp_path, catalog):
    path = write_json(tmp_path / "chat.json", {"model": "gpt-4o", "max_tokens": 256, "messages": COOKBOOK_MESSAGES})
    chosen = catalog.select(["gpt-4", "claude-opus-4-8"])
    result = pipeline.estimate_inputs([src(path)], catalog, options(catalog, selected=chosen, output_tokens=10))
    rows = {r.model: r for r in result.report.models}
    assert set(rows) == {"gpt-4", "claude-opus-4-8"}
    assert rows["gpt-4"].input_tokens == 129 and rows["gpt-4"].output_tokens == 10


def test_a_batch_file_is_the_sum_of_its_requests_at_batch_prices(tmp_path, catalog):
    rows = []
    for i in range(40):
        messages = [{"role": "system", "content": "Classify the ticket."}, {"role": "user", "content": f"Ticket {i}: " + "printer jam " * i}]
        rows.append({"custom_id": f"t{i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "max_tokens": 5 + i, "messages": messages}})
    path = write_jsonl(tmp_path / "batch.jsonl", rows)
    seen = []
    result = pipeline.estimate_inputs([src(path)], catalog, options(catalog), on_bytes=seen.append)
    (row,) = result.report.models
    mini = catalog.get("gpt-4o-mini")
    expected_in = expected_cost = 0
    for r in rows:
        req = parse.parse_document(r, "x")
        (c,) = billing.count_requests([req], ["o200k_base"])
        n = c.model_input(mini).tokens
        expected_in += n
        expected_cost += costing.cost_of(mini, Usage(input_tokens=n, output_tokens=r["body"]["max_tokens"]), batch=True).total_usd
    assert row.input_tokens == expected_in
    assert row.output_tokens == sum(5 + i for i in range(40))
    assert row.cost.total_usd == expected_cost
    assert row.cost.batch and result.report.assumptions.batch
    summary = result.inputs[0]
    assert (summary.format, summary.requests, summary.messages, summary.batch) == ("batch", 40, 80, True)
    assert len(seen) == 40 and sum(seen) == path.stat().st_size  # read line by line


def test_unknown_request_model_is_an_error_or_a_skipped_line(tmp_path, catalog):
    path = write_json(tmp_path / "chat.json", {"model": "gpt-9-ultra", "messages": COOKBOOK_MESSAGES})
    with pytest.raises(InputError) as err:
        pipeline.estimate_inputs([src(path)], catalog, options(catalog))
    assert err.value.message == "chat.json: the request's model 'gpt-9-ultra' has no price in the catalog"
    assert "--model" in err.value.hint

    good = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    path = write_jsonl(tmp_path / "reqs.jsonl", [good, {"model": "gpt-9-ultra", "messages": []}, good])
    result = pipeline.estimate_inputs([src(path)], catalog, options(catalog, keep_going=True))
    summary = result.inputs[0]
    assert (summary.requests, summary.skipped) == (2, 1)
    assert summary.line_errors == ["reqs.jsonl:2: the request's model 'gpt-9-ultra' has no price in the catalog"]


def test_nothing_to_estimate_when_every_line_is_bad(tmp_path, catalog):
    path = tmp_path / "bad.jsonl"
    path.write_text("[1]\n[2]\n", encoding="utf-8")
    with pytest.raises(InputError, match="nothing to estimate"):
        pipeline.estimate_inputs([src(path)], catalog, options(catalog, keep_going=True))


def test_text_and_requests_together(tmp_path, catalog):
    text = tmp_path / "prompt.txt"
    text.write_text("Summarise the meeting notes.", encoding="utf-8")
    chat = write_json(tmp_path / "chat.json", {"messages": COOKBOOK_MESSAGES})
    result = pipeline.estimate_inputs([src(text), src(chat)], catalog, options(catalog))
    assert [i.format for i in result.inputs] == ["text", "openai"]
    per_file = {f.source: {r.model: r.input_tokens for r in f.models} for f in result.report.per_file}
    assert per_file["chat.json"]["gpt-4o"] == 124
    plain = tokens.count("Summarise the meeting notes.", "o200k_base")
    assert per_file["prompt.txt"]["gpt-4o"] == plain  # plain text: no chat overhead, as before
    total = {r.model: r.input_tokens for r in result.report.models}
    assert total["gpt-4o"] == 124 + plain


# --- per turn -----------------------------------------------------------------------------------


def test_turns_bill_every_reply_as_a_call(tmp_path, catalog):
    long = "context " * 1500  # over the 1,024-token minimum of OpenAI's prompt cache
    messages = [
        {"role": "system", "content": long},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": "second answer"},
        {"role": "user", "content": "third question"},
    ]
    path = write_json(tmp_path / "chat.json", {"model": "gpt-4o", "max_tokens": 100, "messages": messages})
    result = pipeline.estimate_inputs([src(path)], catalog, options(catalog, by_turn=True))
    (table,) = result.turns
    gpt4o = catalog.get("gpt-4o")
    rows = table.rows
    assert [r.role for r in rows] == ["system", "user", "assistant", "user", "assistant", "user", "assistant"]
    assert rows[-1].pending and table.calls == 3
    replies = [r for r in rows if r.input_tokens is not None]
    # each call reads everything before it; the last one is the request itself
    assert replies[0].input_tokens == table.fixed_tokens + rows[0].tokens + rows[1].tokens
    assert replies[-1].input_tokens == result.report.models[0].input_tokens
    assert replies[-1].call_usd == result.report.models[0].cost.total_usd
    assert replies[1].cached_input_tokens == replies[0].input_tokens // 128 * 128
    assert replies[0].cached_input_tokens == 0
    assert table.total_usd == sum((r.call_usd for r in replies), D(0)) == replies[-1].cumulative_usd
    assert table.total_cached_usd < table.total_usd
    expected = costing.cost_of(
        gpt4o,
        Usage(input_tokens=replies[1].input_tokens, cached_input_tokens=replies[1].cached_input_tokens, output_tokens=replies[1].output_tokens),
    ).total_usd
    assert replies[1].call_cached_usd == expected


def test_anthropic_turns_pay_for_cache_writes(tmp_path, catalog):
    messages = [{"role": "user", "content": "word " * 3000}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "more"}]
    path = write_json(tmp_path / "chat.json", {"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": messages})
    result = pipeline.estimate_inputs([src(path)], catalog, options(catalog, by_turn=True))
    (table,) = result.turns
    first, second = [r for r in table.rows if r.input_tokens is not None]
    claude = catalog.get("claude-sonnet-4-5")
    assert table.approximate
    assert first.call_cached_usd > first.call_usd  # the first call writes the cache at 1.25x
    assert second.cached_input_tokens == first.input_tokens
    assert second.call_cached_usd == costing.cost_of(
        claude,
        Usage(
            input_tokens=second.input_tokens,
            cached_input_tokens=first.input_tokens,
            cache_write_tokens=second.input_tokens - first.input_tokens,
            output_tokens=second.output_tokens,
        ),
    ).total_usd


def test_by_turn_needs_one_conversation(tmp_path, catalog):
    path = write_jsonl(tmp_path / "r.jsonl", [{"messages": [{"role": "user", "content": "a"}]}] * 2)
    result = pipeline.estimate_inputs([src(path)], catalog, options(catalog, by_turn=True))
    assert result.turns == [] and "holds 2 requests" in result.notes[0]
