"""Rule 5: paragraphs and sections repeated word for word, sent (and billed) again each time.

Only a whole block of prose goes, and only where it says nothing new:

- a paragraph identical to an earlier one *of the same section* once its whitespace is
  normalised (line breaks, indentation of continuation lines, trailing spaces). A heading scopes
  what follows it, so the same sentence under `## Refunds` and under `## Exchanges` says two
  things and both stay;
- a Markdown section (its heading, body and subsections) identical to an earlier one under the
  same parent goes whole, heading included: no heading is ever left without its body, and a
  heading whose body differs stays.

A paragraph that is part of a pattern stays even when it repeats, because there the repetition
is the meaning: a field of a few-shot example (`Answer: positive`, `Q:`, `Output:`), a list item,
a table row, a quotation, code (fenced or indented); a section that holds any of them stays too.
Removing the second example's answer would teach the model something else (issue 12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tokopt.optimize.context import Context, Rule
from tokopt.optimize.report import Suggestion
from tokopt.optimize.rewrite import Rewrite
from tokopt.optimize.rules import _rewriting

NAME = "duplicates"

MIN_DUPLICATE_CHARS = 60  # shorter repeated paragraphs (headings, "Answer:") are left alone
# the first line of a paragraph that is one element of a pattern, not a block of prose
_PATTERN = re.compile(
    r"""^(?:
        [-*+]\s | \d{1,3}[.)]\s | [a-zA-Z][.)]\s     # a list item
      | \|                                          # a table row
      | >                                           # a quotation
      | \#{1,6}\s                                    # a heading
      | [^\s:]{1,24}(?:\s[^\s:]{1,24}){0,2}:(?:\s|$)  # a field: "Answer:", "Example 2:", "Q:"
      | <[A-Za-z/]                                  # a tag of a structured prompt
    )""",
    re.VERBOSE,
)


_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]|$)")
_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")  # under a one-line paragraph: a setext heading
ROOT = 0  # the scope of what comes before the first heading (in a chat: of every message)


@dataclass
class _Section:
    start: int  # its heading's first line
    body: int  # the line after its heading
    end: int  # the line after its last line (subsections included)
    scope: int  # its parent's id (ROOT at the top)
    id: int


def _headings(lines: list[str]) -> list[tuple[int, int, int]]:
    """(first line, line after, level) of each Markdown heading outside code."""
    found = []
    fence = False
    blank_before = True
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            fence = not fence
        elif not fence:
            m = _ATX.match(line)
            if m:
                found.append((i, i + 1, len(m[1])))
            elif (
                blank_before
                and line.strip()
                and not line[:1].isspace()
                and not _PATTERN.match(line)
                and i + 1 < len(lines)
                and _UNDERLINE.match(lines[i + 1])
            ):
                found.append((i, i + 2, 1 if lines[i + 1].lstrip()[0] == "=" else 2))
                i += 2
                blank_before = False
                continue
        blank_before = not line.strip() or bool(_ATX.match(line))
        i += 1
    return found


@dataclass
class Dedup:
    """Removes repeated sections, then paragraphs (runs of non-blank lines) already seen in their
    section, outside code. One finder reads a chat's messages in turn: what comes before any
    heading (and a top-level section) is seen across them."""

    seen: dict[int, set[str]] = field(default_factory=dict)  # paragraphs, by section id
    sections: dict[int, set[str]] = field(default_factory=dict)  # sections, by parent id
    removed: int = 0
    _ids: int = ROOT

    def __call__(self, text: str) -> str:
        lines = text.splitlines(keepends=True)
        sections = self._sections(lines)
        scope_at = {sec.start: sec.id for sec in sections}
        heading_lines = {i for sec in sections for i in range(sec.start, sec.body)}
        keep = [True] * len(lines)
        last_removed = False
        for sec in sections:
            if not keep[sec.start]:
                continue  # inside a section removed already
            # compared as this rule leaves it: a paragraph said twice in a section counts once
            alone = [(lines[i], scope_at.get(i), i in heading_lines) for i in range(sec.start, sec.end)]
            key = " ".join(Dedup()._paragraphs(alone).split())
            seen = self.sections.setdefault(sec.scope, set())
            if key in seen and self._prose_only(lines, sec, heading_lines):
                self.removed += 1
                keep[sec.start : sec.end] = [False] * (sec.end - sec.start)
                last_removed = sec.end == len(lines)
            else:
                seen.add(key)
        marked = [(line, scope_at.get(i), i in heading_lines) for i, line in enumerate(lines) if keep[i]]
        if last_removed:  # a repeat at the end takes the blank lines before it along
            while marked and not marked[-1][0].strip():
                marked.pop()
            if marked and not text.endswith(("\n", "\r")):
                marked[-1] = (marked[-1][0].rstrip("\r\n"), *marked[-1][1:])
        return self._paragraphs(marked)

    def _sections(self, lines: list[str]) -> list[_Section]:
        out: list[_Section] = []
        stack: list[tuple[int, _Section]] = []  # (level, section) of the open sections
        for start, body, level in _headings(lines):
            while stack and stack[-1][0] >= level:
                stack.pop()[1].end = start  # a heading of its level or above ends a section
            self._ids += 1
            sec = _Section(start, body, len(lines), stack[-1][1].id if stack else ROOT, self._ids)
            out.append(sec)
            stack.append((level, sec))
        return out

    def _prose_only(self, lines: list[str], sec: _Section, heads: set[int]) -> bool:
        """Whether a section's body and subsections are all paragraphs of prose (at least one)."""
        para: list[str] = []
        found = False
        for i in range(sec.body, sec.end + 1):
            line = lines[i] if i < sec.end else ""
            if i in heads or not line.strip():
                if para:
                    if not self._eligible(para, " ".join("".join(para).split())):
                        return False
                    found = True
                    para = []
                continue
            if _FENCE.match(line):
                return False
            para.append(line)
        return found

    def _paragraphs(self, marked: list[tuple[str, int | None, bool]]) -> str:
        """The lines with each eligible paragraph already seen in its section left out."""
        out: list[str] = []
        para: list[str] = []
        scope = ROOT
        in_fence = False
        skip_blank = False

        def flush(following_blank: bool) -> bool:
            """Whether the paragraph just ended was removed (and its blank lines go too)."""
            if not para:
                return False
            key = " ".join("".join(para).split())  # identical after whitespace normalisation
            seen = self.seen.setdefault(scope, set())
            removed = False
            if self._eligible(para, key) and key in seen:
                self.removed += 1
                removed = following_blank
                if not following_blank:
                    while out and not out[-1].strip():
                        out.pop()
            else:
                if self._eligible(para, key):
                    seen.add(key)
                out.extend(para)
            para.clear()
            return removed

        for line, starts, heading in marked:
            if starts is not None:  # a heading: the paragraph before it ends, its section begins
                flush(False)
                scope = starts
            if heading and not in_fence:
                skip_blank = False
                out.append(line)
                continue
            if not line.strip():
                skip_blank = flush(True) or skip_blank
                if not skip_blank:
                    out.append(line)
                continue
            skip_blank = False
            if _FENCE.match(line):
                flush(False)
                in_fence = not in_fence
                out.append(line)
                continue
            if in_fence:
                out.append(line)
                continue
            para.append(line)
        flush(False)
        return "".join(out)

    def _eligible(self, para: list[str], key: str) -> bool:
        """A block of prose: long enough, not indented (code), not one element of a pattern."""
        if len(key) < MIN_DUPLICATE_CHARS or para[0][:1].isspace():
            return False
        return not any(_PATTERN.match(line) for line in para)


def rewrites(text: str) -> list[Rewrite]:
    """The duplicate finder, fresh for `text` (it remembers what it has seen; in a chat request
    one finder reads all the messages, so a paragraph repeated in a later message goes). It
    reads a whole text at once: a section can be longer than the segments others work on."""
    return [
        Rewrite(
            "duplicates.paragraphs",
            NAME,
            "remove repeated paragraphs",
            "paragraphs and sections of prose (60+ characters) that appeared earlier removed",
            Dedup(),
            per_segment=False,
            across_messages=True,
        )
    ]


def find(ctx: Context) -> list[Suggestion]:
    return _rewriting.suggestions(ctx, rewrites)


RULE = Rule(NAME, "prompt", find, rewrites)
