"""Views of where coding agents keep their logs (`session sources`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tokopt import __version__
from tokopt.render import fmt
from tokopt.render.grid import Cell, Column, Grid
from tokopt.render.report import visible

if TYPE_CHECKING:
    from tokopt.ledger.importers import Found

SOURCE_COLUMNS = ["agent", "path", "origin", "patterns", "exists", "files", "bytes", "same_as", "problems"]


def _status(f: Found) -> Cell:
    if f.same_as is not None:
        return (f"same as {visible(str(f.same_as))}", "dim")
    if not f.exists:
        return ("not found", "dim")
    if f.problems and not f.files:
        return (f"unreadable: {visible(f.problems[0][1])}", "yellow")
    if not f.files:
        return ("no logs", "dim")
    return ("found", "green")


def sources_grid(found: Sequence[Found]) -> Grid:
    grid = Grid(
        columns=[
            Column("Agent"),
            Column("Directory", no_wrap=False, min_width=12),
            Column("From", drop_priority=3),
            Column("Logs", no_wrap=False, drop_priority=1),
            Column("Files", justify="right"),
            Column("Size", justify="right", drop_priority=2),
            Column("Status", no_wrap=False, min_width=9),  # "not found" whole
        ],
        title="Where coding agents keep their logs",
    )
    for f in found:
        grid.add(
            f.place.agent,
            visible(str(f.place.path)),
            f.place.origin,
            f.place.patterns,
            fmt.count(len(f.files)) if f.exists else "",
            _size(f.bytes) if f.files else "",
            _status(f),
        )
    files = sum(len(f.files) for f in found)
    agents = sorted({f.place.agent for f in found if f.files})
    grid.notes = [f"{files:,} log file{'s' if files != 1 else ''} of {', '.join(agents) or 'no agent'}: `tokopt session import` reads them"]
    problems = [(p, why) for f in found for p, why in f.problems]
    for path, why in problems[:5]:
        grid.notes.append(f"cannot read {visible(str(path))}: {visible(why)}")
    if len(problems) > 5:
        grid.notes.append(f"and {len(problems) - 5:,} more that cannot be read")
    return grid


def _size(n: int) -> str:
    for size, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _doc(f: Found) -> dict[str, Any]:
    return {
        "agent": f.place.agent,
        "path": str(f.place.path),
        "origin": f.place.origin,
        "patterns": f.place.patterns,
        "exists": f.exists,
        "files": len(f.files),
        "bytes": f.bytes,
        "same_as": str(f.same_as) if f.same_as is not None else None,
        "problems": [{"path": str(p), "error": why} for p, why in f.problems],
    }


def sources_rows(found: Sequence[Found]) -> list[dict[str, Any]]:
    return [{**_doc(f), "problems": len(f.problems)} for f in found]


def sources_document(found: Sequence[Found], *, list_files: bool = False) -> dict[str, Any]:
    places = []
    for f in found:
        doc = _doc(f)
        if list_files:
            doc["file_list"] = [{"path": str(e.path), "bytes": e.size} for e in f.files]
        places.append(doc)
    return {"tokopt_version": __version__, "places": places, "files": sum(len(f.files) for f in found)}
