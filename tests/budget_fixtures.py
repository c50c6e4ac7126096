"""A real git repository in tmp_path for the budget tests: `main`, and a `feature` branch
that grows one prompt, deletes one and adds one."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

# ' hello' is one o200k_base token, so these texts have known counts: 10, 12 (+20%), 5
TEN = " hello" * 10
TWELVE = " hello" * 12
FIVE = " hello" * 5

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(cwd: Path, *args: str) -> str:
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    assert r.returncode == 0, r.stderr
    return r.stdout


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


@dataclass
class Repo:
    path: Path

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def state(self) -> tuple[str, str, str]:
        """HEAD, the branch and `git status`: what a check must never change."""
        return self.git("rev-parse", "HEAD"), self.git("branch", "--show-current"), self.git("status", "--porcelain")


def make_repo(root: Path, config: str, *, subdir: str = "") -> Repo:
    """main: prompts/grow.md (10 tokens), gone.md (5), same.md (5); feature (checked out):
    grow.md at 12 tokens, gone.md deleted, new.md added (10), same.md untouched."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    here = root / subdir if subdir else root
    write(here / "tokopt.toml", config)
    write(here / "prompts" / "grow.md", TEN)
    write(here / "prompts" / "gone.md", FIVE)
    write(here / "prompts" / "same.md", FIVE)
    write(root / "README.md", "not a prompt\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "prompts on main")
    git(root, "checkout", "-q", "-b", "feature")
    write(here / "prompts" / "grow.md", TWELVE)
    (here / "prompts" / "gone.md").unlink()
    write(here / "prompts" / "new.md", TEN)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feature: grow one, delete one, add one")
    return Repo(root)


@pytest.fixture
def chdir(monkeypatch: pytest.MonkeyPatch):
    def go(path: Path) -> Path:
        monkeypatch.chdir(path)
        return path

    return go
