"""OpenAI Chat Completions (`object: chat.completion`; streamed chunks carry usage only in the
last one), Responses (`object: response`, or a `response.completed` stream event) and Batch
output lines (`response.body`, priced at batch rates). Cached and reasoning tokens are
subsets of prompt and completion tokens. OpenAI-compatible APIs (DeepSeek) read the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tokopt.ledger.importers.base import BadRecord, Found, Importer, content_key, count, obj, record, text


# what a response calls the standard tier; other names (flex, priority, scale) are kept as the tier
_STANDARD = ("default", "auto", "standard")
_TIER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def service_tier(data: Mapping[str, Any]) -> str | None:
    """The service tier a response says served the call; None for the standard one."""
    value = data.get("service_tier")
    if value is None or value in _STANDARD:
        return None
    if not isinstance(value, str) or not _TIER_NAME.fullmatch(value):
        raise BadRecord("service_tier: not a tier name")
    return value


def openai_usage(data: Mapping[str, Any], *, fmt: str, batch: bool = False, time: Any = None) -> Found | None:
    """A Chat Completions or Responses object (or another usage block of the same shape)."""
    usage = obj(data, "usage")
    if usage is None:
        return None
    response_id = text(data, "id")
    key = f"openai:{response_id}" if response_id else content_key(fmt, data)
    model = text(data, "model") or "unknown"
    if "prompt_tokens" in usage or "completion_tokens" in usage:  # Chat Completions
        details = obj(usage, "prompt_tokens_details")
        cached = count(details, "cached_tokens")
        if details is None and "prompt_cache_hit_tokens" in usage:  # DeepSeek's OpenAI-compatible API
            cached = count(usage, "prompt_cache_hit_tokens")
        rec = record(
            fmt,
            model=model,
            input_tokens=count(usage, "prompt_tokens"),
            cached_input_tokens=cached,
            output_tokens=count(usage, "completion_tokens"),
            reasoning_tokens=count(obj(usage, "completion_tokens_details"), "reasoning_tokens"),
            batch=batch,
            service_tier=service_tier(data),
            dedupe_key=key,
        )
        return rec, (data.get("created"), time)
    if "input_tokens" in usage or "output_tokens" in usage:  # Responses
        rec = record(
            fmt,
            model=model,
            input_tokens=count(usage, "input_tokens"),
            cached_input_tokens=count(obj(usage, "input_tokens_details"), "cached_tokens"),
            output_tokens=count(usage, "output_tokens"),
            reasoning_tokens=count(obj(usage, "output_tokens_details"), "reasoning_tokens"),
            batch=batch,
            service_tier=service_tier(data),
            dedupe_key=key,
        )
        return rec, (data.get("created_at"), data.get("created"), time)
    raise BadRecord("usage without token counts")


def openai_format(data: Mapping[str, Any]) -> str:
    usage = obj(data, "usage") or {}
    kind = data.get("object")
    chat = kind.startswith("chat.") if isinstance(kind, str) else "prompt_tokens" in usage
    return "openai-chat" if chat else "openai-responses"


class OpenAI(Importer):
    name = "openai"

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        response = obj(data, "response")
        if response is not None and obj(response, "body") is not None:  # a Batch output line
            body = response["body"]
            self.sink.add(openai_usage(body, fmt=openai_format(body), batch=True, time=time))
            return True
        kind = data.get("type")
        if isinstance(kind, str) and kind.startswith("response.") and response is not None:  # a Responses stream event
            if response.get("usage") is not None:
                self.sink.add(openai_usage(response, fmt="openai-responses", time=time))
            return True
        return False

    def feed_usage(self, data: dict[str, Any], time: Any) -> bool:
        if not isinstance(data.get("usage"), dict):
            return False
        self.sink.add(openai_usage(data, fmt=openai_format(data), time=time))
        return True
