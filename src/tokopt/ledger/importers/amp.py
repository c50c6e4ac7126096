"""Amp threads (`amp/threads/*.json` under `$XDG_DATA_HOME`, else `~/.local/share`): one JSON
document per thread, `{id: "T-...", created, messages, usageLedger: {events}}`.

Each event of the usage ledger is one billed inference: `model`, `timestamp`, and
`tokens.input` (the prompt less its cache reads and writes) and `tokens.output`. The cache
reads and writes are on the assistant message the event ends at (`toMessageId`), as
`usage.cacheReadInputTokens` and `usage.cacheCreationInputTokens`. A thread without a ledger
is counted from its assistant messages' usage. The thread is the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from tokopt.ledger.importers.base import Importer, Place, count, obj, record, suffix_in, text
from tokopt.ledger.importers.opencode import data_home


class Amp(Importer):
    name = "amp"
    agent = "amp"

    @classmethod
    def places(cls, env: Mapping[str, str], home: Path) -> list[Place]:
        base, origin = data_home(env, home)
        return [Place("amp", base / "amp" / "threads", origin, suffix_in(".json"), "**/*.json")]

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        thread = text(data, "id")
        messages = data.get("messages")
        ledger = obj(data, "usageLedger")
        if thread is None or not thread.startswith("T-") or not (ledger is not None or isinstance(messages, list)):
            return False
        assistant = {
            m.get("messageId"): m for m in (messages if isinstance(messages, list) else []) if isinstance(m, dict) and m.get("role") == "assistant"
        }
        project = _project(data)
        events = ledger.get("events") if ledger is not None else None
        created = count(data, "created")
        if isinstance(events, list) and events:
            for event in events:
                if isinstance(event, dict):
                    self._event(thread, event, assistant, project)
        else:
            for message_id, message in assistant.items():
                usage = obj(message, "usage")
                if usage is not None:
                    self._add(thread, f"msg:{message_id}", text(usage, "model"), count(usage, "inputTokens"), count(usage, "outputTokens"), usage, project, created / 1000 if created else None)
        return True

    def _event(self, thread: str, event: Mapping[str, Any], assistant: Mapping[Any, Any], project: str | None) -> None:
        tokens = obj(event, "tokens")
        usage = obj(assistant.get(event.get("toMessageId")), "usage")
        key = text(event, "id") or f"{event.get('fromMessageId')}-{event.get('toMessageId')}"
        self._add(thread, key, text(event, "model"), count(tokens, "input"), count(tokens, "output"), usage, project, event.get("timestamp"))

    def _add(self, thread: str, key: str, model: str | None, uncached: int, output: int, usage: Mapping[str, Any] | None, project: str | None, time: Any) -> None:
        read, write = count(usage, "cacheReadInputTokens"), count(usage, "cacheCreationInputTokens")
        rec = record(
            "amp",
            model=model or "unknown",
            input_tokens=uncached + read + write,
            cached_input_tokens=read,
            cache_write_tokens=write,
            output_tokens=output,
            dedupe_key=f"amp:{thread}:{key}",
            agent="amp",
            session_id=thread,
            project=project,
        )
        if rec.size != (0, 0):
            self.sink.add((rec, (time,)))


def _project(thread: Mapping[str, Any]) -> str | None:
    # where the thread started: env.initial.trees[0].uri, a file:// URL
    trees = obj(obj(thread, "env"), "initial")
    listed = trees.get("trees") if trees is not None else None
    if isinstance(listed, list) and listed and isinstance(listed[0], dict):
        uri = text(listed[0], "uri")
        if uri and uri.startswith("file://"):
            return unquote(urlparse(uri).path) or None
    return None
