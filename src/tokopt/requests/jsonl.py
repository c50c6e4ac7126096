"""JSONL inputs, one line at a time: requests, batch lines, or the messages of one transcript.

A file of requests or batch lines is read line by line (`JsonlReader`), so a file of any size
is parsed in bounded memory; a transcript (one message per line) is one request and is read
whole. A line that is not a request is a `LineError`: reported (--keep-going), or an error.
"""

from __future__ import annotations

import codecs
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from tokopt.errors import InputError
from tokopt.inputs import EncodingErrors, Source
from tokopt.requests.model import Conversation, Dialect, InputFormat, Request
from tokopt.requests.parse import batch_line, json_kind, loads_document, parse_document, parse_message, parse_request

MAX_REPORTED_LINE_ERRORS = 200
READ_BUFFER = 1 << 20

LineKind = Literal["batch", "request", "message"]


@dataclass(frozen=True, slots=True)
class LineError:
    """A JSONL line that could not be read as a request; reported, never dropped silently."""

    source: str
    line: int
    message: str

    @property
    def text(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


def iter_jsonl(
    source: Source,
    *,
    errors: EncodingErrors = "strict",
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line, read as bytes one line at a time."""
    from tokopt.inputs import SNIFF_SIZE

    fh = _open(source)
    offset = 0
    decode = codecs.getdecoder("utf-8")
    try:
        for number, raw in enumerate(fh, 1):
            if number == 1 and b"\x00" in raw[:SNIFF_SIZE]:
                raise InputError(f"binary file (contains NUL bytes): {source.label}")
            try:
                text = decode(raw, errors)[0]
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{source.label}:{number}: invalid UTF-8 at byte {offset + exc.start}",
                    hint="pass --encoding-errors replace to read it with U+FFFD in place of bad bytes",
                ) from None
            offset += len(raw)
            if on_bytes is not None:
                on_bytes(len(raw))
            if text.strip():
                yield number, text
    finally:
        if source.path is not None:
            fh.close()


def _open(source: Source) -> BinaryIO:
    if source.path is None:
        return sys.stdin.buffer
    try:
        # A large buffer: every refill is a read that gives up the GIL, and getting it back
        # from the counting threads costs a thread switch, so refill rarely.
        return Path(source.path).open("rb", buffering=READ_BUFFER)
    except FileNotFoundError:
        raise InputError(f"file not found: {source.label}") from None
    except PermissionError:
        raise InputError(f"permission denied: {source.label}") from None


def line_kind(obj: dict[str, Any]) -> LineKind | None:
    if "custom_id" in obj and ("body" in obj or "url" in obj or "method" in obj or "params" in obj):
        return "batch"  # OpenAI Batch (body) or Anthropic Message Batches (params)
    if "messages" in obj or "input" in obj:
        return "request"
    if "role" in obj:
        return "message"
    return None


_KIND_NAMES = {
    "batch": "an OpenAI Batch line (custom_id, method, url, body)",
    "request": "a request with 'messages'",
    "message": "a message with 'role'",
}
_KIND_PLURALS = {"batch": "OpenAI Batch lines", "request": "requests", "message": "messages"}
class JsonlReader:
    """Requests from a JSONL input, one line at a time.

    The first good line decides the file's kind (batch lines, requests, or messages); a line of
    another kind, a line that is not a JSON object, or a request the parser rejects is a
    `LineError`. With `keep_going` the reader yields LineErrors and goes on; without, the first
    one is raised as an InputError. A file of messages is one transcript: `transcript()` reads
    it whole.
    """

    def __init__(
        self,
        source: Source,
        forced: InputFormat = InputFormat.auto,
        *,
        keep_going: bool = False,
        errors: EncodingErrors = "strict",
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self.source = source
        self.forced = forced
        self.keep_going = keep_going
        self.kind: LineKind | None = "batch" if forced is InputFormat.batch else None
        self.kind_line: int | None = None
        self.lines = 0
        self.errors: list[LineError] = []  # the first MAX_REPORTED_LINE_ERRORS of them
        self.error_count = 0
        self._lines = iter_jsonl(source, errors=errors, on_bytes=on_bytes)
        self._pending: list[tuple[int, Any]] = []

    def _fail(self, number: int, message: str) -> LineError:
        err = LineError(self.source.label, number, message)
        if not self.keep_going:
            raise InputError(err.text, hint="pass --keep-going to report the other lines and skip the bad ones")
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_LINE_ERRORS:
            self.errors.append(err)
        return err

    def reject(self, number: int, message: str) -> None:
        """Report a line the caller could not use (with --keep-going; otherwise an error)."""
        self._fail(number, message)

    def _parsed(self) -> Iterator[tuple[int, Any]]:
        for number, text in self._lines:
            self.lines += 1
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, _Malformed(exc)
            except RecursionError:
                yield number, _Malformed(json.JSONDecodeError("nested too deeply to read", text, 0))

    def _objects(self) -> Iterator[tuple[int, Any]]:
        pending, self._pending = self._pending, []
        yield from pending
        yield from self._parsed()

    def peek_kind(self) -> LineKind | None:
        """The kind of the first good line (read ahead, nothing is consumed)."""
        if self.kind is not None:
            return self.kind
        for number, obj in self._parsed():
            self._pending.append((number, obj))
            if isinstance(obj, dict):
                kind = line_kind(obj)
                if kind is not None:
                    self.kind, self.kind_line = kind, number
                    return kind
            if len(self._pending) > 1000:
                break
        return self.kind

    def __iter__(self) -> Iterator[Request | LineError]:
        if self.kind is None:
            self.peek_kind()
        for number, obj in self._objects():
            if isinstance(obj, _Malformed):
                yield self._fail(number, obj.message)
                continue
            if not isinstance(obj, dict):
                yield self._fail(number, f"not a JSON object ({json_kind(obj)})")
                continue
            kind = line_kind(obj)
            if kind is None:
                yield self._fail(number, "not a request, a batch line or a message (no 'messages', 'custom_id' or 'role')")
                continue
            if self.kind is None:
                self.kind, self.kind_line = kind, number
            if kind != self.kind:
                yield self._fail(number, f"{_KIND_NAMES[kind]} in a file of {_KIND_PLURALS[self.kind]} (as line {self.kind_line})")
                continue
            if kind == "message":
                yield self._fail(number, "a message line outside a transcript")
                continue
            try:
                if kind == "batch":
                    yield batch_line(obj, self.source.label, number)
                else:
                    yield Request(parse_request(obj, f"{self.source.label}:{number}", self.forced), self.source.label, number)
            except InputError as exc:
                yield self._fail(number, exc.message.removeprefix(f"{self.source.label}:{number}: "))

    def transcript(self) -> Request:
        """A file of one message per line as one conversation (read whole: it is one call)."""
        messages = []
        for number, obj in self._objects():
            at = f"{self.source.label}:{number}"
            if isinstance(obj, _Malformed):
                self._fail(number, obj.message)
                continue
            if not isinstance(obj, dict) or line_kind(obj) != "message":
                self._fail(number, f"not a message object ({json_kind(obj)})" if not isinstance(obj, dict) else "not a message (no 'role')")
                continue
            try:
                messages.append(parse_message(obj, at))
            except InputError as exc:
                self._fail(number, exc.message.removeprefix(f"{at}: "))
        dialect = Dialect.anthropic if self.forced is InputFormat.anthropic else Dialect.openai
        return Request(Conversation(messages=tuple(messages), dialect=dialect), source=self.source.label)


@dataclass(frozen=True, slots=True)
class _Malformed:
    exc: json.JSONDecodeError

    @property
    def message(self) -> str:
        # The line still ends in its newline: an error at the end of the line is at the end
        # of its text, not at column 1 of the "next line" that json reports.
        column = min(self.exc.pos, len(self.exc.doc.rstrip("\r\n"))) + 1
        return f"malformed JSON at column {column}: {self.exc.msg.lower()}"


@dataclass
class OpenedInput:
    """The requests of a JSON or JSONL input, and what the input is.

    `single`: the input is one call (a JSON request, or a transcript of one message per line);
    `batch`: batch API input (a batch line as a document, or a JSONL of them); `reader`: the
    JSONL reader, for its line counts and errors (None for a JSON document)."""

    items: Iterator[Request | LineError]
    kind: Literal["document", "transcript", "requests", "batch"]
    single: bool
    batch: bool
    reader: JsonlReader | None = None
    first: Request | None = None  # the document's request


def open_requests(
    source: Source,
    shape: Literal["json", "jsonl"],
    forced: InputFormat = InputFormat.auto,
    *,
    keep_going: bool = False,
    errors: EncodingErrors = "strict",
    on_bytes: Callable[[int], None] | None = None,
) -> OpenedInput:
    """Open an input of a known shape as requests, the one way estimate, tokenize, suggest and
    check read chat inputs. A JSON document and a transcript are read at once; other JSONL is
    streamed line by line as it is iterated."""
    from tokopt.inputs import read_text

    if shape == "json":
        text = read_text(source, errors=errors)
        if on_bytes is not None:
            on_bytes(len(text.encode("utf-8", "surrogatepass")))
        request = parse_document(loads_document(text, source.label), source.label, forced)
        batch = request.custom_id is not None
        return OpenedInput(iter([request]), "document", single=True, batch=batch, first=request)
    reader = JsonlReader(source, forced, keep_going=keep_going, errors=errors, on_bytes=on_bytes)
    kind = reader.peek_kind()
    if kind == "message":
        return OpenedInput(iter([reader.transcript()]), "transcript", single=True, batch=False, reader=reader)
    batch = kind == "batch"
    return OpenedInput(iter(reader), "batch" if batch else "requests", single=False, batch=batch, reader=reader)
