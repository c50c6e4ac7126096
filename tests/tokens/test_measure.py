"""Counted requests: every input's requests counted once per encoding, in one pool, in order."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.chatdata import COOKBOOK_MESSAGES, COOKBOOK_MESSAGES_TOTALS, write_json, write_jsonl
from tests.conftest import PRICING_DIR
from tokopt import pricing, tokens
from tokopt.errors import InputError
from tokopt.inputs import Source
from tokopt.requests import parse
from tokopt.requests.read import ReadOptions, open_inputs
from tokopt.tokens import billing, measure

BOTH = ("cl100k_base", "o200k_base")


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def src(path) -> Source:
    return Source(path.name, path, path.stat().st_size)


def counted(paths, encodings=BOTH, **kw):
    opened = open_inputs([src(p) for p in paths], ReadOptions(**kw.pop("read", {})))
    return opened, list(measure.count(opened, lambda _: encodings, **kw))


def test_plain_text_is_its_exact_tokens_with_no_chat_overhead(tmp_path, reference, catalog):
    text = "Hello, world! <|endoftext|> is plain text here.\r\nnaïve café 日本語 👍\n"
    (tmp_path / "p.txt").write_bytes(text.encode())
    _, [(index, c)] = counted([tmp_path / "p.txt"])
    assert index == 0 and isinstance(c, measure.CountedText)
    for name in BOTH:
        exact = len(reference[name].encode(text, disallowed_special=()))
        assert c.text_tokens(name) == c.chat_tokens(name) == exact
    assert (c.chars, c.bytes, c.n_messages, c.not_counted()) == (len(text), len(text.encode()), 1, [])
    gpt, claude = catalog.get("gpt-4o"), catalog.get("claude-opus-4-8")
    assert c.model_input(gpt).tokens == c.text_tokens("o200k_base") and not c.model_input(gpt).approximate
    assert c.model_input(claude).tokens == measure.model_tokens(claude, c.sums) and c.model_input(claude).approximate


def test_a_large_text_streams_in_segments_and_counts_as_a_whole(tmp_path):
    text = ("The quick brown fox jumps over the lazy dog. 0123456789\n" * 12_000) + "tail without newline"
    assert len(text) > 4 * tokens.SEGMENT_CHARS
    (tmp_path / "big.txt").write_text(text, encoding="utf-8")
    seen: list[int] = []
    _, [(_, c)] = counted([tmp_path / "big.txt"], ("o200k_base",), on_bytes=seen.append, keep_text=True)
    assert c.text_tokens("o200k_base") == tokens.count(text, "o200k_base")
    assert sum(seen) == c.bytes == len(text.encode()) and c.text == text


def test_chat_requests_are_counted_by_the_billing_rules(tmp_path, catalog):
    path = write_json(tmp_path / "chat.json", {"model": "gpt-4o", "max_tokens": 300, "messages": COOKBOOK_MESSAGES})
    _, [(_, c)] = counted([path])
    assert isinstance(c, billing.Counted)
    assert c.model_input(catalog.get("gpt-4o")).tokens == COOKBOOK_MESSAGES_TOTALS["gpt-4o"]
    assert c.chat_tokens("cl100k_base") == COOKBOOK_MESSAGES_TOTALS["gpt-4"]
    assert (c.request.model, c.request.max_output_tokens, c.n_messages) == ("gpt-4o", 300, 6)


def test_every_input_in_order_through_one_pool(tmp_path):
    (tmp_path / "a.txt").write_text("first prompt", encoding="utf-8")
    rows = [{"messages": [{"role": "user", "content": f"request {i} " * i}]} for i in range(1, 6)]
    write_jsonl(tmp_path / "b.jsonl", rows)
    (tmp_path / "c.txt").write_text("", encoding="utf-8")
    opened, items = counted([tmp_path / "a.txt", tmp_path / "b.jsonl", tmp_path / "c.txt"])
    assert [i for i, _ in items] == [0, 1, 1, 1, 1, 1, 2]
    assert [c.request.line for _, c in items[1:6]] == [1, 2, 3, 4, 5]
    expected = billing.count_requests([parse.parse_document(r, "x") for r in rows], BOTH)
    assert [c.text_tokens("o200k_base") for _, c in items[1:6]] == [e.text_tokens("o200k_base") for e in expected]
    assert items[6][1].text_tokens("o200k_base") == 0 and items[6][1].chars == 0  # an empty file counts, as zero
    assert opened[1].kind == "requests" and opened[1].lines == 5


def test_a_request_the_caller_cannot_count_is_a_skipped_line_or_an_error(tmp_path):
    rows = [{"model": m, "messages": [{"role": "user", "content": "hi"}]} for m in ("gpt-4o", "nope", "gpt-4o")]
    path = write_jsonl(tmp_path / "r.jsonl", rows)

    def encodings_for(request):
        if request.model == "nope":
            raise InputError(f"{request.where}: no price for 'nope'")
        return ("o200k_base",)

    opened = open_inputs([src(path)], ReadOptions(keep_going=True))
    items = list(measure.count(opened, encodings_for))
    assert [c.request.line for _, c in items] == [1, 3]
    assert opened[0].line_errors == ["r.jsonl:2: no price for 'nope'"]
    with pytest.raises(InputError, match="r.jsonl:2: no price"):
        list(measure.count(open_inputs([src(path)]), encodings_for))


def test_count_inputs_keeps_every_input_even_one_without_requests(tmp_path):
    (tmp_path / "p.txt").write_text("a prompt", encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text("[1]\n[2]\n", encoding="utf-8")
    found = measure.count_inputs([src(tmp_path / "p.txt"), src(tmp_path / "bad.jsonl")], ["o200k_base"], options=ReadOptions(keep_going=True), keep_text=True)
    assert [len(f.requests) for f in found] == [1, 0]
    assert found[0].requests[0].text == "a prompt" and found[1].input.skipped == 2


def test_count_sources_reads_every_source_as_text(tmp_path):
    write_json(tmp_path / "chat.json", {"messages": COOKBOOK_MESSAGES})
    (count,) = measure.count_sources([src(tmp_path / "chat.json")], ["o200k_base"])
    text = (tmp_path / "chat.json").read_text(encoding="utf-8")
    assert count.tokens == {"o200k_base": tokens.count(text, "o200k_base")} and count.chars == len(text)


def test_count_more_counts_kept_requests_in_more_encodings_without_reading_again(tmp_path):
    text = "The quick brown fox. " * 20_000
    (tmp_path / "p.txt").write_text(text, encoding="utf-8")
    path = write_json(tmp_path / "chat.json", {"messages": COOKBOOK_MESSAGES})
    found = measure.count_inputs([src(tmp_path / "p.txt"), src(path)], [], keep_text=True)
    counted = [c for f in found for c in f.requests]
    assert all(not c.sums for c in counted)  # read and kept, not counted
    (tmp_path / "p.txt").unlink()
    path.unlink()  # nothing is read again
    measure.count_more(counted, BOTH)
    text_req, chat_req = counted
    assert {e: text_req.text_tokens(e) for e in BOTH} == {e: tokens.count(text, e) for e in BOTH}
    assert chat_req.chat_tokens("o200k_base") == COOKBOOK_MESSAGES_TOTALS["gpt-4o"]
    assert chat_req.chat_tokens("cl100k_base") == COOKBOOK_MESSAGES_TOTALS["gpt-4"]
    measure.count_more(counted, BOTH)  # nothing missing: nothing changes
    assert text_req.text_tokens("o200k_base") == tokens.count(text, "o200k_base")


@given(base=st.integers(0, 10**9), num=st.integers(1, 10**6), places=st.integers(0, 6))
def test_an_approximate_models_tokens_are_the_count_times_its_factor_rounded_half_up(catalog, base, num, places):
    import decimal

    factor = D(num).scaleb(-places)
    approx = next(m for m in catalog if not m.tokenizer.exact)
    model = approx.model_copy(update={"tokenizer": approx.tokenizer.model_copy(update={"factor": factor})})
    with decimal.localcontext(decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)):
        expected = int((D(base) * factor).to_integral_value())
    assert measure.model_tokens(model, {model.tokenizer.encoding: base}) == expected
