"""What a budget's globs match but cannot be read as a file (a named pipe, a symlink to a
device, a directory that cannot be listed) is named in a warning: a check never passes on a
file it silently left out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.budget_fixtures import git, write

CONFIG = '[[budgets]]\nname = "prompts"\npaths = ["prompts/**"]\nmax_tokens = 100\nmodels = ["gpt-5.5"]\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path / "tokopt.toml", CONFIG)
    write(tmp_path / "prompts" / "a.md", "You are terse.")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def warnings_of(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def test_a_named_pipe_a_budget_matches_is_named_outside_git(run, project):
    os.mkfifo(project / "prompts" / "b.md")
    r = run("check", "-f", "json")
    assert r.exit_code == 0, r.output  # a.md is within its budget: nothing hangs on the pipe
    data = json.loads(r.stdout)
    assert "prompts/b.md: not checked, not a regular file (a named pipe)" in data["warnings"], data["warnings"]
    assert [row["file"] for row in data["rows"]] == ["prompts/a.md"]
    table = run("check")
    assert table.exit_code == 0
    assert any("prompts/b.md" in w and "named pipe" in w for w in warnings_of(table)), table.stderr


def test_a_tracked_symlink_to_a_device_is_named_in_git(run, project):
    (project / "prompts" / "zero.md").symlink_to("/dev/zero")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "prompts")
    r = run("check", "-f", "json")
    assert r.exit_code == 0, r.output
    assert "prompts/zero.md: not checked, not a regular file (a device)" in json.loads(r.stdout)["warnings"]


def test_what_no_budget_matches_is_not_warned_about(run, project):
    os.mkfifo(project / "elsewhere.fifo")
    write(project / "tokopt.toml", CONFIG.replace('"prompts/**"', '"**/*.md"'))
    r = run("check", "-f", "json")
    assert r.exit_code == 0, r.output
    assert not any("elsewhere.fifo" in w for w in json.loads(r.stdout)["warnings"])


def test_estimate_of_a_directory_names_the_pipe_it_passes_over(run, project):
    os.mkfifo(project / "prompts" / "b.md")
    r = run("estimate", "prompts", "-m", "gpt-5.5", "-f", "json")
    assert r.exit_code == 0, r.output
    assert "b.md" in r.stderr and "named pipe" in r.stderr, r.stderr
