"""Rule 5: paragraphs repeated word for word, sent (and billed) again each time."""

from __future__ import annotations

from dataclasses import dataclass, field

from tokopt.optimize.context import Context, Rule
from tokopt.optimize.report import Suggestion
from tokopt.optimize.rewrite import Rewrite
from tokopt.optimize.rules import _rewriting

NAME = "duplicates"

MIN_DUPLICATE_CHARS = 60  # shorter repeated paragraphs (headings, "Answer:") are left alone


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
            body = "".join(para)
            key = body.rstrip()
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
        return len(key) >= MIN_DUPLICATE_CHARS and not para[0][:1].isspace()


def rewrites(text: str) -> list[Rewrite]:
    """The duplicate finder, fresh for `text` (it remembers what it has seen; in a chat request
    one finder reads all the messages, so a paragraph repeated in a later message goes)."""
    return [
        Rewrite(
            "duplicates.paragraphs",
            NAME,
            "remove repeated paragraphs",
            "paragraphs of 60+ characters that appeared earlier removed",
            Dedup(),
            across_messages=True,
        )
    ]


def find(ctx: Context) -> list[Suggestion]:
    return _rewriting.suggestions(ctx, rewrites)


RULE = Rule(NAME, "prompt", find, rewrites)
