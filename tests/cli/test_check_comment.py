"""`tokopt check --comment` against a fake GitHub API on the loopback address: one comment per
pull request, found by its marker and updated in place; a read-only token falls back to the job
summary; a huge change still fits GitHub's 65,536-character limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.budget_fixtures import TEN, TWELVE, chdir, git, make_repo, write  # noqa: F401 (fixture)
from tests.fake_github import TOKEN, FakeGitHub, Server
from tests.helpers import one_error_line
from tokopt.budgets import pr_comment

CONFIG = '[defaults]\nmodels = ["gpt-5.5"]\noutput_tokens = 100\ncalls_per_month = 3000\n\n[[budgets]]\nname = "prompts"\npaths = ["prompts/*.md"]\nmax_tokens = 11\n'
PR = 42


@pytest.fixture
def github():
    with Server(FakeGitHub()) as gh:
        yield gh


@pytest.fixture
def actions(tmp_path, monkeypatch, github):
    """The environment of a GitHub Actions job for pull request #42."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": PR}}), encoding="utf-8")
    summary = tmp_path / "summary.md"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": github.repo,
        "GITHUB_API_URL": github.url,
        "GITHUB_SERVER_URL": "https://github.test",
        "GITHUB_RUN_ID": "777",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TOKOPT_OFFLINE", raising=False)
    return summary


@pytest.fixture
def repo(tmp_path, chdir):  # noqa: F811
    r = make_repo(tmp_path / "repo", CONFIG)
    chdir(r.path)
    return r


def ours(github: FakeGitHub) -> list:
    return [c for c in github.comments.get(PR, []) if c.body.startswith(pr_comment.MARKER)]


def test_one_comment_created_then_updated_in_place(run, repo, actions, github):
    github.add(PR, "LGTM, but what does it cost?")
    github.add(PR, f"quoting the bot:\n> {pr_comment.MARKER}\n> old report")  # a quote is not ours
    r = run("check", "--base", "main", "--comment", "--format", "github")
    assert r.exit_code == 1, r.output  # over budget: the comment changes nothing about that
    [comment] = ours(github)
    assert "created the pull request comment: https://github.test/c/" in r.stderr
    body = comment.body
    assert body.startswith(pr_comment.MARKER + "\n### tokopt: monthly cost up ")
    assert "| <code>prompts/grow.md</code> | gpt-5.5 |" in body and "prompts/same.md" not in body  # only what changed
    assert "#### Over budget" in body
    # the next push fixes it: the same comment, edited
    write(repo.path / "prompts" / "grow.md", TEN)
    r = run("check", "--base", "main", "--comment", "--format", "github")
    assert r.exit_code == 0, r.output
    [again] = ours(github)
    assert again.id == comment.id and again.body != body
    assert "updated the pull request comment" in r.stderr
    assert len(github.comments[PR]) == 3  # the two others untouched
    methods = [m for m, _, _ in github.requests]
    assert methods.count("POST") == 1 and methods.count("PATCH") == 1
    assert not actions.exists()  # the comment fit: nothing for the job summary


def test_the_comment_is_found_on_a_later_page(run, repo, actions, github):
    for i in range(150):
        github.add(PR, f"comment {i}")
    mine = github.add(PR, pr_comment.body("an old report"), "github-actions[bot]")
    r = run("check", "--base", "main", "--comment")
    assert r.exit_code == 1, r.output
    assert mine.body.startswith(pr_comment.MARKER + "\n### tokopt:")
    gets = [path for m, path, _ in github.requests if m == "GET"]
    assert any("page=2" in p for p in gets) and len(ours(github)) == 1


def test_a_read_only_token_falls_back_to_the_job_summary(run, repo, actions, github):
    github.read_only = True
    r = run("check", "--base", "main", "--comment", "--format", "github")
    assert r.exit_code == 1, r.output  # the budget's verdict, not the comment's
    assert "warning: could not comment on pull request #42: GitHub answered POST" in r.stderr
    assert "HTTP 403: Resource not accessible by integration; the report is in the job summary" in r.stderr
    assert "pull-requests: write" in r.stderr
    assert ours(github) == []
    summary = actions.read_text(encoding="utf-8")
    assert summary.startswith("### tokopt: monthly cost up ") and "prompts/grow.md" in summary
    assert TOKEN not in r.output and TOKEN not in summary


def test_a_server_error_is_a_warning_and_the_check_still_decides_the_exit_code(run, repo, actions, github):
    write(repo.path / "tokopt.toml", CONFIG.replace("max_tokens = 11", "max_tokens = 100"))
    github.fail_with = 502
    r = run("check", "--base", "main", "--comment")
    assert r.exit_code == 0, r.output
    assert "could not comment on pull request #42" in r.stderr and "HTTP 502" in r.stderr


def test_not_a_pull_request(run, repo, actions, github, tmp_path, monkeypatch):
    push = tmp_path / "push.json"
    push.write_text(json.dumps({"ref": "refs/heads/main", "commits": []}), encoding="utf-8")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(push))
    r = run("check", "--base", "main", "--comment")
    assert r.exit_code == 1, r.output
    assert "not for a pull request" in r.stderr and github.requests == []
    assert "prompts/grow.md" in actions.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"GITHUB_TOKEN": ""}, "--comment needs a token that may write to pull requests"),
        ({"TOKOPT_OFFLINE": "1"}, "--comment uses the network, and TOKOPT_OFFLINE forbids it"),
        ({"GITHUB_REPOSITORY": ""}, "GITHUB_REPOSITORY is not set"),
    ],
)
def test_what_comment_needs_is_checked_first(run, repo, actions, github, monkeypatch, change, expected):
    for key, value in change.items():
        monkeypatch.setenv(key, value)
    r = run("check", "--base", "main", "--comment")
    assert r.exit_code == 2, r.output
    assert expected in one_error_line(r.stderr) and r.stdout == ""
    assert github.requests == []


@pytest.mark.parametrize(("value", "posts"), [("1", False), ("true", False), ("0", True), ("false", True)])
def test_tokopt_offline_values(run, repo, actions, github, monkeypatch, value, posts):
    # "0" and "false" leave the network on, as for `tokopt prices update` (paths.offline)
    monkeypatch.setenv("TOKOPT_OFFLINE", value)
    r = run("check", "--base", "main", "--comment")
    if posts:
        assert r.exit_code == 1, r.output
        assert len(ours(github)) == 1
    else:
        assert r.exit_code == 2 and "TOKOPT_OFFLINE forbids it" in one_error_line(r.stderr)
        assert github.requests == []


def test_summary_appends_the_report(run, repo, actions, github):
    actions.write_text("earlier step\n", encoding="utf-8")
    r = run("check", "--base", "main", "--summary", "--format", "json")
    assert r.exit_code == 1
    json.loads(r.stdout)  # stdout is still the format asked for
    text = actions.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### tokopt: ") and github.requests == []


def test_five_hundred_changed_prompts_fit_in_one_comment(run, tmp_path, chdir, actions, github):  # noqa: F811
    root = tmp_path / "big"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root / "tokopt.toml", CONFIG.replace('models = ["gpt-5.5"]', 'models = ["gpt-5.5", "claude-sonnet-5", "gemini-3.5-flash"]'))
    for i in range(500):
        write(root / "prompts" / f"a-rather-long-prompt-file-name-number-{i:03}.md", TEN)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main")
    git(root, "checkout", "-q", "-b", "feature")
    for i in range(500):
        write(root / "prompts" / f"a-rather-long-prompt-file-name-number-{i:03}.md", TWELVE + f" {i}" * (i % 7))
    git(root, "commit", "-q", "-am", "grow them all")
    chdir(root)
    r = run("check", "--base", "main", "--comment", "--format", "github")
    assert r.exit_code == 1, r.stderr
    [comment] = ours(github)
    assert len(comment.body) <= pr_comment.MAX_CHARS
    assert "500 of 500 prompts changed" in comment.body
    assert "more prompts not listed here: the full report is in the [job summary](https://github.test/your-org/app/actions/runs/777)" in comment.body
    # the job summary has every changed prompt
    summary = actions.read_text(encoding="utf-8")
    assert all(f"number-{i:03}.md" in summary for i in range(500))
    listed = [i for i in range(500) if f"number-{i:03}.md" in comment.body]
    assert 0 < len(listed) < 500
