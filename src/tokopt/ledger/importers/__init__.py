"""Provider usage logs -> usage records. No database, no prices: parsing only.

Every JSON object in a file (a JSON document, an array of them, or JSON lines) is recognised
on its own, so one file may mix formats. Each format is one module here, registered in
`FORMATS` (the order is the order they are asked in):

- `claude_code`: Claude Code transcripts, one response over several lines
- `codex`: Codex CLI sessions, cumulative totals
- `gemini_cli`: Gemini CLI chat recordings
- `opencode`: OpenCode messages (JSON files, or its SQLite database)
- `amp`: Amp threads and their usage ledger
- `anthropic`: Anthropic Messages, streams and Message Batches results
- `openai`: OpenAI Chat Completions, Responses, streams and Batch output
- `gemini`: Gemini `usageMetadata`

Lines that are not JSON, or whose usage fields are malformed, are counted as garbage and
skipped. Valid JSON without usage (a user turn, a summary) is ignored silently. Every call
counts once, with its largest counts, across all the files of one import (`base.Merger`).
The formats of coding agents also say where their logs are (`discovery`), and what they
know between lines, so that a grown log is read on from where the last import stopped
(`sources`).

Adding a format: a module with an `Importer` subclass, and one line in `FORMATS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from tokopt.errors import InputError
from tokopt.inputs import walk
from tokopt.ledger.importers.amp import Amp
from tokopt.ledger.importers.anthropic import Anthropic
from tokopt.ledger.importers.base import FileImport, FileSink, Importer, Merger, parse_time
from tokopt.ledger.importers.claude_code import ClaudeCode
from tokopt.ledger.importers.codex import Codex
from tokopt.ledger.importers.discovery import Found
from tokopt.ledger.importers.gemini import Gemini
from tokopt.ledger.importers.gemini_cli import GeminiCli
from tokopt.ledger.importers.openai import OpenAI
from tokopt.ledger.importers.opencode import OpenCode
from tokopt.ledger.importers.reader import Reader
from tokopt.ledger.importers.sources import ImportSource, Imported, Step, plan, state_key
from tokopt.ledger.importers import discovery, sources as _sources
from tokopt.usage import UsageRecord

FORMATS: tuple[type[Importer], ...] = (ClaudeCode, Codex, GeminiCli, OpenCode, Amp, Anthropic, OpenAI, Gemini)
# the coding agents, by name, in FORMATS order
AGENTS: tuple[str, ...] = tuple(dict.fromkeys(f.agent for f in FORMATS if f.agent))

__all__ = [
    "AGENTS",
    "FORMATS",
    "FileImport",
    "Found",
    "ImportSource",
    "Imported",
    "Step",
    "discover",
    "expand_paths",
    "found_sources",
    "parse_objects",
    "parse_response",
    "parse_time",
    "plan",
    "read_sources",
    "state_key",
]


# ---------------------------------------------------------------------------------------------
# paths

SUFFIXES = {".jsonl", ".json", ".ndjson", ".log"}


def expand_paths(args: Iterable[str]) -> tuple[list[ImportSource], list[str]]:
    """Files as given; directories walked for *.jsonl, *.json, *.ndjson and *.log; - is stdin.
    A path that is missing, not a file, or a directory without logs is a problem (returned)
    when another path has logs, and an error when none has."""
    sources: list[ImportSource] = []
    problems: list[str] = []
    for arg in args:
        if arg == "-":
            sources.append(ImportSource("<stdin>", None))
            continue
        path = Path(arg).expanduser()
        if path.is_dir():
            listing = walk.walk(path, hidden_dirs=True, hidden_files=True)
            found = sorted(e.path for e in listing.files if e.path.suffix.lower() in SUFFIXES)
            problems.extend(f"cannot read {where}: {why}" for where, why in listing.problems)
            if not found:
                problems.append(f"no usage logs (*.jsonl, *.json) in directory: {arg}")
            sources.extend(ImportSource(str(p), p) for p in found)
        elif path.is_file():
            sources.append(ImportSource(arg, path))
        elif path.exists():
            problems.append(f"not a regular file: {arg}")
        else:
            problems.append(f"file not found: {arg}")
    if not sources and problems:
        raise InputError(problems[0] if len(problems) == 1 else f"nothing to import: {'; '.join(problems)}")
    return sources, problems


# ---------------------------------------------------------------------------------------------
# finding and reading


def discover(env: Any = None, home: Path | None = None) -> list[Found]:
    """Every place a coding agent keeps logs, looked in (`discovery.discover` over FORMATS)."""
    return discovery.discover(FORMATS, env, home)


def found_sources(found: Sequence[Found], home: Path | None = None) -> list[ImportSource]:
    """The log files found, as sources of an import (named from `~` when they are in it)."""
    where = Path.home() if home is None else home
    return [ImportSource(_tilde(e.path, where), e.path, f.place.agent) for f in found for e in f.files]


def _tilde(path: Path, home: Path) -> str:
    try:
        return "~/" + path.relative_to(home).as_posix()
    except ValueError:
        return str(path)


def read_sources(
    sources: Sequence[ImportSource] | Sequence[Step], on_bytes: Callable[[int], None] | None = None, *, max_stdin: int | None = None
) -> Imported:
    """Read the logs (or the steps `plan` made of them); `on_bytes` is told how many bytes have
    been read, as they are read; stdin is read up to `max_stdin` bytes (default 1 GiB)."""
    return _sources.read_sources(sources, FORMATS, on_bytes, max_stdin=max_stdin)


def _reader(label: str, merger: Merger, default_time: dt.datetime | None) -> Reader:
    return Reader(FORMATS, FileSink(FileImport(source=label), merger, default_time))


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
