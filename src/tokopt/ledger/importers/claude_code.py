"""Claude Code transcripts (`~/.claude/projects/**/*.jsonl`).

One response is written as several lines with the same `message.id` + `requestId`, and
streaming partials repeat with growing output; each response counts once, with its largest
counts. Its usage is Anthropic's.
"""

from __future__ import annotations

from typing import Any

from tokopt.ledger.importers.anthropic import anthropic_usage
from tokopt.ledger.importers.base import Importer, obj, text


class ClaudeCode(Importer):
    def feed(self, data: dict[str, Any], time: Any) -> bool:
        message = obj(data, "message")
        if data.get("type") != "assistant" or message is None or not ("requestId" in data or "sessionId" in data or "uuid" in data):
            return False
        message_id, request_id = text(message, "id"), text(data, "requestId")
        key = None
        if message_id:
            key = f"claude-code:{message_id}:{request_id or ''}"
        elif text(data, "uuid"):
            key = f"claude-code:uuid:{data['uuid']}"
        found = anthropic_usage(message, fmt="claude-code", time=time, key=key)
        if found is not None and found[0].size != (0, 0):  # synthetic messages (errors, interruptions) bill nothing
            self.sink.add(found)
        return True
