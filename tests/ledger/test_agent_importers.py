"""Coding agents' logs: each agent's format read with what it says about every call (agent,
session, project, branch, subagent), and the places an import with no paths looks in."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.agent_files import (
    agents_home,
    amp_thread,
    claude_code_session,
    codex_rollout,
    gemini_json,
    gemini_jsonl,
    opencode_database,
    opencode_storage,
)
from tokopt.ledger import importers

UTC = dt.timezone.utc


def read(*paths: Path):
    return importers.read_sources([importers.ImportSource(str(p), p) for p in paths])


def by_key(imported):
    return {r.dedupe_key: r for r in imported.records}


def test_claude_code_names_session_project_branch_and_subagent(tmp_path):
    records = by_key(read(claude_code_session(tmp_path / ".claude", project="/home/dev/app", branch="feat/x")))
    main, sub = records["claude-code:msg_cc1:req_cc1"], records["claude-code:msg_cc2:req_cc2"]
    assert (main.agent, main.session_id, main.project, main.git_branch, main.sidechain) == (
        "claude-code", "7f3c2a90-1d2e-4b7a-9c4e-2b1f0a9d8e71", "/home/dev/app", "feat/x", False,
    )
    assert sub.sidechain is True and sub.session_id == main.session_id


def test_claude_code_outside_a_repository_has_no_branch(tmp_path):
    log = claude_code_session(tmp_path, branch="")
    assert {r.git_branch for r in read(log).records} == {None}


def test_codex_names_session_directory_branch_and_subagents(tmp_path):
    imported = read(codex_rollout(tmp_path))
    assert [(r.input_tokens, r.output_tokens) for r in imported.records] == [(5000, 300), (4000, 200)]
    assert {(r.agent, r.session_id, r.project, r.git_branch, r.sidechain) for r in imported.records} == {
        ("codex", "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "/home/dev/project", "feature/login", False)
    }
    spawned = tmp_path / "child.jsonl"
    spawned.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {"type": "session_meta", "payload": {"id": "child", "cwd": "/w", "source": {"subagent": {"thread_spawn": {"parent_thread_id": "p", "depth": 1}}}}},
                {"type": "turn_context", "payload": {"model": "gpt-5-codex", "cwd": "/w/sub"}},
                {"timestamp": "2026-07-21T10:00:05Z", "type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": {"input_tokens": 10, "output_tokens": 2}}}},
            ]
        )
        + "\n"
    )
    (rec,) = read(spawned).records
    assert (rec.session_id, rec.project, rec.sidechain) == ("child", "/w/sub", True)


def test_gemini_cli_recordings_count_each_turn_once_with_its_tokens(tmp_path):
    imported = read(gemini_jsonl(tmp_path / ".gemini"), gemini_json(tmp_path / ".gemini"))
    records = by_key(imported)
    assert set(records) == {
        "gemini-cli:5d2e1c4b-3a29-4f18-9e07-d6c5b4a39281:g1",
        "gemini-cli:5d2e1c4b-3a29-4f18-9e07-d6c5b4a39281:g2",
        "gemini-cli:0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b:b",
    }
    g1 = records["gemini-cli:5d2e1c4b-3a29-4f18-9e07-d6c5b4a39281:g1"]
    # input is the whole prompt (cached part of it); thoughts are billed as output
    assert (g1.model, g1.input_tokens, g1.cached_input_tokens, g1.output_tokens, g1.reasoning_tokens) == ("gemini-2.5-pro", 12000, 8000, 420, 120)
    g2 = records["gemini-cli:5d2e1c4b-3a29-4f18-9e07-d6c5b4a39281:g2"]
    assert (g2.model, g2.input_tokens, g2.cached_input_tokens) == ("gemini-2.5-flash", 13040, 12000)  # tool-use prompt is input
    assert (g1.agent, g1.project, g1.time) == ("gemini-cli", "/home/dev/app", dt.datetime(2026, 7, 22, 8, 0, 5, tzinfo=UTC))
    assert records["gemini-cli:0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b:b"].project is None  # the folder is a hash
    assert [f.garbage for f in imported.files] == [0, 0]


def test_gemini_cli_subagent_recordings_are_sidechains(tmp_path):
    log = tmp_path / "chats" / "parent" / "child.jsonl"
    log.parent.mkdir(parents=True)
    lines = [
        {"sessionId": "child", "projectHash": "h", "startTime": "2026-07-22T08:00:00Z", "lastUpdated": "2026-07-22T08:00:00Z", "kind": "subagent"},
        {"id": "m", "timestamp": "2026-07-22T08:00:02Z", "type": "gemini", "model": "gemini-2.5-flash", "tokens": {"input": 5, "output": 1, "cached": 0, "thoughts": 0, "tool": 0, "total": 6}},
    ]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    (rec,) = read(log).records
    assert rec.sidechain is True and rec.session_id == "child"


def test_opencode_message_files_and_database(tmp_path):
    data = tmp_path / "share"
    files = opencode_storage(data)
    db = opencode_database(data)
    imported = read(*files, db)
    records = by_key(imported)
    assert set(records) == {"opencode:msg_a1", "opencode:msg_db1"}
    a1 = records["opencode:msg_a1"]
    # input leaves out cache reads and writes; reasoning is billed as output beside it
    assert (a1.input_tokens, a1.cached_input_tokens, a1.cache_write_tokens, a1.output_tokens, a1.reasoning_tokens) == (17012, 15000, 2000, 400, 60)
    assert (a1.agent, a1.session_id, a1.project, a1.provider) == ("opencode", "ses_7aa1", "/home/dev/api", "anthropic")
    assert a1.time == dt.datetime.fromtimestamp(1784707200, UTC)
    db1 = records["opencode:msg_db1"]
    assert (db1.session_id, db1.project, db1.input_tokens) == ("ses_db1", "/home/dev/web", 31020)
    assert [f.status for f in imported.files] == ["new", "new", "read"]  # a database is always read whole


def test_an_unknown_database_is_garbage_not_a_crash(tmp_path):
    import sqlite3

    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    imported = read(path)
    assert imported.records == [] and imported.files[0].garbage == 1


def test_amp_threads_are_read_from_their_usage_ledger(tmp_path):
    (rec,) = read(amp_thread(tmp_path)).records
    assert (rec.model, rec.input_tokens, rec.cached_input_tokens, rec.cache_write_tokens, rec.output_tokens) == ("claude-sonnet-4-5", 800, 200, 500, 50)
    assert (rec.agent, rec.session_id, rec.project) == ("amp", "T-3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d", "/home/dev/importer")
    assert rec.time == dt.datetime(2026, 7, 24, 10, 0, tzinfo=UTC)


def test_discovery_finds_every_agent_in_its_default_place(tmp_path):
    home = tmp_path / "home"
    written = agents_home(home)
    found = importers.discover(env={}, home=home)
    files: dict[str, list[str]] = {}
    for f in found:
        files.setdefault(f.place.agent, []).extend(str(e.path) for e in f.files)
    assert {agent: len(paths) for agent, paths in files.items()} == {"claude-code": 1, "codex": 2, "gemini-cli": 2, "opencode": 3, "amp": 1}
    assert sorted(p for ps in files.values() for p in ps) == sorted(str(p) for ps in written.values() for p in ps)
    missing = [f for f in found if not f.exists]
    assert [str(f.place.path) for f in missing] == [str(home / ".config" / "claude" / "projects")]
    labels = [s.label for s in importers.found_sources(found, home)]
    assert "~/.claude/projects/-home-dev-app/7f3c2a90-1d2e-4b7a-9c4e-2b1f0a9d8e71.jsonl" in labels


def test_environment_variables_choose_the_places(tmp_path):
    one, two = tmp_path / "cc-one", tmp_path / "cc two"
    claude_code_session(one)
    claude_code_session(two, session="second")
    codex_rollout(tmp_path / "codex-home")
    env = {"CLAUDE_CONFIG_DIR": f"{one}, {two}", "CODEX_HOME": str(tmp_path / "codex-home"), "XDG_DATA_HOME": str(tmp_path / "data")}
    found = importers.discover(env=env, home=tmp_path / "nobody")
    claude = [f for f in found if f.place.agent == "claude-code"]
    assert [(str(f.place.path), f.place.origin, len(f.files)) for f in claude] == [
        (str(one / "projects"), "$CLAUDE_CONFIG_DIR", 1),
        (str(two / "projects"), "$CLAUDE_CONFIG_DIR", 1),
    ]
    codex = [f for f in found if f.place.agent == "codex"]
    assert [(f.place.origin, f.exists) for f in codex] == [("$CODEX_HOME", True), ("$CODEX_HOME", False)]
    assert {str(f.place.path.parent) for f in found if f.place.agent in ("opencode",)} == {str(tmp_path / "data")}


def test_one_directory_by_two_names_is_read_once(tmp_path):
    home = tmp_path / "home"
    claude_code_session(home / ".claude")
    (home / ".config").mkdir(parents=True)
    (home / ".config" / "claude").symlink_to(home / ".claude")
    found = [f for f in importers.discover(env={}, home=home) if f.place.agent == "claude-code"]
    assert [len(f.files) for f in found] == [1, 0] and found[1].same_as == home / ".config" / "claude" / "projects"


def test_only_chat_recordings_are_gemini_logs(tmp_path):
    gemini_jsonl(tmp_path / ".gemini")
    (tmp_path / ".gemini" / "tmp" / "abc").mkdir(parents=True)
    (tmp_path / ".gemini" / "tmp" / "abc" / "logs.json").write_text("[]")
    (found,) = [f for f in importers.discover(env={}, home=tmp_path) if f.place.agent == "gemini-cli"]
    assert [e.rel.split("/")[1] for e in found.files] == ["chats"]
