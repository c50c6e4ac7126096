"""Project config: finding it, validating it (errors name the file and key path), globs, precedence."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tokopt import settings
from tokopt.budgets import config as project_config
from tokopt.errors import ConfigError

BUDGET = '[[budgets]]\npaths = ["prompts/*.md"]\nmax_tokens = 100\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- finding ---------------------------------------------------------------------------------


def test_found_by_walking_up_from_a_subdirectory(tmp_path):
    cfg = write(tmp_path / "tokopt.toml", BUDGET)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    p = project_config.locate(None, deep)
    assert p.path == cfg and p.root == tmp_path and p.table == ""


def test_pyproject_without_the_table_is_passed_over(tmp_path):
    write(tmp_path / "pyproject.toml", BUDGET.replace("[[budgets]]", "[[tool.tokopt.budgets]]"))
    write(tmp_path / "pkg" / "pyproject.toml", '[project]\nname = "x"\n')
    p = project_config.locate(None, tmp_path / "pkg")
    assert p.path == tmp_path / "pyproject.toml" and p.table == "tool.tokopt"
    assert p.config.budgets[0].max_tokens == 100


def test_tokopt_toml_wins_over_pyproject_in_the_same_directory_and_says_so(tmp_path):
    write(tmp_path / "pyproject.toml", BUDGET.replace("[[budgets]]", "[[tool.tokopt.budgets]]"))
    cfg = write(tmp_path / "tokopt.toml", BUDGET.replace("100", "7"))
    p = project_config.locate(None, tmp_path)
    assert p.path == cfg and p.config.budgets[0].max_tokens == 7
    assert any("is ignored" in n for n in p.notes)


def test_an_explicit_config_wins_over_the_one_found(tmp_path):
    write(tmp_path / "tokopt.toml", BUDGET)
    other = write(tmp_path / "ci" / "budgets.toml", BUDGET.replace("100", "5"))
    p = project_config.locate(other, tmp_path)
    assert p.path == other and p.root == other.parent and p.config.budgets[0].max_tokens == 5


def test_no_config_anywhere_is_an_error_with_a_hint(tmp_path):
    with pytest.raises(ConfigError) as err:
        project_config.locate(None, tmp_path)
    assert "no project config" in err.value.message and "tokopt init" in (err.value.hint or "")


def test_missing_explicit_config(tmp_path):
    with pytest.raises(ConfigError, match="project config not found"):
        project_config.locate(tmp_path / "nope.toml", tmp_path)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('colour = "red"\n' + BUDGET, "colour", "unknown key"),
        (BUDGET + "max_tokes = 5\n", "budgets[0].max_tokes", "unknown key"),
        ('[defaults]\noutput_token = 5\n' + BUDGET, "defaults.output_token", "unknown key"),
        ('[[budgets]]\npaths = ["prompts/[ab.md"]\nmax_tokens = 1\n', "budgets[0].paths[0]", "bad glob"),
        ('[[budgets]]\npaths = ["/etc/*.md"]\nmax_tokens = 1\n', "budgets[0].paths[0]", "relative"),
        ('[[budgets]]\npaths = ["../x/*.md"]\nmax_tokens = 1\n', "budgets[0].paths[0]", "leaves the project"),
        ('[[budgets]]\npaths = ["a**/b"]\nmax_tokens = 1\n', "budgets[0].paths[0]", "whole path segment"),
        ('[[budgets]]\npaths = ["a/*.md"]\nexclude = ["a\\\\b"]\nmax_tokens = 1\n', "budgets[0].exclude[0]", "use /"),
        (BUDGET.replace("100", "-1"), "budgets[0].max_tokens", "greater than or equal to 0"),
        (BUDGET + "max_cost_per_call = -0.01\n", "budgets[0].max_cost_per_call", "greater than or equal to 0"),
        (BUDGET + "max_increase_pct = -5\n", "budgets[0].max_increase_pct", "greater than or equal to 0"),
        (BUDGET + "max_context_share = 1.5\n", "budgets[0].max_context_share", "less than or equal to 1"),
        (BUDGET + "max_cost_per_call = true\n", "budgets[0].max_cost_per_call", "expected a number"),
        (BUDGET + 'max_tokens_x = "5"\n', "budgets[0].max_tokens_x", "unknown key"),
        ('[[budgets]]\nmax_tokens = 1\n', "budgets[0].paths", "missing"),
        ('[[budgets]]\npaths = []\nmax_tokens = 1\n', "budgets[0].paths", "at least 1"),
        ('[[budgets]]\npaths = ["a/*"]\n', "budgets[0]", "no limit set"),
        (BUDGET + "max_monthly_cost = 10\n", "budgets[0].calls_per_month", "required with max_monthly_cost"),
        ('[defaults]\ncalls_per_month = 0\n' + BUDGET, "defaults.calls_per_month", "greater than or equal to 1"),
        (BUDGET + "max_spend = 10\n", "budgets[0]", "a spend budget (max_spend) takes no paths, max_tokens"),
        ("[[budgets]]\nmax_spend = -1\n", "budgets[0].max_spend", "greater than or equal to 0"),
        ('[[budgets]]\nmax_spend = 5\nperiod = "fortnight"\n', "budgets[0].period", "'day', 'week', 'month', 'year' or 'all'"),
        ('[[budgets]]\nmax_spend = 5\ntimezone = "Mars/Olympus"\n', "budgets[0].timezone", "unknown time zone"),
        ("[[budgets]]\nmax_spend = 5\nsince = 2026-11-30\nuntil = 2026-11-01\n", "budgets[0]", "since is after until"),
        ('[[budgets]]\nmax_spend = 5\nsince = "30 Nov"\n', "budgets[0].since", "expected a date"),
        ("[[budgets]]\nmax_spend = 5\nspent = 1\n", "budgets[0].spent", "unknown key"),
        ('[[budgets]]\nmax_spend = 5\nuser = ""\n', "budgets[0].user", "at least 1 character"),
        ('pricing = ["mine.toml"]\n' + BUDGET, "pricing[0]", "pricing file not found"),
    ],
)
def test_errors_name_the_file_and_the_key_path(tmp_path, text, key, words):
    cfg = write(tmp_path / "tokopt.toml", text)
    with pytest.raises(ConfigError) as err:
        project_config.locate(None, tmp_path)
    message = err.value.message
    assert message.startswith(f"{cfg}: {key}: "), message
    assert words in message + " " + (err.value.hint or ""), message


def test_pyproject_errors_carry_the_tool_table_in_the_key_path(tmp_path):
    cfg = write(tmp_path / "pyproject.toml", '[tool.tokopt]\n[[tool.tokopt.budgets]]\npaths = ["a/*"]\nmax_tokens = -3\n')
    with pytest.raises(ConfigError) as err:
        project_config.locate(None, tmp_path)
    assert err.value.message.startswith(f"{cfg}: tool.tokopt.budgets[0].max_tokens: ")


def test_invalid_toml_names_the_file(tmp_path):
    cfg = write(tmp_path / "tokopt.toml", "[[budgets]\n")
    with pytest.raises(ConfigError, match="invalid TOML") as err:
        project_config.locate(None, tmp_path)
    assert str(cfg) in err.value.message


def test_limits_are_read_exactly(tmp_path):
    write(tmp_path / "tokopt.toml", BUDGET + "max_cost_per_call = 0.1\nmax_monthly_cost = 30\ncalls_per_month = 300\n")
    b = project_config.locate(None, tmp_path).config.budgets[0]
    assert b.limits() == {"max_tokens": 100, "max_cost_per_call": Decimal("0.1"), "max_monthly_cost": 30}
    assert isinstance(b.max_cost_per_call, Decimal) and b.max_cost_per_call == Decimal("0.1")


# --- globs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("prompts/*.md", ["prompts/a.md", "prompts/.b.md"], ["prompts/x/a.md", "a.md", "prompts/a.txt"]),
        ("prompts/**/*.md", ["prompts/a.md", "prompts/x/y/a.md"], ["other/prompts/a.md", "prompts/a.mdx"]),
        ("**/*.prompt", ["a.prompt", "x/y/a.prompt"], ["a.prompt.md"]),
        ("prompts/**", ["prompts/a", "prompts/x/y.md"], ["prompts", "promptsx/a"]),
        ("p/[ab]?.txt", ["p/a1.txt", "p/bz.txt"], ["p/c1.txt", "p/a/.txt"]),
        ("p/[!a]*.txt", ["p/b.txt"], ["p/a.txt"]),
        ("./a.md", ["a.md"], ["./a.md"]),
    ],
)
def test_glob_semantics(pattern, yes, no):
    budget = project_config.FileBudget(paths=[pattern], max_tokens=1)
    for path in yes:
        assert budget.matches(path), (pattern, path)
    for path in no:
        assert not budget.matches(path), (pattern, path)


def test_exclude_wins():
    budget = project_config.FileBudget(paths=["prompts/**/*.md"], exclude=["prompts/**/README.md"], max_tokens=1)
    assert budget.matches("prompts/x/a.md") and not budget.matches("prompts/x/README.md")


# --- pricing files --------------------------------------------------------------------------


def test_pricing_files_of_a_project_in_order(tmp_path, monkeypatch):
    mine = write(tmp_path / "home" / "pricing.toml", "")
    monkeypatch.setenv("TOKOPT_HOME", str(tmp_path / "home"))
    ours = write(tmp_path / "proj" / "ours.toml", "")
    write(tmp_path / "proj" / "tokopt.toml", 'pricing = ["ours.toml"]\n' + BUDGET)
    p = project_config.locate(None, tmp_path / "proj")
    flag = tmp_path / "flag.toml"
    assert settings.pricing_files([flag], p.pricing_files()) == [mine, ours.resolve(), flag]
    env = write(tmp_path / "env.toml", "")
    monkeypatch.setenv("TOKOPT_PRICING", str(env))
    assert settings.pricing_files([], p.pricing_files()) == [ours.resolve(), env]
