"""Spend budgets: `max_spend` over a real usage ledger, per user, run and period."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from tests.budget_fixtures import write
from tests.cli.conftest import Runner
from tests.conftest import PRICING_DIR
from tests.helpers import one_error_line
from tokopt import budgets, pricing, settings
from tokopt.budgets import config as project_config
from tokopt.config import UserConfig
from tokopt.errors import ConfigError
from tokopt.ledger import Ledger
from tokopt.ledger.store import redact

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc)  # a Wednesday
MILLION = Decimal(1_000_000)


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def cost(catalog, model: str, input_tokens: int, output_tokens: int) -> Decimal:
    m = catalog.get(model)
    return (input_tokens * m.input + output_tokens * m.output) / MILLION


@pytest.fixture
def ledger(ledger_location, catalog):
    """alice: 100k input tokens of gpt-5.5 on 2026-11-24 in run 'nightly', 100k more on 2026-10-31;
    bob: 200k on 2026-11-20; and one call of a model with no price. An SQLite file, then PostgreSQL."""
    path = ledger_location
    with Ledger(path, user="alice", catalog=catalog) as book:
        run = book.start_run(name="nightly")
        book.record(model="gpt-5.5", input_tokens=100_000, run=run.id, time=dt.datetime(2026, 11, 24, 9, tzinfo=dt.timezone.utc))
        book.record(model="gpt-5.5", input_tokens=100_000, time=dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.timezone.utc))
        book.record(model="my-private-model", input_tokens=10, time=dt.datetime(2026, 11, 24, 10, tzinfo=dt.timezone.utc))
    with Ledger(path, user="bob", catalog=catalog) as book:
        book.record(model="gpt-5.5", input_tokens=200_000, time=dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc))
    return path


def check(root: Path, catalog, ledger_path: Path, *, user: str = "alice") -> budgets.CheckResult:
    p = project_config.locate(None, root)
    with Ledger(ledger_path, user=user, catalog=catalog) as book:
        return budgets.check(p, catalog, settings.resolve(UserConfig(), p.values()), ledger=book, now=NOW)


def spend_config(root: Path, *budgets: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write(root / "tokopt.toml", "".join(f"[[budgets]]\n{b}\n" for b in budgets))
    return root


def test_this_month_for_the_current_user(tmp_path, catalog, ledger):
    one = cost(catalog, "gpt-5.5", 100_000, 0)
    root = spend_config(tmp_path / "p", f'name = "mine"\nmax_spend = {one}')
    (s,) = check(root, catalog, ledger).spend
    assert (s.user, s.since, s.until, s.period) == ("alice", dt.date(2026, 11, 1), None, "month")
    assert s.spent_usd == one and s.records == 2 and s.unpriced_records == 1
    assert s.ok  # exactly at the limit passes


def test_a_hair_over_fails(tmp_path, catalog, ledger):
    one = cost(catalog, "gpt-5.5", 100_000, 0)
    root = spend_config(tmp_path / "p", f"max_spend = {one - Decimal('0.000001')}")
    result = check(root, catalog, ledger)
    assert not result.ok and [s.ok for s in result.spend] == [False]


def test_periods_users_and_runs(tmp_path, catalog, ledger):
    one = cost(catalog, "gpt-5.5", 100_000, 0)
    root = spend_config(
        tmp_path / "p",
        'name = "all time"\nmax_spend = 1000\nperiod = "all"',
        'name = "everyone"\nmax_spend = 1000\nuser = "*"',
        'name = "bob"\nmax_spend = 1000\nuser = "bob"\nperiod = "week"',
        'name = "run"\nmax_spend = 1000\nrun = "nightly"',
        'name = "today"\nmax_spend = 1000\nperiod = "day"',
        'name = "october"\nmax_spend = 1000\nsince = 2026-10-01\nuntil = 2026-10-31',
        'name = "berlin"\nmax_spend = 1000\ntimezone = "Europe/Berlin"',
    )
    spent = {s.name: s.spent_usd for s in check(root, catalog, ledger).spend}
    assert spent == {
        "all time": 2 * one,
        "everyone": 3 * one,  # alice's November call and bob's two
        "bob": 0,  # bob's call was on the Friday before this week's Monday
        "run": one,
        "today": 0,
        "october": one,
        "berlin": 2 * one,  # 23:30 UTC on 31 October is 1 November in Berlin
    }


def test_another_users_records_never_count(tmp_path, catalog, ledger):
    root = spend_config(tmp_path / "p", "max_spend = 1000")
    (s,) = check(root, catalog, ledger, user="carol").spend
    assert s.spent_usd == 0 and s.records == 0


def test_unpriced_calls_are_a_warning(tmp_path, catalog, ledger):
    root = spend_config(tmp_path / "p", 'name = "mine"\nmax_spend = 1000')
    result = check(root, catalog, ledger)
    assert any("1 recorded calls have no known price" in w for w in result.warnings)


def test_a_missing_ledger_is_zero_with_a_warning_and_is_not_created(tmp_path, catalog):
    root = spend_config(tmp_path / "p", "max_spend = 1")
    path = tmp_path / "none.sqlite3"
    result = check(root, catalog, path)
    assert result.ok and result.spend[0].spent_usd == 0
    assert any("no ledger at" in w for w in result.warnings)
    assert not path.exists()


def test_an_unknown_run_names_the_key(tmp_path, catalog, ledger):
    root = spend_config(tmp_path / "p", 'max_spend = 1\nrun = "weekly"')
    with pytest.raises(ConfigError, match=r"budgets\[0\]\.run: "):
        check(root, catalog, ledger)


def test_file_and_spend_budgets_together(tmp_path, catalog, ledger):
    root = spend_config(tmp_path / "p", 'paths = ["*.md"]\nmax_tokens = 100\nmodels = ["gpt-5.5"]', "max_spend = 0")
    write(root / "a.md", "hello")
    result = check(root, catalog, ledger)
    assert [b.index for b in result.budgets] == [0] and [s.index for s in result.spend] == [1]
    assert result.rows[0].ok and not result.ok
    assert result.spend[0].key == "budgets[1]"


# --- through the command ------------------------------------------------------------------


@pytest.fixture
def run() -> Runner:
    return Runner()


@pytest.fixture
def over(tmp_path, ledger, monkeypatch):
    root = spend_config(tmp_path / "p", 'name = "mine"\nmax_spend = 0.5\nperiod = "all"')
    monkeypatch.chdir(root)
    monkeypatch.setenv("TOKOPT_USER", "alice")
    return ledger


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "github", "junit"])
def test_command_exit_codes(run, over, fmt):
    assert run("check", "--ledger", str(over), "-f", fmt).exit_code == 1
    assert run("check", "--ledger", str(over), "-f", fmt, "--warn-only").exit_code == 0
    assert run("check", "--ledger", str(over), "-f", fmt, "--user", "carol").exit_code == 0


def test_command_json_and_table(run, over, catalog):
    doc = json.loads(run("check", "--ledger", str(over), "-f", "json").stdout)
    (s,) = doc["spend"]
    assert s["budget"] == "mine" and s["ok"] is False and s["user"] == "alice"
    assert Decimal(s["spent_usd"]) == 2 * cost(catalog, "gpt-5.5", 100_000, 0) and s["max_spend"] == "0.5"
    assert doc["summary"]["failed"] == 1 and doc["ledger"] == redact(str(over))
    table = run("check", "--ledger", str(over)).stdout
    if isinstance(over, str):  # a postgresql:// URL: its password is in no output
        assert "***@" in doc["ledger"] and over.split(":")[2].split("@")[0] not in table
    assert "Spend" in table and "✗ over budget: 1 of 1 check in budget 'mine'" in table


def test_command_github_and_junit(run, over):
    lines = run("check", "--ledger", str(over), "-f", "github").stdout.splitlines()
    assert lines[0].startswith("::error file=tokopt.toml,title=tokopt%3A mine over budget::spent $")
    xml = ET.fromstring(run("check", "--ledger", str(over), "-f", "junit").stdout)
    suite = xml.find("testsuite[@name='spend']")
    assert suite is not None and suite.get("failures") == "1"
    assert suite.find("testcase/failure").get("type") == "max_spend"


def test_command_bad_spend_config_exits_2(run, tmp_path, monkeypatch):
    root = spend_config(tmp_path / "p", 'max_spend = 1\nperiod = "fortnight"')
    monkeypatch.chdir(root)
    result = run("check")
    assert result.exit_code == 2
    assert "budgets[0].period" in one_error_line(result.stderr)
