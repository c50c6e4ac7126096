"""Read files as they are in a git revision, through git's plumbing; nothing is checked out.

`git ls-tree` lists a revision's files with their blob ids and `git cat-file --batch` reads
the blobs in one process, so the working tree, the index and HEAD are never touched.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tokopt.errors import InputError

# Regular files only: symlinks (120000) hold a target path and gitlinks (160000) a commit.
_FILE_MODES = {"100644", "100755"}


@dataclass(frozen=True)
class Repo:
    """A git work tree seen from `cwd`: `prefix` is cwd relative to the top ("" or "sub/dir/")."""

    cwd: Path
    top: Path
    prefix: str


def _git(args: Sequence[str], cwd: Path, *, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError("git not found", hint="install git, or run without --base") from None


def _first_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[0].removeprefix("fatal: ") if lines else "git failed"


def _locate(cwd: Path) -> tuple[Repo | None, str]:
    r = _git(["rev-parse", "--show-toplevel", "--show-prefix"], cwd)
    if r.returncode != 0:
        return None, _first_line(r.stderr)
    top, prefix = (r.stdout.decode("utf-8", "surrogateescape").splitlines() + ["", ""])[:2]
    return Repo(cwd=cwd, top=Path(top), prefix=prefix), ""


def find(cwd: Path) -> Repo | None:
    """The work tree containing `cwd`, or None outside one (or when git is not installed)."""
    try:
        return _locate(cwd)[0]
    except InputError:
        return None


def require(cwd: Path, why: str) -> Repo:
    """The work tree containing `cwd`; an InputError that says why one is needed otherwise."""
    repo, problem = _locate(cwd)
    if repo is None:
        raise InputError(f"{why} needs a git repository: {cwd}: {problem}")
    return repo


def working_files(repo: Repo, passed_over: list[tuple[str, str]] | None = None) -> list[str]:
    """Tracked and untracked-but-not-ignored files under `repo.cwd`, relative to it, that exist.

    What git lists that exists but is not a regular file (a symlink to a device or a pipe) is
    added to `passed_over` with the reason, when given."""
    import stat

    from tokopt.inputs.walk import not_regular

    r = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], repo.cwd)
    if r.returncode != 0:
        raise InputError(f"git ls-files failed in {repo.cwd}: {_first_line(r.stderr)}")
    names = dict.fromkeys(n for n in r.stdout.decode("utf-8", "surrogateescape").split("\0") if n)
    files = []
    for n in names:
        try:
            mode = (repo.cwd / n).stat().st_mode
        except OSError:
            continue  # a file deleted but not yet staged is still in the index
        if stat.S_ISREG(mode):
            files.append(n)
        elif passed_over is not None and not stat.S_ISDIR(mode):  # a submodule is a directory
            passed_over.append((n, not_regular(mode)))
    return files


def resolve(repo: Repo, ref: str) -> str:
    """The commit id `ref` names; an InputError with a hint when it does not name one."""
    if not ref or ref.startswith("-"):
        raise InputError(f"not a git revision: {ref!r}")
    r = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo.cwd)
    if r.returncode != 0:
        raise InputError(
            f"unknown git revision: {ref}",
            hint="name a branch, tag or commit that exists here; in CI fetch it first, "
            "e.g. git fetch --depth=1 origin main, then --base origin/main",
        )
    return r.stdout.decode().strip()


def tree_files(repo: Repo, commit: str) -> dict[str, str]:
    """Regular files under `repo.cwd` at `commit`: path relative to cwd -> blob id."""
    r = _git(["ls-tree", "-r", "-z", commit], repo.cwd)
    if r.returncode != 0:
        raise InputError(f"git ls-tree {commit} failed: {_first_line(r.stderr)}")
    out = {}
    for entry in r.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, kind, oid = meta.split(" ")
        if kind == "blob" and mode in _FILE_MODES:
            out[path] = oid
    return out


def read_blobs(repo: Repo, oids: Iterable[str]) -> dict[str, bytes]:
    """The contents of blobs by id, read by one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    r = _git(["cat-file", "--batch"], repo.cwd, stdin="".join(f"{o}\n" for o in wanted).encode())
    if r.returncode != 0:
        raise InputError(f"git cat-file failed: {_first_line(r.stderr)}")
    data = r.stdout
    out: dict[str, bytes] = {}
    pos = 0
    for oid in wanted:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode().split(" ")
        if len(header) != 3 or header[1] != "blob":
            raise InputError(f"git cat-file: cannot read blob {oid}: {' '.join(header)}")
        size = int(header[2])
        out[oid] = data[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1  # the content is followed by a newline
    return out


def blob_ids(repo: Repo, names: Sequence[str]) -> dict[str, str]:
    """The blob id each working file (relative to `repo.cwd`) would have if added now,
    so that equal ids mean equal content, as git sees it."""
    # One name per line: a name containing a newline cannot be passed, and is left out.
    plain = [n for n in names if "\n" not in n]
    if not plain:
        return {}
    # git reads these relative to the top of the work tree, wherever it runs
    stdin = "".join(f"{repo.prefix}{n}\n" for n in plain).encode("utf-8", "surrogateescape")
    r = _git(["hash-object", "--stdin-paths"], repo.cwd, stdin=stdin)
    if r.returncode != 0:
        raise InputError(f"git hash-object failed: {_first_line(r.stderr)}")
    return dict(zip(plain, r.stdout.decode().split()))
