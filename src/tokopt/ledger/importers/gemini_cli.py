"""Gemini CLI chat recordings (`tmp/<project>/chats/` under `~/.gemini`).

Two shapes, both from Gemini CLI's chat recording service:

- `session-*.json`: one document `{sessionId, projectHash, startTime, lastUpdated, messages}`;
- `session-*.jsonl` (and a subagent's `<id>.jsonl` in a folder named after its parent
  session): a first line `{sessionId, projectHash, startTime, ..., kind}`, then one line per
  message as it is written, the same message again whenever it changes (its tokens arrive
  after its text), `{"$set": {...}}` updates and `{"$rewindTo": id}`.

A model's turn is a message of type `gemini` with `model` and `tokens`: `input` is the whole
prompt (Gemini's promptTokenCount) of which `cached` was read from the cache; `tool` is the
tool-use prompt, billed as input; `thoughts` are billed as output beside `output`. A rewind
hides messages from the conversation, not from the bill, so it changes nothing here. The
project is the first of the session's `directories` where the log names them (the folder
name is a hash of the path).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokopt.ledger.importers.base import Importer, Place, count, env_dirs, obj, record, text

ENV_HOME = "GEMINI_CLI_HOME"  # the directory that holds .gemini (default: the home directory)
_STATE = ("session", "project", "sidechain")


def _chat_file(rel: str) -> bool:
    parts = rel.split("/")
    return len(parts) >= 3 and parts[1] == "chats" and rel.lower().endswith((".json", ".jsonl"))


def _is_meta(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("sessionId"), str) and isinstance(data.get("projectHash"), str)


class GeminiCli(Importer):
    name = "gemini-cli"
    agent = "gemini-cli"
    session: str | None = None
    project: str | None = None
    sidechain = False

    @classmethod
    def places(cls, env: Mapping[str, str], home: Path) -> list[Place]:
        named = env_dirs(env, ENV_HOME)
        base, origin = (named[0], f"${ENV_HOME}") if named else (home, "default")
        return [Place("gemini-cli", base / ".gemini" / "tmp", origin, _chat_file, "*/chats/**/*.json{,l}")]

    def state(self) -> dict[str, Any]:
        return {k: v for k in _STATE if (v := getattr(self, k)) not in (None, False)}

    def restore(self, state: Mapping[str, Any]) -> None:
        for k in _STATE:
            if k in state:
                setattr(self, k, state[k])

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        if _is_meta(data):
            self._meta(data)
            messages = data.get("messages")
            if isinstance(messages, list):  # a whole session in one document
                for message in messages:
                    self._message(message)
            return True
        update = obj(data, "$set")
        if update is not None:
            self._meta(update)
            messages = update.get("messages")
            if isinstance(messages, list):
                for message in messages:
                    self._message(message)
            return True
        if isinstance(data.get("$rewindTo"), str):
            return True
        if data.get("type") == "gemini" and isinstance(data.get("id"), str) and "tokens" in data:
            self._message(data)
            return True
        return False

    def _meta(self, data: Mapping[str, Any]) -> None:
        self.session = text(data, "sessionId") or self.session
        directories = data.get("directories")
        if isinstance(directories, list) and directories and isinstance(directories[0], str) and directories[0]:
            self.project = directories[0]
        if data.get("kind") == "subagent":
            self.sidechain = True

    def _message(self, message: Any) -> None:
        if not isinstance(message, dict) or message.get("type") != "gemini":
            return
        tokens = obj(message, "tokens")
        if tokens is None:
            return  # its tokens come with a later copy of the message
        thoughts = count(tokens, "thoughts")
        rec = record(
            "gemini-cli",
            model=text(message, "model") or "unknown",
            provider="google",
            input_tokens=count(tokens, "input") + count(tokens, "tool"),
            cached_input_tokens=count(tokens, "cached"),
            output_tokens=count(tokens, "output") + thoughts,
            reasoning_tokens=thoughts,
            dedupe_key=f"gemini-cli:{self.session or 'no-session'}:{text(message, 'id')}",
            agent="gemini-cli",
            session_id=self.session,
            project=self.project,
            sidechain=self.sidechain,
        )
        if rec.size != (0, 0):
            self.sink.add((rec, (message.get("timestamp"),)))
