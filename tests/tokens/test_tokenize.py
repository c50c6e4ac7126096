"""What tokenize counts: text and chat-format tokens per input, a model's, pieces and ids."""

from __future__ import annotations

import pytest

from tests.chatdata import COOKBOOK_MESSAGES, COOKBOOK_MESSAGES_TOTALS, write_json, write_jsonl
from tests.conftest import PRICING_DIR
from tokopt import pricing
from tokopt.errors import InputError
from tokopt.inputs import Source
from tokopt.requests.read import ReadOptions, open_inputs
from tokopt.tokens import approx, measure
from tokopt.tokens.tokenize import ids, pieces, tokenize

BOTH = ["o200k_base", "cl100k_base"]
TEXT = "Hello, world! <|endoftext|> is plain text here.\r\nnaïve café 日本語 👍\n"


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def src(path) -> Source:
    return Source(path.name, path, path.stat().st_size)


def test_plain_text_counts_are_its_exact_tokens_in_both_columns(tmp_path, reference, catalog):
    (tmp_path / "t.txt").write_bytes(TEXT.encode())
    claude = catalog.get("claude-opus-4-8")
    report = tokenize([src(tmp_path / "t.txt")], BOTH, claude)
    (item,) = report.inputs
    assert report.plain and report.encodings == BOTH
    assert (item.format, item.requests, item.messages, item.chars, item.bytes) == ("text", 1, 1, len(TEXT), len(TEXT.encode()))
    for name in BOTH:
        assert item.tokens[name] == item.chat_tokens[name] == len(reference[name].encode(TEXT, disallowed_special=()))
    assert item.model_tokens == measure.model_tokens(claude, item.tokens, approx.classify(TEXT)) and item.model_approximate
    assert item.model_low is not None and item.model_high is not None
    assert item.model_low < item.model_tokens < item.model_high


def test_a_chat_request_adds_the_chat_format_to_its_text(tmp_path):
    path = write_json(tmp_path / "chat.json", {"model": "gpt-4o", "messages": COOKBOOK_MESSAGES})
    report = tokenize([src(path)], BOTH)
    (item,) = report.inputs
    assert not report.plain and (item.format, item.requests, item.messages) == ("openai", 1, 6)
    assert item.chat_tokens == {"o200k_base": COOKBOOK_MESSAGES_TOTALS["gpt-4o"], "cl100k_base": COOKBOOK_MESSAGES_TOTALS["gpt-4"]}
    text = "".join(t for m in COOKBOOK_MESSAGES for t in (m.get("name", ""), m["content"]))
    assert item.tokens["o200k_base"] < item.chat_tokens["o200k_base"]
    assert item.chars == len(text) and item.bytes == path.stat().st_size and item.model_tokens is None


def test_the_total_adds_up_every_input(tmp_path, catalog):
    (tmp_path / "a.txt").write_text("one two", encoding="utf-8")
    chat = write_json(tmp_path / "chat.json", {"messages": COOKBOOK_MESSAGES})
    gpt = catalog.get("gpt-4o")
    report = tokenize([src(tmp_path / "a.txt"), src(chat)], ["o200k_base"], gpt)
    a, c = report.inputs
    t = report.total
    assert t.source == "total (2 inputs)" and t.requests == 2 and t.messages == 7
    assert t.tokens["o200k_base"] == a.tokens["o200k_base"] + c.tokens["o200k_base"]
    assert t.chat_tokens["o200k_base"] == a.chat_tokens["o200k_base"] + c.chat_tokens["o200k_base"]
    assert t.model_tokens == (a.model_tokens or 0) + (c.model_tokens or 0)


def test_nothing_to_count_names_the_first_skipped_line(tmp_path):
    (tmp_path / "bad.jsonl").write_text("[1]\n[2]\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        tokenize([src(tmp_path / "bad.jsonl")], BOTH, options=ReadOptions(keep_going=True))
    assert err.value.message == "nothing to count: no input held a request (2 lines of bad.jsonl skipped; the first: bad.jsonl:1: not a JSON object (a JSON array))"


def test_pieces_and_ids_of_plain_text_and_of_each_message(tmp_path, reference):
    (tmp_path / "t.txt").write_bytes(TEXT.encode())
    rows = [{"messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "name": "ann", "content": "Hi there"}]}] * 2
    write_jsonl(tmp_path / "r.jsonl", rows)
    opened = open_inputs([src(tmp_path / "t.txt"), src(tmp_path / "r.jsonl")])
    shown = [(s, list(p)) for s, p in pieces(opened, "cl100k_base")]
    assert [(s.source, s.line, s.message, s.role) for s, _ in shown] == [
        ("t.txt", None, None, None),
        ("r.jsonl", 1, 1, "system"),
        ("r.jsonl", 1, 2, "user"),
        ("r.jsonl", 2, 1, "system"),
        ("r.jsonl", 2, 2, "user"),
    ]
    assert "".join(text for text, _ in shown[0][1]) == TEXT
    assert sum(n for _, n in shown[0][1]) == len(reference["cl100k_base"].encode(TEXT, disallowed_special=()))
    assert "".join(text for text, _ in shown[2][1]) == "annHi there"  # the name is read too

    opened = open_inputs([src(tmp_path / "t.txt")])
    assert [(s.source, e, i) for s, e, i in ids(opened, BOTH)] == [
        ("t.txt", e, reference[e].encode(TEXT, disallowed_special=())) for e in BOTH
    ]


def test_an_approximate_total_is_the_sum_of_its_rows(tmp_path, catalog):
    # 1.53 × 1 token rounds to 2 for each file; scaling the sum instead (3 × 1.53 = 4.59) gave 5
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("hi", encoding="utf-8")
    claude = catalog.get("claude-opus-4-8")
    report = tokenize([src(tmp_path / n) for n in ("a.txt", "b.txt", "c.txt")], ["o200k_base"], claude)
    assert [i.model_tokens for i in report.inputs] == [measure.model_tokens(claude, {"o200k_base": 1})] * 3 == [2, 2, 2]
    assert report.total.model_tokens == 6 and report.total.tokens == {"o200k_base": 3}
