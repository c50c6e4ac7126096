"""Provider usage logs -> usage records. No database, no prices: parsing only.

Every JSON object in a file (a JSON document, an array of them, or JSON lines) is recognised
on its own, so one file may mix formats. Each format is one module here, registered in
`FORMATS` (the order is the order they are asked in):

- `claude_code`: Claude Code transcripts, one response over several lines
- `codex`: Codex CLI sessions, cumulative totals
- `anthropic`: Anthropic Messages, streams and Message Batches results
- `openai`: OpenAI Chat Completions, Responses, streams and Batch output
- `gemini`: Gemini `usageMetadata`

Lines that are not JSON, or whose usage fields are malformed, are counted as garbage and
skipped. Valid JSON without usage (a user turn, a summary) is ignored silently. Every call
counts once, with its largest counts, across all the files of one import (`base.Merger`).

Adding a format: a module with an `Importer` subclass, and one line in `FORMATS`.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokopt.errors import InputError
from tokopt.inputs import walk
from tokopt.ledger.importers.anthropic import Anthropic
from tokopt.ledger.importers.base import FileImport, FileSink, Importer, Merger, Reader, Tally, parse_time
from tokopt.ledger.importers.claude_code import ClaudeCode
from tokopt.ledger.importers.codex import Codex
from tokopt.ledger.importers.gemini import Gemini
from tokopt.ledger.importers.openai import OpenAI
from tokopt.usage import UsageRecord

FORMATS: tuple[type[Importer], ...] = (ClaudeCode, Codex, Anthropic, OpenAI, Gemini)

__all__ = ["FORMATS", "FileImport", "ImportSource", "Imported", "expand_paths", "parse_objects", "parse_response", "parse_time", "read_sources"]


@dataclass(frozen=True)
class Imported:
    """What an import read: each file's tally, and the records of all of them (each call once)."""

    files: list[FileImport]
    records: list[UsageRecord]

    def check_readable(self) -> None:
        """Empty logs (a session just begun, an empty pipe) add nothing; only logs that hold
        something, none of it readable, are the wrong files: an error naming them."""
        files = self.files
        if any(f.readable for f in files) or not any(f.lines for f in files):
            return
        garbage = sum(f.garbage for f in files)
        what = f"{garbage:,} unreadable line{'s' if garbage != 1 else ''}" if garbage else "no JSON"
        example = next((f"; {f.source} {f.garbage_examples[0]}" for f in files if f.garbage_examples), "")
        names = ", ".join(f.source for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        raise InputError(f"nothing could be read from {names}: {what}{example}")


# ---------------------------------------------------------------------------------------------
# paths

SUFFIXES = {".jsonl", ".json", ".ndjson", ".log"}


@dataclass(frozen=True)
class ImportSource:
    label: str
    path: Path | None  # None: stdin


def expand_paths(args: Iterable[str]) -> list[ImportSource]:
    """Files as given; directories walked for *.jsonl, *.json, *.ndjson and *.log; - is stdin."""
    sources: list[ImportSource] = []
    for arg in args:
        if arg == "-":
            sources.append(ImportSource("<stdin>", None))
            continue
        path = Path(arg).expanduser()
        if path.is_dir():
            listing = walk.walk(path, hidden_dirs=True, hidden_files=True)
            found = sorted(e.path for e in listing.files if e.path.suffix.lower() in SUFFIXES)
            if not found:
                raise InputError(f"no usage logs (*.jsonl, *.json) in directory: {arg}")
            sources.extend(ImportSource(str(p), p) for p in found)
        elif path.is_file():
            sources.append(ImportSource(arg, path))
        elif path.exists():
            raise InputError(f"not a regular file: {arg}")
        else:
            raise InputError(f"file not found: {arg}")
    return sources


# ---------------------------------------------------------------------------------------------
# reading


def _reader(label: str, merger: Merger, default_time: dt.datetime | None) -> Reader:
    return Reader(FORMATS, FileSink(FileImport(source=label), merger, default_time))


def read_sources(sources: Sequence[ImportSource], on_bytes: Callable[[int], None] | None = None) -> Imported:
    """Read the logs; `on_bytes` is told how many bytes have been read, as they are read."""
    merger = Merger()
    files = []
    for source in sources:
        if source.path is None:
            reader = _reader(source.label, merger, dt.datetime.now(dt.timezone.utc))
            reader.read_stream(sys.stdin.buffer)
        else:
            try:
                with source.path.open("rb") as f:
                    mtime = dt.datetime.fromtimestamp(source.path.stat().st_mtime, dt.timezone.utc)
                    reader = _reader(source.label, merger, mtime)
                    reader.read_stream(f if on_bytes is None else Tally(f, on_bytes))  # type: ignore[arg-type]
            except OSError as exc:
                raise InputError(f"cannot read {source.label}: {exc.strerror}") from None
        files.append(reader.result)
    return Imported(files=files, records=merger.records())


def parse_response(response: Any) -> list[UsageRecord]:
    """The usage in one provider response (a dict, or an SDK object with `model_dump()` or
    `to_dict()`); an error if it has none."""
    if hasattr(response, "model_dump"):
        response = response.model_dump()
    elif hasattr(response, "to_dict"):
        response = response.to_dict()
    read = parse_objects([response], label="response")
    if read.files[0].garbage:
        raise InputError(f"not a usage-bearing response: {read.files[0].garbage_examples[0]}")
    if not read.records:
        raise InputError("no usage found in the response", hint="pass the whole response object, with its usage")
    return read.records


def parse_objects(objects: Iterable[Any], label: str = "objects") -> Imported:
    """Records from response objects already in memory (the Python API's record_response)."""
    merger = Merger()
    reader = _reader(label, merger, dt.datetime.now(dt.timezone.utc))
    reader.read_objects(objects)
    return Imported(files=[reader.result], records=merger.records())
