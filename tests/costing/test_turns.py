"""The per-turn view: every reply of a conversation priced as the call that produced it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.chatdata import write_json, write_jsonl
from tests.conftest import PRICING_DIR
from tokopt import costing, pricing
from tokopt.costing import pipeline
from tokopt.inputs import Source
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
    report = pipeline.estimate([src(path)], catalog, options(catalog, by_turn=True))
    (table,) = report.turns
    gpt4o = catalog.get("gpt-4o")
    rows = table.rows
    assert [r.role for r in rows] == ["system", "user", "assistant", "user", "assistant", "user", "assistant"]
    assert rows[-1].pending and table.calls == 3
    replies = [r for r in rows if r.input_tokens is not None]
    # each call reads everything before it; the last one is the request itself
    assert replies[0].input_tokens == table.fixed_tokens + rows[0].tokens + rows[1].tokens
    assert replies[-1].input_tokens == report.models[0].input_tokens
    assert replies[-1].call_usd == report.models[0].cost.total_usd
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
    report = pipeline.estimate([src(path)], catalog, options(catalog, by_turn=True))
    (table,) = report.turns
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
    report = pipeline.estimate([src(path)], catalog, options(catalog, by_turn=True))
    assert report.turns == [] and "holds 2 requests" in report.notes[0]
