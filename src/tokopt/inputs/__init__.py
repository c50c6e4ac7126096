"""Paths on the command line -> sources of text, read as bytes and decoded strictly.

Files are read as bytes and decoded here, so CRLF stays CRLF (converting it changes the
count). Directories are walked recursively (`walk`): hidden entries and what `.gitignore` files
exclude are skipped, and so are files that are not UTF-8 text. Globs are expanded by the same
walker, as Python's glob would, but enter each directory once.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from tokopt.errors import InputError
from tokopt.inputs import globs, walk

EncodingErrors = Literal["strict", "replace"]
STDIN = "-"
BLOCK_SIZE = 1 << 18
SNIFF_SIZE = 8192


# A walk keeps the bytes of small files it has read anyway (to tell text from binary), up to
# this much in all, so that thousands of small prompts are each opened once, not three times.
KEEP_SMALL_FILES = 16 << 20


@dataclass(frozen=True)
class Source:
    """One input: a file, standard input when `path` is None, or text given on the command
    line (`text`, from --text), which `formats.spooled` writes to a file like standard input.
    `content`, when set, is the whole file as it was read while looking for inputs; readers use
    it instead of the file."""

    label: str
    path: Path | None = None
    size: int | None = None
    content: bytes | None = field(default=None, repr=False, compare=False)
    text: str | None = field(default=None, repr=False)

    @property
    def is_stdin(self) -> bool:
        return self.path is None and self.text is None


def inline(texts: Sequence[str]) -> list[Source]:
    """Sources for text given on the command line: `<text>`, or `<text 1>`, `<text 2>`, ..."""
    if len(texts) == 1:
        return [Source("<text>", text=texts[0])]
    return [Source(f"<text {n}>", text=t) for n, t in enumerate(texts, 1)]


@dataclass
class Expansion:
    sources: list[Source] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: reason", for a note on stderr


def _label(path: Path, cwd: Path | None = None) -> str:
    """The path relative to the working directory when it is below it, else as it is."""
    here = str(cwd or Path.cwd())
    text = str(path)
    if here != os.sep and text != here and os.name != "nt":
        # what relative_to gives, without pathlib's parsing (both are normalised absolute paths,
        # or `path` is relative and relative_to fails): a walk of thousands of files outside
        # the working directory paid for a ValueError per file
        if text.startswith(here) and text[len(here) : len(here) + 1] == os.sep:
            return text[len(here) + 1 :]
        return text
    try:
        return str(path.relative_to(here))
    except ValueError:
        return text


def looks_binary(head: bytes) -> bool:
    """NUL bytes, or not UTF-8 (a character cut at the end of a full sniff is fine)."""
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # bytes that only lack the rest of their character, at the end of a full sniff
        cut = len(head) >= SNIFF_SIZE and exc.end == len(head) and exc.reason == "unexpected end of data"
        return not cut
    return False


def _sniff(path: Path) -> bytes:
    with open(path, "rb", buffering=0) as fh:
        return fh.read(SNIFF_SIZE)


def _walk(root: Path, out: Expansion, budget: list[int]) -> list[tuple[Source, str]]:
    """The text files below `root`, each with the key that tells it apart (its real path).

    A file is read once here (up to SNIFF_SIZE) to tell text from binary; a small file's bytes
    are kept in its Source while `budget` lasts. The real path of a walked file is the real
    root joined with its path below it, unless the file is a symlink: directories reached
    through symlinks are not walked."""
    found: list[tuple[Source, str]] = []
    cwd = Path.cwd()
    top = root.absolute()
    real_top = os.path.realpath(top)
    listing = walk.walk(top, gitignore=True)
    for path, why in listing.problems:  # a file or a directory it could not read
        out.skipped.append(f"{_label(path, cwd)}: {why}")
    for entry in listing.files:
        try:
            head = _sniff(entry.path)
        except OSError as exc:
            out.skipped.append(f"{_label(entry.path, cwd)}: {exc.strerror}")
            continue
        if looks_binary(head):
            out.skipped.append(f"{_label(entry.path, cwd)}: not UTF-8 text")
            continue
        content = None
        if len(head) == entry.size < SNIFF_SIZE and budget[0] >= entry.size:
            budget[0] -= entry.size
            content = head
        key = os.path.realpath(entry.path) if entry.link else os.path.join(real_top, *entry.rel.split("/"))
        found.append((Source(_label(entry.path, cwd), entry.path, entry.size, content), key))
    return found


def _file_source(path: Path) -> Source:
    try:
        st = path.stat()
    except PermissionError:
        raise InputError(f"permission denied: {path}") from None
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISFIFO(st.st_mode) and not stat.S_ISCHR(st.st_mode):
        raise InputError(f"not a regular file: {path}")
    return Source(_label(path), path, st.st_size if stat.S_ISREG(st.st_mode) else None)


def expand(args: Sequence[str]) -> Expansion:
    """Files, directories, globs and '-' -> Sources, in the order given, without duplicates."""
    out = Expansion()
    seen: set[str] = set()
    budget = [KEEP_SMALL_FILES]

    def add(source: Source, key: str | None = None) -> None:
        if key is None:
            key = "<stdin>" if source.path is None else str(source.path.resolve())
        if key not in seen:
            seen.add(key)
            out.sources.append(source)

    for arg in args:
        if arg == STDIN:
            add(Source("<stdin>"))
            continue
        path = Path(arg).expanduser()
        if path.is_dir():
            files = _walk(path, out, budget)
            if not files:
                raise InputError(f"no text files in directory: {arg}")
            for source, key in files:
                add(source, key)
        elif path.exists() or path.is_symlink():
            if not path.exists():
                raise InputError(f"broken symlink: {arg}")
            add(_file_source(path))
        elif globs.has_glob(arg):
            matches = walk.glob(arg)
            if not matches:
                raise InputError(f"no files match: {arg}")
            for match in matches:
                mpath = Path(match)
                if mpath.is_dir():
                    for source, key in _walk(mpath, out, budget):
                        add(source, key)
                elif mpath.is_file():
                    add(_file_source(mpath))
        else:
            raise InputError(f"file not found: {arg}")
    if not out.sources:
        raise InputError("no input files")
    return out


def _open(source: Source) -> BinaryIO:
    if source.content is not None:
        return io.BytesIO(source.content)
    if source.path is None:
        return sys.stdin.buffer
    try:
        return source.path.open("rb")
    except FileNotFoundError:
        raise InputError(f"file not found: {source.label}") from None
    except PermissionError:
        raise InputError(f"permission denied: {source.label}") from None
    except IsADirectoryError:
        raise InputError(f"is a directory: {source.label}") from None


def read_blocks(
    source: Source,
    *,
    errors: EncodingErrors = "strict",
    block_size: int = BLOCK_SIZE,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """Decoded text of a source, block by block, never the whole file at once.

    A NUL byte in the first block means a binary file. Invalid UTF-8 is an InputError naming
    the byte offset, unless `errors="replace"`.
    """
    if source.content is not None:
        yield from _whole(source, source.content, errors, on_bytes)
        return
    decoder = codecs.getincrementaldecoder("utf-8")(errors=errors)
    fh = _open(source)
    offset = 0
    try:
        first = True
        while True:
            try:
                block = fh.read(block_size)
            except OSError as exc:
                raise InputError(f"cannot read {source.label}: {exc.strerror}") from None
            if first and b"\x00" in block[:SNIFF_SIZE]:
                raise InputError(f"binary file (contains NUL bytes): {source.label}")
            first = False
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                at = offset - pending + exc.start
                raise InputError(
                    f"{source.label}: invalid UTF-8 at byte {at}",
                    hint="pass --encoding-errors replace to read it with U+FFFD in place of bad bytes",
                ) from None
            offset += len(block)
            if on_bytes is not None and block:
                on_bytes(len(block))
            if text:
                yield text
            if not block:
                return
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def _whole(source: Source, data: bytes, errors: EncodingErrors, on_bytes: Callable[[int], None] | None) -> Iterator[str]:
    """read_blocks of a file read already: the same checks and errors, in one block."""
    if b"\x00" in data[:SNIFF_SIZE]:
        raise InputError(f"binary file (contains NUL bytes): {source.label}")
    try:
        text = data.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source.label}: invalid UTF-8 at byte {exc.start}",
            hint="pass --encoding-errors replace to read it with U+FFFD in place of bad bytes",
        ) from None
    if on_bytes is not None and data:
        on_bytes(len(data))
    if text:
        yield text


def read_text(source: Source, *, errors: EncodingErrors = "strict") -> str:
    """The whole decoded text of a source (for formats that must be parsed whole)."""
    return "".join(read_blocks(source, errors=errors))
