"""Reading one file: a JSON document (an object or an array of them), JSON lines, or an SQLite
database a format knows the tables of; each JSON object is offered to the formats in order.

A read of JSON lines ends knowing where its last whole line ended (`Stop`): the next import
of the same file starts there when the file has only grown.
"""

from __future__ import annotations

import io
import json
import json.scanner
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from tokopt.ledger.importers.base import BadRecord, FileSink, Importer, obj

TAIL_MAX = 1 << 16  # the end of a file kept (hashed) to tell that it is still the same file


@dataclass(frozen=True)
class Stop:
    """Where a read stopped: `offset` bytes in (after the last whole line of JSON lines; the
    end of a document), `lines` lines numbered, the bytes just before the offset (the last
    line, at most TAIL_MAX of it), and whether the file was one JSON document (which cannot
    be read on from an offset)."""

    offset: int
    lines: int
    tail: bytes
    document: bool


class Reader:
    """Reads one file's JSON objects and offers each to the registered formats in order."""

    def __init__(self, formats: Sequence[type[Importer]], sink: FileSink) -> None:
        self.sink = sink
        self.result = sink.result
        self.importers = [f(sink) for f in formats]
        self.stop: Stop | None = None
        # a file that will be read on from where this read stops: a last line that is not
        # (yet) whole JSON is left for that next read, not counted as garbage
        self.resumable = False

    # -- state across imports -----------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The importers' state (and the sink's numbering) at the end of what was read."""
        out: dict[str, Any] = {i.name: s for i in self.importers if (s := i.state())}
        if self.sink.numbered:
            out["_numbered"] = dict(self.sink.numbered)
        return out

    def restore(self, state: Mapping[str, Any]) -> None:
        for importer in self.importers:
            if importer.name in state:
                importer.restore(state[importer.name])
        self.sink.numbered.update(state.get("_numbered", {}))

    def finish(self) -> None:
        """Let every importer add what it has held back until the end of the read."""
        for importer in self.importers:
            importer.finish()

    # -- objects ------------------------------------------------------------------------------

    def feed(self, data: Any, context_time: Any = None) -> None:
        if not isinstance(data, dict):
            raise BadRecord("not a JSON object")
        time = data.get("timestamp") or context_time
        for importer in self.importers:
            if importer.feed(data, time):
                return
        for importer in self.importers:
            if importer.feed_usage(data, time):
                return
        # a log line wrapping a response: {"timestamp": ..., "response": {...}}
        response = obj(data, "response")
        if response is not None:
            self.feed(response, context_time=time)

    def feed_one(self, data: Any, line_no: int | None) -> None:
        try:
            self.feed(data)
        except BadRecord as exc:
            self.result.bad(line_no, str(exc))
            return
        self.result.readable += 1

    def read_objects(self, items: Iterable[Any], *, numbered: bool = True) -> None:
        for index, item in enumerate(items, 1):
            self.result.lines += 1
            self.feed_one(item, index if numbered else None)
        self.finish()

    # -- files --------------------------------------------------------------------------------

    def read_stream(self, stream: BinaryIO) -> None:
        buffer = stream.read(1 << 16)
        while b"\n" not in buffer:
            more = stream.read(1 << 16)
            if not more:
                break
            buffer += more
        head = buffer.lstrip()
        first_line = head.split(b"\n", 1)[0]
        if head.startswith(b"[") or (head.startswith(b"{") and not _is_json(first_line)):
            data = buffer + stream.read()
            try:
                document = json.loads(data)
            except (ValueError, RecursionError):
                # not one document after all: JSON lines whose first line is broken
                self._read_lines(io.BytesIO(data), b"", 0, 0)
            else:
                self.read_objects(document if isinstance(document, list) else [document], numbered=isinstance(document, list))
                self.stop = Stop(offset=len(data), lines=0, tail=data[-TAIL_MAX:], document=True)
        else:
            self._read_lines(stream, buffer, 0, 0)
        self.finish()

    def read_on(self, stream: BinaryIO, offset: int, lines: int) -> None:
        """Read JSON lines from `stream`, which is at byte `offset` after line `lines` of its file."""
        self._read_lines(stream, b"", offset, lines)
        self.finish()

    def _read_lines(self, stream: BinaryIO, buffer: bytes, offset: int, line_no: int) -> None:
        result = self.result
        feed_one = self.feed_one
        markers = MARKERS
        scan = _SCAN
        last = b""
        while True:
            size = len(buffer)
            lines = buffer.split(b"\n")
            buffer = lines.pop()
            if lines:
                offset += size - len(buffer)  # every whole line and its newline
                last = lines[-1]
            # counted per chunk, not per line (a corpus has hundreds of thousands of lines)
            blank = plain = 0
            for number, raw in enumerate(lines, line_no + 1):
                if raw[:1] == b"{" and raw[-1:] == b"}":
                    line = raw  # the common case: nothing to strip
                else:
                    line = raw.strip()
                    if not line:
                        blank += 1
                        continue
                if line[:1] == b"{" and line[-1:] == b"}" and not any(map(line.__contains__, markers)):
                    plain += 1
                    continue
                try:
                    # json.loads(raw) without its encoding detection and its Python layers: the
                    # C scanner json.loads ends in, then its check that only whitespace follows
                    text = raw.decode()
                    data, end = scan(text, 0)
                    if end != len(text) and text[end:].strip(" \t\n\r"):
                        raise ValueError("extra data")
                except (ValueError, RecursionError, StopIteration):
                    try:
                        data = json.loads(raw)  # a BOM, UTF-16: or the error, as json.loads says it
                    except (ValueError, RecursionError) as exc:
                        result.bad(number, f"not JSON ({_reason(exc)})")
                        continue
                feed_one(data, number)
            line_no += len(lines)
            result.lines += len(lines) - blank
            result.readable += plain
            more = stream.read(1 << 20)
            if not more:
                break
            buffer += more
        # a last line without its newline may be half written: read it if it is whole, and read
        # it again next time (the stop is before it)
        self.stop = Stop(offset=offset, lines=line_no, tail=(last + b"\n")[-TAIL_MAX:] if offset else b"", document=False)
        if buffer.strip():
            try:
                data = json.loads(buffer)
            except (ValueError, RecursionError) as exc:
                if not self.resumable:
                    result.lines += 1
                    result.bad(line_no + 1, f"not JSON ({_reason(exc)})")
                return
            result.lines += 1
            feed_one(data, line_no + 1)


# Every line that can carry usage, or the state a format needs, has one of these. A line that is
# plainly a JSON object without any (a user turn, a tool result: often the longest lines of a
# transcript) is counted as read without being parsed. A format whose state lives in lines
# without "usage" adds its marker here.
MARKERS: tuple[bytes, ...] = (b"usage", b"turn_context", b"session_meta", b'"tokens"', b'"projectHash"')

_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # what json.loads uses for text, below its checks


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg.lower()
    if isinstance(exc, UnicodeDecodeError):
        return "invalid UTF-8"
    return type(exc).__name__


class Tally:
    """A binary stream that reports how many bytes were read (for a progress bar)."""

    def __init__(self, stream: BinaryIO, on_bytes: Callable[[int], None]) -> None:
        self._stream = stream
        self._on_bytes = on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._on_bytes(len(data))
        return data
