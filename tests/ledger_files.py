"""Realistic provider usage logs, written by the tests (shapes as the providers and tools write them)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
from pathlib import Path
from typing import Any


def write_jsonl(path: Path, items: list[Any], *, garbage: dict[int, str] | None = None) -> Path:
    """JSON lines; `garbage` puts raw text lines at the given positions (0-based, before item i)."""
    lines = [json.dumps(item) for item in items]
    for index, text in sorted((garbage or {}).items(), reverse=True):
        lines.insert(index, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGSTOP a child process and return once it has stopped (a signal is delivered
    asynchronously: until then it may still write, or commit), or once it has ended."""
    proc.send_signal(signal.SIGSTOP)  # not sent if it has ended (and been reaped) already
    if proc.returncode is None:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)  # until it stops, or ends
        if not os.WIFSTOPPED(status):  # it ended before the signal came: keep its exit status
            proc.returncode = os.waitstatus_to_exitcode(status)


# -- Claude Code ----------------------------------------------------------------------------------


def claude_code_assistant(
    *,
    message_id: str | None,
    request_id: str | None,
    model: str = "claude-sonnet-4-5-20250929",
    input_tokens: int = 4,
    cache_write: int = 0,
    cache_read: int = 0,
    output_tokens: int = 1,
    write_1h: int = 0,
    timestamp: str = "2026-07-20T09:12:33.512Z",
    session: str = "7f3c2a90-1d2e-4b7a-9c4e-2b1f0a9d8e71",
    content: str = "Let me look at the failing test first.",
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_write + write_1h,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_write, "ephemeral_1h_input_tokens": write_1h},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }
    message: dict[str, Any] = {
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": content}],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    if message_id is not None:
        message["id"] = message_id
    line: dict[str, Any] = {
        "parentUuid": "0b7d6c4e-5f0a-4c1b-8e2d-3a9f1c0b2d4e",
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/project",
        "sessionId": session,
        "version": "2.0.14",
        "gitBranch": "main",
        "message": message,
        "type": "assistant",
        "uuid": f"u-{message_id}-{output_tokens}-{random.Random(str(message_id) + str(output_tokens)).random()}",
        "timestamp": timestamp,
    }
    if request_id is not None:
        line["requestId"] = request_id
    return line


def claude_code_user(text: str = "Why does test_parse fail?") -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/project",
        "sessionId": "7f3c2a90-1d2e-4b7a-9c4e-2b1f0a9d8e71",
        "version": "2.0.14",
        "type": "user",
        "message": {"role": "user", "content": text},
        "uuid": "1c2d3e4f-0000-4000-8000-000000000001",
        "timestamp": "2026-07-20T09:12:30.001Z",
    }


def claude_code_big(path: Path, responses: int, *, seed: int = 7, lines_per_response: int = 3) -> tuple[Path, dict[str, int]]:
    """A long transcript: each response written as several lines (content blocks), the first of
    them a streaming partial with a smaller output count. Returns the expected token totals."""
    rnd = random.Random(seed)
    totals = {"records": 0, "input": 0, "cached": 0, "write": 0, "output": 0}
    with path.open("w", encoding="utf-8") as f:
        for i in range(responses):
            f.write(json.dumps(claude_code_user(f"step {i}")) + "\n")
            inp, write, read, out = rnd.randint(1, 50), rnd.randint(0, 3000), rnd.randint(0, 90000), rnd.randint(20, 2000)
            stamp = f"2026-07-{1 + i * 28 // max(responses, 1):02d}T{i % 24:02d}:{i % 60:02d}:00.000Z"
            for part in range(lines_per_response):
                shown = out if part else rnd.randint(1, out)
                line = claude_code_assistant(
                    message_id=f"msg_{seed}_{i:07d}",
                    request_id=f"req_{seed}_{i:07d}",
                    input_tokens=inp,
                    cache_write=write,
                    cache_read=read,
                    output_tokens=shown,
                    timestamp=stamp,
                    content=f"block {part} of answer {i}: " + "x" * rnd.randint(10, 200),
                )
                f.write(json.dumps(line) + "\n")
            totals["records"] += 1
            totals["input"] += inp + write + read
            totals["cached"] += read
            totals["write"] += write
            totals["output"] += out
    return path, totals


# -- Codex CLI --------------------------------------------------------------------------------


def codex_token_count(total: tuple[int, int, int, int], last: tuple[int, int, int, int] | None, timestamp: str) -> dict[str, Any]:
    def usage(t: tuple[int, int, int, int]) -> dict[str, int]:
        return {
            "input_tokens": t[0],
            "cached_input_tokens": t[1],
            "output_tokens": t[2],
            "reasoning_output_tokens": t[3],
            "total_tokens": t[0] + t[2],
        }

    return {
        "timestamp": timestamp,
        "type": "event_msg",
        "payload": {
            "type": "token_count",
            "info": {
                "total_token_usage": usage(total),
                "last_token_usage": usage(last or total),
                "model_context_window": 272000,
            },
            "rate_limits": {"primary": {"used_percent": 3.0, "window_minutes": 300}},
        },
    }


def codex_session_meta(session: str = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b") -> dict[str, Any]:
    return {
        "timestamp": "2026-07-21T10:00:00.000Z",
        "type": "session_meta",
        "payload": {
            "id": session,
            "timestamp": "2026-07-21T10:00:00.000Z",
            "cwd": "/home/dev/project",
            "originator": "codex_cli_rs",
            "cli_version": "0.46.0",
            "instructions": None,
        },
    }


def codex_turn_context(model: str = "gpt-5-codex") -> dict[str, Any]:
    return {
        "timestamp": "2026-07-21T10:00:01.000Z",
        "type": "turn_context",
        "payload": {
            "cwd": "/home/dev/project",
            "approval_policy": "on-request",
            "sandbox_policy": {"mode": "workspace-write"},
            "model": model,
            "effort": "medium",
            "summary": "auto",
        },
    }


# -- API responses --------------------------------------------------------------------------------


def openai_chat(id_: str, *, model: str = "gpt-4o-2024-08-06", prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {
        "id": id_,
        "object": "chat.completion",
        "created": 1784541600,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello."}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_abc123",
    }


def openai_response(id_: str, *, model: str = "gpt-5.5-2026-04-23", inp: int, out: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {
        "id": id_,
        "object": "response",
        "created_at": 1784541700,
        "status": "completed",
        "model": model,
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}]}],
        "usage": {
            "input_tokens": inp,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": out,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": inp + out,
        },
    }


def anthropic_message(id_: str, *, model: str = "claude-opus-4-7-20260416", inp: int, out: int, read: int = 0, write: int = 0, write_1h: int = 0) -> dict[str, Any]:
    return {
        "id": id_,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "Sure."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": inp,
            "cache_creation_input_tokens": write + write_1h,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": write_1h},
            "output_tokens": out,
            "service_tier": "standard",
        },
    }


def gemini_response(id_: str | None, *, model: str = "gemini-2.5-flash", prompt: int, candidates: int, cached: int = 0, thoughts: int = 0) -> dict[str, Any]:
    meta: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": candidates, "totalTokenCount": prompt + candidates + thoughts}
    if cached:
        meta["cachedContentTokenCount"] = cached
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    out: dict[str, Any] = {
        "candidates": [{"content": {"parts": [{"text": "Hi"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": meta,
        "modelVersion": model,
    }
    if id_ is not None:
        out["responseId"] = id_
    return out
