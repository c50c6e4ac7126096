"""The one directory walker: estimate's inputs, the ledger's log imports, check and init use it.

A walk lists each directory once, in a stable order (a directory's files by name, then its
subdirectories by name, depth first), and never loops: a symlink to a directory is either not
followed or followed once (`follow_links`), never back into a directory it has already been in.
What it cannot read (a directory it may not list, a file it cannot stat such as a broken
symlink) is named in `problems`, never skipped silently. Files are regular files (or symlinks
to one); sockets, FIFOs and devices are passed over, and named in `problems` too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec


@dataclass(frozen=True)
class Entry:
    """A file (or, with `dirs`, a directory) found: `rel` is its POSIX path below the root."""

    path: Path
    rel: str
    size: int
    is_dir: bool = False
    link: bool = False  # a symlink (to a file) rather than the file itself


@dataclass
class Walk:
    entries: list[Entry] = field(default_factory=list)
    problems: list[tuple[Path, str]] = field(default_factory=list)  # (path, why), e.g. "Permission denied"

    @property
    def files(self) -> list[Entry]:
        return [e for e in self.entries if not e.is_dir]


def not_regular(mode: int) -> str:
    """Why a file of this mode is not read as one: what it is instead."""
    kind = (
        "a named pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file"
    )
    return f"not a regular file ({kind})"


def _hidden(name: str) -> bool:
    return name.startswith(".")


def walk(
    root: Path,
    *,
    hidden_dirs: bool = False,
    hidden_files: bool = False,
    gitignore: bool = False,
    skip_dirs: Collection[str] = (),
    descend: Callable[[str], bool] | None = None,
    dirs: bool = False,
    follow_links: bool = False,
) -> Walk:
    """Every file below `root` (a directory).

    hidden_dirs, hidden_files: enter directories / list files whose name starts with '.'.
    gitignore: leave out what the .gitignore files from the repository's top down say.
    skip_dirs: directory names never entered. descend(rel): whether to enter a directory.
    dirs: list directories too. follow_links: enter symlinked directories (each real one once).
    """
    out = Walk()
    ignores = GitIgnores(root) if gitignore else None
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        here, rel_here = stack.pop()
        try:
            if follow_links:
                st = here.stat()
                if (st.st_dev, st.st_ino) in seen:
                    continue  # a symlink back to where the walk has been
                seen.add((st.st_dev, st.st_ino))
            with os.scandir(here) as listing:
                children = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            out.problems.append((here, exc.strerror or str(exc)))
            continue
        if ignores is not None:
            ignores.add(here)
        below = []
        for child in children:
            rel = f"{rel_here}/{child.name}" if rel_here else child.name
            path = here / child.name
            try:
                is_dir = child.is_dir(follow_symlinks=follow_links)
            except OSError:
                is_dir = False
            if is_dir:
                if (_hidden(child.name) and not hidden_dirs) or child.name in skip_dirs:
                    continue
                if ignores is not None and ignores.ignored(path, is_dir=True):
                    continue
                if dirs:
                    out.entries.append(Entry(path, rel, 0, is_dir=True))
                if descend is None or descend(rel):
                    below.append((path, rel))
                continue
            if child.is_symlink() and not follow_links and child.is_dir():
                continue  # a symlinked directory, not followed
            if (_hidden(child.name) and not hidden_files) or (ignores is not None and ignores.ignored(path, is_dir=False)):
                continue
            try:
                st = child.stat()
            except OSError as exc:
                out.problems.append((path, exc.strerror or str(exc)))
                continue
            if stat.S_ISREG(st.st_mode):
                out.entries.append(Entry(path, rel, st.st_size, link=child.is_symlink()))
            else:
                out.problems.append((path, not_regular(st.st_mode)))
        stack.extend(reversed(below))
    return out


class GitIgnores:
    """The .gitignore files that apply below a walk root, from the repository root down."""

    def __init__(self, root: Path) -> None:
        self.specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
        root = root.absolute()
        top = next((p for p in [root, *root.parents] if (p / ".git").exists()), root)
        parts = root.relative_to(top).parts
        for k in range(len(parts) + 1):
            self.add(top.joinpath(*parts[:k]))

    def add(self, directory: Path) -> None:
        import pathspec

        directory = directory.absolute()
        ignore = directory / ".gitignore"
        if ignore.is_file() and all(base != directory for base, _ in self.specs):
            lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
            self.specs.append((directory, pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        # Deeper .gitignore files come later and win, as in git.
        path = path.absolute()
        verdict = False
        for base, spec in self.specs:
            if base not in path.parents:
                continue
            rel = path.relative_to(base).as_posix()
            result = spec.check_file(rel + "/" if is_dir else rel)
            if result.include is not None:
                verdict = result.include
        return verdict


def glob(pattern: str) -> list[str]:
    """The paths a shell-style glob names, as Python's `glob.glob(pattern, recursive=True)`
    gives them (same strings, same order; names starting with '.' only where the pattern says
    so), found by one walk that enters each directory once: a symlink loop ends."""
    from tokopt.inputs.globs import Glob, has_glob

    pattern = os.path.expanduser(pattern)
    parts = pattern.split("/")
    fixed = 0
    while fixed < len(parts) and not has_glob(parts[fixed]):
        fixed += 1
    base = "/".join(parts[:fixed]) or ("/" if pattern.startswith("/") else "")
    rest = [p for p in parts[fixed:] if p]
    if not rest:
        return [pattern] if os.path.lexists(pattern) else []
    dirs_only = pattern.endswith("/")
    try:
        matcher = Glob("/".join(rest))
        head = Glob("/".join(rest[:-1])) if rest[-1] == "**" and len(rest) > 1 else None
    except ValueError:
        return []  # an unclosed '[' and friends name no file
    root = Path(base) if base else Path(".")
    # `dir/**` names dir/ too
    zero = rest == ["**"] and bool(base) and (os.path.isdir(base) if dirs_only else os.path.lexists(base))
    if not root.is_dir():
        return [prefix_of(base)] if zero else []
    found = walk(
        root,
        hidden_dirs=True,
        hidden_files=True,
        follow_links=True,
        dirs=True,
        descend=lambda rel: matcher.could_match_below(rel, hidden=False),
    )
    prefix = prefix_of(base)
    out = [prefix] if zero else []
    # a trailing `**` may stand for nothing: what the rest names is named too, with a '/'
    # (Python's glob does so for anything a literal last name matches, directory or not)
    literal_head = len(rest) > 1 and not has_glob(rest[-2])
    for entry in found.entries:
        if dirs_only and not entry.is_dir:
            continue
        if matcher.matches(entry.rel, hidden=False):
            out.append(prefix + entry.rel + ("/" if dirs_only else ""))
        if head is not None and (entry.is_dir or literal_head) and head.matches(entry.rel, hidden=False):
            out.append(prefix + entry.rel + "/")
    return sorted(set(out))


def prefix_of(base: str) -> str:
    return base if not base or base.endswith("/") else base + "/"
