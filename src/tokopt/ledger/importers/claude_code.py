"""Claude Code transcripts (`projects/**/*.jsonl` under `$CLAUDE_CONFIG_DIR`, else under
`~/.config/claude` and `~/.claude`).

One response is written as several lines with the same `message.id` + `requestId`, and
streaming partials repeat with growing output; each response counts once, with its largest
counts. Its usage is Anthropic's. Every line names its session (`sessionId`), the working
directory (`cwd`), the git branch (`gitBranch`) and whether a subagent wrote it
(`isSidechain`: the Task tool's own conversation).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokopt.ledger.importers.anthropic import anthropic_usage
from tokopt.ledger.importers.base import Importer, Place, env_dirs, suffix_in, text

ENV_CONFIG_DIR = "CLAUDE_CONFIG_DIR"  # one directory, or several separated by commas


class ClaudeCode(Importer):
    name = "claude-code"
    agent = "claude-code"

    @classmethod
    def places(cls, env: Mapping[str, str], home: Path) -> list[Place]:
        named = env_dirs(env, ENV_CONFIG_DIR, sep=",")
        roots = [(d, f"${ENV_CONFIG_DIR}") for d in named] if named is not None else [(home / ".config" / "claude", "default"), (home / ".claude", "default")]
        return [Place(cls.agent or "", root / "projects", origin, suffix_in(".jsonl"), "**/*.jsonl") for root, origin in roots]

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
        found = anthropic_usage(
            message,
            fmt="claude-code",
            time=time,
            key=key,
            agent="claude-code",
            session_id=text(data, "sessionId"),
            project=text(data, "cwd"),
            git_branch=_branch(data.get("gitBranch")),
            sidechain=data.get("isSidechain") is True,
        )
        if found is not None and found[0].size != (0, 0):  # synthetic messages (errors, interruptions) bill nothing
            self.sink.add(found)
        return True


def _branch(value: Any) -> str | None:
    # outside a repository Claude Code writes ""; on a detached head, "HEAD"
    return value if isinstance(value, str) and value and value != "HEAD" else None
