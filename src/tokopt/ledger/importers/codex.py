"""Codex CLI sessions (`sessions/**/*.jsonl` and `archived_sessions/**/*.jsonl` under
`$CODEX_HOME`, else `~/.codex`): `token_count` events carry cumulative totals; each record
is the difference from the previous event.

`session_meta` names the session, its working directory, git branch and whether Codex
started it itself (a subagent); `turn_context` names the model (and the directory, which may
change). Both are remembered across a resumed read (`state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokopt.ledger.importers.base import BadRecord, Importer, Place, count, env_dirs, obj, record, suffix_in, text

ENV_HOME = "CODEX_HOME"
_KINDS = {"session_meta", "turn_context", "event_msg", "response_item", "compacted"}
_STATE = ("session", "model", "previous", "project", "branch", "sidechain")


def _counts(block: Mapping[str, Any] | None) -> tuple[int, int, int, int]:
    return (
        count(block, "input_tokens"),
        count(block, "cached_input_tokens"),
        count(block, "output_tokens"),
        count(block, "reasoning_output_tokens"),
    )


def _subagent(meta: Mapping[str, Any]) -> bool:
    source = meta.get("source")
    return (isinstance(source, dict) and "subagent" in source) or meta.get("thread_source") == "subagent"


class Codex(Importer):
    name = "codex"
    agent = "codex"
    session: str | None = None
    model: str | None = None
    previous: tuple[int, int, int, int] | None = None  # the last cumulative totals
    project: str | None = None
    branch: str | None = None
    sidechain = False

    @classmethod
    def places(cls, env: Mapping[str, str], home: Path) -> list[Place]:
        named = env_dirs(env, ENV_HOME)
        root, origin = (named[0], f"${ENV_HOME}") if named else (home / ".codex", "default")
        jsonl = suffix_in(".jsonl")
        return [
            Place("codex", root / "sessions", origin, jsonl, "**/*.jsonl"),
            Place("codex", root / "archived_sessions", origin, jsonl, "**/*.jsonl"),
        ]

    def state(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in _STATE}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items() if v is not None and v is not False}

    def restore(self, state: Mapping[str, Any]) -> None:
        for name in _STATE:
            if name in state:
                value = state[name]
                setattr(self, name, tuple(value) if name == "previous" else value)

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        kind = data.get("type")
        payload = obj(data, "payload")
        if kind not in _KINDS or payload is None:
            return False
        if kind == "session_meta":
            self.session = text(payload, "id") or self.session
            self.model = text(payload, "model") or self.model
            self.project = text(payload, "cwd") or self.project
            self.branch = text(obj(payload, "git"), "branch") or self.branch
            self.sidechain = self.sidechain or _subagent(payload)
        elif kind == "turn_context":
            self.model = text(payload, "model") or self.model
            self.project = text(payload, "cwd") or self.project
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
        elif now[0] >= previous[0] and now[1] >= previous[1] and now[2] >= previous[2] and now[3] >= previous[3]:
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
            agent="codex",
            session_id=self.session,
            project=self.project,
            git_branch=self.branch,
            sidechain=self.sidechain,
        )
        self.sink.add((rec, (time,)))
