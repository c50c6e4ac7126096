"""Paths on the command line -> sources of text, read as bytes and decoded strictly.

Files are read as bytes and decoded here, so CRLF stays CRLF (converting it changes the
count). Directories are walked recursively (`walk`): hidden entries and what `.gitignore` files
exclude are skipped, and so are files that are not UTF-8 text. Globs are expanded by the same
walker, as Python's glob would, but enter each directory once.
"""

from __future__ import annotations

import codecs
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


@dataclass(frozen=True)
class Source:
    """One input: a file, or standard input when `path` is None."""

    label: str
    path: Path | None = None
    size: int | None = None

    @property
    def is_stdin(self) -> bool:
        return self.path is None


@dataclass
class Expansion:
    sources: list[Source] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: reason", for a note on stderr


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def looks_binary(head: bytes) -> bool:
    """NUL bytes, or not UTF-8 (a character cut at the end of a full sniff is fine)."""
    if b"\x00" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SNIFF_SIZE)
    except UnicodeDecodeError:
        return True
    return False


def _sniff(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(SNIFF_SIZE)


def _walk(root: Path, out: Expansion) -> list[Source]:
    found: list[Source] = []
    listing = walk.walk(root.absolute(), gitignore=True)
    for path, why in listing.problems:  # a file or a directory it could not read
        out.skipped.append(f"{_label(path)}: {why}")
    for entry in listing.files:
        try:
            if looks_binary(_sniff(entry.path)):
                out.skipped.append(f"{_label(entry.path)}: not UTF-8 text")
                continue
        except OSError as exc:
            out.skipped.append(f"{_label(entry.path)}: {exc.strerror}")
            continue
        found.append(Source(_label(entry.path), entry.path, entry.size))
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

    def add(source: Source) -> None:
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
            files = _walk(path, out)
            if not files:
                raise InputError(f"no text files in directory: {arg}")
            for source in files:
                add(source)
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
                    for source in _walk(mpath, out):
                        add(source)
                elif mpath.is_file():
                    add(_file_source(mpath))
        else:
            raise InputError(f"file not found: {arg}")
    if not out.sources:
        raise InputError("no input files")
    return out


def _open(source: Source) -> BinaryIO:
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


def read_text(source: Source, *, errors: EncodingErrors = "strict") -> str:
    """The whole decoded text of a source (for formats that must be parsed whole)."""
    return "".join(read_blocks(source, errors=errors))
