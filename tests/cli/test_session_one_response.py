"""One provider response, one cost, from the command line: `session report --all-users`,
`session export --all-users` and a spend budget over everyone count a log that two users
imported once; a user's own report keeps every record. SQLite and PostgreSQL ledgers."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from tests.ledger.test_one_response import log, total


def test_session_report_and_export_over_all_users_from_the_command_line(run, tmp_path, ledger_env):
    shared = log(tmp_path / "shared.jsonl", range(6))
    for user in ("bob", "alice"):
        r = run("session", "import", str(shared), "--user", user)
        assert r.exit_code == 0, r.output
    r = run("session", "report", "--all-users", "--by", "user", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["total"]["records"] == 6
    assert [(row["user"], row["records"]) for row in doc["rows"]] == [("alice", 6)]
    r = run("session", "report", "--user", "bob", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["total"]["records"] == 6
    r = run("session", "export", "--all-users", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 6
    assert sum(Decimal(row["cost_usd"]) for row in rows) == Decimal(doc["total"]["cost_usd"])


def test_a_spend_budget_over_all_users_counts_a_shared_log_once(run, tmp_path, ledger_env, monkeypatch):
    shared = log(tmp_path / "shared.jsonl", range(4))
    for user in ("alice", "bob"):
        assert run("session", "import", str(shared), "--user", user).exit_code == 0
    once = total(ledger_env).cost_usd
    # a budget just above one copy's cost passes; counted twice it would fail
    limit = round(once * 3 / 2, 6)
    (tmp_path / "tokopt.toml").write_text(f'[[budgets]]\nname = "team"\nmax_spend = {limit}\nuser = "*"\nperiod = "all"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    r = run("check", "--format", "json")
    assert r.exit_code == 0, r.output
    (spend,) = json.loads(r.stdout)["spend"]
    assert (spend["records"], Decimal(spend["spent_usd"])) == (4, once)
