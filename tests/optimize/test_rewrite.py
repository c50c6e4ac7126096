"""The rewrite engine: segments at safe cuts, and every rewrite measured exactly (segment by segment)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt.optimize import rules
from tokopt.optimize.rewrite import apply_written, measure_rewrites
from tokopt.optimize.segments import segment
from tokopt.optimize.workload import TextPrompt

from .support import LINE_CHOICES

LINES = st.sampled_from(LINE_CHOICES)


@settings(max_examples=60)
@given(st.lists(LINES, max_size=400), st.sampled_from(["\n", "\r\n"]), st.integers(64, 600))
def test_segments_and_rewrites_count_exactly(reference, lines: list[str], newline: str, target: int) -> None:
    text = newline.join(lines)
    segs = segment(text, target)
    assert "".join(segs) == text
    enc = reference["o200k_base"]
    prompt = TextPrompt("t", text, segs, [{"o200k_base": len(enc.encode_ordinary(s))} for s in segs])
    assert prompt.raw("o200k_base") == len(enc.encode_ordinary(text))
    measured, whole = measure_rewrites(prompt, "o200k_base", rules.rewrites(text))
    for item in measured:
        rw = item.rewrite
        if rw.per_segment:
            fresh = {r.id: r for r in rules.rewrites(text)}[rw.id]
            new_text = "".join(fresh.apply(s) for s in segs)
        else:
            new_text = whole[rw.id]
        assert item.before == len(enc.encode_ordinary(text))
        assert item.after == len(enc.encode_ordinary(new_text)), rw.id


def test_write_applies_the_written_rewrites_in_registry_order() -> None:
    para = "A paragraph that is long enough to be a duplicate when it appears again later."
    text = f"{para}   \n\n\n\n{para}\n\n==========\n        deep\n"
    found = rules.rewrites(text)
    # the formatting rule's rewrites, then the duplicates rule's; indentation is measured, never written
    assert [r.rule for r in found] == ["formatting"] * 5 + ["duplicates"]
    assert [r.id for r in found if not r.written] == ["format.indentation"]
    assert apply_written(text, found) == f"{para}\n\n===\n        deep\n"
