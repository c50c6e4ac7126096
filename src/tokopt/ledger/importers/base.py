"""What every log format shares: what a file held (`FileImport`), field helpers, where an
agent keeps its logs (`Place`), and the one place duplicates are removed (`Merger`).

A format module (`importers/<format>.py`) defines one `Importer` subclass. `reader.Reader`
makes one instance of each registered format per file, offers every JSON object to them in
order, and hands the records they find to one `Merger` shared by all the files of an import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokopt.usage import InvalidUsage, UsageRecord

EXAMPLES_KEPT = 3  # garbage lines quoted per file in the summary


class BadRecord(ValueError):
    """A line that looks like usage but whose fields are malformed."""


@dataclass
class FileImport:
    """What one file of an import held: lines, records (calls), duplicates and garbage."""

    source: str
    lines: int = 0
    records: int = 0  # distinct calls in this file
    duplicates: int = 0  # repeated lines and streaming partials folded into a record
    garbage: int = 0
    garbage_examples: list[str] = field(default_factory=list)
    readable: int = 0  # JSON objects read, with or without usage
    sources: dict[str, int] = field(default_factory=dict)  # records per source ("import:<format>")
    # how it was read: "new" (first time, whole), "grown" (from where the last import stopped),
    # "changed" (whole again: it was rewritten), "unchanged" (not read), "read" (not tracked:
    # stdin, a database)
    status: str = "read"
    agent: str | None = None  # the agent whose log directory it was found in
    read_from: int = 0  # the byte offset it was read from

    @property
    def formats(self) -> dict[str, int]:
        """Records per log format."""
        return {source.removeprefix("import:"): n for source, n in self.sources.items()}

    @property
    def format(self) -> str:
        formats = self.formats
        if not formats:
            return "unrecognised" if self.readable else "unreadable" if self.lines else "empty"
        return max(formats, key=lambda k: (formats[k], k))

    def bad(self, line_no: int | None, reason: str) -> None:
        self.garbage += 1
        if len(self.garbage_examples) < EXAMPLES_KEPT:
            where = f"line {line_no}" if line_no is not None else "item"
            self.garbage_examples.append(f"{where}: {reason}")


# ---------------------------------------------------------------------------------------------
# field helpers


def count(data: Mapping[str, Any] | None, key: str) -> int:
    """A token count: a missing or null field is 0; anything but a non-negative int is bad."""
    if data is None:
        return 0
    value = data.get(key)
    if type(value) is int and value >= 0:
        return value
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise BadRecord(f"{key} is negative: {value}")
    raise BadRecord(f"{key} is not a token count: {value!r}")


def obj(data: Mapping[str, Any] | None, key: str) -> dict[str, Any] | None:
    if data is None:
        return None
    value = data.get(key)
    return value if isinstance(value, dict) else None


def text(data: Mapping[str, Any] | None, key: str) -> str | None:
    if data is None:
        return None
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def parse_time(value: Any) -> dt.datetime | None:
    """ISO-8601 text (a trailing Z, or no zone = UTC) or Unix seconds -> aware UTC datetime."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(value, dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    if len(value) == 24 and value[-1] == "Z" and value[10] == "T" and value[19] == ".":
        # what agents write ("2026-06-01T09:14:03.120Z"): read directly, as below it reads
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    stamp = value.strip()
    if stamp.endswith(("Z", "z")):
        stamp = stamp[:-1] + "+00:00"
    # Python 3.10 reads at most 6 fractional digits; providers send up to 9.
    if "." in stamp:
        head, _, rest = stamp.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        if digits > 6:
            stamp = head + "." + rest[:6] + rest[digits:]
    try:
        parsed = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def content_key(fmt: str, data: Any) -> str:
    """A dedupe key for an object without an id: a hash of its content."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{fmt}:sha256:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def record(fmt: str, **fields: Any) -> UsageRecord:
    """A record read from a log in format `fmt`; impossible counts make the line garbage."""
    try:
        rec = UsageRecord(source=f"import:{fmt}", **fields)
        rec.check_call()
    except InvalidUsage as exc:
        raise BadRecord(exc.message) from None
    return rec


def grown(rec: UsageRecord, **changes: Any) -> UsageRecord:
    """`rec` with larger counts from a later event of the same call."""
    try:
        new = rec.replace(**changes)
        new.check_call()
    except InvalidUsage as exc:
        raise BadRecord(exc.message) from None
    return new


# ---------------------------------------------------------------------------------------------
# formats and the merge


Found = tuple[UsageRecord, tuple[Any, ...]]  # a record, and its time candidates as the log wrote them


@dataclass(frozen=True)
class Place:
    """A directory where an agent keeps logs, and which files below it are logs."""

    agent: str
    path: Path
    origin: str  # where the path came from: an environment variable, or "default"
    select: Callable[[str], bool]  # a file's POSIX path below `path` -> whether it is a log
    patterns: str  # the same, for people: "projects/**/*.jsonl"


def suffix_in(*suffixes: str) -> Callable[[str], bool]:
    return lambda rel: rel.lower().endswith(suffixes)


def env_dirs(env: Mapping[str, str], name: str, *, sep: str | None = None) -> list[Path] | None:
    """The directories an environment variable names (several, split at `sep`), or None if unset."""
    value = env.get(name, "").strip()
    if not value:
        return None
    parts = value.split(sep) if sep else [value]
    return [Path(p.strip()).expanduser() for p in parts if p.strip()]


class Importer:
    """One log format. A new instance reads each file, so it may keep state between lines.

    A format whose logs live in a known place says where (`places`), so that an import with
    no paths finds them; a format that keeps state between lines can hand it over (`state`,
    `restore`), so that an import of a grown file reads on from where the last one stopped.
    """

    name = ""  # the format's name, as records' source says it ("import:<name>")
    agent: str | None = None  # the coding agent whose logs these are, if any

    def __init__(self, sink: FileSink) -> None:
        self.sink = sink

    @classmethod
    def places(cls, env: Mapping[str, str], home: Path) -> list[Place]:
        """Where this agent keeps its logs (`env` is the environment, `home` the user's)."""
        return []

    def state(self) -> dict[str, Any]:
        """What this importer knows at the end of what it has read (JSON-able; empty: nothing)."""
        return {}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Go on from `state` (as `state()` returned it for the part of the file already read)."""

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        """Take `data` if it is this format's (adding what usage it has); False if it is not."""
        return False

    def feed_usage(self, data: dict[str, Any], time: Any) -> bool:
        """A last chance for an object with a bare `usage` block that no format claimed."""
        return False

    def finish(self) -> None:
        """The end of what is read now (of a file, or of what it has grown by): add whatever
        records are still held back."""


class Merger:
    """The records of one import, each call once (by dedupe key) with its largest counts.

    The first reading of a call keeps its time: a response happened when it started. Time
    candidates are parsed only for the records that are kept.
    """

    def __init__(self) -> None:
        self._kept: dict[str, tuple[UsageRecord, tuple[Any, ...], dt.datetime | None]] = {}

    def add(self, rec: UsageRecord, raw_time: tuple[Any, ...], default_time: dt.datetime | None) -> bool:
        """Keep `rec`; True if its call was seen before."""
        key = rec.dedupe_key or ""
        old = self._kept.get(key)
        if old is None:
            self._kept[key] = (rec, raw_time, default_time)
            return False
        if rec.size > old[0].size:
            self._kept[key] = (rec, old[1], old[2])
        return True

    def records(self) -> list[UsageRecord]:
        out = []
        for rec, raw_time, default_time in self._kept.values():
            # the merger's own records (made by the importers for it): no copy needed
            rec.time = next((t for t in map(parse_time, raw_time) if t is not None), default_time)
            out.append(rec)
        return out


class FileSink:
    """Where the importers of one file put what they find."""

    def __init__(self, result: FileImport, merger: Merger, default_time: dt.datetime | None) -> None:
        self.result = result
        self.merger = merger
        self.default_time = default_time
        self.numbered: dict[str, int] = {}  # id-less calls seen per content key (kept across a resumed read)
        self._keys: set[str] = set()

    def folded(self, source: str) -> None:
        """Count a reading of a call this file's importer has already seen (and will add
        once): what `add` counts for it, without making its record."""
        sources = self.result.sources
        sources[source] = sources.get(source, 0) + 1
        self.result.duplicates += 1

    def add(self, found: Found | None) -> Found | None:
        """Keep a record; returns it as kept (an id-less record gets its number in the file)."""
        if found is None:
            return None
        rec, raw_time = found
        key = rec.dedupe_key or ""
        if ":sha256:" in key and key.count(":") == 2:
            # no id in the data: identical objects in one file are distinct calls, in order
            # (a key that already has its number, like a stream's later event, keeps it)
            n = self.numbered.get(key, 0) + 1
            self.numbered[key] = n
            key = f"{key}:{n}"
            rec = rec.replace(dedupe_key=key)
        sources = self.result.sources
        sources[rec.source] = sources.get(rec.source, 0) + 1
        if key not in self._keys:
            self._keys.add(key)
            self.result.records += 1
        if self.merger.add(rec, raw_time, self.default_time):
            self.result.duplicates += 1
        return rec, raw_time
