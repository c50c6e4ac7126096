"""Golden outputs: every command over a fixed workspace, recorded byte for byte.

The workspace is built from examples/ and the fixtures the tests already use. Each case is a
command line; its exit code, stdout and stderr (temporary paths replaced by `<ws>`) are kept in
tests/golden/outputs/<name>.txt. `test_golden.py` replays them in-process and compares.

Regenerate after an intended change with

    TOKOPT_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

and read the diff: every changed line is a behaviour change that needs its own reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tests import chatdata, ledger_files
from tests.budget_fixtures import FIVE, TEN, TWELVE, git, write

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = Path(__file__).parent / "outputs"


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    cwd: str = "."  # relative to the workspace
    stdin: str | None = None
    env: dict[str, str] = field(default_factory=dict)


REDUNDANT = (
    "You are a support assistant for Acme.   \n\n\n\n"
    "Always answer politely and cite the order number when you have one.\n\n"
    "Always answer politely and cite the order number when you have one.\n\n"
    "==========================================\n"
    'Reference data:\n```json\n{\n    "plan": "pro",\n    "seats": 12,\n    "renewal": "2026-09-01"\n}\n```\n'
)

RECORDS = "\n".join(
    json.dumps(r)
    for r in [
        {"model": "gpt-5.5", "input": 12000, "cached": 8000, "output": 900, "reasoning": 400, "time": "2026-07-20T10:00:00Z", "run": "nightly"},
        {"model": "claude-sonnet-4-6", "input": 50000, "cached": 40000, "cache_write": 5000, "output": 2000, "time": "2026-07-20T23:30:00Z"},
        {"model": "gpt-5.4-mini", "input": 3000, "output": 300, "time": "2026-07-22T08:00:00Z", "run": "nightly"},
    ]
)

CHECK_CONFIG = (
    '[defaults]\nmodels = ["gpt-5.5", "claude-sonnet-5"]\noutput_tokens = 100\ncalls_per_month = 1000\n\n'
    '[[budgets]]\nname = "prompts"\npaths = ["prompts/*.md"]\nmax_tokens = 11\nmax_increase_pct = 50\n'
)


def build_workspace(ws: Path) -> None:
    """The files every case reads. Deterministic: same bytes on every machine."""
    ws.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "examples" / "prompt.txt", ws / "prompt.txt")
    write(ws / "redundant.md", REDUNDANT)
    write(ws / "short.txt", "Summarize the following support ticket in one sentence.\n")
    write(ws / "docs" / "a.md", "# A\n\nFirst prompt of a directory.\n")
    write(ws / "docs" / "sub" / "b.md", "Second prompt, " * 40 + "\n")
    chatdata.write_json(ws / "chat.json", {"model": "gpt-4o", "messages": chatdata.COOKBOOK_MESSAGES, "max_tokens": 300})
    chatdata.write_json(
        ws / "tools.json", {"model": "gpt-4o", "messages": chatdata.COOKBOOK_TOOL_MESSAGES, "tools": chatdata.COOKBOOK_TOOLS}
    )
    chatdata.write_json(
        ws / "anthropic.json",
        {
            "model": "claude-sonnet-4-6",
            "max_tokens": 1024,
            "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": _b64(chatdata.png(800, 600))}},
                        {"type": "text", "text": "What is in this picture?"},
                    ],
                }
            ],
        },
    )
    batch = [
        {
            "custom_id": f"req-{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "max_tokens": 50 + i, "messages": [{"role": "user", "content": f"Classify ticket {i}: " + "slow login " * i}]},
        }
        for i in range(1, 6)
    ]
    chatdata.write_jsonl(ws / "batch.jsonl", batch)
    transcript = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Plan a three-day trip to Lisbon."},
        {"role": "assistant", "content": "Day 1: Alfama and the castle. Day 2: Belém. Day 3: Sintra."},
        {"role": "user", "content": "Make day 3 cheaper."},
        {"role": "assistant", "content": "Take the train to Sintra and walk instead of the tuk-tuk."},
        {"role": "user", "content": "And food?"},
    ]
    chatdata.write_jsonl(ws / "transcript.jsonl", transcript)
    # provider and agent logs for `session import`
    logs = ws / "logs"
    logs.mkdir(exist_ok=True)
    ledger_files.write_jsonl(
        logs / "claude.jsonl",
        [
            ledger_files.claude_code_user(),
            ledger_files.claude_code_assistant(message_id="msg_01", request_id="req_01", input_tokens=12, cache_write=3000, output_tokens=40),
            ledger_files.claude_code_assistant(message_id="msg_01", request_id="req_01", input_tokens=12, cache_write=3000, output_tokens=410),
            ledger_files.claude_code_assistant(
                message_id="msg_02", request_id="req_02", input_tokens=8, cache_read=3000, output_tokens=120, timestamp="2026-07-21T14:02:00.000Z"
            ),
        ],
    )
    ledger_files.write_jsonl(
        logs / "codex.jsonl",
        [
            ledger_files.codex_session_meta(),
            ledger_files.codex_turn_context(),
            ledger_files.codex_token_count((1000, 200, 300, 50), None, "2026-07-20T11:00:00.000Z"),
            ledger_files.codex_token_count((2500, 1200, 700, 90), (1500, 1000, 400, 40), "2026-07-20T11:05:00.000Z"),
        ],
    )
    ledger_files.write_jsonl(
        logs / "openai.jsonl",
        [
            ledger_files.openai_chat("chatcmpl-1", prompt=900, completion=120, cached=256),
            ledger_files.openai_response("resp_1", inp=4000, out=600, cached=1024, reasoning=200),
        ],
    )
    # a git project for `check` and `init`: main, then a feature commit that grows one prompt
    # fixed commit dates: the same commit ids on every run
    os.environ.update(GIT_AUTHOR_DATE="2026-07-01T12:00:00Z", GIT_COMMITTER_DATE="2026-07-01T12:00:00Z")
    proj = ws / "project"
    proj.mkdir(exist_ok=True)
    git(proj, "init", "-q", "-b", "main")
    write(proj / "tokopt.toml", CHECK_CONFIG)
    write(proj / "prompts" / "grow.md", TEN)
    write(proj / "prompts" / "gone.md", FIVE)
    write(proj / "prompts" / "same.md", FIVE)
    git(proj, "add", "-A")
    git(proj, "commit", "-q", "-m", "main")
    git(proj, "checkout", "-q", "-b", "feature")
    write(proj / "prompts" / "grow.md", TWELVE)
    (proj / "prompts" / "gone.md").unlink()
    write(proj / "prompts" / "new.md", TEN)
    git(proj, "add", "-A")
    git(proj, "commit", "-q", "-m", "feature")
    write(ws / "broken.json", '{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"},\n')
    fresh = ws / "fresh"
    write(fresh / "prompts" / "system.md", "You are a careful reviewer. " * 20)
    write(fresh / "prompts" / "user.txt", TEN)
    team = ws / "team"
    write(team / "prompts" / "support" / "answer.md", "You answer questions about Acme's return policy. " * 12)
    write(team / "prompts" / "triage.md", "Classify the ticket as billing, bug or other.\n")
    write(team / "app" / "chat.py", 'client.chat.completions.create(model="gpt-5.4-mini", messages=messages)\n')
    write(team / "web" / "agent.ts", "await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 300, messages });\n")


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _fmt(name: str, *argv: str, **kw: object) -> list[Case]:
    """One case per output format."""
    return [
        Case(f"{name}.{f}", (*argv, "--format", f), **kw)  # type: ignore[arg-type]
        for f in ("table", "json", "csv", "markdown")
    ]


LEDGER = {"TOKOPT_USER": "alice", "TOKOPT_LEDGER": "<ws>/ledger.sqlite3"}

CASES: list[Case] = [
    *_fmt("estimate-prompt", "estimate", "prompt.txt"),
    Case("estimate-all.json", ("estimate", "prompt.txt", "--all", "--format", "json")),
    Case("estimate-all.table", ("estimate", "prompt.txt", "--all")),
    Case("estimate-models-batch", ("estimate", "prompt.txt", "-m", "claude-*", "-m", "gpt-5.5", "--batch", "--cached-tokens", "200")),
    Case("estimate-options.json", ("estimate", "short.txt", "-o", "800", "-n", "50000", "--provider", "openai", "--sort", "name", "--format", "json")),
    Case("estimate-answers", ("estimate", "prompt.txt", "--all", "--fits", "--cheapest", "3", "-n", "50k", "--per", "day")),
    Case("estimate-text.json", ("estimate", "--text", "Summarize the following support ticket in one sentence.", "-m", "gpt-5.5", "--format", "json")),
    Case("tokenize-text", ("tokenize", "--text", "Hello, world")),
    Case("estimate-suggest", ("estimate", "redundant.md", "--suggest")),
    Case("estimate-suggest.json", ("estimate", "redundant.md", "--suggest", "--format", "json")),
    *_fmt("estimate-per-file", "estimate", "prompt.txt", "short.txt", "--per-file"),
    Case("estimate-dir", ("estimate", "docs")),
    Case("estimate-glob.json", ("estimate", "docs/**/*.md", "--per-file", "--sort", "name", "--format", "json")),
    Case("estimate-stdin", ("estimate", "-", "-m", "gpt-5.5"), stdin="Hello from standard input.\n"),
    *_fmt("estimate-chat", "estimate", "chat.json"),
    Case("estimate-chat-models", ("estimate", "chat.json", "-m", "gpt-5.5", "-m", "claude-sonnet-4-6")),
    *_fmt("estimate-tools", "estimate", "tools.json"),
    *_fmt("estimate-anthropic", "estimate", "anthropic.json"),
    *_fmt("estimate-batch", "estimate", "batch.jsonl"),
    Case("estimate-batch-per-file.json", ("estimate", "batch.jsonl", "chat.json", "--per-file", "--format", "json")),
    *_fmt("estimate-by-turn", "estimate", "transcript.jsonl", "--by-turn", "-m", "gpt-5.5"),
    Case("estimate-transcript", ("estimate", "transcript.jsonl")),
    Case("estimate-chat-suggest", ("estimate", "chat.json", "--suggest")),
    Case("estimate-mixed", ("estimate", "prompt.txt", "chat.json", "--per-file")),
    *_fmt("tokenize-prompt", "tokenize", "prompt.txt"),
    Case("tokenize-model", ("tokenize", "prompt.txt", "-m", "claude-opus-4-8")),
    Case("tokenize-show", ("tokenize", "short.txt", "--show")),
    Case("tokenize-ids", ("tokenize", "short.txt", "--ids", "-e", "cl100k_base")),
    *_fmt("tokenize-chat", "tokenize", "chat.json"),
    Case("tokenize-batch.json", ("tokenize", "batch.jsonl", "-m", "gpt-4o", "--format", "json")),
    *_fmt("models", "models"),
    Case("models-claude.json", ("models", "claude-*", "--format", "json")),
    Case("models-google-defaults", ("models", "--provider", "google", "--defaults")),
    *_fmt("suggest-text", "suggest", "redundant.md", "-t", "claude-sonnet-5"),
    Case("suggest-prompt", ("suggest", "prompt.txt")),
    Case("suggest-any-provider", ("suggest", "prompt.txt", "-t", "claude-opus-4-8", "--any-provider")),
    Case("suggest-model.json", ("suggest", "prompt.txt", "-t", "gpt-5.5", "-m", "gpt-5.4*", "--format", "json")),
    *_fmt("suggest-chat", "suggest", "transcript.jsonl", "-t", "gpt-5.5"),
    Case("suggest-tools.json", ("suggest", "tools.json", "--format", "json")),
    Case("suggest-batch", ("suggest", "batch.jsonl")),
    # the ledger: record, import, report, list
    Case("session-record-stdin", ("session", "record", "--stdin"), stdin=RECORDS, env=LEDGER),
    Case(
        "session-record",
        ("session", "record", "--stdin", "--run", "manual"),
        stdin=json.dumps({"model": "gpt-5.5", "input": 1000, "output": 200, "cached": 500, "time": "2026-07-23T09:00:00Z"}),
        env=LEDGER,
    ),
    Case("session-import", ("session", "import", "logs"), env=LEDGER),
    Case("session-import-again", ("session", "import", "logs"), env=LEDGER),
    *[
        Case(f"session-report-{by}.{f}", ("session", "report", "--by", by, "--since", "2026-07-01", "--until", "2026-08-01", "--tz", "UTC", "--format", f), env=LEDGER)
        for by in ("day", "model", "run", "user")
        for f in ("table", "json")
    ],
    Case("session-report.csv", ("session", "report", "--since", "2026-07-01", "--until", "2026-08-01", "--tz", "UTC", "--format", "csv"), env=LEDGER),
    Case("session-report.markdown", ("session", "report", "--since", "2026-07-01", "--until", "2026-08-01", "--tz", "UTC", "--format", "markdown"), env=LEDGER),
    Case("session-report-berlin.json", ("session", "report", "--by", "day", "--since", "2026-07-01", "--until", "2026-08-01", "--tz", "Europe/Berlin", "--format", "json"), env=LEDGER),
    Case("session-list.json", ("session", "list", "--format", "json"), env=LEDGER),
    # CI: check and init in a git project
    *[Case(f"check.{f}", ("check", "--format", f), cwd="project") for f in ("table", "json", "markdown", "github", "junit")],
    *[Case(f"check-base.{f}", ("check", "--base", "main", "--format", f), cwd="project") for f in ("table", "json", "markdown")],
    Case("check-warn-only", ("check", "--warn-only"), cwd="project"),
    Case("init", ("init",), cwd="fresh"),
    Case("init-team", ("init", "--calls-per-day", "2000", "--stdout"), cwd="team"),
    # errors
    Case("error-missing-file", ("estimate", "nope.txt")),
    Case("error-unknown-model", ("estimate", "prompt.txt", "-m", "gpt-5.55")),
    Case("error-bad-json", ("estimate", "broken.json")),
]


def normalise(text: str, ws: Path, run_ids: dict[str, str]) -> str:
    """Temporary paths and random run ids replaced by stable placeholders."""
    for found in re.findall(r"started run ([0-9a-f]{8})", text):
        run_ids.setdefault(found, f"<run-{len(run_ids) + 1}>")
    for run_id, placeholder in run_ids.items():
        text = text.replace(run_id, placeholder)
    # the moment a run was started by the test itself
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", "<now>", text)
    return text.replace(str(ws), "<ws>")


def env_for(case: Case, ws: Path) -> dict[str, str]:
    return {k: v.replace("<ws>", str(ws)) for k, v in case.env.items()}


def output_path(case: Case) -> Path:
    return OUTPUTS / f"{case.name}.txt"


def render(code: int, stdout: str, stderr: str) -> str:
    return f"exit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}"


def update_requested() -> bool:
    return os.environ.get("TOKOPT_UPDATE_GOLDEN") == "1"
