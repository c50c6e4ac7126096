"""Coding agents as a user meets them: `session sources`, `session import` with no paths, the
reports by agent, session, project, branch and period with their filters, `session blocks`,
charts, and `tokopt statusline` (in-process and as Claude Code runs it)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.agent_files import agents_home
from tests.cli.test_session import as_json, ok
from tests.helpers import one_error_line
from tests.ledger_files import claude_code_assistant, write_jsonl

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A home where five agents left logs; the ledger is alice's."""
    home = Path(os.environ["HOME"])
    agents_home(home)
    monkeypatch.setenv("TOKOPT_USER", "alice")
    monkeypatch.setenv("TOKOPT_LEDGER", str(tmp_path / "ledger.sqlite3"))
    return home


def test_sources_lists_each_place_and_what_is_there(run, home):
    doc = as_json(run("session", "sources", "-f", "json", "--files"))
    places = {(p["agent"], Path(p["path"]).relative_to(home).as_posix()): p for p in doc["places"]}
    assert {k: (v["exists"], v["files"]) for k, v in places.items()} == {
        ("claude-code", ".config/claude/projects"): (False, 0),
        ("claude-code", ".claude/projects"): (True, 1),
        ("codex", ".codex/sessions"): (True, 1),
        ("codex", ".codex/archived_sessions"): (True, 1),
        ("gemini-cli", ".gemini/tmp"): (True, 2),
        ("opencode", ".local/share/opencode"): (True, 3),
        ("amp", ".local/share/amp/threads"): (True, 1),
    }
    assert doc["files"] == 9 and all(p["origin"] == "default" for p in doc["places"])
    assert places[("amp", ".local/share/amp/threads")]["file_list"][0]["path"].endswith(".json")
    r = ok(run("session", "sources"))
    assert "not found" in r.stdout and "9 log files of amp, claude-code, codex, gemini-cli, opencode" in r.stderr  # the table, then its note


def test_import_with_no_paths_reads_every_agent_then_nothing_again(run, home):
    first = as_json(run("session", "import", "-f", "json"))
    assert first["added"] == 12 and {f["status"] for f in first["files"]} == {"new", "read"}
    assert {f["agent"] for f in first["files"]} == {"claude-code", "codex", "gemini-cli", "opencode", "amp"}
    assert all(f["source"].startswith("~/") for f in first["files"])
    second = as_json(run("session", "import", "-f", "json"))
    assert (second["added"], second["updated"]) == (0, 0)
    assert sorted(f["status"] for f in second["files"]) == ["read"] + ["unchanged"] * 8  # OpenCode's database is read whole
    by_agent = {r["agent"]: r for r in as_json(run("session", "report", "--by", "agent", "-f", "json"))["rows"]}
    assert {a: r["records"] for a, r in by_agent.items()} == {"claude-code": 2, "codex": 4, "gemini-cli": 3, "opencode": 2, "amp": 1}


def test_import_with_no_logs_anywhere_is_an_error(run, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKOPT_LEDGER", str(tmp_path / "l.sqlite3"))
    r = run("session", "import")
    assert r.exit_code == 2 and one_error_line(r.stderr) == "error: no coding-agent logs found"
    assert ".claude/projects" in r.stderr


def test_reports_by_attribution_and_period_with_filters(run, home):
    ok(run("session", "import"))
    sessions = as_json(run("session", "report", "--by", "session", "--tz", "UTC", "-f", "json"))["rows"]
    cc = next(r for r in sessions if r["agent"] == "claude-code")
    assert (cc["session"], cc["project"], cc["records"], cc["models"]) == ("7f3c2a90-1d2e-4b7a-9c4e-2b1f0a9d8e71", "/home/dev/app", 2, ["claude-sonnet-4-5"])
    assert [r["last"] for r in sessions] == sorted(r["last"] for r in sessions)
    projects = {r["project"]: r["records"] for r in as_json(run("session", "report", "--by", "project", "-f", "json"))["rows"]}
    assert projects == {"/home/dev/app": 4, "/home/dev/project": 4, "/home/dev/api": 1, "/home/dev/web": 1, "/home/dev/importer": 1, None: 1}
    branches = {r["branch"]: r["records"] for r in as_json(run("session", "report", "--by", "branch", "-f", "json"))["rows"]}
    assert branches == {"main": 2, "feature/login": 4, None: 6}
    # filters: a project by its directory's name, models by a pattern, agents, branches
    app = as_json(run("session", "report", "--project", "app", "--by", "agent", "-f", "json"))
    assert {r["agent"]: r["records"] for r in app["rows"]} == {"claude-code": 2, "gemini-cli": 2} and app["filters"] == {"project": ["app", "*/app"]}
    gemini = as_json(run("session", "report", "--model", "gemini-*", "-f", "json"))
    assert {r["model"] for r in gemini["rows"]} == {"gemini-2.5-pro", "gemini-2.5-flash"}
    assert as_json(run("session", "report", "--agent", "codex", "--branch", "feature/*", "-f", "json"))["total"]["records"] == 4
    assert as_json(run("session", "report", "--provider", "openai", "-f", "json"))["total"]["records"] == 4
    months = as_json(run("session", "report", "--by", "month", "--tz", "UTC", "-f", "json"))["rows"]
    assert [(r["month"], r["records"]) for r in months] == [("2026-07", 12)]
    weeks = as_json(run("session", "report", "--by", "week", "--tz", "UTC", "-f", "json"))["rows"]
    assert [(r["week"], r["records"]) for r in weeks] == [("2026-07-13", 1), ("2026-07-20", 11)]  # weeks start on Monday
    hours = as_json(run("session", "report", "--by", "hour", "--tz", "UTC", "-f", "json"))["rows"]
    assert hours[0]["hour"] == "2026-07-19T15" and sum(r["records"] for r in hours) == 12


def test_breakdown_adds_one_row_per_model(run, home):
    ok(run("session", "import"))
    doc = as_json(run("session", "report", "--by", "day", "--tz", "UTC", "--breakdown", "-f", "json"))
    busy = next(r for r in doc["rows"] if r["day"] == "2026-07-22")
    assert busy["models"] == ["claude-sonnet-4-5", "gemini-2.5-pro", "gemini-2.5-flash"]
    assert sum(Decimal(b["cost_usd"]) for b in busy["breakdown"]) == Decimal(busy["cost_usd"])
    rows = list(csv.DictReader(io.StringIO(ok(run("session", "report", "--by", "day", "--tz", "UTC", "--breakdown", "-f", "csv")).stdout)))
    assert [r["model_of_row"] for r in rows if r["day"] == "2026-07-22"] == ["", "claude-sonnet-4-5", "gemini-2.5-pro", "gemini-2.5-flash"]
    table = ok(run("session", "report", "--by", "day", "--tz", "UTC", "--breakdown")).stdout
    assert "└ gemini-2.5-flash" in table and "└ gpt-5-codex" not in table  # a day of one model needs no breakdown


def test_an_80_column_table_abbreviates_rather_than_drops_the_cache_columns(run, home, monkeypatch):
    ok(run("session", "import"))
    monkeypatch.setenv("COLUMNS", "80")
    for by in ("day", "month", "session", "model", "agent"):
        r = ok(run("session", "report", "--by", by, "--tz", "UTC"))
        out = r.stdout  # the table; its notes are on stderr
        assert max(len(line) for line in out.splitlines()) <= 80, by
        header = "\n".join(out.splitlines()[2:4])
        for column in ("Input", "Cached", "Cache", "write", "Output", "Cost"):
            assert column in header, (by, column)
    assert "118K" in out and "token counts abbreviated" in r.stderr


def test_chart_draws_bars_naming_total_and_peak(run, home):
    ok(run("session", "import"))
    out = ok(run("session", "report", "--by", "day", "--tz", "UTC", "--chart")).stdout
    lines = out.splitlines()
    assert lines[0].startswith("Cost per day — total $0.0927, peak $0.0291: 2026-07-22")
    peak = next(line for line in lines if line.startswith("2026-07-22"))
    small = next(line for line in lines if line.startswith("2026-07-24"))
    assert peak.count("█") > small.count("█") > 0
    r = run("session", "report", "--chart", "-f", "json")
    assert r.exit_code == 2 and "--chart" in one_error_line(r.stderr)
    blocks = ok(run("session", "blocks", "--chart", "--tz", "UTC")).stdout
    assert blocks.startswith("Cost per 5-hour block — total $0.0927")


def test_blocks(run, home):
    ok(run("session", "import"))
    doc = as_json(run("session", "blocks", "--tz", "UTC", "--token-limit", "max", "-f", "json"))
    assert [(b["start"], b["records"]) for b in doc["blocks"]][:2] == [("2026-07-19T15:00:00+00:00", 1), ("2026-07-20T09:00:00+00:00", 2)]
    assert doc["token_limit"] == max(b["tokens"] for b in doc["blocks"]) and doc["token_limit_from"] == "max"
    assert sum(b["tokens"] for b in doc["blocks"]) == doc["total"]["tokens"]
    assert as_json(run("session", "blocks", "--active", "-f", "json"))["blocks"] == []
    assert as_json(run("session", "blocks", "--agent", "codex", "-f", "json"))["total"]["records"] == 4
    rows = list(csv.DictReader(io.StringIO(ok(run("session", "blocks", "-f", "csv")).stdout)))
    assert len(rows) == len(doc["blocks"]) and rows[0]["tokens"] == "2060"
    for bad in ("lots", "0", "-5"):
        r = run("session", "blocks", "--token-limit", bad)
        assert r.exit_code == 2 and "--token-limit" in one_error_line(r.stderr)


HOOK = {
    "session_id": "7f3c2a90-1d2e-4b7a-9c4e-2b1f0a9d8e71",
    "transcript_path": "",
    "cwd": "/home/dev/app",
    "model": {"id": "claude-opus-4-8", "display_name": "Opus"},
    "workspace": {"current_dir": "/home/dev/app", "project_dir": "/home/dev/app"},
    "version": "2.0.14",
    "cost": {"total_cost_usd": 0.0204, "total_duration_ms": 164055},
}


def test_statusline_names_the_session_cost(run, home):
    assert ok(run("statusline")).stdout == "today $0 · no block\n"  # no ledger yet: nothing created
    assert not Path(os.environ["TOKOPT_LEDGER"]).exists()
    ok(run("session", "import"))
    line = ok(run("statusline", "--tz", "UTC", input=json.dumps(HOOK))).stdout
    assert line == "opus-4-8 · today $0 · no block · session $0.0204\n"
    assert ok(run("statusline")).stdout == "today $0 · no block\n"
    r = run("statusline", input="{not json")
    assert r.exit_code == 2 and "status-line JSON is not JSON" in one_error_line(r.stderr)


def test_statusline_can_import_the_transcript_first(run, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKOPT_LEDGER", str(tmp_path / "l.sqlite3"))
    monkeypatch.setenv("TOKOPT_USER", "alice")
    from datetime import datetime, timedelta, timezone

    recent = (datetime.now(timezone.utc) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    transcript = write_jsonl(tmp_path / "t.jsonl", [claude_code_assistant(message_id="m1", request_id="r1", output_tokens=500, cache_read=20000, timestamp=recent)])
    hook = {**HOOK, "transcript_path": str(transcript)}
    stale = ok(run("statusline", input=json.dumps(hook))).stdout
    assert stale == "opus-4-8 · today $0 · no block · session $0\n"  # nothing imported yet
    fresh = ok(run("statusline", "--import", input=json.dumps(hook))).stdout
    assert "no block" not in fresh and "left) · session $0.0" in fresh


def _fast(args: list[str], stdin: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokopt", *args], input=stdin, capture_output=True, text=True, env=env, cwd=REPO, timeout=60)


def test_statusline_runs_without_typer_as_claude_code_calls_it(home):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    assert subprocess.run([sys.executable, "-m", "tokopt", "session", "import"], env=env, capture_output=True, timeout=120).returncode == 0
    r = _fast(["statusline", "--tz=UTC"], json.dumps(HOOK), env)
    assert r.returncode == 0 and r.stdout == "opus-4-8 · today $0 · no block · session $0.0204\n", r.stderr
    code = "import sys, runpy; sys.argv = ['tokopt', 'statusline']; \ntry:\n    runpy.run_module('tokopt', run_name='__main__')\nexcept SystemExit:\n    pass\nprint(sorted(m for m in ('typer', 'rich', 'pydantic', 'genai_prices', 'tokopt.usage', 'tokopt.ledger.store') if m in sys.modules), file=sys.stderr)"
    probe = subprocess.run([sys.executable, "-c", code], input=json.dumps(HOOK), capture_output=True, text=True, env=env, timeout=60)
    assert probe.stdout == "opus-4-8 · today $0 · no block · session $0.0204\n" and probe.stderr.strip().splitlines()[-1] == "[]", probe.stderr  # nothing heavy loaded
    empty = _fast(["statusline", "--tz=UTC"], "", {**env, "TOKOPT_USER": "nobody"})  # no JSON on stdin, nothing of this user's
    assert empty.returncode == 0 and empty.stdout == "today $0 · no block\n", empty.stderr
    broken = _fast(["statusline"], "{not json", env)
    assert broken.returncode == 2 and broken.stderr.startswith("error: stdin: the status-line JSON is not JSON"), broken.stderr
    bad = _fast(["statusline"], "[1, 2]", env)
    assert bad.returncode == 2 and bad.stderr == "error: stdin: the status-line JSON is not an object\n"
    helped = _fast(["statusline", "--help"], "", env)  # what the fast path does not know goes to typer
    assert helped.returncode == 0 and "Claude Code" in helped.stdout
