"""Text from outside (file names, names read from logs and configs, prompt text) made safe for
the place it is printed. The one escaping mechanism: every view and the CLI's message printer
use these functions, never their own.

- `visible`: terminals and `error:`/`warning:`/`note:` lines. Control characters (C0, DEL, C1),
  bidirectional overrides, non-characters and the lone surrogates that stand for undecodable
  bytes in a file name are shown as `\\x1b`, `\\n`, `\\u202e`, `\\xff`: visible, never acted on.
- `markdown`: GitHub-flavoured Markdown. HTML-escaped (`&lt;img&gt;`), markup characters
  backslash-escaped, autolinks and mentions defused, control characters visible.
- `workflow_data` / `workflow_property`: GitHub workflow commands (`%25`, `%0D`, `%0A`; and
  `%3A`, `%2C` in properties), as @actions/core escapes them.
- `xml`: text XML 1.0 can carry (ElementTree escapes `<`, `&` and quotes; this removes the
  characters XML forbids, showing them visibly, and control characters with them).
- `csv_cell`: the csv module quotes; this keeps line breaks and tabs (which it quotes) and shows
  other control characters and undecodable bytes visibly.
- `json_text`: a JSON document whose lone surrogates are written as `\\udcff` escapes, valid JSON
  that decodes to the same string (and `os.fsencode` to the same bytes).

A view marks text it has already formatted for its target (a `<code>` span it built around
escaped text) as `Markup`, which the escapers pass through unchanged.
"""

from __future__ import annotations

import codecs
import re

_JSON_RAW = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff\ufffe\uffff]")


class Markup(str):
    """Text already escaped and formatted for the place it is printed."""


class Lines(str):
    """A cell of several lines: each line is escaped on its own, and the breaks are kept.

    `Lines("gpt-5.5", "alias-a, alias-b")` is the text "gpt-5.5\\nalias-a, alias-b"; a break
    inside one of the parts (a name from outside) is shown as `\\n`, never as a line.
    """

    parts: tuple[str, ...]

    def __new__(cls, *parts: str) -> Lines:
        obj = super().__new__(cls, "\n".join(parts))
        obj.parts = parts
        return obj


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 and C1 controls and DEL; bidirectional embeddings, overrides, isolates and marks; lone
# surrogates (the undecodable bytes of a file name, as os.fsdecode keeps them); non-characters
_UNSAFE_RE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff\ufffe\uffff]"
)


def _show(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, *, keep: str = "") -> str:
    """`text` with every control character shown as an escape (`\\x1b`, `\\n`); `keep` names
    characters that stay as they are (a view's own line breaks)."""
    if not _UNSAFE_RE.search(text):
        return text
    return _UNSAFE_RE.sub(lambda m: m.group() if m.group() in keep else _show(m.group()), text)


def terminal(text: str) -> str:
    """A cell, title or note for a terminal: `visible`, and a `Lines` cell keeps its breaks."""
    if isinstance(text, Markup):
        return text
    if isinstance(text, Lines):
        return "\n".join(visible(part) for part in text.parts)
    return visible(text)


_MD_ENTITIES = {"&": "&amp;", "<": "&lt;"}  # no tag or entity can start; ">" alone is text
_TAG_START = re.compile(r"[A-Za-z/!?#]")  # what may follow `<` in a tag or `&` in an entity
_MD_PUNCT = set("\\`*[]|~@")
_AUTOLINK = re.compile(r"(?i)(://|\bwww\.)")


def _md_one(text: str) -> str:
    out = []
    for i, char in enumerate(text):
        if char in _MD_ENTITIES and text[i + 1 : i + 2] and _TAG_START.match(text[i + 1]):
            out.append(_MD_ENTITIES[char])  # `<0.1%` stays; `<img`, `</details>`, `&amp;` do not
        elif char in _MD_PUNCT:
            out.append("\\" + char)
        elif char == "_" and not (0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()):
            out.append("\\_")  # an underscore inside a word never emphasises; elsewhere it may
        elif _UNSAFE_RE.match(char):
            out.append("\\" + _show(char))  # the backslash of `\x1b` escaped, so it shows
        else:
            out.append(char)
    # `https://` and `www.` would become links: a backslash before the `:` or `.` stops that
    return _AUTOLINK.sub(lambda m: "\\://" if m.group() == "://" else m.group()[:3] + "\\.", "".join(out))


def markdown(text: str) -> str:
    """Text for a Markdown paragraph or table cell: never markup, never HTML."""
    if isinstance(text, Markup):
        return text
    if isinstance(text, Lines):
        return "<br>".join(_md_one(part) for part in text.parts)
    return _md_one(text)


def md_code(text: str) -> Markup:
    """Text shown as code (a file name) in Markdown, as an HTML `<code>` span around escaped
    text: a backtick span would show HTML entities literally and end at the name's own backtick."""
    return Markup(f"<code>{markdown(text)}</code>")


def workflow_data(text: str) -> str:
    """A workflow command's message, escaped as @actions/core does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A workflow command's property value (file=, title=): also ':' and ','."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def xml(text: str) -> str:
    """Text that XML 1.0 can carry, line breaks and tabs kept; other controls shown visibly."""
    return visible(text, keep="\n\t")


def csv_cell(text: str) -> str:
    """A CSV field: line breaks and tabs kept (the csv module quotes them), other control
    characters and undecodable bytes shown visibly."""
    return visible(text, keep="\n\r\t")


def json_text(document: str, encoding: str = "utf-8") -> str:
    """A JSON document (from json.dumps with ensure_ascii=False) with its lone surrogates, and
    any character `encoding` cannot carry, as `\\udcff` escapes: it encodes, and it still decodes
    to the same strings (outside strings, JSON is ASCII)."""
    # json.dumps escapes C0 controls itself; these (C1, bidirectional controls, surrogates) it
    # leaves raw, and a terminal showing the JSON would act on them
    document = _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
    if encoding.lower().replace("-", "").startswith("utf"):
        return document
    out = []
    for char in document:  # every character beyond ASCII in a JSON text is inside a string
        try:
            char.encode(encoding)
            out.append(char)
        except (UnicodeEncodeError, LookupError):
            code = ord(char)
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
    return "".join(out)


# --- a terminal that cannot show Unicode (PYTHONIOENCODING=ascii, a Latin-1 locale) ----------

ASCII_FALLBACKS = {
    "≈": "~",
    "✓": "ok",
    "✗": "x",
    "×": "x",
    "·": "-",
    "—": "-",
    "–": "-",
    "→": "->",
    "↵": "\\n",
    "␍": "\\r",
    "…": "...",
    "•": "*",
    "≤": "<=",
    "≥": ">=",
    "›": ">",
    "Δ": "d",
    "─": "-",
    "━": "-",
    "│": "|",
    "┃": "|",
}


def _fallback(char: str) -> str:
    if char in ASCII_FALLBACKS:
        return ASCII_FALLBACKS[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if code > 0xFFFF:  # as a surrogate pair, which is also what JSON would write
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def for_charset(text: str, encoding: str) -> str:
    """`text` with what `encoding` cannot carry replaced: ≈ ✓ ✗ × and box characters by ASCII,
    anything else by an escape (`\\u00e9`). A table's cells pass through this before they are
    measured, so that a column stays aligned."""
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        pass
    out = []
    for char in text:
        try:
            char.encode(encoding)
            out.append(char)
        except (UnicodeEncodeError, LookupError):
            out.append(_fallback(char))
    return "".join(out)


def _fallback_errors(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    return "".join(_fallback(c) for c in err.object[err.start : err.end]), err.end


FALLBACK_ERRORS = "tokopt-fallback"
codecs.register_error(FALLBACK_ERRORS, _fallback_errors)
