"""The one directory walker: stable order, each directory once, no symlink loops, nothing skipped silently."""

from __future__ import annotations

import glob as pyglob
import os
from pathlib import Path

import pytest

from tokopt import inputs
from tokopt.inputs import walk


def tree(root: Path, files: list[str]) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    return root


def rels(found: walk.Walk) -> list[str]:
    return [e.rel for e in found.entries]


def test_a_directorys_files_by_name_then_its_subdirectories_depth_first(tmp_path):
    tree(tmp_path, ["b.txt", "a.txt", "z/1.txt", "m/2.txt", "m/k/3.txt", "m/0.txt"])
    assert rels(walk.walk(tmp_path)) == ["a.txt", "b.txt", "m/0.txt", "m/2.txt", "m/k/3.txt", "z/1.txt"]


def test_hidden_names_skipped_unless_asked_for(tmp_path):
    tree(tmp_path, ["a.txt", ".b.txt", ".git/config", "d/.c.txt", "d/e.txt"])
    assert rels(walk.walk(tmp_path)) == ["a.txt", "d/e.txt"]
    assert rels(walk.walk(tmp_path, hidden_files=True)) == [".b.txt", "a.txt", "d/.c.txt", "d/e.txt"]
    assert rels(walk.walk(tmp_path, hidden_dirs=True, hidden_files=True)) == [".b.txt", "a.txt", ".git/config", "d/.c.txt", "d/e.txt"]


def test_skip_dirs_and_descend(tmp_path):
    tree(tmp_path, ["node_modules/x.js", "src/a.py", "docs/b.md"])
    assert rels(walk.walk(tmp_path, skip_dirs={"node_modules"})) == ["docs/b.md", "src/a.py"]
    assert rels(walk.walk(tmp_path, descend=lambda rel: rel == "docs")) == ["docs/b.md"]
    assert rels(walk.walk(tmp_path, dirs=True, descend=lambda rel: False)) == ["docs", "node_modules", "src"]


def test_gitignore_files_from_the_repository_top_down(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*.log\n!keep.log\n")
    tree(tmp_path, ["p/a.txt", "p/run.log", "p/keep.log", "p/drafts/w.txt"])
    (tmp_path / "p" / ".gitignore").write_text("drafts/\n")
    assert rels(walk.walk(tmp_path / "p", gitignore=True)) == ["a.txt", "keep.log"]
    assert rels(walk.walk(tmp_path / "p")) == ["a.txt", "keep.log", "run.log", "drafts/w.txt"]


def test_a_symlink_loop_ends_and_each_file_is_listed_once(tmp_path):
    tree(tmp_path, ["d/a.txt", "d/sub/b.txt"])
    os.symlink(".", tmp_path / "d" / "again")
    os.symlink("..", tmp_path / "d" / "sub" / "up")
    assert rels(walk.walk(tmp_path / "d")) == ["a.txt", "sub/b.txt"]  # symlinked directories not entered
    followed = walk.walk(tmp_path / "d", follow_links=True)
    assert sorted(Path(e.path).resolve() for e in followed.files) == sorted(
        {(tmp_path / "d" / "a.txt").resolve(), (tmp_path / "d" / "sub" / "b.txt").resolve()}
    )


def test_what_cannot_be_read_is_named(tmp_path):
    tree(tmp_path, ["ok.txt"])
    os.symlink("nowhere", tmp_path / "broken.txt")
    os.mkfifo(tmp_path / "pipe")
    found = walk.walk(tmp_path)
    assert rels(found) == ["ok.txt"]  # a FIFO is not a file to read, and says so
    assert [(p.name, why) for p, why in found.problems] == [
        ("broken.txt", "No such file or directory"),
        ("pipe", "not a regular file (a named pipe)"),
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_a_directory_it_may_not_list_is_named(tmp_path):
    tree(tmp_path, ["a.txt", "locked/b.txt"])
    (tmp_path / "locked").chmod(0)
    try:
        found = walk.walk(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert rels(found) == ["a.txt"]
    assert [(p.name, why) for p, why in found.problems] == [("locked", "Permission denied")]


# --- globs: as Python's glob, without its loops ------------------------------------------------

TREE = [
    "a.md", "b.txt", ".hidden.md", "docs/x.md", "docs/.y.md", "docs/sub/z.md", "docs/sub/deep/w.md",
    ".cfg/c.md", "docs/.cache/q.md", "[x].md", "x y/s p.md", "sub/sub/t.md",
]  # fmt: skip
PATTERNS = [
    "*", "*.md", "**", "**/*.md", "docs/**", "docs/**/*.md", "docs/*/**", "**/sub/**", "*/*.md", ".*",
    "**/.y.md", "docs/*", "?.md", "[ab].*", "[!a]*", "*/", "docs/**/", "./docs/*.md", "x y/*", "**/deep",
    "docs/sub/**", "nope/**/*.md", "docs/[s]ub/*.md",
]  # fmt: skip


@pytest.mark.parametrize("pattern", PATTERNS)
def test_glob_names_what_pythons_glob_names(tmp_path, monkeypatch, pattern):
    tree(tmp_path, TREE)
    monkeypatch.chdir(tmp_path)
    assert walk.glob(pattern) == sorted(set(pyglob.glob(pattern, recursive=True)))
    assert walk.glob(str(tmp_path / pattern)) == sorted(set(pyglob.glob(str(tmp_path / pattern), recursive=True)))


def test_a_glob_through_a_symlink_loop_ends(tmp_path, monkeypatch):
    # `tokopt estimate 'dir/**/*.txt'` hung when dir held `a -> .`
    tree(tmp_path, ["dir/one.txt", "dir/sub/two.txt"])
    os.symlink(".", tmp_path / "dir" / "a")
    monkeypatch.chdir(tmp_path)
    assert walk.glob("dir/**/*.txt") == ["dir/one.txt", "dir/sub/two.txt"]
    expansion = inputs.expand(["dir/**/*.txt"])
    assert [s.label for s in expansion.sources] == ["dir/one.txt", "dir/sub/two.txt"]


def test_a_glob_follows_a_symlinked_directory_once(tmp_path, monkeypatch):
    tree(tmp_path, ["shared/p.md", "prompts/own.md"])
    os.symlink("../shared", tmp_path / "prompts" / "common")
    monkeypatch.chdir(tmp_path)
    assert walk.glob("prompts/**/*.md") == ["prompts/common/p.md", "prompts/own.md"]
