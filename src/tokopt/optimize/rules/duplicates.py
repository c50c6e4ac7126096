"""Rule 5: paragraphs repeated word for word, sent (and billed) again each time.

Only a whole block of prose goes: a paragraph identical to an earlier one once its whitespace is
normalised (line breaks, indentation of continuation lines, trailing spaces). A paragraph that is
part of a pattern stays even when it repeats, because there the repetition is the meaning: a
field of a few-shot example (`Answer: positive`, `Q:`, `Output:`), a list item, a table row, a
quotation, code (fenced or indented). Removing the second example's answer would teach the model
something else (issue 12).
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


@dataclass
class Dedup:
    """Removes paragraphs (runs of non-blank lines) already seen, outside code fences."""

    seen: set[str] = field(default_factory=set)
    in_fence: bool = False
    removed: int = 0
    _skip_blank: bool = False  # the paragraph just removed takes the blank lines after it along

    def __call__(self, seg: str) -> str:
        lines = seg.splitlines(keepends=True)
        out: list[str] = []
        para: list[str] = []

        def flush(following_blank: bool) -> None:
            if not para:
                return
            key = " ".join("".join(para).split())  # identical after whitespace normalisation
            if self._eligible(para, key) and key in self.seen:
                self.removed += 1
                if following_blank:
                    self._skip_blank = True
                elif out and not out[-1].strip():
                    while out and not out[-1].strip():
                        out.pop()
            else:
                if self._eligible(para, key):
                    self.seen.add(key)
                out.extend(para)
            para.clear()

        self._skip_blank = False
        for line in lines:
            fence = line.lstrip().startswith("```")
            if not line.strip():
                flush(True)
                if self._skip_blank:
                    continue
                out.append(line)
                continue
            self._skip_blank = False
            if fence:
                flush(False)
                self.in_fence = not self.in_fence
                out.append(line)
                continue
            if self.in_fence:
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
    one finder reads all the messages, so a paragraph repeated in a later message goes)."""
    return [
        Rewrite(
            "duplicates.paragraphs",
            NAME,
            "remove repeated paragraphs",
            "paragraphs of prose (60+ characters) that appeared earlier removed",
            Dedup(),
            across_messages=True,
        )
    ]


def find(ctx: Context) -> list[Suggestion]:
    return _rewriting.suggestions(ctx, rewrites)


RULE = Rule(NAME, "prompt", find, rewrites)
