"""Cutting a text where the pre-tokenizers of both encodings start a new piece anyway.

A text cut only at safe cuts counts the same in pieces as whole: the sum of the segments'
counts is the count of the text. Large texts are counted in such segments, in parallel and in
bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

_CUT_PUNCT = frozenset('!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~')


def is_safe_cut(text: str, i: int) -> bool:
    """True if both encodings' pre-tokenizers start a new piece at `text[i]` whatever follows.

    Three rules, each proven against whole-text counts by the property tests:
    - after a newline, before a character that is neither whitespace nor '/' (o200k's
      punctuation piece runs on through newlines into '/': ";\\n//" is one piece), or before
      a run of spaces and tabs that ends in such a character (an indented line);
    - between a letter and a space that is followed by a letter ("word| word");
    - between a letter or digit and ASCII punctuation other than the apostrophe ("x|,").
    """
    n = len(text)
    if i <= 0 or i >= n:
        return False
    prev, cur = text[i - 1], text[i]
    if prev == "\n":
        j = i
        while j < n and text[j] in " \t":
            j += 1
        return j < n and not text[j].isspace() and (j > i or text[j] != "/")
    if not prev.isalnum():
        return False
    if cur == " ":
        return prev.isalpha() and i + 1 < n and text[i + 1].isalpha()
    return cur in _CUT_PUNCT


_SCAN_WINDOW = 1 << 16


def find_cut(text: str, start: int, end: int) -> int:
    """The last safe cut in text[start:end] (preferring line breaks), or -1 if there is none.

    Only the last 64K characters of the range are searched.
    """
    floor = max(start, end - _SCAN_WINDOW)
    pos = end
    while True:
        nl = text.rfind("\n", floor, pos)
        if nl < 0:
            break
        if is_safe_cut(text, nl + 1):
            return nl + 1
        pos = nl
    for i in range(end, max(floor, 1) - 1, -1):
        if is_safe_cut(text, i):
            return i
    return -1


def split_text(text: str, target: int, first: int | None = None) -> list[str]:
    """Cut `text` into segments of about `target` characters (the first one of about `first`,
    if given), at safe cuts only."""
    segments = []
    start = 0
    n = len(text)
    size = first or target
    while n - start > size:
        cut = find_cut(text, start + 1, start + size)
        if cut <= start:
            cut = find_cut(text, start + size, min(n - 1, start + 8 * size))
        if cut <= start:
            break
        segments.append(text[start:cut])
        start = cut
        size = target
    segments.append(text[start:])
    return segments


def resegment(blocks: Iterable[str], target: int, first: int | None = None) -> Iterator[str]:
    """Turn text blocks as read from a stream into segments that end at safe cuts (the first
    one of about `first` characters, if given)."""
    carry = ""
    size = first or target
    for block in blocks:
        buf = carry + block if carry else block
        if len(buf) < size:
            carry = buf
            continue
        # The tail after the last safe cut waits for the next block: what follows decides
        # whether a cut near the end is safe.
        cut = find_cut(buf, 1, len(buf) - 1)
        if cut < 0:
            carry = buf
            continue
        if size != target:
            head = find_cut(buf, 1, min(size, cut))
            if head > 0:
                yield buf[:head]
                buf, cut = buf[head:], cut - head
            size = target
        yield from split_text(buf[:cut], target)
        carry = buf[cut:]
    if carry:
        yield from split_text(carry, target, first if size != target else None)
