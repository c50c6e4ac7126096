"""Cutting text where its tokens do not change: segments for re-counting, shared starts and ends.

A cut is safe (`tokens.is_safe_cut`) when the tokens on either side of it are the same whether
the text is counted whole or in two pieces; every cut here is also at a line start.
"""

from __future__ import annotations

import os.path
from collections.abc import Sequence

from tokopt import tokens

SEGMENT_CHARS = 4096  # rewrites re-count only the segments they change


def segment(text: str, target: int = SEGMENT_CHARS) -> list[str]:
    """`text` cut into pieces of about `target` characters, only at safe cuts at line starts,
    preferring the start of a paragraph (after a blank line)."""
    out = []
    start = 0
    n = len(text)
    while n - start > target:
        cut = _line_cut(text, start + target // 2, start + target, paragraph=True)
        if cut < 0:
            cut = _line_cut(text, start + 1, start + target, paragraph=False)
        if cut < 0:
            cut = _line_cut_forward(text, start + target, min(n, start + 16 * target))
        if cut < 0:
            break
        out.append(text[start:cut])
        start = cut
    out.append(text[start:])
    return out


def _line_cut(text: str, lo: int, hi: int, *, paragraph: bool) -> int:
    pos = hi
    while True:
        nl = text.rfind("\n", lo, pos)
        if nl < 0:
            return -1
        if (not paragraph or (nl > 0 and text[nl - 1] == "\n")) and tokens.is_safe_cut(text, nl + 1):
            return nl + 1
        pos = nl


def _line_cut_forward(text: str, lo: int, hi: int) -> int:
    pos = lo
    while True:
        nl = text.find("\n", pos, hi)
        if nl < 0:
            return -1
        if tokens.is_safe_cut(text, nl + 1):
            return nl + 1
        pos = nl + 1


def shared_prefix(texts: Sequence[str]) -> int:
    """The length of the longest common prefix of `texts` that ends at a safe cut in every one
    of them (so that its tokens are the same in each), or 0."""
    end = len(os.path.commonprefix(list(texts)))
    if end == 0:
        return 0
    first = texts[0]
    while end > 0:
        if all(end == len(t) or tokens.is_safe_cut(t, end) for t in texts):
            return end
        end = first.rfind("\n", 0, end - 1) + 1
    return 0


def shared_suffix(texts: Sequence[str]) -> int | None:
    """Where the longest common suffix of `texts` starts in texts[0], at a line start that is a
    safe cut in every text; None if there is none."""
    n = len(os.path.commonprefix([t[::-1] for t in texts]))
    if n == 0:
        return None
    first = texts[0]
    pos = len(first) - n
    while pos < len(first):
        if pos > 0 and first[pos - 1] == "\n":
            offset = len(first) - pos
            if all(tokens.is_safe_cut(t, len(t) - offset) for t in texts):
                return pos
        nl = first.find("\n", pos)
        if nl < 0:
            return None
        pos = nl + 1
    return None
