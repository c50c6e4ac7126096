"""Rule 4, formatting: each rewrite keeps the meaning, and its saving is tiktoken's count of the rewritten text."""

from __future__ import annotations

import json
from pathlib import Path

from tokopt.optimize.rules import formatting

from ..support import REDUNDANT as TEXT
from ..support import by_id, check_invariants, run, usd


def test_rewrites_keep_meaning() -> None:
    pretty = json.dumps({"a": [1, 2.50, 1e5], "s": "two  spaces\n"}, indent=4)
    assert json.loads(formatting.minify_json(pretty)) == json.loads(pretty)
    assert "2.5" in formatting.minify_json(pretty) and "1e+05" not in formatting.minify_json(pretty)
    fenced = "Data:\n```json\n" + pretty + "\n```\nThanks\n"
    out = formatting.minify_json(fenced)
    assert out == "Data:\n```json\n" + json.dumps(json.loads(pretty), ensure_ascii=False, separators=(",", ":")) + "\n```\nThanks\n"
    assert formatting.strip_trailing("a  \nb\t\r\nc ") == "a\nb\r\nc"
    assert formatting.collapse_blank_lines("a\n\n\n\nb\r\n \r\n\r\n\r\nc") == "a\n\nb\r\n\r\nc"
    assert formatting.shorten_separators("=======\n  -----\n----\n") == "===\n  ---\n----\n"


def test_formatting_figures(tmp_path: Path, catalog, reference) -> None:
    path = tmp_path / "p.txt"
    path.write_text(TEXT, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.4", calls=250)
    check_invariants(report)
    found = by_id(report)
    model = catalog.get("gpt-5.4")
    enc = reference["o200k_base"]
    base = len(enc.encode_ordinary(TEXT))
    assert report.input_tokens == base
    expected = {
        "format.trailing-spaces": TEXT.replace("Rules:   ", "Rules:"),
        "format.blank-lines": TEXT.replace("Rules:   \n\n\n\n", "Rules:   \n\n"),
        "format.separators": TEXT.replace("==========", "==="),
    }
    for rid, new_text in expected.items():
        saved = base - len(enc.encode_ordinary(new_text))
        if saved <= 0:
            assert rid not in found
            continue
        s = found[rid]
        assert s.rule == "formatting"
        assert s.tokens_saved == saved
        assert s.cost_saved_per_call == usd(saved, model.input)
        assert s.cost_saved_total == usd(saved, model.input) * 250
        assert s.confidence == "exact" and s.assumption is None and s.rewrite


def test_json_is_minified_wherever_it_sits() -> None:
    data = {"plan": "pro", "seats": [1, 2.50], "note": "two  spaces\n{ not json"}
    pretty = json.dumps(data, indent=2)
    small = json.dumps(data, separators=(",", ":"))
    # in prose, with no fence
    assert formatting.minify_json("Use this data:\n" + pretty + "\nAnswer briefly.") == "Use this data:\n" + small + "\nAnswer briefly."
    # indented, twice, with prose between
    text = "A:\n  " + pretty + "\nthen B:\n" + pretty + "\n"
    assert formatting.minify_json(text) == "A:\n  " + small + "\nthen B:\n" + small + "\n"
    # one-line JSON in prose, and brackets that are not JSON, stay as written
    for kept in ('Reply as {"label": "x"} only.\n', "[1]: https://example.com\n[see above]\n", "{\n  broken: yes\n}\n"):
        assert formatting.minify_json(kept) == kept


def test_a_broken_document_with_many_starts_is_bounded() -> None:
    # every line starts an array that never closes: trying each would read the text once per line
    text = "[\n" * 20_000 + "x\n"
    assert formatting.minify_json(text) == text


def test_json_in_a_chat_message_is_offered(tmp_path: Path, catalog, reference) -> None:
    pretty = json.dumps({"order": 1234, "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}, indent=4)
    system = "Use this order data:\n" + pretty + "\nAnswer briefly."
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"model": "gpt-5.4", "messages": [{"role": "system", "content": system}, {"role": "user", "content": "qty of A-1?"}]}))
    report = run([path], catalog, output_tokens=10)
    check_invariants(report)
    s = by_id(report)["format.json"]
    enc = reference["o200k_base"]
    small = system.replace(pretty, json.dumps(json.loads(pretty), separators=(",", ":")))
    assert s.tokens_saved == len(enc.encode_ordinary(system)) - len(enc.encode_ordinary(small))
    assert s.kind == "prompt" and s.confidence == "exact"
    text = "[\n" * 200 + "x\n"
    assert formatting.minify_json(text) == text
    text = "{\n" * 5_000 + "x\n"
    assert formatting.minify_json(text) == text
