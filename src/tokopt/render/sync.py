"""Views of `session push` / `pull` results (merging ledgers)."""

from __future__ import annotations

from typing import Any

from tokopt import __version__
from tokopt.ledger.sync import MergeResult
from tokopt.render import fmt
from tokopt.render.grid import Column, Grid

MERGE_COLUMNS = ["source", "target", "records", "added", "updated", "unchanged", "runs_added", "resumed_after", "position"]


def merge_grid(result: MergeResult) -> Grid:
    who = "every user's records" if result.user is None else f"{result.user}'s records"
    since = f" since {result.since.isoformat()}" if result.since else ""
    grid = Grid(
        title=f"{who}{since}: {result.source} → {result.target}",
        columns=[
            Column("Sent", justify="right", style="bold"),
            Column("Added", justify="right"),
            Column("Updated", justify="right"),
            Column("Already there", justify="right"),
            Column("Runs added", justify="right"),
        ],
    )
    grid.add(fmt.count(result.records), fmt.count(result.added), fmt.count(result.updated), fmt.count(result.unchanged), fmt.count(result.runs_added))
    if result.resumed_after and not result.records:
        grid.notes.append("nothing changed since the last push of these records")
    elif result.resumed_after:
        grid.notes.append(f"sent what changed after change {result.resumed_after:,}, where the last push of these records stopped")
    grid.notes.append("a record already there stays unless the one sent is larger, or priced with newer price data")
    return grid


def merge_rows(result: MergeResult) -> list[dict[str, Any]]:
    return [{name: getattr(result, name) for name in MERGE_COLUMNS}]


def merge_document(result: MergeResult) -> dict[str, Any]:
    return {
        "tokopt_version": __version__,
        **{name: getattr(result, name) for name in MERGE_COLUMNS},
        "user": result.user,
        "since": result.since.isoformat() if result.since else None,
        "batches": result.batches,
    }
