"""Gemini responses (`usageMetadata`): `cachedContentTokenCount` is part of `promptTokenCount`;
`thoughtsTokenCount` is billed as output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokopt.ledger.importers.base import Found, Importer, content_key, count, obj, record, text


def gemini_usage(data: Mapping[str, Any], *, fmt: str = "gemini", time: Any = None) -> Found | None:
    meta = obj(data, "usageMetadata")
    if meta is None:
        return None
    thoughts = count(meta, "thoughtsTokenCount")
    response_id = text(data, "responseId")
    rec = record(
        fmt,
        model=text(data, "modelVersion") or text(data, "model") or "unknown",
        provider="google",
        input_tokens=count(meta, "promptTokenCount") + count(meta, "toolUsePromptTokenCount"),
        cached_input_tokens=count(meta, "cachedContentTokenCount"),
        output_tokens=count(meta, "candidatesTokenCount") + thoughts,
        reasoning_tokens=thoughts,
        dedupe_key=f"gemini:{response_id}" if response_id else content_key(fmt, data),
    )
    return rec, (data.get("createTime"), time)


class Gemini(Importer):
    name = "gemini"

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        if "usageMetadata" not in data:
            return False
        self.sink.add(gemini_usage(data, time=time))
        return True
