"""Provider usage logs -> plain usage records. No database, no prices: parsing only.

Every JSON object in a file (a JSON document, an array of them, or JSON lines) is recognised
on its own, so one file may mix formats:

- OpenAI Chat Completions (`object: chat.completion`; streamed chunks carry usage only in the
  last one) and Responses (`object: response`, or a `response.completed` stream event);
  cached and reasoning tokens are subsets of prompt and completion tokens. OpenAI Batch output
  lines (`response.body`) are priced at batch rates.
- Anthropic Messages (`type: message`, a `message_start` event, later `message_delta` events
  with growing output; Message Batches results): `input_tokens` excludes cache reads and
  writes, so the whole prompt is their sum.
- Gemini (`usageMetadata`): `cachedContentTokenCount` is part of `promptTokenCount`;
  `thoughtsTokenCount` is billed as output.
- Claude Code transcripts (`~/.claude/projects/**/*.jsonl`): one response is written as
  several lines with the same `message.id` + `requestId`, and streaming partials repeat with
  growing output; each response counts once, with its largest counts.
- Codex CLI sessions (`~/.codex/sessions/**/*.jsonl`): `token_count` events carry cumulative
  totals; each record is the difference from the previous event.

Lines that are not JSON, or whose usage fields are malformed, are counted as garbage and
skipped. Valid JSON without usage (a user turn, a summary) is ignored silently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from tokopt.errors import InputError

EXAMPLES_KEPT = 3  # garbage lines quoted per file in the summary
# More tokens than any call can have; far enough below SQLite's 64-bit INTEGER that the sums of
# a report cannot overflow it either.
MAX_TOKENS = 10**15


@dataclass
class Imported:
    """One provider response's usage, in tokopt's terms (see `models.Usage`)."""

    format: str
    model: str
    provider: str | None
    time: dt.datetime | None
    input_tokens: int  # the whole prompt, cache reads and writes included
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0  # 5-minute (or the only kind of) cache write
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0  # reasoning included
    reasoning_tokens: int = 0
    key: str = ""  # dedupe key: the same response read twice has the same key
    batch: bool = False
    # time candidates as the log wrote them; parsed only for the records that are kept
    raw_time: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def size(self) -> tuple[int, int]:
        return (self.input_tokens + self.output_tokens, self.output_tokens)


@dataclass
class FileResult:
    """What one file yielded: records (deduplicated, largest counts kept) and garbage."""

    label: str
    records: list[Imported] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    duplicates: int = 0  # repeated lines and streaming partials folded into one record
    garbage: int = 0
    garbage_examples: list[str] = field(default_factory=list)
    readable: int = 0  # JSON objects read, with or without usage

    @property
    def format(self) -> str:
        if not self.formats:
            return "unrecognised" if self.readable else "unreadable" if self.lines else "empty"
        return max(self.formats, key=lambda k: (self.formats[k], k))


class BadRecord(ValueError):
    """A line that looks like usage but whose fields are malformed."""


# ---------------------------------------------------------------------------------------------
# field helpers


def _int(data: Mapping[str, Any] | None, key: str) -> int:
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


def _dict(data: Mapping[str, Any] | None, key: str) -> dict[str, Any] | None:
    if data is None:
        return None
    value = data.get(key)
    return value if isinstance(value, dict) else None


def _str(data: Mapping[str, Any] | None, key: str) -> str | None:
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
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10 reads at most 6 fractional digits; providers send up to 9.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        if digits > 6:
            text = head + "." + rest[:6] + rest[digits:]
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def content_key(fmt: str, obj: Any) -> str:
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{fmt}:sha256:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def _check(rec: Imported) -> Imported:
    if max(rec.input_tokens, rec.output_tokens) > MAX_TOKENS:
        raise BadRecord(f"more than {MAX_TOKENS:,} tokens in one call")
    parts = rec.cached_input_tokens + rec.cache_write_tokens + rec.cache_write_1h_tokens
    if parts > rec.input_tokens:
        raise BadRecord(f"cached and cache-write tokens ({parts}) exceed the input tokens ({rec.input_tokens})")
    if rec.reasoning_tokens > rec.output_tokens:
        raise BadRecord(f"reasoning tokens ({rec.reasoning_tokens}) exceed the output tokens ({rec.output_tokens})")
    return rec


# ---------------------------------------------------------------------------------------------
# one object per provider format


def openai_usage(obj: Mapping[str, Any], *, fmt: str, batch: bool = False, time: Any = None) -> Imported | None:
    """A Chat Completions or Responses object (or a Codex/other usage block with the same shape)."""
    usage = _dict(obj, "usage")
    if usage is None:
        return None
    if "prompt_tokens" in usage or "completion_tokens" in usage:  # Chat Completions
        details = _dict(usage, "prompt_tokens_details")
        cached = _int(details, "cached_tokens")
        if details is None and "prompt_cache_hit_tokens" in usage:  # DeepSeek's OpenAI-compatible API
            cached = _int(usage, "prompt_cache_hit_tokens")
        rec = Imported(
            format=fmt,
            model=_str(obj, "model") or "unknown",
            provider=None,
            time=None,
            raw_time=(obj.get("created"), time),
            input_tokens=_int(usage, "prompt_tokens"),
            cached_input_tokens=cached,
            output_tokens=_int(usage, "completion_tokens"),
            reasoning_tokens=_int(_dict(usage, "completion_tokens_details"), "reasoning_tokens"),
            batch=batch,
        )
    elif "input_tokens" in usage or "output_tokens" in usage:  # Responses
        rec = Imported(
            format=fmt,
            model=_str(obj, "model") or "unknown",
            provider=None,
            time=None,
            raw_time=(obj.get("created_at"), obj.get("created"), time),
            input_tokens=_int(usage, "input_tokens"),
            cached_input_tokens=_int(_dict(usage, "input_tokens_details"), "cached_tokens"),
            output_tokens=_int(usage, "output_tokens"),
            reasoning_tokens=_int(_dict(usage, "output_tokens_details"), "reasoning_tokens"),
            batch=batch,
        )
    else:
        raise BadRecord("usage without token counts")
    response_id = _str(obj, "id")
    rec.key = f"openai:{response_id}" if response_id else content_key(fmt, obj)
    return _check(rec)


def anthropic_usage(message: Mapping[str, Any], *, fmt: str, batch: bool = False, time: Any = None) -> Imported | None:
    """A Messages API message. Its input_tokens exclude cache reads and writes: add them back."""
    usage = _dict(message, "usage")
    if usage is None:
        return None
    uncached = _int(usage, "input_tokens")
    cache_read = _int(usage, "cache_read_input_tokens")
    cache_write = _int(usage, "cache_creation_input_tokens")
    split = _dict(usage, "cache_creation")
    write_5m, write_1h = cache_write, 0
    if split is not None and ("ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split):
        write_5m = _int(split, "ephemeral_5m_input_tokens")
        write_1h = _int(split, "ephemeral_1h_input_tokens")
        if write_5m + write_1h != cache_write and cache_write:
            # trust the total the bill is made of; put the difference on the 5-minute write
            write_5m = max(cache_write - write_1h, 0)
    rec = Imported(
        format=fmt,
        model=_str(message, "model") or "unknown",
        provider="anthropic",
        time=None,
        raw_time=(time,),
        input_tokens=uncached + cache_read + write_5m + write_1h,
        cached_input_tokens=cache_read,
        cache_write_tokens=write_5m,
        cache_write_1h_tokens=write_1h,
        output_tokens=_int(usage, "output_tokens"),
        batch=batch,
    )
    message_id = _str(message, "id")
    rec.key = f"anthropic:{message_id}" if message_id else content_key(fmt, message)
    return _check(rec)


def gemini_usage(obj: Mapping[str, Any], *, fmt: str = "gemini", time: Any = None) -> Imported | None:
    meta = _dict(obj, "usageMetadata")
    if meta is None:
        return None
    thoughts = _int(meta, "thoughtsTokenCount")
    rec = Imported(
        format=fmt,
        model=_str(obj, "modelVersion") or _str(obj, "model") or "unknown",
        provider="google",
        time=None,
        raw_time=(obj.get("createTime"), time),
        input_tokens=_int(meta, "promptTokenCount") + _int(meta, "toolUsePromptTokenCount"),
        cached_input_tokens=_int(meta, "cachedContentTokenCount"),
        output_tokens=_int(meta, "candidatesTokenCount") + thoughts,
        reasoning_tokens=thoughts,
    )
    response_id = _str(obj, "responseId")
    rec.key = f"gemini:{response_id}" if response_id else content_key(fmt, obj)
    return _check(rec)


# ---------------------------------------------------------------------------------------------
# a file: stateful parsers (Anthropic streams, Codex cumulative totals) and dedupe


class _FileParser:
    def __init__(self, result: FileResult, default_time: dt.datetime | None) -> None:
        self.result = result
        self.default_time = default_time
        self.by_key: dict[str, Imported] = {}
        self.seen_content: dict[str, int] = {}
        # Anthropic streaming: message_delta events update the last message_start
        self.open_message: Imported | None = None
        # Codex: the session, the model in force, and the previous cumulative totals
        self.codex_session: str | None = None
        self.codex_model: str | None = None
        self.codex_previous: tuple[int, int, int, int] | None = None

    def add(self, rec: Imported | None) -> None:
        if rec is None:
            return
        parts = rec.key.split(":")
        if len(parts) == 3 and parts[1] == "sha256":
            # no id in the data: identical objects in one file are distinct calls, in order
            # (a key that already has its number, like a stream's later event, keeps it)
            n = self.seen_content.get(rec.key, 0) + 1
            self.seen_content[rec.key] = n
            rec.key = f"{rec.key}:{n}"
        self.result.formats[rec.format] = self.result.formats.get(rec.format, 0) + 1
        old = self.by_key.get(rec.key)
        if old is None:
            self.by_key[rec.key] = rec
            return
        self.result.duplicates += 1
        if rec.size > old.size:
            rec.time, rec.raw_time = old.time, old.raw_time  # a response happened when it started
            self.by_key[rec.key] = rec

    def feed(self, obj: Any, context_time: Any = None) -> None:
        if not isinstance(obj, dict):
            raise BadRecord("not a JSON object")
        kind = obj.get("type")
        time = obj.get("timestamp") or context_time

        # Claude Code transcript line
        message = _dict(obj, "message")
        if kind == "assistant" and message is not None and ("requestId" in obj or "sessionId" in obj or "uuid" in obj):
            rec = anthropic_usage(message, fmt="claude-code", time=time)
            if rec is not None:
                message_id, request_id = _str(message, "id"), _str(obj, "requestId")
                if message_id:
                    rec.key = f"claude-code:{message_id}:{request_id or ''}"
                elif _str(obj, "uuid"):
                    rec.key = f"claude-code:uuid:{obj['uuid']}"
                if rec.size == (0, 0):
                    return  # Claude Code's synthetic messages (errors, interruptions) bill nothing
                self.add(rec)
            return

        # Codex CLI session line
        payload = _dict(obj, "payload")
        if kind in {"session_meta", "turn_context", "event_msg", "response_item", "compacted"} and payload is not None:
            self.codex(kind, payload, time)
            return

        # Anthropic stream events and batch results
        if kind == "message_start" and message is not None:
            rec = anthropic_usage(message, fmt="anthropic", time=time)
            self.open_message = rec
            self.add(rec)
            return
        if kind == "message_delta":
            usage = _dict(obj, "usage")
            if self.open_message is not None and usage is not None:
                grown = Imported(**{**self.open_message.__dict__})
                grown.output_tokens = max(grown.output_tokens, _int(usage, "output_tokens"))
                if "input_tokens" in usage or "cache_read_input_tokens" in usage:
                    # newer APIs repeat the prompt counts in the final delta
                    uncached = _int(usage, "input_tokens")
                    grown.cached_input_tokens = max(grown.cached_input_tokens, _int(usage, "cache_read_input_tokens"))
                    writes = grown.cache_write_tokens + grown.cache_write_1h_tokens
                    grown.input_tokens = max(grown.input_tokens, uncached + grown.cached_input_tokens + writes)
                self.add(_check(grown))
            return
        result = _dict(obj, "result")
        if result is not None and _dict(result, "message") is not None:
            self.add(anthropic_usage(result["message"], fmt="anthropic", batch=True, time=time))
            return
        if kind == "message" and "usage" in obj:
            self.add(anthropic_usage(obj, fmt="anthropic", time=time))
            return

        # OpenAI: batch output line, Responses stream event, response objects
        response = _dict(obj, "response")
        if response is not None and _dict(response, "body") is not None:
            body = response["body"]
            self.add(openai_usage(body, fmt=self.openai_format(body), batch=True, time=time))
            return
        if isinstance(kind, str) and kind.startswith("response.") and response is not None:
            if "usage" in response and response.get("usage") is not None:
                self.add(openai_usage(response, fmt="openai-responses", time=time))
            return
        if "usageMetadata" in obj:
            self.add(gemini_usage(obj, time=time))
            return
        if "usage" in obj and isinstance(obj.get("usage"), dict):
            usage = obj["usage"]
            if "cache_creation_input_tokens" in usage or "cache_read_input_tokens" in usage:
                self.add(anthropic_usage(obj, fmt="anthropic", time=time))
            else:
                self.add(openai_usage(obj, fmt=self.openai_format(obj), time=time))
            return
        # a log line wrapping a response: {"timestamp": ..., "response": {...}}
        if response is not None:
            self.feed(response, context_time=time)

    @staticmethod
    def openai_format(obj: Mapping[str, Any]) -> str:
        usage = _dict(obj, "usage") or {}
        chat = obj.get("object", "").startswith("chat.") if isinstance(obj.get("object"), str) else "prompt_tokens" in usage
        return "openai-chat" if chat else "openai-responses"

    def codex(self, kind: str, payload: Mapping[str, Any], time: Any) -> None:
        if kind == "session_meta":
            self.codex_session = _str(payload, "id") or self.codex_session
            self.codex_model = _str(payload, "model") or self.codex_model
            return
        if kind == "turn_context":
            self.codex_model = _str(payload, "model") or self.codex_model
            return
        if kind != "event_msg" or payload.get("type") != "token_count":
            return
        info = _dict(payload, "info")
        if info is None:
            return  # rate-limit-only updates carry no usage
        total = _dict(info, "total_token_usage")
        if total is None:
            raise BadRecord("token_count without total_token_usage")
        now = (
            _int(total, "input_tokens"),
            _int(total, "cached_input_tokens"),
            _int(total, "output_tokens"),
            _int(total, "reasoning_output_tokens"),
        )
        previous = self.codex_previous
        if previous is None:
            delta = now
        elif all(a >= b for a, b in zip(now, previous)):
            delta = tuple(a - b for a, b in zip(now, previous))  # type: ignore[assignment]
        else:
            # the totals went back (a new session state): this event's own usage is the step
            last = _dict(info, "last_token_usage")
            delta = (
                (_int(last, "input_tokens"), _int(last, "cached_input_tokens"), _int(last, "output_tokens"), _int(last, "reasoning_output_tokens"))
                if last is not None
                else now
            )
        self.codex_previous = now
        if delta[0] == 0 and delta[2] == 0:
            return  # the same totals repeated
        session = self.codex_session or "no-session"
        rec = Imported(
            format="codex",
            model=self.codex_model or "unknown",
            provider="openai",
            time=None,
            raw_time=(time,),
            input_tokens=delta[0],
            cached_input_tokens=min(delta[1], delta[0]),
            output_tokens=delta[2],
            reasoning_tokens=min(delta[3], delta[2]),
            key=f"codex:{session}:{now[0]}:{now[1]}:{now[2]}:{now[3]}",
        )
        self.add(_check(rec))

    def finish(self) -> None:
        for rec in self.by_key.values():
            if rec.time is None:
                rec.time = next((t for t in map(parse_time, rec.raw_time) if t is not None), self.default_time)
        self.result.records = list(self.by_key.values())


def _garbage(result: FileResult, line_no: int | None, reason: str) -> None:
    result.garbage += 1
    if len(result.garbage_examples) < EXAMPLES_KEPT:
        where = f"line {line_no}" if line_no is not None else "item"
        result.garbage_examples.append(f"{where}: {reason}")


def _feed_one(parser: _FileParser, result: FileResult, obj: Any, line_no: int | None) -> None:
    try:
        parser.feed(obj)
    except BadRecord as exc:
        _garbage(result, line_no, str(exc))
        return
    result.readable += 1


def parse_stream(stream: BinaryIO, label: str, *, default_time: dt.datetime | None = None) -> FileResult:
    """Read one file: a JSON document (an object or an array of them) or JSON lines."""
    result = FileResult(label=label)
    parser = _FileParser(result, default_time)
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
            _parse_lines(io.BytesIO(data), b"", parser, result)
        else:
            _parse_document(document, parser, result)
    else:
        _parse_lines(stream, buffer, parser, result)
    parser.finish()
    return result


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True


# Every line that can carry usage, or the state a Codex log needs, has one of these. A line that
# is plainly a JSON object without any (a user turn, a tool result: often the longest lines of
# a transcript) is counted as read without being parsed.
_MARKERS = (b"usage", b"turn_context", b"session_meta")


def _parse_lines(stream: BinaryIO, buffer: bytes, parser: _FileParser, result: FileResult) -> None:
    for line_no, raw in _numbered_lines(stream, buffer):
        line = raw.strip()
        if not line:
            continue
        result.lines += 1
        if line[:1] == b"{" and line[-1:] == b"}" and not any(m in line for m in _MARKERS):
            result.readable += 1
            continue
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            _garbage(result, line_no, f"not JSON ({_reason(exc)})")
            continue
        _feed_one(parser, result, obj, line_no)


def _numbered_lines(stream: BinaryIO, buffer: bytes) -> Iterator[tuple[int, bytes]]:
    n = 0
    while True:
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        for line in lines:
            n += 1
            yield n, line
        more = stream.read(1 << 20)
        if not more:
            if buffer:
                yield n + 1, buffer
            return
        buffer += more


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg.lower()
    if isinstance(exc, UnicodeDecodeError):
        return "invalid UTF-8"
    return type(exc).__name__


def _parse_document(document: Any, parser: _FileParser, result: FileResult) -> None:
    items = document if isinstance(document, list) else [document]
    for index, item in enumerate(items, 1):
        result.lines += 1
        _feed_one(parser, result, item, index if isinstance(document, list) else None)


def parse_objects(objects: Iterable[Any], label: str = "objects") -> FileResult:
    """Records from response objects already in memory (the Python API's record_response)."""
    result = FileResult(label=label)
    parser = _FileParser(result, dt.datetime.now(dt.timezone.utc))
    for index, obj in enumerate(objects, 1):
        result.lines += 1
        _feed_one(parser, result, obj, index)
    parser.finish()
    return result


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
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
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


class _Tally:
    """A binary stream that reports how many bytes were read (for a progress bar)."""

    def __init__(self, stream: BinaryIO, on_bytes: Callable[[int], None]) -> None:
        self._stream = stream
        self._on_bytes = on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._on_bytes(len(data))
        return data


def read_source(source: ImportSource, on_bytes: Callable[[int], None] | None = None) -> FileResult:
    if source.path is None:
        return parse_stream(sys.stdin.buffer, source.label, default_time=dt.datetime.now(dt.timezone.utc))
    try:
        with source.path.open("rb") as f:
            mtime = dt.datetime.fromtimestamp(source.path.stat().st_mtime, dt.timezone.utc)
            stream: Any = f if on_bytes is None else _Tally(f, on_bytes)
            return parse_stream(stream, source.label, default_time=mtime)
    except OSError as exc:
        raise InputError(f"cannot read {source.label}: {exc.strerror}") from None
