"""Rule 5, duplicates: repeated paragraphs removed (never inside code), in a prompt and across a chat's messages."""

from __future__ import annotations

import json
from pathlib import Path

from tokopt.optimize.rules.duplicates import Dedup

from ..support import PARA, by_id, check_invariants, run, usd
from ..support import REDUNDANT as TEXT


def test_dedup_keeps_meaning() -> None:
    para = "This paragraph is long enough to count as a duplicate of another one."
    dedup = Dedup()
    assert dedup(f"{para}\n\nmiddle\n\n{para}\n\nend\n") == f"{para}\n\nmiddle\n\nend\n"
    code = Dedup()
    assert code(f"```\n{para}\n```\n```\n{para}\n```\n") == f"```\n{para}\n```\n```\n{para}\n```\n"


def test_duplicates_figures(tmp_path: Path, catalog, reference) -> None:
    path = tmp_path / "p.txt"
    path.write_text(TEXT, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.4", calls=250)
    check_invariants(report)
    found = by_id(report)
    model = catalog.get("gpt-5.4")
    enc = reference["o200k_base"]
    saved = len(enc.encode_ordinary(TEXT)) - len(enc.encode_ordinary(TEXT.replace(PARA + "\n\nQuestion", "Question")))
    assert "duplicates.paragraphs" in found
    s = found["duplicates.paragraphs"]
    assert s.rule == "duplicates"
    assert s.tokens_saved == saved
    assert s.cost_saved_per_call == usd(saved, model.input)
    assert s.cost_saved_total == usd(saved, model.input) * 250
    assert s.confidence == "exact" and s.assumption is None and s.rewrite


def test_duplicates_across_messages(tmp_path: Path, catalog, reference) -> None:
    enc = reference["o200k_base"]
    doc = "The contract renews every year on the first of March unless either side cancels in writing."
    messages = [
        {"role": "user", "content": f"Here is the clause:\n\n{doc}\n\nIs it fair?"},
        {"role": "assistant", "content": "It is a common clause."},
        {"role": "user", "content": f"Again, the clause:\n\n{doc}\n\nWhat if I forget to cancel?"},
    ]
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"model": "gpt-5.4", "messages": messages}), encoding="utf-8")
    report = run([path], catalog, output_tokens=10)
    check_invariants(report)
    s = by_id(report)["duplicates.paragraphs"]
    last = messages[2]["content"]
    saved = len(enc.encode_ordinary(last)) - len(enc.encode_ordinary(last.replace(doc + "\n\n", "")))
    assert s.tokens_saved == saved
    assert s.cost_saved_per_call == usd(saved, catalog.get("gpt-5.4").input)
