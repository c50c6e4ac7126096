"""Where coding agents keep their logs, and which of those places hold any.

Each format that is an agent's says where its logs live (`Importer.places`): a directory, the
environment variable that chose it (or "default"), and which files below it are logs. This
walks each place with the one directory walker (`inputs.walk`), following symlinks once and
passing hidden names over, and names what it could not read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokopt.inputs.walk import Entry, walk
from tokopt.ledger.importers.base import Importer, Place


@dataclass
class Found:
    """One place looked in: whether it exists, its log files, and what could not be read."""

    place: Place
    exists: bool
    files: list[Entry] = field(default_factory=list)
    problems: list[tuple[Path, str]] = field(default_factory=list)
    same_as: Path | None = None  # another place that is the same directory (a symlink): not read twice

    @property
    def bytes(self) -> int:
        return sum(e.size for e in self.files)


def places(formats: Sequence[type[Importer]], env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Place]:
    """Every place the formats name, in their order."""
    environ = os.environ if env is None else env
    where = Path.home() if home is None else home
    return [p for fmt in formats for p in fmt.places(environ, where)]


def discover(formats: Sequence[type[Importer]], env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Found]:
    """Look in every place: its log files, in the walker's order."""
    found: list[Found] = []
    seen: dict[tuple[int, int], Path] = {}
    for place in places(formats, env, home):
        try:
            st = place.path.stat()
        except OSError:
            found.append(Found(place, exists=False))
            continue
        if not place.path.is_dir():
            found.append(Found(place, exists=False, problems=[(place.path, "not a directory")]))
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            found.append(Found(place, exists=True, same_as=seen[ident]))
            continue
        seen[ident] = place.path
        walked = walk(place.path, follow_links=True)
        logs = [e for e in walked.files if place.select(e.rel)]
        found.append(Found(place, exists=True, files=logs, problems=walked.problems))
    return found
