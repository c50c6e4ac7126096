"""Globs over relative POSIX paths, with git's wildcard rules (pathspec's gitignore patterns).

`*`, `?` and `[...]` match within one path segment and never a `/`; `**` as a whole segment
is any number of directories (`a/**/b`), and at the end everything below (`a/**`). A glob is
anchored at the directory it is relative to and matches a file by its own path, never because
a directory above it matches: `prompts/*` is the files directly in prompts/, as `ls` sees it,
not everything below as a .gitignore line would mean. Any bytes a name holds (a newline, a
trailing space) are matched as they are.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Sequence

GLOB_CHARS = frozenset("*?[")  # what makes a path, a model name or a budget's path a pattern
ANY_DIRS = "**"


def has_glob(text: str) -> bool:
    return not GLOB_CHARS.isdisjoint(text)


ESCAPED_BACKSLASH = "[\\]"  # a class of one backslash: the only way a glob holds one


def escape(path: str) -> str:
    """A glob that matches exactly this path."""
    return "".join(f"[{c}]" if c in GLOB_CHARS or c == "\\" else c for c in path)


def literal_prefix(pattern: str) -> str:
    """The directories before a pattern's first wildcard: where a walk for it starts."""
    fixed = []
    for segment in pattern.split("/")[:-1]:
        if has_glob(segment):
            break
        fixed.append(segment)
    return "/".join(fixed)


def check(pattern: str) -> str:
    """A relative glob, normalised (`./` dropped); ValueError says what is wrong."""
    if not pattern or not pattern.strip():
        raise ValueError("bad glob: empty")
    if "\\" in pattern.replace(ESCAPED_BACKSLASH, ""):
        raise ValueError(f"bad glob {pattern!r}: use / to separate directories")
    if pattern.startswith("/") or re.match(r"^[A-Za-z]:", pattern):
        raise ValueError(f"bad glob {pattern!r}: must be relative to the config file's directory")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    for segment in pattern.rstrip("/").split("/"):
        if segment in ("", "."):
            raise ValueError(f"bad glob {pattern!r}: empty path segment")
        if segment == "..":
            raise ValueError(f"bad glob {pattern!r}: '..' leaves the project")
        if ANY_DIRS in segment and segment != ANY_DIRS:
            raise ValueError(f"bad glob {pattern!r}: '**' must be a whole path segment, as in 'a/**/*.md'")
    pattern = pattern.rstrip("/")
    compile(pattern)  # an unclosed '[' and friends
    return pattern


class Glob:
    """A compiled glob over relative POSIX paths.

    With `hidden=False` a name starting with '.' is matched only by a segment that starts with
    '.' too, never by `**`, as a shell and Python's glob match them."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        segments = pattern.split("/")
        if segments[-1] == ANY_DIRS:
            segments.append("*")  # everything below: at least one more segment
        self._segments = [(s, None if s == ANY_DIRS else _segment(s, pattern)) for s in segments]

    def __repr__(self) -> str:
        return f"Glob({self.pattern!r})"

    def matches(self, path: str, *, hidden: bool = True) -> bool:
        """Whether the pattern matches this whole path."""
        return len(self._segments) in self._states(path, hidden)

    def could_match_below(self, directory: str, *, hidden: bool = True) -> bool:
        """Whether a path below this directory could match (so that a walk enters it)."""
        return any(i < len(self._segments) for i in self._states(directory, hidden))

    def _states(self, path: str, hidden: bool) -> set[int]:
        """How far into the pattern each way of matching `path` gets."""
        segments = self._segments
        end = len(segments)

        def skip_any(states: set[int]) -> set[int]:
            # `**` may stand for no directory at all
            out, todo = set(), list(states)
            while todo:
                i = todo.pop()
                if i not in out:
                    out.add(i)
                    if i < end and segments[i][1] is None:
                        todo.append(i + 1)
            return out

        states = skip_any({0})
        for part in path.split("/") if path else ():
            dot = not hidden and part.startswith(".")
            following = set()
            for i in states:
                if i == end:
                    continue
                text, regex = segments[i]
                if dot and not text.startswith("."):
                    continue
                if regex is None:
                    following.add(i)
                elif regex.fullmatch(part):
                    following.add(i + 1)
            states = skip_any(following)
            if not states:
                break
        return states


@functools.lru_cache(maxsize=1024)
def compile(pattern: str) -> Glob:  # noqa: A001 (re.compile's name, for the same job)
    return Glob(pattern)


def matches_any(globs: Sequence[Glob], path: str) -> bool:
    return any(g.matches(path) for g in globs)


def _segment(segment: str, pattern: str) -> re.Pattern[str]:
    """One path segment's wildcards, translated by pathspec."""
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    # gitignore syntax around the wildcards does not apply to a glob: a leading '#' or '!' is
    # kept by anchoring with '/', and trailing whitespace (which a .gitignore line drops) is
    # kept as one-character classes.
    bare = segment.rstrip()
    kept = "".join(f"[{c}]" for c in segment[len(bare) :])
    regex, include = GitIgnoreSpecPattern.pattern_to_regex("/" + bare + kept)
    if include is None or regex is None:
        raise ValueError(f"bad glob {pattern!r}: '[' without a closing ']', or an empty character class")
    try:
        # a segment never holds '/', so the directory mark pathspec appends can only be the end;
        # `[[]` (an escaped '[') is a valid class that re only suspects of nesting
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return re.compile(regex, re.DOTALL)
    except re.error as exc:
        raise ValueError(f"bad glob {pattern!r}: {exc.msg}") from None
