"""Chat counts: OpenAI's published totals, exactness against tiktoken, and the stated approximations."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from tests.chatdata import (
    COOKBOOK_MESSAGES,
    COOKBOOK_MESSAGES_TOTALS,
    COOKBOOK_TOOL_MESSAGES,
    COOKBOOK_TOOL_TOTALS,
    COOKBOOK_TOOLS,
    data_url,
    png,
)
from tests.conftest import PRICING_DIR
from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt import pricing, tokens
from tokopt.tokens import approx, billing
from tokopt.requests import parse


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def counted(request: dict | list, encodings=("o200k_base", "cl100k_base")) -> billing.Counted:
    (c,) = billing.count_requests([parse.parse_document(request, "t.json")], list(encodings))
    return c


# --- the cookbook's API-confirmed totals ------------------------------------------------------


@pytest.mark.parametrize(("model_id", "total"), COOKBOOK_MESSAGES_TOTALS.items())
def test_cookbook_messages_match_the_api(catalog, model_id, total):
    model = catalog.get(model_id)
    result = counted(COOKBOOK_MESSAGES).model_input(model)
    assert (result.tokens, result.approximate) == (total, False)


@pytest.mark.parametrize(("model_id", "total"), COOKBOOK_TOOL_TOTALS.items())
def test_cookbook_tools_match_the_api(catalog, model_id, total):
    model = catalog.get(model_id)
    result = counted({"model": model_id, "messages": COOKBOOK_TOOL_MESSAGES, "tools": COOKBOOK_TOOLS}).model_input(model)
    assert (result.tokens, result.approximate) == (total, False)


# --- exact against tiktoken, on any conversation -----------------------------------------------

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "developer", "user", "assistant"]), "content": st.one_of(text, st.lists(text, max_size=3))},
    optional={"name": st.from_regex(r"[a-z_]{1,12}", fullmatch=True)},
)


def reference_chat(reference, name: str, messages: list[dict]) -> int:
    """OpenAI's formula, recomputed with tiktoken itself."""
    enc = reference[name]

    def n(s: str) -> int:
        return len(enc.encode(s, disallowed_special=()))

    total = 3
    for m in messages:
        total += 3 + n(m["role"])
        parts = [m["content"]] if isinstance(m["content"], str) else m["content"]
        total += sum(n(p) for p in parts)
        if "name" in m:
            total += n(m["name"]) + 1
    return total


@settings(max_examples=60)
@given(st.lists(message, min_size=1, max_size=6))
def test_openai_counts_equal_tiktoken_recomputation(reference, messages):
    request = [
        {**m, "content": m["content"] if isinstance(m["content"], str) else [{"type": "text", "text": t} for t in m["content"]]}
        for m in messages
    ]
    c = counted(request)
    for name in ("o200k_base", "cl100k_base"):
        assert c.openai_tokens(name) == reference_chat(reference, name, messages)


# --- what is approximate, and says so ------------------------------------------------------------


def test_other_providers_scale_text_and_add_the_overhead(catalog):
    claude = catalog.get("claude-sonnet-4-5")
    gemini = catalog.get("gemini-3.5-flash")
    c = counted(COOKBOOK_MESSAGES)
    text = c.text_tokens("o200k_base")
    names = sum(1 for m in COOKBOOK_MESSAGES if "name" in m)
    # the messages' names and contents, in order, are the text whose content classes weigh the factors
    texts = [t for m in COOKBOOK_MESSAGES for t in (m.get("name"), m["content"]) if t]
    assert c.content() == approx.classify("\n".join(texts))
    for model in (claude, gemini):
        scaled = approx.estimate(model.tokenizer, text, c.content())
        result = c.model_input(model)
        overhead = 3 * len(COOKBOOK_MESSAGES) + names + 3
        assert (result.low, result.tokens, result.high) == (scaled.low + overhead, scaled.tokens + overhead, scaled.high + overhead)
        assert result.approximate and result.low < result.tokens < result.high


def test_anthropic_adds_its_tool_prompt_by_tool_choice(catalog):
    claude = catalog.get("claude-sonnet-4-5")
    tools = [{"name": "grep", "description": "Search", "input_schema": {"type": "object", "properties": {}}}]
    base = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}
    plain = counted(base).model_input(claude).tokens
    auto = counted({**base, "tools": tools}).model_input(claude).tokens
    forced = counted({**base, "tools": tools, "tool_choice": {"type": "any"}}).model_input(claude).tokens
    assert auto - forced == 346 - 313
    assert auto - plain > 346  # the prompt, plus the definition's own tokens


def test_images_by_each_providers_rule(catalog):
    image = data_url(png(1024, 1024), "image/png")
    request = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Describe."}, {"type": "image_url", "image_url": {"url": image}}]}]}
    c = counted(request)
    text_only = c.openai_tokens("o200k_base")
    gpt4o = c.model_input(catalog.get("gpt-4o"))
    assert gpt4o.tokens == text_only + 765 and gpt4o.image_tokens == 765 and not gpt4o.uncounted
    claude = c.model_input(catalog.get("claude-sonnet-4-5"))
    assert claude.image_tokens == math.ceil(1024 / 28) ** 2  # 37 x 37 patches, not scaled by the factor
    gemini = c.model_input(catalog.get("gemini-3.5-flash"))
    assert gemini.image_tokens == 0 and gemini.uncounted == ("message 1: 1024x1024 image/png (no published image rule for gemini-3.5-flash)",)
    old = c.model_input(catalog.get("gpt-4"))
    assert old.uncounted and "no published image rule" in old.uncounted[0]


def test_images_of_unknown_size_are_listed_not_zero():
    c = counted({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]})
    assert billing.unsized_images(c.plan) == ["message 1: image URL — a URL: its size is not known offline"]


# --- per turn -----------------------------------------------------------------------------------


@settings(max_examples=30)
@given(st.lists(message, min_size=1, max_size=6), st.sampled_from(["gpt-4o", "gpt-4", "claude-opus-4-8", "gemini-2.5-pro", "claude-haiku-4-5"]))
def test_turns_add_up_to_the_whole(catalog, messages, model_id):
    request = [{**m, "content": m["content"] if isinstance(m["content"], str) else " ".join(m["content"])} for m in messages]
    c = counted(request)
    model = catalog.get(model_id)
    own, content, fixed = c.turn_tokens(model)
    assert sum(own) + fixed == c.model_input(model).tokens
    assert all(0 <= x for x in content)


# --- counting in batches --------------------------------------------------------------------------


def test_count_batches_equals_single_counts_in_order(reference):
    # the last text is one long piece with no place to cut (a few thousand characters: the same
    # path as megabytes, for which tiktoken's own count takes most of a minute)
    texts = [f"message number {i} " * (i % 7) for i in range(300)] + ["x" * 5000 + " end"]
    batches = [(k, texts[k::5], ["o200k_base", "cl100k_base"]) for k in range(5)]
    for expected_chars in (100, 10**9):  # on this thread, and on all cores
        got = list(tokens.count_batches(iter(batches), expected_chars=expected_chars))
        assert [k for k, _ in got] == list(range(5))
        for (_, counts), (_, batch, _) in zip(got, batches, strict=True):
            for name in ("o200k_base", "cl100k_base"):
                assert counts[name] == [len(reference[name].encode(t, disallowed_special=())) for t in batch]


def test_several_text_parts_in_a_message_are_marked_and_json_mode_has_no_schema():
    parts = [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]
    c = counted({"messages": [{"role": "user", "content": parts}], "response_format": {"type": "json_object"}})
    assert c.plan.approximations == ["several text parts in one message: each counted on its own (how the API joins them is not published)"]
    assert c.plan.conversation.response_format is None
