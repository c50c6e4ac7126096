"""The files of an import, and reading them with what the last import left (`FileState`).

A file whose size and modification time are those of its last import, and whose tail (the
bytes before where that import stopped) still hashes the same, is not read again. A file of
JSON lines that has grown, whose tail still matches, is read from where the last import
stopped, with the importers' state of that point. Anything else (a file rewritten, cut
short, or a JSON document that changed) is read whole again. Records seen again add nothing
(their dedupe keys), so reading more than needed is never wrong, only slower.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokopt.errors import InputError
from tokopt.ledger.importers.base import FileImport, FileSink, Importer, Merger
from tokopt.ledger.importers.opencode import is_sqlite, open_read_only
from tokopt.ledger.importers.reader import Reader, Stop, Tally
from tokopt.ledger.store import FileState
from tokopt.usage import UsageRecord


@dataclass(frozen=True)
class ImportSource:
    label: str
    path: Path | None  # None: stdin
    agent: str | None = None  # the agent whose log directory it was found in


@dataclass(frozen=True)
class Step:
    """What an import does with one source: `how` it is read (see `FileImport.status`)."""

    source: ImportSource
    how: str
    key: str | None = None  # the file's state key (its real path); None: not tracked
    size: int = 0
    mtime_ns: int = 0
    previous: FileState | None = None

    @property
    def to_read(self) -> int:
        """Bytes this step reads (what a progress bar counts)."""
        if self.how == "unchanged":
            return 0
        if self.how == "grown" and self.previous is not None:
            return max(self.size - self.previous.offset, 0)
        return self.size


@dataclass(frozen=True)
class Imported:
    """What an import read: each file's tally, the records of all of them (each call once),
    and the files' new states."""

    files: list[FileImport]
    records: list[UsageRecord]
    states: list[FileState] = field(default_factory=list)

    def check_readable(self) -> None:
        """Empty logs (a session just begun, an empty pipe) add nothing; only logs that hold
        something, none of it readable, are the wrong files: an error naming them. (A grown
        file was read before: a bad line at its end is garbage, not a wrong file.)"""
        files = self.files
        if any(f.readable or f.status == "grown" for f in files) or not any(f.lines for f in files):
            return
        garbage = sum(f.garbage for f in files)
        what = f"{garbage:,} unreadable line{'s' if garbage != 1 else ''}" if garbage else "no JSON"
        example = next((f"; {f.source} {f.garbage_examples[0]}" for f in files if f.garbage_examples), "")
        names = ", ".join(f.source for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        raise InputError(f"nothing could be read from {names}: {what}{example}")


def state_key(path: Path) -> str:
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):
        return str(path.absolute())


def plan(sources: Sequence[ImportSource], states: Mapping[str, FileState]) -> list[Step]:
    """How to read each source, given the stored states (keyed by `state_key`)."""
    steps = []
    for source in sources:
        if source.path is None:
            steps.append(Step(source, "read"))
            continue
        try:
            st = source.path.stat()
        except OSError as exc:
            raise InputError(f"cannot read {source.label}: {exc.strerror}") from None
        key = state_key(source.path)
        previous = states.get(key)
        how = "new" if previous is None else _compare(source.path, st, previous)
        steps.append(Step(source, how, key, st.st_size, st.st_mtime_ns, previous))
    return steps


def _compare(path: Path, st: os.stat_result, previous: FileState) -> str:
    if st.st_size < previous.offset or not _tail_matches(path, previous):
        return "changed"
    if st.st_size == previous.size and st.st_mtime_ns == previous.mtime_ns:
        return "unchanged"
    return "changed" if previous.state.get("_document") else "grown"


def _tail_matches(path: Path, previous: FileState) -> bool:
    if previous.tail_len == 0:
        return True
    try:
        with path.open("rb") as f:
            f.seek(previous.offset - previous.tail_len)
            tail = f.read(previous.tail_len)
    except OSError:
        return False
    return hashlib.sha256(tail).hexdigest() == previous.tail_hash


def read_sources(
    sources: Sequence[ImportSource] | Sequence[Step],
    formats: Sequence[type[Importer]],
    on_bytes: Callable[[int], None] | None = None,
    *,
    max_stdin: int | None = None,
) -> Imported:
    """Read the logs (sources, or the steps `plan` made of them); `on_bytes` is told how many
    bytes have been read, as they are read. Stdin is read up to `max_stdin` bytes (an
    InputError past it: an endless pipe is stopped, and nothing of it is imported)."""
    steps = [s if isinstance(s, Step) else Step(s, "read" if s.path is None else "new") for s in sources]
    merger = Merger()
    files: list[FileImport] = []
    states: list[FileState] = []
    now = dt.datetime.now(dt.timezone.utc)
    for step in steps:
        source = step.source
        result = FileImport(source=source.label, status=step.how, agent=source.agent)
        files.append(result)
        if source.path is None:
            from tokopt.inputs.formats import DEFAULT_MAX_INPUT, Bounded
            from tokopt.inputs.streams import interruptible

            stdin = Bounded(interruptible(sys.stdin.buffer), source.label, max_stdin or DEFAULT_MAX_INPUT, ", nothing imported")
            _reader(formats, result, merger, now).read_stream(stdin)  # type: ignore[arg-type]
            continue
        if step.how == "unchanged":
            continue
        try:
            state = _read_file(step, formats, result, merger, on_bytes)
        except OSError as exc:
            raise InputError(f"cannot read {source.label}: {exc.strerror}") from None
        if state is not None and step.key is not None:
            states.append(state)
    return Imported(files=files, records=merger.records(), states=states)


def _reader(formats: Sequence[type[Importer]], result: FileImport, merger: Merger, default_time: dt.datetime) -> Reader:
    return Reader(formats, FileSink(result, merger, default_time))


def _read_file(
    step: Step, formats: Sequence[type[Importer]], result: FileImport, merger: Merger, on_bytes: Callable[[int], None] | None
) -> FileState | None:
    path = step.source.path
    assert path is not None
    mtime = dt.datetime.fromtimestamp(step.mtime_ns / 1e9, dt.timezone.utc) if step.mtime_ns else dt.datetime.now(dt.timezone.utc)
    reader = _reader(formats, result, merger, mtime)
    reader.resumable = step.key is not None
    if is_sqlite(path):
        result.status = "read"  # a database changes in place (and in its -wal file): read it whole
        _read_database(path, formats, reader)
        return None
    with path.open("rb") as f:
        stream = f if on_bytes is None else Tally(f, on_bytes)  # type: ignore[assignment]
        previous = step.previous
        if step.how == "grown" and previous is not None:
            f.seek(previous.offset)
            result.read_from = previous.offset
            reader.restore(previous.state)
            reader.read_on(stream, previous.offset, previous.lines)  # type: ignore[arg-type]
        else:
            reader.read_stream(stream)  # type: ignore[arg-type]
    stop = reader.stop
    if stop is None:
        return None
    return _state(step, stop, reader)


def _state(step: Step, stop: Stop, reader: Reader) -> FileState:
    state = reader.state()
    if stop.document:
        state["_document"] = True
    return FileState(
        path=step.key or "",
        size=step.size,
        mtime_ns=step.mtime_ns,
        offset=stop.offset,
        lines=stop.lines,
        tail_len=len(stop.tail),
        tail_hash=hashlib.sha256(stop.tail).hexdigest(),
        state=state,
        imported_at=dt.datetime.now(dt.timezone.utc),
    )


def _read_database(path: Path, formats: Sequence[type[Importer]], reader: Reader) -> None:
    import sqlite3

    try:
        db = open_read_only(path)
    except sqlite3.Error as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    try:
        for fmt in formats:
            objects = getattr(fmt, "database_objects", None)
            found = objects(db) if objects is not None else None
            if found is not None:
                reader.read_objects(found)
                return
    except sqlite3.Error as exc:
        raise InputError(f"cannot read {path}: {exc}", hint="is it a database of a coding agent tokopt knows?") from None
    finally:
        db.close()
    reader.result.lines += 1
    reader.result.bad(None, "an SQLite database, but not one of a coding agent tokopt knows")
