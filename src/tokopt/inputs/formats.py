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
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import BinaryIO, Literal

from tokopt.errors import InputError
from tokopt.inputs import Source
from tokopt.inputs.streams import POLL_MS, interruptible, open_interruptible

SNIFF_CHARS = 4096
# JSON that names none of these keys in its first megabyte is data, not a chat request: it is
# counted as plain text (a prompt can be JSON) instead of failing as a broken request.
REQUEST_KEYS = re.compile(r'"(?:messages|input|role|custom_id)"\s*:')
REQUEST_SCAN = 1 << 20
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
# names of prose: such a file is read as a request only if it is well-formed JSON or JSON Lines
TEXT_SUFFIXES = (".md", ".markdown", ".mdx", ".txt", ".text", ".prompt", ".rst")

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


DEFAULT_MAX_INPUT = 1 << 30  # 1 GiB of one stream: far beyond any prompt, far below a full disk
WAIT_NOTE_S = 1.0  # how long a read may block before tokopt says what it waits for
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """A size as people write it: 1048576, 512k, 200M, 1.5G (powers of 1024; `MB`, `MiB` too)."""
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"not a size: {text!r} (write 500M, 2G or a number of bytes)")
    size = int(float(m[1]) * 1024 ** " kmgt".index(m[2].lower() or " "))
    if size < 1:
        raise ValueError(f"not a size: {text!r} (at least one byte)")
    return size


def human_size(size: int) -> str:
    for unit, power in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << power:
            return f"{size / (1 << power):g} {unit}"
    return f"{size:,} bytes"


def _wait_readable(fd: int, label: str, on_wait: Callable[[str], None] | None) -> None:
    """Say what tokopt waits for when a stream has nothing to read for a moment (a named pipe
    with no writer, a pipe or terminal that sends nothing): never block without saying why.
    In the main thread, so that Ctrl-C, SIGTERM and SIGHUP end the wait as they end a read."""
    import select

    if on_wait is None or not hasattr(select, "poll"):
        return
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    if not poller.poll(int(WAIT_NOTE_S * 1000)):
        on_wait(f"waiting for {label}: nothing to read yet (a pipe with no writer?); Ctrl-C stops")
        # until there is something to read, or a writer came and went: a read now would see
        # the end of a named pipe that has no writer yet. In steps, so that a signal that
        # lands just before a step's poll() is acted on (see inputs/streams.py)
        while not poller.poll(POLL_MS):
            pass


def _open_stream(path: Path, label: str, on_wait: Callable[[str], None] | None) -> BinaryIO:
    """A pipe, device or other non-regular file opened for reading. A named pipe opened this way
    does not block until a writer comes: the wait is in `_wait_readable`, which says so."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        _wait_readable(fd, label, on_wait)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    # Outside the try: once the file object owns the descriptor it closes it. A SIGTERM that
    # lands just after it is made would otherwise close it twice, and the second close's EBADF
    # became "cannot read ...: Bad file descriptor" instead of the signal's exit.
    return open_interruptible(fd)


def too_much(label: str, max_size: int, what: str = "") -> InputError:
    """The error of a stream that goes on past `max_size` bytes (`what`: what was not done)."""
    return InputError(
        f"{label}: more than {human_size(max_size)} of input; stopped reading{what} (--max-input-size)",
        hint="to read more, pass a larger --max-input-size (e.g. 4G)",
    )


class Bounded:
    """A binary stream read through, that raises `too_much` once more than `max_size` bytes
    came out of it: a reader of stdin or a pipe never takes an endless one whole."""

    def __init__(self, stream: BinaryIO, label: str, max_size: int, what: str = "") -> None:
        self._stream = stream
        self.label = label
        self.max_size = max_size
        self.what = what
        self.taken = 0

    def _count(self, data: bytes) -> bytes:
        self.taken += len(data)
        if self.taken > self.max_size:
            raise too_much(self.label, self.max_size, self.what)
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return self._count(self._stream.read(min(size, self.max_size + 1 - self.taken)))
        parts = []
        while chunk := self._count(self._stream.read(min(1 << 20, self.max_size + 1 - self.taken))):
            parts.append(chunk)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        room = self.max_size + 1 - self.taken
        return self._count(self._stream.readline(room if size is None or size < 0 else min(size, room)))

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


def read_limited(path: Path, label: str, max_size: int = DEFAULT_MAX_INPUT, what: str = "") -> bytes:
    """The bytes of a file named on the command line or in a config, `max_size` at most
    (`too_much` past it): a device or a pipe named as a file (/dev/zero, /dev/stdin) never
    ends. OSError is the caller's to report."""
    import stat

    with path.open("rb") as fh:
        info = os.fstat(fh.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size <= max_size:
            return fh.read()
        return Bounded(fh, label, max_size, what).read()  # type: ignore[arg-type]


def _copy(src: BinaryIO, dst: BinaryIO, label: str, max_size: int) -> None:
    chunk = src.read(1 << 16)
    copied = 0
    while chunk:
        copied += len(chunk)
        if copied > max_size:
            raise too_much(label, max_size)
        try:
            dst.write(chunk)
        except OSError as exc:
            raise InputError(f"cannot keep {label} in a temporary file: {exc.strerror}", hint="point TMPDIR at a disk with room") from None
        chunk = src.read(min(1 << 20, max_size + 1 - copied))


@contextlib.contextmanager
def spooled(
    sources: Sequence[Source], *, max_size: int = DEFAULT_MAX_INPUT, on_wait: Callable[[str], None] | None = None
) -> Iterator[list[Source]]:
    """Sources with standard input, pipes, devices and command-line text copied to temporary
    files, so that their format can be sniffed and their lines streamed like a file's (sniffing
    would consume a pipe). A stream is read up to `max_size` bytes (InputError past it: /dev/zero
    never ends); `on_wait` is told when a stream has nothing to read for a moment. The files are
    removed however this ends (an error, Ctrl-C, SIGTERM, SIGHUP)."""
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
            import tempfile

            fd, name = tempfile.mkstemp(prefix="tokopt-input-")
            made.append(name)
            with os.fdopen(fd, "wb") as dst:
                if s.text is not None:
                    dst.write(s.text.encode("utf-8"))
                elif s.path is None:
                    with contextlib.suppress(OSError, ValueError):  # not a real file: no wait to tell
                        _wait_readable(sys.stdin.fileno(), s.label, on_wait)
                    _copy(interruptible(sys.stdin.buffer), dst, s.label, max_size)
                else:
                    try:
                        with _open_stream(s.path, s.label, on_wait) as src:
                            _copy(src, dst, s.label, max_size)
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
    if shape == "text" or forced is not InputFormat.auto:
        return shape
    if label.lower().endswith(TEXT_SUFFIXES) and not _well_formed(data, shape, whole=whole):
        return "text"  # a Markdown prompt that opens with a JSON example is still a prompt
    if not (whole and len(data) <= REQUEST_SCAN):
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


def _well_formed(data: bytes, shape: Shape, *, whole: bool) -> bool:
    """Whether `data` (the first megabyte or so of an input, or all of it if `whole`) reads as
    the JSON document or JSON Lines its first bytes suggest, as far as it goes."""
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    try:
        if shape == "json":
            if whole:  # a part of one document cannot be checked
                json.loads(text)
            return True
        lines = text.splitlines()
        for line in lines if whole else lines[:-1]:  # the last line of a part may be cut short
            if line.strip() and not isinstance(json.loads(line), dict):
                return False
    except (ValueError, RecursionError):
        return False
    return True


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
