"""Rule 5, duplicates: repeated paragraphs removed (never inside code), in a prompt and across a chat's messages."""

from __future__ import annotations

import json

import pytest
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


# --- issue 12: a rewrite never removes content that differs in meaning -------------------------

REVIEW = "The battery lasts two days and the screen is bright even in direct sunlight outdoors."
ANSWER = "Answer: positive — the reviewer praises the battery life and the screen quality."
INSTRUCTION = "Classify the sentiment of each customer review as positive, negative or neutral, and give one reason."

PATTERNS = {
    "few-shot examples": f"{INSTRUCTION}\n\nReview: {REVIEW}\n\n{ANSWER}\n\nReview: I love how long it runs between charges and how sharp the display looks.\n\n{ANSWER}\n\nReview: {{review}}\n",
    "few-shot in one paragraph each": f"Q: What is the capital of France, the country in western Europe?\nA: The answer is Paris, which has been the capital for centuries now.\n\nQ: What is the capital of France, the country in western Europe?\nA: The answer is Paris, which has been the capital for centuries now.\n",
    "numbered list": "Steps:\n\n1. Read the whole customer message carefully before writing any reply at all.\n\n2. Read the whole customer message carefully before writing any reply at all.\n",
    "bullets": "- Never promise a refund that the policy document does not allow explicitly.\n\n- Never promise a refund that the policy document does not allow explicitly.\n",
    "table": "| step | what to do when the customer asks for a refund after thirty days |\n|---|---|\n\n| step | what to do when the customer asks for a refund after thirty days |\n",
    "fenced code": "```\nfor item in items: print(item.name, item.price, item.quantity, item.total)\n```\n\n```\nfor item in items: print(item.name, item.price, item.quantity, item.total)\n```\n",
    "indented code": "    for item in items: print(item.name, item.price, item.quantity, item.total)\n\n    for item in items: print(item.name, item.price, item.quantity, item.total)\n",
    "quotes": "> The customer is always right, except when the customer asks for something illegal.\n\n> The customer is always right, except when the customer asks for something illegal.\n",
    "structured tags": "<example>The customer is always right, except when the customer asks for something.</example>\n\n<example>The customer is always right, except when the customer asks for something.</example>\n",
}


@pytest.mark.parametrize("name", list(PATTERNS))
def test_a_repetition_that_is_part_of_a_pattern_is_never_removed(name: str) -> None:
    text = PATTERNS[name]
    dedup = Dedup()
    assert dedup(text) == text and dedup.removed == 0


def test_a_whole_repeated_paragraph_is_removed_even_when_wrapped_differently() -> None:
    wrapped = INSTRUCTION.replace(" and give", "\nand  give") + "   "
    text = f"{INSTRUCTION}\n\nReview: {REVIEW}\n\n{wrapped}\n\nReview: {{review}}\n"
    dedup = Dedup()
    assert dedup(text) == f"{INSTRUCTION}\n\nReview: {REVIEW}\n\nReview: {{review}}\n"
    assert dedup.removed == 1


@pytest.mark.parametrize("name", list(PATTERNS))
def test_suggest_write_leaves_a_patterned_prompt_as_it_was(tmp_path: Path, name: str) -> None:
    from typer.testing import CliRunner

    from tokopt.cli import app

    prompt = tmp_path / "prompt.txt"
    prompt.write_text(PATTERNS[name], encoding="utf-8")
    out = tmp_path / "out.txt"
    r = CliRunner().invoke(app, ["suggest", str(prompt), "-t", "gpt-5.5", "--write", str(out), "-f", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    assert "duplicates.paragraphs" not in r.stdout
    assert out.read_text(encoding="utf-8") == PATTERNS[name]  # every example, item, row and line of code kept
    diff = CliRunner().invoke(app, ["suggest", str(prompt), "-t", "gpt-5.5", "--diff"], catch_exceptions=False)
    assert diff.exit_code == 0 and diff.stdout == "" and "would change nothing" in diff.stderr


def test_diff_shows_what_a_rewrite_removes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tokopt.cli import app

    wrapped = INSTRUCTION.replace(" and give", "\nand give")
    prompt = tmp_path / "prompt.txt"
    prompt.write_text(PATTERNS["few-shot examples"] + f"\n{wrapped}\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["suggest", str(prompt), "-t", "gpt-5.5", "--diff"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    removed = [line[1:] for line in r.stdout.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert removed == ["", *wrapped.splitlines()]  # the blank line before the repeated instruction, and it: nothing else
    assert r.stdout.startswith(f"--- {prompt}\n+++ {prompt} (rewritten)\n")
