"""Claude Code transcripts (`projects/**/*.jsonl` under `$CLAUDE_CONFIG_DIR`, else under
`~/.config/claude` and `~/.claude`).

One response is written as several lines with the same `message.id` + `requestId`, and
streaming partials repeat with growing output; each response counts once, with its largest
counts. A file's lines keep only the numbers of each response's largest reading; its record is
made once, when the file has been read (most lines of a transcript are partials). Its usage is
Anthropic's. Every line names its session (`sessionId`), the working directory (`cwd`), the
git branch (`gitBranch`) and whether a subagent wrote it (`isSidechain`: the Task tool's own
conversation).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokopt.ledger.importers.anthropic import anthropic_counts, anthropic_record, anthropic_usage
from tokopt.ledger.importers.base import FileSink, Found, Importer, Place, env_dirs, suffix_in, text
from tokopt.usage import MAX_TOKENS

ENV_CONFIG_DIR = "CLAUDE_CONFIG_DIR"  # one directory, or several separated by commas


class ClaudeCode(Importer):
    name = "claude-code"
    agent = "claude-code"

    @classmethod
    def places(cls, env: Mapping[str, str], home: Path) -> list[Place]:
        named = env_dirs(env, ENV_CONFIG_DIR, sep=",")
        roots = [(d, f"${ENV_CONFIG_DIR}") for d in named] if named is not None else [(home / ".config" / "claude", "default"), (home / ".claude", "default")]
        return [Place(cls.agent or "", root / "projects", origin, suffix_in(".jsonl"), "**/*.jsonl") for root, origin in roots]

    def __init__(self, sink: FileSink) -> None:
        super().__init__(sink)
        # this file's responses so far, by dedupe key, in the order first seen: the largest
        # reading's [size, counts, line] and the first reading's time; or, for a line
        # without ids (each one a call), its record. Records are made at the end of the read.
        self._pending: dict[Any, list[Any] | Found] = {}

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        # every line of a transcript comes here first: `obj`'s check, inline
        message = data.get("message")
        if data.get("type") != "assistant" or not isinstance(message, dict) or not ("requestId" in data or "sessionId" in data or "uuid" in data):
            return False
        message_id, request_id = text(message, "id"), text(data, "requestId")
        key = None
        if message_id:
            key = f"claude-code:{message_id}:{request_id or ''}"
        elif text(data, "uuid"):
            key = f"claude-code:uuid:{data['uuid']}"
        usage = message.get("usage")
        if key is None or not isinstance(usage, dict):
            found = self._found(data, message, time, key)
            if found is not None:
                self._pending[len(self._pending), None] = found  # its own call, in its place
            return True
        counts = anthropic_counts(usage)
        whole, output = counts[0], counts[4]
        if not whole and not output:
            return True  # synthetic messages (errors, interruptions) bill nothing
        if whole > MAX_TOKENS or output > MAX_TOKENS:
            self._found(data, message, time, key)  # BadRecord, as `record` words it
        size = (whole + output, output)
        kept = self._pending.get(key)
        if kept is None:
            self._pending[key] = [size, counts, data, time]
            return True
        self.sink.folded(SOURCE)  # a streaming partial or a repeated line of a response already seen
        if size > kept[0]:  # type: ignore[operator]
            kept[0], kept[1], kept[2] = size, counts, data  # type: ignore[index]
        return True

    def finish(self) -> None:
        pending, self._pending = self._pending, {}
        for key, kept in pending.items():
            if isinstance(kept, tuple):
                self.sink.add(kept)
                continue
            _, counts, data, time = kept
            model, session_id, project, git_branch, sidechain = _attribution(data, data["message"])
            rec = anthropic_record(
                counts, fmt="claude-code", model=model, key=key, agent="claude-code", session_id=session_id, project=project, git_branch=git_branch, sidechain=sidechain
            )
            self.sink.add((rec, (time,)))

    def _found(self, data: dict[str, Any], message: dict[str, Any], time: Any, key: str | None) -> Found | None:
        """The record of one line, made at once (a line without ids, or one that is garbage)."""
        model, session_id, project, git_branch, sidechain = _attribution(data, message)
        found = anthropic_usage(
            message, fmt="claude-code", time=time, key=key, agent="claude-code", session_id=session_id, project=project, git_branch=git_branch, sidechain=sidechain
        )
        if found is not None and found[0].size != (0, 0):  # synthetic messages (errors, interruptions) bill nothing
            return found
        return None


SOURCE = "import:claude-code"


def _attribution(data: dict[str, Any], message: dict[str, Any]) -> tuple[str, str | None, str | None, str | None, bool]:
    """The model, and the session, project, branch and sidechain flag a line names."""
    return text(message, "model") or "unknown", text(data, "sessionId"), text(data, "cwd"), _branch(data.get("gitBranch")), data.get("isSidechain") is True


def _branch(value: Any) -> str | None:
    # outside a repository Claude Code writes ""; on a detached head, "HEAD"
    return value if isinstance(value, str) and value and value != "HEAD" else None
