"""Rule 5 on Markdown sections (issue 12): a section repeated whole goes with its heading, a
heading whose body differs stays, and a paragraph repeated under another heading stays (the
heading says what it applies to). Checked on generated documents against a model of the rule,
and through `suggest --write` / `--diff`."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tokopt.cli import app
from tokopt.optimize.rules.duplicates import Dedup

PROSE = [
    "Always answer in English and cite the section of the policy that applies to the case.",
    "Refunds are possible within thirty days of delivery when the item is unused and complete.",
    "Keep every reply under two hundred words and never promise a date you cannot keep.",
]
PATTERNED = [
    "- Never promise a refund that the policy document does not allow explicitly, ever.",
    "Answer: positive — the reviewer praises the battery life and the screen quality.",
    "| step | what to do when the customer asks for a refund after thirty days |",
    "```\n## not a heading, but code that prints the policy section for each case\n```",
    "Be brief.",
]
HEADINGS = ["## Rules", "## Refunds", "## Tone"]


def _body(blocks: list[str]) -> list[str]:
    """A body as the rule leaves it: a paragraph of prose said earlier in it goes; the rest stays."""
    out: list[str] = []
    for block in blocks:
        if block in PROSE and block in out:
            continue
        out.append(block)
    return out


def expected(preamble: list[str], sections: list[tuple[str, list[str]]]) -> str:
    """The model: each section said again (once repeats of prose inside each are removed) goes,
    heading and all, when its body is all prose; every other section stays, in order."""
    blocks = _body(preamble)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for heading, body in sections:
        key = (heading, tuple(_body(body)))  # compared as the rule leaves each
        if key in seen and all(b in PROSE for b in body):
            continue
        seen.add(key)
        blocks += [heading, *_body(body)]
    return "\n\n".join(blocks) + "\n"


def document(preamble: list[str], sections: list[tuple[str, list[str]]]) -> str:
    return "\n\n".join([*preamble, *(b for heading, body in sections for b in (heading, *body))]) + "\n"


blocks = st.lists(st.sampled_from(PROSE + PATTERNED), min_size=1, max_size=3)
sections = st.lists(st.tuples(st.sampled_from(HEADINGS), blocks), max_size=6)


@settings(max_examples=300, deadline=None)
@given(preamble=st.lists(st.sampled_from(PROSE + PATTERNED), max_size=3), sections=sections)
def test_every_distinct_section_stays_once_and_in_order(preamble, sections):
    text = document(preamble, sections)
    out = Dedup()(text)
    assert out == expected(preamble, sections)
    # what the model says, in words: no heading without its body, no distinct section lost
    kept = out.split("\n\n")
    for i, block in enumerate(kept):
        if block.startswith("## "):
            assert i + 1 < len(kept) and not kept[i + 1].startswith("## "), out
    parsed: list[tuple[str, tuple[str, ...]]] = []
    for block in kept[len(_body(preamble)) :]:
        if not block.strip():
            continue
        if block.startswith("## "):
            parsed.append((block, ()))
        else:
            parsed[-1] = (parsed[-1][0], (*parsed[-1][1], block.rstrip("\n")))
    distinct = list(dict.fromkeys((h, tuple(_body(b))) for h, b in sections))
    assert list(dict.fromkeys(parsed)) == distinct  # each distinct section, first seen first
    assert Dedup()(out) == out  # nothing more to remove: the rewrite is done in one pass


P, Q = PROSE[0], PROSE[1]


def test_a_repeated_section_goes_with_its_heading():
    text = f"# Guide\n\n## Rules\n\n{P}\n\n## Refunds\n\n{Q}\n\n## Rules\n\n{P}\n"
    dedup = Dedup()
    assert dedup(text) == f"# Guide\n\n## Rules\n\n{P}\n\n## Refunds\n\n{Q}\n" and dedup.removed == 1


def test_the_same_heading_over_another_body_and_the_same_body_under_another_heading_stay():
    for text in (f"## Rules\n\n{P}\n\n## Rules\n\n{Q}\n", f"## Refunds\n\n{P}\n\n## Exchanges\n\n{P}\n"):
        dedup = Dedup()
        assert dedup(text) == text and dedup.removed == 0


def test_subsections_are_compared_under_their_own_parent():
    under_two = f"## Setup\n\n### Step\n\n{P}\n\n## Teardown\n\n### Step\n\n{P}\n"
    assert Dedup()(under_two) == under_two
    under_one = f"## Setup\n\n### Step\n\n{P}\n\n### Step\n\n{P}\n\n## End\n\n{Q}\n"
    assert Dedup()(under_one) == f"## Setup\n\n### Step\n\n{P}\n\n## End\n\n{Q}\n"
    whole = f"## Setup\n\n{Q}\n\n### Step\n\n{P}\n\n## Setup\n\n{Q}\n\n### Step\n\n{P}\n"
    assert Dedup()(whole) == f"## Setup\n\n{Q}\n\n### Step\n\n{P}\n"


def test_setext_headings_and_text_without_a_final_newline():
    assert Dedup()(f"Rules\n=====\n\n{P}\n\nRules\n=====\n\n{P}") == f"Rules\n=====\n\n{P}"
    code = f"```\n## Rules\n```\n\n{P}\n\n```\n## Rules\n```\n\n{P}\n"
    assert Dedup()(code) == f"```\n## Rules\n```\n\n{P}\n\n```\n## Rules\n```\n"  # code is not a heading


def test_suggest_write_and_diff_remove_the_whole_section(tmp_path: Path):
    prompt = tmp_path / "prompt.md"
    prompt.write_text(f"## Rules\n\n{P}\n\n## Refunds\n\n{Q}\n\n## Rules\n\n{P}\n\n## Question\n\n{{question}}\n", encoding="utf-8")
    out = tmp_path / "out.md"
    r = CliRunner().invoke(app, ["suggest", str(prompt), "-t", "gpt-5.5", "--write", str(out), "-f", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    assert out.read_text(encoding="utf-8") == f"## Rules\n\n{P}\n\n## Refunds\n\n{Q}\n\n## Question\n\n{{question}}\n"
    r = CliRunner().invoke(app, ["suggest", str(prompt), "-t", "gpt-5.5", "--diff"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    removed = [line[1:] for line in r.stdout.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert removed == ["## Rules", "", P, ""]


LINES = st.sampled_from(["", "# A", "## A", "### A", "A", "===", "---", "```", "    code", "- item", *PROSE, P + " " + Q])


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=30), st.booleans())
def test_on_any_markdown_the_rule_only_removes_whole_lines_and_what_it_keeps_it_keeps_in_order(lines, final_newline):
    text = "\n".join(lines) + ("\n" if final_newline else "")
    out = Dedup()(text)
    kept = iter(text.splitlines())
    assert all(any(line == k for k in kept) for line in out.splitlines())  # a subsequence of the lines
    if all(len(" ".join(line.split())) < 60 for line in lines):
        assert out == text  # nothing long enough to be a repeat of prose: nothing goes
