"""Anthropic Messages: a message (`type: message`), a stream (`message_start`, then
`message_delta` events with growing output), and Message Batches results (batch prices).

Anthropic's `input_tokens` exclude cache reads and writes, so the whole prompt is their sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokopt.ledger.importers.base import Found, Importer, content_key, count, grown, obj, record, text
from tokopt.usage import UsageRecord


def anthropic_usage(message: Mapping[str, Any], *, fmt: str, batch: bool = False, time: Any = None, key: str | None = None, **attribution: Any) -> Found | None:
    """A Messages API message. Its input_tokens exclude cache reads and writes: add them back.
    Its dedupe key is `key`, else one made of the message id (or content); `attribution` are
    record fields an agent's log adds (agent, session_id, ...)."""
    usage = obj(message, "usage")
    if usage is None:
        return None
    message_id = text(message, "id")
    key = key or (f"anthropic:{message_id}" if message_id else content_key(fmt, message))
    rec = anthropic_record(anthropic_counts(usage), fmt=fmt, model=text(message, "model") or "unknown", key=key, batch=batch, **attribution)
    return rec, (time,)


def anthropic_record(counts: tuple[int, int, int, int, int], *, fmt: str, model: str, key: str, batch: bool = False, **attribution: Any) -> UsageRecord:
    """The record of a response with these `anthropic_counts`."""
    whole, cache_read, write_5m, write_1h, output = counts
    return record(
        fmt,
        model=model,
        provider="anthropic",
        input_tokens=whole,
        cached_input_tokens=cache_read,
        cache_write_tokens=write_5m,
        cache_write_1h_tokens=write_1h,
        output_tokens=output,
        batch=batch,
        dedupe_key=key,
        **attribution,
    )


def anthropic_counts(usage: Mapping[str, Any]) -> tuple[int, int, int, int, int]:
    """A Messages usage block's counts: the whole prompt (cache reads and writes added back),
    cache reads, 5-minute and 1-hour cache writes, output. BadRecord if a count is malformed."""
    get = usage.get
    uncached, cache_read, cache_write, output = get("input_tokens"), get("cache_read_input_tokens"), get("cache_creation_input_tokens"), get("output_tokens")
    split = get("cache_creation")
    if type(uncached) is int and type(cache_read) is int and type(cache_write) is int and type(output) is int and min(uncached, cache_read, cache_write, output) >= 0:
        # whole counts, as Claude Code writes them: read as below, without a call per field
        if split is None:
            return uncached + cache_read + cache_write, cache_read, cache_write, 0, output
        if type(split) is dict:
            write_5m, write_1h = split.get("ephemeral_5m_input_tokens"), split.get("ephemeral_1h_input_tokens")
            if type(write_5m) is int and type(write_1h) is int and write_5m >= 0 and write_1h >= 0:
                if write_5m + write_1h != cache_write and cache_write:
                    write_5m = max(cache_write - write_1h, 0)
                return uncached + cache_read + write_5m + write_1h, cache_read, write_5m, write_1h, output
    uncached = count(usage, "input_tokens")
    cache_read = count(usage, "cache_read_input_tokens")
    cache_write = count(usage, "cache_creation_input_tokens")
    split = obj(usage, "cache_creation")
    write_5m, write_1h = cache_write, 0
    if split is not None and ("ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split):
        write_5m = count(split, "ephemeral_5m_input_tokens")
        write_1h = count(split, "ephemeral_1h_input_tokens")
        if write_5m + write_1h != cache_write and cache_write:
            # trust the total the bill is made of; put the difference on the 5-minute write
            write_5m = max(cache_write - write_1h, 0)
    return uncached + cache_read + write_5m + write_1h, cache_read, write_5m, write_1h, count(usage, "output_tokens")


def has_cache_fields(usage: Mapping[str, Any]) -> bool:
    return "cache_creation_input_tokens" in usage or "cache_read_input_tokens" in usage


class Anthropic(Importer):
    name = "anthropic"
    open_message: Found | None = None  # a stream's message_start, grown by its message_delta events

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        kind = data.get("type")
        message = obj(data, "message")
        if kind == "message_start" and message is not None:
            self.open_message = self.sink.add(anthropic_usage(message, fmt="anthropic", time=time))
            return True
        if kind == "message_delta":
            usage = obj(data, "usage")
            if self.open_message is not None and usage is not None:
                rec, raw_time = self.open_message
                changes = {"output_tokens": max(rec.output_tokens, count(usage, "output_tokens"))}
                if "input_tokens" in usage or "cache_read_input_tokens" in usage:
                    # newer APIs repeat the prompt counts in the final delta
                    uncached = count(usage, "input_tokens")
                    cached = max(rec.cached_input_tokens, count(usage, "cache_read_input_tokens"))
                    writes = rec.cache_write_tokens + rec.cache_write_1h_tokens
                    changes.update(cached_input_tokens=cached, input_tokens=max(rec.input_tokens, uncached + cached + writes))
                self.sink.add((grown(rec, **changes), raw_time))
            return True
        result = obj(data, "result")
        if result is not None and obj(result, "message") is not None:
            self.sink.add(anthropic_usage(result["message"], fmt="anthropic", batch=True, time=time))
            return True
        if kind == "message" and "usage" in data:
            self.sink.add(anthropic_usage(data, fmt="anthropic", time=time))
            return True
        return False

    def feed_usage(self, data: dict[str, Any], time: Any) -> bool:
        usage = data.get("usage")
        if isinstance(usage, dict) and has_cache_fields(usage):
            self.sink.add(anthropic_usage(data, fmt="anthropic", time=time))
            return True
        return False
