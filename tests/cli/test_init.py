"""`tokopt init`: a starter tokopt.toml that loads, passes `tokopt check`, and is never overwritten."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import PurePosixPath

import pytest

from tests.budget_fixtures import TEN, TWELVE, chdir, git, write  # noqa: F401 (fixture)
from tests.helpers import one_error_line
from tokopt.budgets import config as project_config, init
from tokopt.tomlio import tomllib


@pytest.fixture
def repo(tmp_path, chdir):  # noqa: F811
    """A project with prompts in the usual places, and files that are not prompts."""
    write(tmp_path / "prompts" / "support" / "triage.md", TWELVE * 20)
    write(tmp_path / "prompts" / "short.txt", TEN)
    write(tmp_path / "prompts" / "README.md", "how we write prompts\n")
    write(tmp_path / "app" / "system_prompt.txt", TEN * 3)
    write(tmp_path / "app" / "main.py", "print('hi')\n")
    write(tmp_path / "docs" / "guide.md", "a guide\n")
    return chdir(tmp_path)


def test_writes_a_starter_that_loads_and_passes_check(run, repo):
    r = run("init", "-m", "gpt-5.5", "-m", "claude-sonnet-5")
    assert r.exit_code == 0, r.stderr
    assert "wrote tokopt.toml: 2 budgets for 3 prompt files" in r.stderr
    text = (repo / "tokopt.toml").read_text(encoding="utf-8")
    assert text.startswith("# tokopt.toml: token and cost budgets")
    cfg = project_config.load_project(repo / "tokopt.toml").config
    assert cfg.defaults.models == ["gpt-5.5", "claude-sonnet-5"]
    by_name = {b.name: b for b in cfg.budgets}
    assert by_name["prompts"].paths == ["prompts/**/*.txt", "prompts/**/*.md"]
    assert by_name["prompts"].exclude == ["prompts/README.md"]
    assert by_name["app"].paths == ["app/system_prompt.txt"]
    check = run("check", "-f", "json")
    assert check.exit_code == 0, check.stdout
    doc = json.loads(check.stdout)
    assert {r["file"] for r in doc["rows"]} == {"prompts/support/triage.md", "prompts/short.txt", "app/system_prompt.txt"}


def test_limits_are_todays_largest_plus_headroom_rounded_up(run, repo):
    assert run("init", "-m", "gpt-5.5", "--output-tokens", "0", "--headroom", "25").exit_code == 0
    cfg = project_config.load_project(repo / "tokopt.toml").config
    prompts = next(b for b in cfg.budgets if b.name == "prompts")
    # triage.md is 240 tokens: 240 x 1.25 = 300; $0.0012 per call x 1.25 = $0.0015
    assert prompts.max_tokens == 300 and prompts.max_cost_per_call == Decimal("0.0015")
    text = (repo / "tokopt.toml").read_text(encoding="utf-8")
    assert "# prompts: 2 files today, up to 240 input tokens and $0.0012 per call (gpt-5.5)" in text


def test_never_overwrites_without_force(run, repo):
    write(repo / "tokopt.toml", "# mine\n")
    r = run("init")
    assert r.exit_code == 2
    assert "tokopt.toml already exists" in one_error_line(r.stderr)
    assert (repo / "tokopt.toml").read_text(encoding="utf-8") == "# mine\n"
    r = run("init", "--stdout", "-m", "gpt-5.5")
    assert r.exit_code == 0 and r.stdout.startswith("# tokopt.toml")
    assert (repo / "tokopt.toml").read_text(encoding="utf-8") == "# mine\n"
    assert run("init", "--force", "-m", "gpt-5.5").exit_code == 0
    assert "[[budgets]]" in (repo / "tokopt.toml").read_text(encoding="utf-8")


def test_named_paths_choose_the_prompts(run, repo):
    write(repo / "templates" / "email.j2", TEN)
    r = run("init", "templates", "app/system_prompt.txt", "-m", "gpt-5.5", "--stdout")
    assert r.exit_code == 0, r.stderr
    cfg = project_config.ProjectConfig.model_validate(tomllib.loads(r.stdout, parse_float=Decimal))
    assert [b.paths for b in cfg.budgets] == [["app/system_prompt.txt"], ["templates/**/*.j2"]]


def test_a_path_outside_the_project_is_an_error(run, repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "p.md"
    outside.write_text("x")
    r = run("init", str(outside))
    assert r.exit_code == 2 and "not inside the project directory" in one_error_line(r.stderr)


def test_no_prompts_found_writes_an_example_and_says_so(run, tmp_path, chdir):  # noqa: F811
    chdir(tmp_path)
    write(tmp_path / "main.py", "x = 1\n")
    r = run("init")
    assert r.exit_code == 0
    assert "no prompt files found" in r.stderr
    cfg = project_config.load_project(tmp_path / "tokopt.toml").config
    assert cfg.budgets == [] and len(cfg.defaults.models or []) >= 9
    assert "# [[budgets]]" in (tmp_path / "tokopt.toml").read_text(encoding="utf-8")
    r = run("check")
    assert r.exit_code == 2 and "no budgets" in one_error_line(r.stderr)


def test_in_a_git_repository_ignored_files_are_not_proposed(run, repo):
    git(repo, "init", "-q", "-b", "main")
    write(repo / ".gitignore", "prompts/short.txt\n")
    r = run("init", "-m", "gpt-5.5", "--stdout")
    assert "prompts/short.txt" not in r.stdout and "prompts/**/*.md" in r.stdout


@pytest.mark.parametrize(
    ("path", "yes"),
    [
        ("prompts/a.md", True),
        ("src/agents/system_prompts/x.txt", True),
        ("x/summarize.prompt", True),
        ("x/summarize.prompt.md", True),
        ("x/flow.prompty", True),
        ("src/system_prompt.txt", True),
        ("prompts/README.md", False),
        ("prompts/run.py", False),
        ("prompts/batch.jsonl", True),
        ("prompts/chat.json", True),
        ("src/prompt_config.json", False),
        ("docs/guide.md", False),
        ("src/prompt_utils.py", False),
    ],
)
def test_what_looks_like_a_prompt(path, yes):
    assert init.looks_like_prompt(PurePosixPath(path)) is yes


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1542.5", "1600"), ("0.0089125", "0.009"), ("300", "300"), ("7", "7"), ("0", "0"), ("0.00150001", "0.0016")],
)
def test_nice_ceiling(value, expected):
    assert init.nice_ceiling(Decimal(value)).normalize() == Decimal(expected).normalize()


def test_request_and_batch_files_are_proposed_as_check_prices_them(run, tmp_path, chdir):  # noqa: F811
    from tests.chatdata import write_json, write_jsonl

    (tmp_path / "prompts").mkdir()
    big = " hello" * 300
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": [{"role": "user", "content": big}]}}
    write_jsonl(tmp_path / "prompts" / "batch.jsonl", [line, {**line, "custom_id": "b", "body": {"messages": [{"role": "user", "content": "hi"}]}}])
    write_json(tmp_path / "prompts" / "settings.json", {"temperature": 0.2})  # JSON data: a plain-text prompt
    (tmp_path / "prompts" / "broken.json").write_text('{"messages": [', encoding="utf-8")
    chdir(tmp_path)
    r = run("init", "-m", "gpt-5.5", "--output-tokens", "0", "--headroom", "0")
    assert r.exit_code == 0, r.stderr
    assert "prompts/broken.json: not a chat request or batch file" in r.stderr
    (budget,) = project_config.load_project(tmp_path / "tokopt.toml").config.budgets
    assert sorted(budget.paths) == ["prompts/**/*.json", "prompts/**/*.jsonl"]
    assert budget.exclude == ["prompts/broken.json"]
    # the largest request: 300 tokens of text, 3 per message, 1 for the role, 3 to prime the reply
    assert budget.max_tokens == 310
    check = run("check", "-f", "json")
    assert check.exit_code == 0, check.stdout
    rows = {(r["file"], r["request"]): r for r in json.loads(check.stdout)["rows"]}
    assert set(rows) == {("prompts/batch.jsonl", "a"), ("prompts/batch.jsonl", "b"), ("prompts/settings.json", None)}
    assert rows[("prompts/batch.jsonl", "a")]["current"]["input_tokens"] == 307


def test_outside_git_a_broken_symlink_or_a_loop_is_not_a_prompt(run, tmp_path, chdir):
    import os

    write(tmp_path / "prompts" / "system.md", TEN)
    os.symlink("gone.md", tmp_path / "prompts" / "old.md")
    os.symlink(".", tmp_path / "prompts" / "again")
    chdir(tmp_path)
    r = run("init", "-m", "gpt-5.5", "--stdout")
    assert r.exit_code == 0, r.stderr
    cfg = project_config.ProjectConfig.model_validate(tomllib.loads(r.stdout, parse_float=Decimal))
    assert cfg.budgets[0].paths == ["prompts/**/*.md"]


@pytest.mark.parametrize("odd", ["[draft]", "a]b", "back\\slash", "star*", "what?", "new\nline", " lead", "tail ", "#hash", "!bang"])
@pytest.mark.parametrize("where", ["dir", "file"])
def test_names_with_glob_characters_give_globs_that_match_them(run, tmp_path, chdir, odd, where):
    # the starter's globs name these paths exactly: each loads, and check finds every prompt
    if where == "dir":
        write(tmp_path / odd / "prompts" / "system.md", TEN)
        expected = f"{odd}/prompts/system.md"
    else:
        write(tmp_path / "app" / f"{odd}.prompt.md", TEN)
        expected = f"app/{odd}.prompt.md"
    chdir(tmp_path)
    r = run("init", "-m", "gpt-5.5")
    assert r.exit_code == 0, r.stderr
    assert "1 budget for 1 prompt file on gpt-5.5;" in r.stderr
    check = run("check", "-f", "json")
    assert check.exit_code == 0, check.stderr
    assert [row["file"] for row in json.loads(check.stdout)["rows"]] == [expected]


# --- for a team: the models the code calls, the traffic it has -------------------------------


def code_project(tmp_path):
    write(tmp_path / "prompts" / "answer.md", TWELVE * 20)
    write(tmp_path / "prompts" / "triage.md", TEN)
    write(tmp_path / "app" / "chat.py", 'client.chat.completions.create(model="gpt-5.4-mini", messages=m)\nMODEL = "gpt-5.4-mini"\n')
    write(tmp_path / "web" / "agent.ts", "const r = await anthropic.messages.create({ model: 'claude-haiku-4-5', messages });\n")
    write(tmp_path / "deploy" / "values.yaml", "llm:\n  model: gpt-5.4-mini\n  note: the model gpt-5.5 is better\n")
    write(tmp_path / "config" / "eval.json", '{"model": "openai/gpt-5.4-mini", "other": "gpt-5.5"}\n')
    write(tmp_path / "docs" / "notes.md", 'We tried model="gpt-5.5" once.\n')  # not code
    write(tmp_path / "app" / "old.py", 'model = "gpt-9-turbo"\n')  # not in the catalog
    return tmp_path


def test_budgets_on_the_models_the_code_calls(run, tmp_path, chdir):  # noqa: F811
    chdir(code_project(tmp_path))
    r = run("init")
    assert r.exit_code == 0, r.stderr
    assert "wrote tokopt.toml: 1 budget for 2 prompt files on gpt-5.4-mini and claude-haiku-4-5 (found in the code)" in r.stderr
    cfg = project_config.load_project(tmp_path / "tokopt.toml").config
    assert cfg.defaults.models == ["gpt-5.4-mini", "claude-haiku-4-5"]  # most places first
    text = (tmp_path / "tokopt.toml").read_text(encoding="utf-8")
    assert "# Models found in the code: gpt-5.4-mini (app/chat.py:1 and 3 more places); claude-haiku-4-5 (web/agent.ts:1)." in text
    assert run("check").exit_code == 0


def test_no_model_in_the_code_falls_back_to_the_defaults(run, repo):
    r = run("init")
    assert r.exit_code == 0, r.stderr
    assert "on tokopt's" in r.stderr and "default models (no model ids found in the code)" in r.stderr
    text = (repo / "tokopt.toml").read_text(encoding="utf-8")
    assert "# No model ids were found in the code" in text
    # -m wins over what the code says
    write(repo / "app" / "main.py", 'model="claude-haiku-4-5"\n')
    r = run("init", "--force", "-m", "gpt-5.5")
    assert "on gpt-5.5;" in r.stderr
    r = run("init", "--force")
    assert "on claude-haiku-4-5 (found in the code)" in r.stderr


def test_calls_per_day_give_monthly_limits_and_a_total(run, tmp_path, chdir):  # noqa: F811
    from tests.conftest import PRICING_DIR
    from tokopt import costing
    from tokopt.pricing import load_catalog
    from tokopt.usage import Usage

    chdir(code_project(tmp_path))
    r = run("init", "--calls-per-day", "2000", "-m", "gpt-5.4-mini", "--output-tokens", "0", "--headroom", "0")
    assert r.exit_code == 0, r.stderr
    cfg = project_config.load_project(tmp_path / "tokopt.toml").config
    assert cfg.defaults.calls_per_month == 60_000
    (budget,) = cfg.budgets
    m = load_catalog(PRICING_DIR).get("gpt-5.4-mini")
    per_call = {n: costing.cost_of(m, Usage(input_tokens=n)).total_usd for n in (240, 10)}
    assert budget.max_monthly_cost == init.nice_ceiling(per_call[240] * 60_000)
    assert budget.max_total_monthly_cost == init.nice_ceiling((per_call[240] + per_call[10]) * 60_000)
    text = (tmp_path / "tokopt.toml").read_text(encoding="utf-8")
    assert "# calls_per_month: 2,000 calls a day × 30 days." in text and "# [[traffic]]" in text
    assert run("check").exit_code == 0
    # without a traffic, a placeholder and no monthly limits
    r = run("init", "--force", "-m", "gpt-5.4-mini")
    (budget,) = project_config.load_project(tmp_path / "tokopt.toml").config.budgets
    assert budget.max_monthly_cost is None and budget.max_total_monthly_cost is None
    assert "calls_per_month is a placeholder" in (tmp_path / "tokopt.toml").read_text(encoding="utf-8")
    r = run("init", "--force", "--calls-per-day", "5", "--calls-per-month", "3")
    assert r.exit_code == 2 and "not both" in one_error_line(r.stderr)


def test_the_commented_traffic_template_works_when_uncommented(run, tmp_path, chdir):  # noqa: F811
    chdir(code_project(tmp_path))
    assert run("init", "--calls-per-month", "1000").exit_code == 0
    path = tmp_path / "tokopt.toml"
    text = path.read_text(encoding="utf-8")
    template = text.split("# [[traffic]]", 1)[1].split("\n\n", 1)[0]
    path.write_text(text.replace(template, "\n".join(line.removeprefix("# ") for line in template.splitlines())).replace("# [[traffic]]", "[[traffic]]"), encoding="utf-8")
    doc = json.loads(run("check", "-f", "json").stdout)
    assert {r["traffic"] for r in doc["rows"]} == {"traffic[0]"} and {r["calls_per_month"] for r in doc["rows"]} == {30_000}
