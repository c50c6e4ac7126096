"""What CI users copy: completions, the pre-commit hook, the GitHub Action and the README's
examples; and the layers of the budget code."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.budget_fixtures import GIT_ENV, git, make_repo
from tests.conftest import REPO

SHELLS = ["bash", "zsh", "fish"]


def tokopt_exe() -> str:
    exe = shutil.which("tokopt", path=os.path.dirname(sys.executable))
    assert exe, "the tokopt console script is not installed next to this Python"
    return exe


# --- completions -----------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_committed_completion_scripts_are_current(shell):
    r = subprocess.run([tokopt_exe()], env={**os.environ, "_TOKOPT_COMPLETE": f"source_{shell}"}, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    committed = (REPO / "completions" / f"tokopt.{shell}").read_text(encoding="utf-8")
    assert r.stdout == committed, f"completions/tokopt.{shell} is out of date: run completions/regenerate.sh"


def test_completion_covers_the_command_tree():
    def complete(words: str, cword: int) -> list[str]:
        env = {**os.environ, "_TOKOPT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        r = subprocess.run([tokopt_exe()], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout.split()

    assert {"estimate", "tokenize", "models", "check", "init"} <= set(complete("tokopt ", 1))
    assert complete("tokopt check --format ", 3) == ["table", "json", "markdown", "github", "junit"]


def _complete(words: str, cword: int, *, importtime: bool = False, env: dict | None = None) -> tuple[list[str], str]:
    run_env = {**os.environ, **(env or {}), "_TOKOPT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), tokopt_exe()]
    r = subprocess.run(cmd, env=run_env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.split(), r.stderr


def test_model_options_complete_ids_and_aliases_from_the_catalog(tmp_path):
    from tests.conftest import PRICING_DIR
    from tokopt import pricing

    names = pricing.load_catalog(PRICING_DIR).names()
    env = {"TOKOPT_CACHE_DIR": str(tmp_path / "cache")}
    got, _ = _complete("tokopt estimate -m gpt-5.4", 3, env=env)
    assert got and set(got) == {n for n in names if n.lower().startswith("gpt-5.4")}
    alias = next(n for m in pricing.load_catalog(PRICING_DIR) for n in m.aliases)
    for words, cword in [
        (f"tokopt models {alias}", 2),
        (f"tokopt suggest p.txt --target-model {alias}", 4),
        (f"tokopt check --model {alias}", 3),
        (f"tokopt tokenize p.txt -m {alias}", 4),
        (f"tokopt session record -m {alias}", 4),
    ]:
        assert alias in _complete(words, cword, env=env)[0], words
    assert _complete("tokopt estimate -m openai/gpt-5.4-m", 3, env=env)[0] == ["openai/gpt-5.4-mini"]
    # the names are kept: the next completion reads them, and loads neither pydantic nor the price data
    _, imports = _complete("tokopt estimate -m gpt", 3, env=env, importtime=True)
    loaded = {line.split("|")[-1].strip() for line in imports.splitlines() if "|" in line}
    assert not {"pydantic", "genai_prices", "tiktoken", "tokopt.pricing.catalog"} & loaded
    # a pricing file of your own adds its models at once
    ours = tmp_path / "home" / "pricing.toml"
    ours.parent.mkdir()
    ours.write_text(
        'provider = "acme"\nas_of = 2026-01-01\nsource = "test"\n[models."acme-zeta-1"]\ntier = "mini"\n'
        "context_window = 100000\nmax_output = 1000\ninput = 1.00\noutput = 1.00\n"
        'tokenizer = { encoding = "o200k_base", exact = true }\n',
        encoding="utf-8",
    )
    assert _complete("tokopt estimate -m acme-z", 3, env={**env, "TOKOPT_HOME": str(ours.parent)})[0] == ["acme-zeta-1"]


def test_regenerate_script_writes_what_the_test_expects(tmp_path):
    copy = tmp_path / "completions"
    shutil.copytree(REPO / "completions", copy)
    for shell in SHELLS:
        (copy / f"tokopt.{shell}").write_text("stale", encoding="utf-8")
    r = subprocess.run(["bash", str(copy / "regenerate.sh")], env={**os.environ, "TOKOPT": tokopt_exe()}, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for shell in SHELLS:
        assert (copy / f"tokopt.{shell}").read_text(encoding="utf-8") == (REPO / "completions" / f"tokopt.{shell}").read_text(encoding="utf-8")


# --- pre-commit ------------------------------------------------------------------------------


def test_pre_commit_hook_runs_tokopt_check():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "tokopt-check"
    assert hook["entry"] == "tokopt check" and hook["language"] == "python"
    assert hook["pass_filenames"] is False and hook["always_run"] is True
    assert set(hook) <= {"id", "name", "description", "entry", "language", "pass_filenames", "always_run", "require_serial", "args", "files", "types"}


# --- the GitHub Action -----------------------------------------------------------------------


def action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def test_action_is_composite_and_its_steps_use_only_declared_inputs():
    a = action()
    assert a["runs"]["using"] == "composite"
    names = [s["name"] for s in a["runs"]["steps"]]
    assert names == ["Install tokopt", "Check budgets"]
    declared = set(a["inputs"])
    text = (REPO / "action.yml").read_text(encoding="utf-8")
    import re

    used = set(re.findall(r"\$\{\{\s*inputs\.([a-z-]+)\s*\}\}", text))
    assert used == declared
    for step in a["runs"]["steps"]:
        assert step["shell"] == "bash"
        # inputs reach scripts through env, never pasted into the script text
        assert "${{" not in step["run"]
    install = a["runs"]["steps"][0]["run"]
    assert "pip install" in install and "GITHUB_PATH" in install


def run_check_step(cwd: Path, tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], str]:
    step = action()["runs"]["steps"][1]
    summary = tmp_path / "summary.md"
    summary.write_text("", encoding="utf-8")
    env = {
        **os.environ,
        **GIT_ENV,
        "PATH": os.path.dirname(tokopt_exe()) + os.pathsep + os.environ["PATH"],
        "GITHUB_STEP_SUMMARY": str(summary),
        "INPUT_BASE": "",
        "INPUT_CONFIG": "",
        "INPUT_WARN_ONLY": "false",
        "INPUT_SUMMARY": "true",
        "INPUT_COMMENT": "false",
        "INPUT_ARGS": "",
        "GITHUB_TOKEN": "",
        "PR_BASE_REF": "",
        **inputs,
    }
    r = subprocess.run(["bash", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True)
    return r, summary.read_text(encoding="utf-8")


CONFIG = '[defaults]\nmodels = ["gpt-5.5"]\noutput_tokens = 0\ncalls_per_month = 10\n[[budgets]]\nname = "p"\npaths = ["prompts/*.md"]\nmax_tokens = 100\nmax_increase_pct = 10\n'


def test_action_on_a_pull_request_fetches_the_base_and_annotates(tmp_path):
    origin = make_repo(tmp_path / "origin", CONFIG)
    # what actions/checkout leaves: one commit of the PR branch, no base branch
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", "--single-branch", "--branch", "feature", f"file://{origin.path}", str(clone))
    assert subprocess.run(["git", "rev-parse", "--verify", "--quiet", "origin/main"], cwd=clone, capture_output=True).returncode != 0
    r, summary = run_check_step(clone, tmp_path, PR_BASE_REF="main")
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("::error file=prompts/grow.md,title=tokopt%3A p over budget::")
    assert lines[-1].endswith("against origin/main")
    assert summary.startswith("### tokopt: monthly cost up ") and "| <code>prompts/grow.md</code> | gpt-5.5 |" in summary
    assert "✗ over budget: 1 of 3 checks in budget 'p' against origin/main" in summary

    r, _ = run_check_step(clone, tmp_path, PR_BASE_REF="main", INPUT_WARN_ONLY="true", INPUT_ARGS="--model gpt-5.4-mini")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("::warning ") and "gpt-5.4-mini" in r.stdout


def test_action_without_a_base_and_with_a_config_error(tmp_path):
    repo = make_repo(tmp_path / "repo", CONFIG.replace("max_increase_pct = 10", "max_increase_pct = 100"))
    r, summary = run_check_step(repo.path, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].startswith("✓ within budget") and summary.startswith("### tokopt: monthly cost ")
    (repo.path / "tokopt.toml").write_text(CONFIG + "bogus = 1\n", encoding="utf-8")
    r, summary = run_check_step(repo.path, tmp_path)
    assert r.returncode == 2 and "error: " in r.stderr and "bogus: unknown key" in r.stderr
    assert summary == "" and r.stdout == ""


def test_action_comments_on_the_pull_request(tmp_path):
    from tests.fake_github import TOKEN, FakeGitHub, Server

    origin = make_repo(tmp_path / "origin", CONFIG)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", "--single-branch", "--branch", "feature", f"file://{origin.path}", str(clone))
    event = tmp_path / "event.json"
    event.write_text('{"pull_request": {"number": 7}}', encoding="utf-8")
    with Server(FakeGitHub()) as gh:
        env = {"GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": gh.repo, "GITHUB_API_URL": gh.url, "GITHUB_RUN_ID": "1"}
        r, summary = run_check_step(clone, tmp_path, PR_BASE_REF="main", INPUT_COMMENT="true", GITHUB_TOKEN=TOKEN, **env)
        assert r.returncode == 1, r.stderr
        [comment] = gh.comments[7]
        assert comment.body.startswith("<!-- tokopt check -->\n### tokopt: monthly cost up ")
        assert summary.startswith("### tokopt: ")  # summary: true as well
        gh.read_only = True  # a fork's token: the step still reports, and the comment stays as it was
        r, summary = run_check_step(clone, tmp_path, PR_BASE_REF="main", INPUT_COMMENT="true", GITHUB_TOKEN=TOKEN, **env)
        assert r.returncode == 1 and "could not comment on pull request #7" in r.stderr
        assert summary.startswith("### tokopt: ") and len(gh.comments[7]) == 1


# --- docs/check.md (the CI reference; tests/test_docs.py runs its commands) --------------------


def readme_section() -> str:
    return (REPO / "docs" / "check.md").read_text(encoding="utf-8")


def test_readme_config_example_is_valid(tmp_path):
    from tokopt.budgets import config as project_config

    section = readme_section()
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "pricing").mkdir()
    (tmp_path / "pricing" / "ours.toml").write_text("", encoding="utf-8")
    (tmp_path / "tokopt.toml").write_text(example, encoding="utf-8")
    cfg = project_config.load_project(tmp_path / "tokopt.toml").config
    assert set(cfg.budgets[0].limits()) == set(project_config.LIMIT_KEYS)


def test_readme_documents_the_hook_and_the_action_as_they_are():
    section = readme_section()
    blocks = [b.split("```", 1)[0] for b in section.split("```yaml\n")[1:]]
    pre_commit, workflow, commenting = (yaml.safe_load(b) for b in blocks)
    assert pre_commit["repos"][0]["hooks"][0]["id"] == "tokopt-check"
    for flow in (workflow, commenting):
        steps = flow["jobs"]["tokopt"]["steps"]
        assert steps[0]["uses"].startswith("actions/checkout@") and steps[1]["uses"].startswith("your-org/tokopt@")
    # the comment needs a token that may write pull requests, and the example says so
    assert commenting["permissions"]["pull-requests"] == "write"
    assert commenting["jobs"]["tokopt"]["steps"][1]["with"]["comment"] == "true"
    assert set(commenting["jobs"]["tokopt"]["steps"][1]["with"]) <= set(action()["inputs"])
    for name in action()["inputs"]:
        assert f"`{name}`" in section


# --- layers ----------------------------------------------------------------------------------

CORE = ["tokopt.budgets.config", "tokopt.budgets", "tokopt.budgets.headline", "tokopt.budgets.pr_comment", "tokopt.render.check_headline", "tokopt.render.check_ci", "tokopt.inputs.gitrepo", "tokopt.inputs.globs", "tokopt.budgets.init", "tokopt.render.check", "tokopt.settings"]


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)


def test_budget_core_imports_neither_typer_nor_rich():
    r = python(f"import sys; [__import__(m) for m in {CORE!r}]; print(sorted(m for m in ('typer', 'rich') if m in sys.modules))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["check", "init"])
def test_command_help_loads_no_tokenizer_or_database(command):
    code = (
        "import sys; from tokopt.cli import app\n"
        f"try: app([{command!r}, '--help'])\n"
        "except SystemExit: pass\n"
        "print([m for m in ('tiktoken', 'sqlite3', 'tokopt.budgets', 'tokopt.budgets.config') if m in sys.modules], file=sys.stderr)"
    )
    r = python(code)
    assert ast.literal_eval(r.stderr.strip().splitlines()[-1]) == []
