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
