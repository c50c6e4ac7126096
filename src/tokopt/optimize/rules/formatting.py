"""Rule 4: whitespace and formatting that cost tokens and carry no meaning.

Each rewrite here is exact: it is measured by counting the rewritten text, and all but the
halving of indentation are applied by `tokopt suggest --write`.
"""

from __future__ import annotations

import json
import re

from tokopt.optimize.context import Context, Rule
from tokopt.optimize.report import Suggestion
from tokopt.optimize.rewrite import Rewrite
from tokopt.optimize.rules import _rewriting

NAME = "formatting"

_TRAILING = re.compile(r"[ \t]+(?=\r?\n|\Z)")
_BLANK_RUN = re.compile(r"(\r?\n)(?:[ \t]*\r?\n){2,}")
_SEPARATOR = re.compile(r"^([ \t]*)([-=_*~+.])\2{4,}[ \t]*(?=\r?$)", re.MULTILINE)
_LEADING = re.compile(r"^( +)(?=\S)", re.MULTILINE)
_JSON_STRING_OR_SPACE = re.compile(r'("(?:\\.|[^"\\])*")|[ \t\r\n]+')


def strip_trailing(seg: str) -> str:
    return _TRAILING.sub("", seg)


def collapse_blank_lines(seg: str) -> str:
    return _BLANK_RUN.sub(lambda m: m.group(1) * 2, seg)


def shorten_separators(seg: str) -> str:
    return _SEPARATOR.sub(lambda m: m.group(1) + m.group(2) * 3, seg)


def halve_indentation(seg: str) -> str:
    return _LEADING.sub(lambda m: " " * (len(m.group(1)) // 2), seg)


def deep_indentation(text: str) -> bool:
    """Lines indented by 8 spaces or more, and every indentation even (so halving keeps the nesting)."""
    widths = {len(m.group(1)) for m in _LEADING.finditer(text)}
    return bool(widths) and max(widths) >= 8 and all(w % 2 == 0 for w in widths)


def _minify_json(text: str) -> str:
    return _JSON_STRING_OR_SPACE.sub(lambda m: m.group(1) or "", text)


# Where embedded JSON may start: an object or array at the start of a line (after indentation).
_JSON_START = re.compile(r"^[ \t]*([{\[])", re.MULTILINE)
_DECODER = json.JSONDecoder()


def minify_json(text: str) -> str:
    """The text with its pretty-printed JSON minified, wherever it sits: the whole text, a
    ```json block, or an object or array that starts a line in prose or in a chat message.

    Only whitespace outside strings goes, so numbers and strings keep their exact text. Embedded
    JSON is minified when it spans lines (pretty-printed); a one-line object in prose is left
    as written."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and _is_json(stripped):
        lead = text[: len(text) - len(text.lstrip())]
        tail = text[len(text.rstrip()) :]
        return lead + _minify_json(stripped) + tail
    if "{" not in text and "[" not in text:
        return text
    out: list[str] = []
    done = 0
    # Parsing from a start that turns out not to be JSON costs up to the point it fails; a
    # broken document with many nested starts would cost that again for each, so stop trying
    # after reading about four times the text.
    budget = 4 * len(text) + 65_536
    for m in _JSON_START.finditer(text):
        start = m.start(1)
        if start < done:
            continue
        try:
            _, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            budget -= exc.pos - start + 1
            if budget < 0:
                break
            continue
        except RecursionError:
            break  # nested deeper than Python parses: nothing after it is tried either
        budget -= end - start
        if "\n" not in text[start:end]:
            continue
        out.append(text[done:start])
        out.append(_minify_json(text[start:end]))
        done = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def rewrites(text: str) -> list[Rewrite]:
    """The formatting rewrites that may change `text`, in the order --write applies them."""
    found = [
        Rewrite("format.json", NAME, "minify pretty-printed JSON", "JSON whitespace outside strings removed", minify_json, per_segment=False),
        Rewrite("format.trailing-spaces", NAME, "remove trailing spaces", "spaces and tabs at line ends removed", strip_trailing),
        Rewrite("format.blank-lines", NAME, "collapse runs of blank lines", "3 or more line breaks in a row made 2", collapse_blank_lines),
        Rewrite("format.separators", NAME, "shorten separator lines", "lines of 5+ repeated - = _ * ~ + . made 3", shorten_separators),
    ]
    if deep_indentation(text):
        found.append(Rewrite("format.indentation", NAME, "halve deep indentation", "leading spaces halved (8 → 4)", halve_indentation, written=False))
    return found


def find(ctx: Context) -> list[Suggestion]:
    return _rewriting.suggestions(ctx, rewrites)


RULE = Rule(NAME, "prompt", find, rewrites)
