"""Coding agents' logs where the agents keep them, in their formats (written by the tests).

The shapes follow what each agent writes, as read from the agents' own code and the test
fixtures of tools that read them (ccusage, tokscale): Gemini CLI's chat recordings (a JSON
document, or JSON lines whose message lines repeat as a message grows), OpenCode's message
documents and its SQLite database, Amp's thread documents with their usage ledger.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.ledger_files import claude_code_assistant, claude_code_user, codex_session_meta, codex_token_count, codex_turn_context

PROJECT_HASH = "9a7c2f7b1e0d4c3b8a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"


def write_lines(path: Path, items: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


# -- Claude Code and Codex, where they live ------------------------------------------------------


def claude_code_session(root: Path, *, project: str = "/home/dev/app", session: str = "7f3c2a90-1d2e-4b7a-9c4e-2b1f0a9d8e71", branch: str = "main") -> Path:
    """A session of two responses, the second by a subagent (sidechain), under root/projects."""
    first = claude_code_assistant(message_id="msg_cc1", request_id="req_cc1", input_tokens=4, cache_write=2000, cache_read=10000, output_tokens=300, session=session)
    second = claude_code_assistant(message_id="msg_cc2", request_id="req_cc2", input_tokens=6, cache_read=12000, output_tokens=120, session=session, timestamp="2026-07-20T09:14:02.000Z")
    for line in (first, second):
        line["cwd"], line["gitBranch"] = project, branch
    second["isSidechain"] = True
    folder = root / "projects" / project.replace("/", "-")
    return write_lines(folder / f"{session}.jsonl", [claude_code_user(), first, second])


def codex_rollout(root: Path, *, session: str = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", archived: bool = False) -> Path:
    meta = codex_session_meta(session)
    meta["payload"]["git"] = {"commit_hash": "4f0c2d1", "branch": "feature/login", "repository_url": "git@example.com:dev/app.git"}
    lines = [
        meta,
        codex_turn_context(),
        codex_token_count((5000, 4000, 300, 100), None, "2026-07-21T10:00:05Z"),
        codex_token_count((9000, 7000, 500, 150), None, "2026-07-21T10:01:05Z"),
    ]
    folder = root / "archived_sessions" if archived else root / "sessions" / "2026" / "07" / "21"
    return write_lines(folder / f"rollout-2026-07-21T10-00-00-{session}.jsonl", lines)


# -- Gemini CLI ---------------------------------------------------------------------------------


def gemini_message(message_id: str, *, tokens: dict[str, int] | None, model: str = "gemini-2.5-pro", timestamp: str = "2026-07-22T08:00:05.000Z") -> dict[str, Any]:
    return {
        "id": message_id,
        "timestamp": timestamp,
        "type": "gemini",
        "content": "I will run the tests first.",
        "thoughts": [{"subject": "Planning", "description": "Run the tests", "timestamp": timestamp}],
        "tokens": tokens,
        "model": model,
    }


def gemini_tokens(inp: int, out: int, cached: int = 0, thoughts: int = 0, tool: int = 0) -> dict[str, int]:
    return {"input": inp, "output": out, "cached": cached, "thoughts": thoughts, "tool": tool, "total": inp + out + thoughts + tool}


def gemini_jsonl(gemini_home: Path, *, session: str = "5d2e1c4b-3a29-4f18-9e07-d6c5b4a39281") -> Path:
    """A chat recording as Gemini CLI writes it now: metadata, then messages as they change."""
    lines: list[Any] = [
        {"sessionId": session, "projectHash": PROJECT_HASH, "startTime": "2026-07-22T08:00:00.000Z", "lastUpdated": "2026-07-22T08:00:00.000Z", "kind": "main", "directories": ["/home/dev/app"]},
        {"id": "u1", "timestamp": "2026-07-22T08:00:01.000Z", "type": "user", "content": [{"text": "Why does the build fail?"}]},
        gemini_message("g1", tokens=None),  # the text first, its tokens with a later copy
        gemini_message("g1", tokens=gemini_tokens(12000, 300, cached=8000, thoughts=120)),
        {"$set": {"lastUpdated": "2026-07-22T08:00:06.000Z"}},
        gemini_message("g2", tokens=gemini_tokens(13000, 80, cached=12000, tool=40), timestamp="2026-07-22T08:01:00.000Z", model="gemini-2.5-flash"),
        {"$rewindTo": "g2"},  # hidden from the conversation, still billed
    ]
    return write_lines(gemini_home / "tmp" / PROJECT_HASH / "chats" / f"session-2026-07-22T08-00-{session[:8]}.jsonl", lines)


def gemini_json(gemini_home: Path, *, session: str = "0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b") -> Path:
    """A chat recording as older Gemini CLI versions wrote it: one JSON document."""
    document = {
        "sessionId": session,
        "projectHash": PROJECT_HASH,
        "startTime": "2026-07-19T15:00:00.000Z",
        "lastUpdated": "2026-07-19T15:02:00.000Z",
        "messages": [
            {"id": "a", "timestamp": "2026-07-19T15:00:01.000Z", "type": "user", "content": "hi"},
            gemini_message("b", tokens=gemini_tokens(2000, 50, cached=0, thoughts=10), timestamp="2026-07-19T15:00:03.000Z"),
            {"id": "c", "timestamp": "2026-07-19T15:00:04.000Z", "type": "info", "content": "Request cancelled."},
        ],
    }
    path = gemini_home / "tmp" / PROJECT_HASH / "chats" / f"session-2026-07-19T15-00-{session[:8]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


# -- OpenCode -----------------------------------------------------------------------------------


def opencode_message(message_id: str, session: str, *, inp: int, out: int, read: int = 0, write: int = 0, reasoning: int = 0, created: int = 1784707200000) -> dict[str, Any]:
    return {
        "id": message_id,
        "sessionID": session,
        "role": "assistant",
        "time": {"created": created, "completed": created + 9000},
        "parentID": "msg_user",
        "modelID": "claude-sonnet-4-5",
        "providerID": "anthropic",
        "mode": "build",
        "path": {"cwd": "/home/dev/api", "root": "/home/dev/api"},
        "cost": 0.0123,
        "tokens": {"input": inp, "output": out, "reasoning": reasoning, "cache": {"read": read, "write": write}},
    }


def opencode_storage(data_home: Path) -> list[Path]:
    """Message documents as OpenCode wrote them before its database: one file per message."""
    folder = data_home / "opencode" / "storage" / "message" / "ses_7aa1"
    folder.mkdir(parents=True, exist_ok=True)
    user = {"id": "msg_user", "sessionID": "ses_7aa1", "role": "user", "time": {"created": 1784707199000}}
    paths = []
    for name, doc in (("msg_user", user), ("msg_a1", opencode_message("msg_a1", "ses_7aa1", inp=12, out=340, read=15000, write=2000, reasoning=60))):
        path = folder / f"{name}.json"
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        paths.append(path)
    return paths


def opencode_database(data_home: Path) -> Path:
    """OpenCode's database: a session table and a message table whose `data` is the document."""
    path = data_home / "opencode" / "opencode.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE session (id text PRIMARY KEY, project_id text NOT NULL, parent_id text, directory text NOT NULL, title text NOT NULL)")
    db.execute("CREATE TABLE message (id text PRIMARY KEY, session_id text NOT NULL, data text NOT NULL)")
    db.execute("INSERT INTO session VALUES ('ses_db1', 'prj_1', NULL, '/home/dev/web', 'Fix the login')")
    doc = opencode_message("ignored", "ignored", inp=20, out=500, read=30000, write=1000, created=1784793600000)
    del doc["id"], doc["sessionID"], doc["path"]
    db.execute("INSERT INTO message VALUES ('msg_db1', 'ses_db1', ?)", (json.dumps(doc),))
    db.execute("INSERT INTO message VALUES ('msg_db0', 'ses_db1', ?)", (json.dumps({"role": "user", "time": {"created": 1784793599000}}),))
    db.commit()
    db.close()
    return path


# -- Amp ----------------------------------------------------------------------------------------


def amp_thread(data_home: Path, *, thread: str = "T-3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d") -> Path:
    document = {
        "v": 195,
        "id": thread,
        "created": 1784880000000,
        "title": "Refactor the importer",
        "env": {"initial": {"trees": [{"displayName": "importer", "uri": "file:///home/dev/importer"}]}},
        "messages": [
            {"role": "user", "messageId": 0, "content": [{"type": "text", "text": "Refactor it"}]},
            {
                "role": "assistant",
                "messageId": 1,
                "content": [{"type": "text", "text": "Done."}],
                "usage": {
                    "model": "claude-sonnet-4-5",
                    "inputTokens": 100,
                    "outputTokens": 50,
                    "cacheCreationInputTokens": 500,
                    "cacheReadInputTokens": 200,
                    "totalInputTokens": 800,
                    "credits": 1.5,
                },
            },
        ],
        "usageLedger": {
            "events": [
                {
                    "id": "evt-1",
                    "timestamp": "2026-07-24T10:00:00.000Z",
                    "model": "claude-sonnet-4-5",
                    "credits": 1.5,
                    "tokens": {"input": 100, "output": 50},
                    "operationType": "inference",
                    "fromMessageId": 0,
                    "toMessageId": 1,
                }
            ]
        },
    }
    path = data_home / "amp" / "threads" / f"{thread}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def agents_home(home: Path) -> dict[str, list[Path]]:
    """A home directory where all five agents have left logs, in their default places."""
    data = home / ".local" / "share"
    return {
        "claude-code": [claude_code_session(home / ".claude")],
        "codex": [codex_rollout(home / ".codex"), codex_rollout(home / ".codex", session="0199ffff-0000-7000-8000-000000000001", archived=True)],
        "gemini-cli": [gemini_jsonl(home / ".gemini"), gemini_json(home / ".gemini")],
        "opencode": [*opencode_storage(data), opencode_database(data)],
        "amp": [amp_thread(data)],
    }
