"""What an input is, from its first bytes: plain text, one JSON document, or JSON Lines.

Kept apart from the parser and its data model so that `tokopt estimate prompt.txt` decides it
has plain text without importing them. JSON is recognised by its first characters (`{"`, `{}`,
`[{`, `[]`, `[` then a newline), so a Markdown file that starts with `[link](...)` stays text.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import Literal

from tokopt.errors import InputError
from tokopt.inputs import Source

SNIFF_CHARS = 4096
# JSON that names none of these keys in its first megabyte is data, not a chat request: it is
# counted as plain text (a prompt can be JSON) instead of failing as a broken request.
REQUEST_KEYS = re.compile(r'"(?:messages|input|role|custom_id)"\s*:')
REQUEST_SCAN = 1 << 20
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")

Shape = Literal["text", "json", "jsonl"]


class InputFormat(str, Enum):
    """How an input file is read. `auto` decides from the content."""

    auto = "auto"
    text = "text"  # plain text or Markdown: the whole file is one prompt
    openai = "openai"  # an OpenAI Chat Completions request, or a bare JSON list of messages
    anthropic = "anthropic"  # an Anthropic Messages request
    jsonl = "jsonl"  # one request per line, or one message per line
    batch = "batch"  # batch input: {custom_id, method, url, body} (OpenAI) or {custom_id, params} (Anthropic) per line


def _json_like(head: str) -> bool:
    s = head.lstrip("\ufeff \t\r\n")
    if not s or s[0] not in "{[":
        return False
    rest = s[1:].lstrip(" \t\r")
    if not rest:
        return True
    if s[0] == "{":
        return rest[0] in '"}\n'
    return rest[0] in "{[]\n\"" or rest[0].isdigit()


def sniff_shape(head: str, label: str, forced: InputFormat = InputFormat.auto) -> Shape:
    """Whether an input is plain text, one JSON document or JSON Lines, from its first characters.

    JSON Lines: the first line is a complete JSON object and more content follows it.
    """
    if forced is InputFormat.text:
        return "text"
    if forced in (InputFormat.jsonl, InputFormat.batch):
        return "jsonl"
    if forced in (InputFormat.openai, InputFormat.anthropic):
        return "json"
    if not (_json_like(head) or (label.lower().endswith(JSON_SUFFIXES) and head.strip())):
        return "text"
    body = head.lstrip("\ufeff \t\r\n")
    first, newline, rest = body.partition("\n")
    if newline and rest.strip() and first.strip().startswith("{"):
        try:
            if isinstance(json.loads(first), dict):
                return "jsonl"
        except (ValueError, RecursionError):
            pass
    if label.lower().endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return "json"


@contextlib.contextmanager
def spooled(sources: Sequence[Source]) -> Iterator[list[Source]]:
    """Sources with standard input, pipes and command-line text copied to temporary files, so
    that their format can be sniffed and their lines streamed like a file's (sniffing would
    consume a pipe)."""
    if all(s.size is not None for s in sources):
        yield list(sources)
        return
    made: list[str] = []
    try:
        out = []
        for s in sources:
            if s.size is not None:
                out.append(s)
                continue
            import shutil
            import tempfile

            fd, name = tempfile.mkstemp(prefix="tokopt-input-")
            made.append(name)
            with os.fdopen(fd, "wb") as dst:
                if s.text is not None:
                    dst.write(s.text.encode("utf-8"))
                elif s.path is None:
                    shutil.copyfileobj(sys.stdin.buffer, dst, 1 << 20)
                else:
                    try:
                        with s.path.open("rb") as src:
                            shutil.copyfileobj(src, dst, 1 << 20)
                    except OSError as exc:
                        raise InputError(f"cannot read {s.label}: {exc.strerror}") from None
            path = Path(name)
            out.append(Source(s.label, path, path.stat().st_size))
        yield out
    finally:
        for name in made:
            with contextlib.suppress(OSError):
                os.unlink(name)


def sniff_data(data: bytes, label: str, forced: InputFormat = InputFormat.auto, *, whole: bool) -> Shape:
    """The shape of an input from its first bytes (`whole`: `data` is all of it).

    Well-formed JSON that is not a chat request (none of REQUEST_KEYS in the whole input, up
    to a megabyte; for JSON Lines, a first line that is an object of other keys) is "text": a
    JSON data file is a prompt like any other. Malformed JSON keeps its shape, so that the
    reader names the line and column. A forced format is taken as given."""
    shape = sniff_shape(data[: SNIFF_CHARS * 2].decode("utf-8", "replace"), label, forced)
    if shape == "text" or forced is not InputFormat.auto or not (whole and len(data) <= REQUEST_SCAN):
        return shape
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    if REQUEST_KEYS.search(text):
        return shape
    if shape == "jsonl":
        text = next((line for line in text.splitlines() if line.strip()), "")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return shape
    return "text" if shape == "json" or isinstance(parsed, dict) else shape


def sniff(source: Source, forced: InputFormat = InputFormat.auto) -> Shape:
    """The shape of an input (text, JSON, JSONL) from its first bytes; see `sniff_data`."""
    if forced is InputFormat.text:
        return "text"
    if source.path is None:
        return "text" if forced is InputFormat.auto else sniff_shape("", source.label, forced)
    if source.content is not None:  # the whole file, read already
        head = source.content[: SNIFF_CHARS * 2]
        whole = False
        if forced is InputFormat.auto and sniff_shape(head.decode("utf-8", "replace"), source.label) != "text":
            head = source.content[: REQUEST_SCAN + 1]
            whole = len(head) <= REQUEST_SCAN
        return sniff_data(head, source.label, forced, whole=whole)
    try:
        with source.path.open("rb") as fh:
            head = fh.read(SNIFF_CHARS * 2)
            if forced is InputFormat.auto and sniff_shape(head.decode("utf-8", "replace"), source.label) != "text":
                head += fh.read(REQUEST_SCAN + 1 - len(head))
                whole = len(head) <= REQUEST_SCAN
            else:
                whole = False
    except OSError:
        return "text"  # the reader reports the problem
    return sniff_data(head, source.label, forced, whole=whole)
