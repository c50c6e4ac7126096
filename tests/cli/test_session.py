"""`tokopt session ...` as users run it: a real ledger file, real logs, parsed output."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal

import pytest

from tests.conftest import PRICING_DIR
from tests.helpers import one_error_line
from tests.ledger_files import claude_code_assistant, codex_session_meta, codex_token_count, codex_turn_context, openai_chat, write_jsonl
from tests.test_project import heavy_modules_after
from tokopt.costing import cost_of
from tokopt.usage import Usage
from tokopt.pricing import load_catalog

CATALOG = load_catalog(PRICING_DIR)

RECORDS = "\n".join(
    json.dumps(r)
    for r in [
        {"model": "gpt-5.5", "input": 12000, "cached": 8000, "output": 900, "reasoning": 400, "time": "2026-07-20T10:00:00Z"},
        {"model": "claude-sonnet-4-6", "input": 50000, "cached": 40000, "cache_write": 5000, "output": 2000, "time": "2026-07-20T23:30:00Z"},
        {"model": "acme-7", "input": 100, "output": 10, "time": "2026-07-21T08:00:00Z"},
    ]
)


@pytest.fixture(autouse=True)
def alice(monkeypatch, ledger_env):
    # every test runs twice: TOKOPT_LEDGER an SQLite file, then a PostgreSQL database
    monkeypatch.setenv("TOKOPT_USER", "alice")


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def as_json(result):
    return json.loads(ok(result).stdout)


def usd(model, **usage):
    return cost_of(CATALOG.get(model), Usage(**usage)).total_usd


def test_session_help_loads_no_database():
    assert set(heavy_modules_after(["session", "--help"])) <= {"pydantic"}
    assert set(heavy_modules_after(["session", "report", "--help"])) <= {"pydantic"}


def test_a_run_from_start_to_report(run, tmp_path):
    started = ok(run("session", "start", "--run", "nightly", "--label", "branch=main"))
    run_id = started.stdout.strip()
    assert len(run_id) == 8 and "current run" in started.stderr
    ok(run("session", "record", "-m", "gpt-5.5", "-i", "1000", "-o", "200", "--cached", "500"))
    ok(run("session", "record", "-m", "claude-haiku-4-5", "-i", "3000", "-o", "20", "--cache-write-1h", "1000", "--run", "other"))
    listing = as_json(run("session", "list", "-f", "json"))["runs"]
    assert {r["name"]: (r["records"], r["current"]) for r in listing} == {"nightly": (1, True), "other": (1, False)}
    assert listing[0]["labels"] == {"branch": "main"}
    assert ok(run("session", "end")).stdout.strip() == run_id
    doc = as_json(run("session", "report", "--by", "run", "-f", "json"))
    rows = {r["run"]: r for r in doc["rows"]}
    assert Decimal(rows["nightly"]["cost_usd"]) == usd("gpt-5.5", input_tokens=1000, cached_input_tokens=500, output_tokens=200)
    assert rows["other"]["cache_write_1h_tokens"] == 1000
    assert Decimal(doc["total"]["cost_usd"]) == Decimal(rows["nightly"]["cost_usd"]) + Decimal(rows["other"]["cost_usd"])
    assert doc["user"] == "alice" and doc["all_users"] is False


def test_record_from_stdin_and_the_report_in_every_format(run):
    recorded = as_json(run("session", "record", "--stdin", "--run", "nightly", "-f", "json", input=RECORDS))
    assert [r["model"] for r in recorded["records"]] == ["gpt-5.5", "claude-sonnet-4-6", "acme-7"]
    assert recorded["records"][2]["cost_usd"] is None

    table = ok(run("session", "report", "--by", "day", "--timezone", "UTC"))
    assert table.stdout.splitlines()[:7] == [
        "Usage of alice by day",
        "",
        " Day          Models                Records    Input   Cached   Cache write   Output   Reasoning       Cost",
        " ──────────────────────────────────────────────────────────────────────────────────────────────────────────",
        " 2026-07-20   sonnet-4-6, gpt-5.5         2   62,000   48,000         5,000    2,900         400     $0.127",
        " 2026-07-21   acme-7                      1      100        0             0       10           0    unknown",
        "",
    ]
    assert " Total                                    3   62,100   48,000         5,000    2,910         400   ≥ $0.127\n" in table.stdout
    assert "unpriced: 1 record of models with no known price: acme-7 (1)" in table.stderr
    assert "$0 " not in table.stdout

    rows = list(csv.DictReader(io.StringIO(ok(run("session", "report", "-f", "csv")).stdout)))
    by_model = {r["model"]: r for r in rows}
    assert by_model["acme-7"]["cost_usd"] == "" and by_model["acme-7"]["unpriced_records"] == "1"
    expected = usd("gpt-5.5", input_tokens=12000, cached_input_tokens=8000, output_tokens=900) + usd(
        "claude-sonnet-4-6", input_tokens=50000, cached_input_tokens=40000, cache_write_tokens=5000, output_tokens=2000
    )
    assert rows[-1]["provider"] == "(total)" and Decimal(rows[-1]["cost_usd"]) == expected

    md = ok(run("session", "report", "-f", "markdown")).stdout
    assert "| **Total** |" in md and "| openai | gpt-5.5 |" in md and "unknown" in md

    doc = as_json(run("session", "report", "-f", "json", "--by", "provider"))
    assert doc["unpriced"] == {"records": 1, "models": [{"model": "acme-7", "records": 1}]}
    assert Decimal(doc["total"]["cost_usd"]) == expected


def test_a_bad_stdin_line_records_nothing(run):
    bad = RECORDS + '\n{"model": "gpt-5.5", "input": -4}\n'
    r = run("session", "record", "--stdin", input=bad)
    assert r.exit_code == 2 and "stdin line 4: input" in one_error_line(r.stderr)
    assert as_json(run("session", "report", "-f", "json"))["total"]["records"] == 0
    r = run("session", "record", "--stdin", input="not json\n")
    assert r.exit_code == 2 and "stdin line 1: not JSON" in one_error_line(r.stderr)


def test_record_options_are_checked(run, tmp_path):
    r = run("session", "record", "-m", "gpt-5.5", "-i", "10", "--stdin")
    assert r.exit_code == 2 and "exactly one of" in one_error_line(r.stderr)
    r = run("session", "record", "-i", "10")
    assert r.exit_code == 2 and "--model is required" in one_error_line(r.stderr)
    r = run("session", "record", "-m", "gpt-5.5", "-i", "10", "--cached", "11")
    assert r.exit_code == 2 and "exceed the input tokens" in one_error_line(r.stderr)
    r = run("session", "record", "-m", "no-such-model", "--from-file", str(write_jsonl(tmp_path / "p.txt", [])))
    assert r.exit_code == 2 and "unknown model" in one_error_line(r.stderr)


def test_record_from_a_prompt_file_is_an_estimate(run, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Translate to French: the cat sat on the mat.\n" * 10)
    r = ok(run("session", "record", "-m", "gpt-5.5", "--from-file", str(prompt), "-o", "40"))
    assert "≈ an estimate" in r.stderr
    (rec,) = as_json(run("session", "record", "-m", "gpt-5.5", "--from-file", str(prompt), "-f", "json"))["records"]
    assert rec["estimated"] is True and rec["prompt_hash"] == "sha256:" + hashlib.sha256(prompt.read_bytes()).hexdigest()
    report = ok(run("session", "report"))
    assert "2 records are estimates" in report.stderr


def test_an_unknown_model_is_refused_unless_allowed_then_recorded_with_a_warning(run):
    # a typo (gpt5.5) once went into the ledger unpriced, silently: now it names the near models
    for typo in ("gpt5.5", "gpt-5.55"):
        r = run("session", "record", "-m", typo, "-i", "10", "-o", "1")
        assert r.exit_code == 2, r.stderr
        assert f"unknown model: {typo}" in r.stderr and "did you mean gpt-5.5" in r.stderr and "--allow-unknown" in r.stderr
    assert json.loads(ok(run("session", "report", "-f", "json")).stdout)["total"]["records"] == 0
    r = ok(run("session", "record", "-m", "acme-7", "-i", "10", "-o", "1", "--allow-unknown"))
    assert "warning: no price known for model acme-7" in r.stderr and "unknown" in r.stdout
    r = ok(run("session", "record", "-m", "gpt-5.55", "-i", "10", "-o", "1", "--allow-unknown"))  # a typo gets the near names
    assert "did you mean gpt-5.5" in r.stderr


def test_import_twice_adds_nothing_and_garbage_is_reported(run, tmp_path):
    cc = write_jsonl(
        tmp_path / "cc.jsonl",
        [
            claude_code_assistant(message_id="m1", request_id="r1", cache_read=9000, output_tokens=2),
            claude_code_assistant(message_id="m1", request_id="r1", cache_read=9000, output_tokens=250),
            claude_code_assistant(message_id="m2", request_id="r2", output_tokens=40),
        ],
        garbage={2: "{broken"},
    )
    codex = write_jsonl(
        tmp_path / "rollout.jsonl",
        [codex_session_meta(), codex_turn_context(), codex_token_count((5000, 4000, 300, 100), None, "2026-07-21T10:00:05Z"), codex_token_count((9000, 7000, 500, 150), None, "2026-07-21T10:01:05Z")],
    )
    first = ok(run("session", "import", str(cc), str(codex), "-f", "json"))
    doc = json.loads(first.stdout)
    assert (doc["added"], doc["updated"], doc["unchanged"]) == (4, 0, 0)
    assert [(f["format"], f["records"], f["garbage"], f["duplicates"]) for f in doc["files"]] == [("claude-code", 2, 1, 1), ("codex", 2, 0, 0)]
    assert "skipped 1 unreadable line (line 3: not JSON" in first.stderr
    before = as_json(run("session", "report", "-f", "json"))
    second = as_json(run("session", "import", str(cc), str(codex), "-f", "json"))
    assert [f["status"] for f in second["files"]] == ["unchanged", "unchanged"]
    assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, 0)
    assert as_json(run("session", "report", "-f", "json")) == before
    table = ok(run("session", "import", str(tmp_path))).stderr  # the directory, walked: the same files; notes on stderr
    assert "0 records added" in table and "2 files unchanged since the last import" in table


def test_import_of_nothing_readable_fails_with_one_line(run, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text("%%%\n")
    r = run("session", "import", str(junk))
    assert r.exit_code == 2 and "nothing could be read" in one_error_line(r.stderr)
    r = run("session", "import", str(tmp_path / "missing.jsonl"))
    assert r.exit_code == 2 and "file not found" in one_error_line(r.stderr)


def test_import_from_stdin(run):
    lines = "\n".join(json.dumps(openai_chat(f"c{i}", prompt=100, completion=10)) for i in range(3))
    doc = as_json(run("session", "import", "-", "-f", "json", input=lines))
    assert doc["added"] == 3 and doc["files"][0]["source"] == "<stdin>"


def test_users_see_only_their_own_records_unless_all_users(run, monkeypatch):
    ok(run("session", "record", "-m", "gpt-5.5", "-i", "100", "-o", "1"))
    ok(run("session", "record", "-m", "gpt-5.5", "-i", "200", "-o", "1", "--user", "bob"))
    assert as_json(run("session", "report", "-f", "json"))["total"]["input_tokens"] == 100
    assert as_json(run("session", "report", "-f", "json", "--user", "bob"))["total"]["input_tokens"] == 200
    everyone = as_json(run("session", "report", "-f", "json", "--all-users", "--by", "user"))
    assert {r["user"]: r["input_tokens"] for r in everyone["rows"]} == {"alice": 100, "bob": 200}
    r = run("session", "report", "--all-users", "--user", "bob")
    assert r.exit_code == 2 and "do not go together" in one_error_line(r.stderr)
    monkeypatch.setenv("TOKOPT_USER", "carol")
    assert as_json(run("session", "report", "-f", "json"))["total"]["records"] == 0


def test_tokopt_run_overrides_the_current_run(run, monkeypatch):
    ok(run("session", "start", "--run", "interactive"))
    monkeypatch.setenv("TOKOPT_RUN", "ci-77")
    ok(run("session", "record", "-m", "gpt-5.5", "-i", "10", "-o", "1"))
    monkeypatch.delenv("TOKOPT_RUN")
    ok(run("session", "record", "-m", "gpt-5.5", "-i", "20", "-o", "1"))
    assert as_json(run("session", "report", "--run", "ci-77", "-f", "json"))["total"]["input_tokens"] == 10
    assert as_json(run("session", "report", "--run", "interactive", "-f", "json"))["total"]["input_tokens"] == 20
    r = run("session", "report", "--run", "nope")
    assert r.exit_code == 2 and "no run nope for alice" in one_error_line(r.stderr)


def test_delete_asks_unless_yes(run):
    run_id = ok(run("session", "start", "--run", "scratch")).stdout.strip()
    ok(run("session", "record", "-m", "gpt-5.5", "-i", "10", "-o", "1"))
    r = run("session", "delete", "scratch", input="n\n")  # declining is not an error
    assert r.exit_code == 0 and "delete run" in r.stderr and "1 records?" in r.stderr and "nothing deleted" in r.stderr
    r = run("session", "delete", "scratch", input="")  # no answer at all
    assert r.exit_code == 2 and "error: no answer to the question: nothing deleted" in r.stderr.splitlines()
    assert len(as_json(run("session", "list", "-f", "json"))["runs"]) == 1
    r = ok(run("session", "delete", run_id, input="y\n"))
    assert "deleted run" in r.stderr
    ok(run("session", "start", "--run", "again"))
    ok(run("session", "delete", "again", "--yes"))
    assert as_json(run("session", "list", "-f", "json"))["runs"] == []
    r = run("session", "delete", "again", "--yes")
    assert r.exit_code == 2 and "no run again" in one_error_line(r.stderr)


def test_a_foreign_file_at_the_ledger_path_is_a_clear_error(run, tmp_path):
    path = tmp_path / "ledger.sqlite3"
    path.write_text("this is my shopping list\n")
    for args in (["session", "record", "-m", "gpt-5.5", "-i", "1"], ["session", "report"], ["session", "list"]):
        r = run(*args, "--ledger", str(path))
        assert r.exit_code == 2
        assert "is not a tokopt ledger (not an SQLite database); it was left untouched" in one_error_line(r.stderr)
    assert path.read_text() == "this is my shopping list\n"


def test_report_by_day_in_a_zone_and_a_period(run):
    ok(run("session", "record", "--stdin", input=RECORDS))
    tokyo = as_json(run("session", "report", "--by", "day", "--tz", "Asia/Tokyo", "-f", "json"))
    assert [(r["day"], r["records"]) for r in tokyo["rows"]] == [("2026-07-20", 1), ("2026-07-21", 2)]
    assert tokyo["timezone"] == "Asia/Tokyo"
    period = as_json(run("session", "report", "--since", "2026-07-21", "--until", "2026-07-21", "--timezone", "UTC", "-f", "json"))
    assert period["total"]["records"] == 1 and period["since"] == "2026-07-21T00:00:00+00:00"
    r = run("session", "report", "--by", "fortnight")
    assert r.exit_code == 2 and "fortnight" in one_error_line(r.stderr)
