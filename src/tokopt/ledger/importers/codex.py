"""Codex CLI sessions (`~/.codex/sessions/**/*.jsonl`): `token_count` events carry cumulative
totals; each record is the difference from the previous event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokopt.ledger.importers.base import BadRecord, Importer, count, obj, record, text

_KINDS = {"session_meta", "turn_context", "event_msg", "response_item", "compacted"}


def _counts(block: Mapping[str, Any] | None) -> tuple[int, int, int, int]:
    return (
        count(block, "input_tokens"),
        count(block, "cached_input_tokens"),
        count(block, "output_tokens"),
        count(block, "reasoning_output_tokens"),
    )


class Codex(Importer):
    session: str | None = None
    model: str | None = None
    previous: tuple[int, int, int, int] | None = None  # the last cumulative totals

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        kind = data.get("type")
        payload = obj(data, "payload")
        if kind not in _KINDS or payload is None:
            return False
        if kind == "session_meta":
            self.session = text(payload, "id") or self.session
            self.model = text(payload, "model") or self.model
        elif kind == "turn_context":
            self.model = text(payload, "model") or self.model
        elif kind == "event_msg" and payload.get("type") == "token_count":
            self.token_count(payload, time)
        return True

    def token_count(self, payload: Mapping[str, Any], time: Any) -> None:
        info = obj(payload, "info")
        if info is None:
            return  # rate-limit-only updates carry no usage
        total = obj(info, "total_token_usage")
        if total is None:
            raise BadRecord("token_count without total_token_usage")
        now = _counts(total)
        previous = self.previous
        if previous is None:
            delta = now
        elif all(a >= b for a, b in zip(now, previous)):
            delta = (now[0] - previous[0], now[1] - previous[1], now[2] - previous[2], now[3] - previous[3])
        else:
            # the totals went back (a new session state): this event's own usage is the step
            last = obj(info, "last_token_usage")
            delta = _counts(last) if last is not None else now
        self.previous = now
        if delta[0] == 0 and delta[2] == 0:
            return  # the same totals repeated
        rec = record(
            "codex",
            model=self.model or "unknown",
            provider="openai",
            input_tokens=delta[0],
            cached_input_tokens=min(delta[1], delta[0]),
            output_tokens=delta[2],
            reasoning_tokens=min(delta[3], delta[2]),
            dedupe_key=f"codex:{self.session or 'no-session'}:{now[0]}:{now[1]}:{now[2]}:{now[3]}",
        )
        self.sink.add((rec, (time,)))
