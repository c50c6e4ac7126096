"""The rewrite engine: text rewrites measured exactly without re-counting whole texts.

A plain-text prompt is cut into segments at safe cuts (`segments.segment`); a rewrite is applied
segment by segment, and only the segments it changes are counted again. Where a rewrite makes a
segment border unsafe, the segments on both sides are counted together, so the sum stays the
exact count of the rewritten text. Message texts of chat requests are short: each one a rewrite
changes is counted before and after.

The rewrites themselves belong to the rules that suggest them (`rules/formatting.py`,
`rules/duplicates.py`); this module only applies and measures them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tokopt import tokens
from tokopt.optimize.report import RuleName
from tokopt.optimize.segments import segment
from tokopt.optimize.workload import TextPrompt
from tokopt.tokens.billing import Counted


@dataclass
class Rewrite:
    """One meaning-preserving change to a text, with its own state (made fresh for each text)."""

    id: str
    rule: RuleName
    title: str
    what: str  # for the detail line: what changed
    apply: Callable[[str], str]
    per_segment: bool = True
    written: bool = True  # part of --write
    across_messages: bool = False  # in a chat request, one state for all its messages (applied per segment)


@dataclass
class Measured:
    """One rewrite applied to one prompt: the exact tokens before and after, in one encoding."""

    rewrite: Rewrite
    before: int
    after: int
    changes: int  # paragraphs removed, for duplicates


def _regroup(old: Sequence[str], new: Sequence[str]) -> list[tuple[list[int], str]]:
    """Rewritten segments joined where a border is no longer a safe cut: (old indices, new text)."""
    groups: list[tuple[list[int], str]] = []
    for i, seg in enumerate(new):
        if groups and (not seg or not groups[-1][1] or not tokens.is_safe_cut(groups[-1][1][-1] + seg[:256], 1)):
            idx, text = groups[-1]
            groups[-1] = (idx + [i], text + seg)
        else:
            groups.append(([i], seg))
    return groups


def measure_rewrites(prompt: TextPrompt, encoding: str, rewrites: Sequence[Rewrite]) -> tuple[list[Measured], dict[str, str]]:
    """Each of `rewrites` alone on the prompt, counted exactly; also the rewritten texts for
    rewrites that work on the whole text."""
    found: list[Measured] = []
    pending: list[tuple[tuple[str, int], str]] = []
    plans: list[tuple[Rewrite, list[tuple[list[int], str]], bool, int]] = []
    whole: dict[str, str] = {}
    before = prompt.raw(encoding)
    for rw in rewrites:
        if not rw.per_segment:
            new_text = rw.apply(prompt.text)
            if new_text != prompt.text:
                whole[rw.id] = new_text
                pending.append(((rw.id, -1), new_text))
                plans.append((rw, [], False, getattr(rw.apply, "removed", 0)))
            continue
        new = [rw.apply(s) for s in prompt.segments]
        if all(a == b for a, b in zip(prompt.segments, new)):
            continue
        groups = _regroup(prompt.segments, new)
        changed = False
        for g, (idx, text) in enumerate(groups):
            if len(idx) == 1 and text == prompt.segments[idx[0]]:
                continue
            changed = True
            pending.append(((rw.id, g), text))
        if changed:
            plans.append((rw, groups, True, getattr(rw.apply, "removed", 0)))
    if not pending:
        return found, whole
    counted = tokens.count_keyed(iter(pending), [encoding], expected_chars=sum(len(t) for _, t in pending))
    for rw, groups, per_segment, changes in plans:
        if not per_segment:
            after = counted[(rw.id, -1)][encoding]
        else:
            after = before
            for g, (idx, text) in enumerate(groups):
                key = (rw.id, g)
                if key in counted:
                    after += counted[key][encoding] - sum(prompt.segment_counts()[i][encoding] for i in idx)
        found.append(Measured(rw, before, after, changes))
    return found, whole


def measure_messages(
    requests: Sequence[Counted], encoding: str, rewrites_of: Callable[[str], Sequence[Rewrite]]
) -> dict[str, list[tuple[int, Measured]]]:
    """The rewrites on the message texts of chat requests, by rewrite id: (request index, the
    request's text tokens before and after). Each changed text is counted before and after."""
    out: dict[str, list[tuple[int, Measured]]] = {}
    if not requests:
        return out
    pending: list[tuple[tuple[int, str, str], str]] = []
    by_id: dict[str, Rewrite] = {}
    for r, counted in enumerate(requests):
        shared: dict[str, Rewrite] = {}  # rewrites whose state spans the request's messages
        for message in counted.plan.conversation.messages:
            text = message.text
            if not text:
                continue
            for rw in rewrites_of(text):
                if rw.across_messages:
                    rw = shared.setdefault(rw.id, rw)
                    new = "".join(rw.apply(s) for s in segment(text)) if rw.per_segment else rw.apply(text)
                else:
                    new = rw.apply(text)
                if new != text:
                    by_id.setdefault(rw.id, rw)
                    pending.append(((r, rw.id, "old"), text))
                    pending.append(((r, rw.id, "new"), new))
    if not pending:
        return out
    # A text that several rewrites change is counted once per rewrite; message texts are small.
    counted_texts = tokens.count_batches([(0, [t for _, t in pending], [encoding])], expected_chars=sum(len(t) for _, t in pending))
    _, values = next(iter(counted_texts))
    sums: dict[tuple[int, str], list[int]] = {}
    for (key, _), n in zip(pending, values[encoding]):
        r, rid, which = key
        pair = sums.setdefault((r, rid), [0, 0])
        pair[0 if which == "old" else 1] += n
    for (r, rid), (old, new) in sums.items():
        raw = requests[r].text_tokens(encoding)
        out.setdefault(rid, []).append((r, Measured(by_id[rid], raw, raw - (old - new), 0)))
    return out


def apply_written(text: str, rewrites: Sequence[Rewrite]) -> str:
    """`text` with every rewrite that --write applies, in order (segment-wise ones on the
    segments of the text as it is at that point)."""
    for rw in rewrites:
        if not rw.written:
            continue
        if rw.per_segment:
            text = "".join(rw.apply(s) for s in segment(text))
        else:
            text = rw.apply(text)
    return text
