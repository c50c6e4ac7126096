"""The one line `tokopt statusline` prints for Claude Code's status bar. Plain text, no rich,
and nothing heavy imported: the status line is drawn after every message and must start fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokopt.render import fmt
from tokopt.render.escape import terminal

if TYPE_CHECKING:
    from tokopt.ledger.sqlitestatus import QuickStatus
    from tokopt.ledger.status import Status


def _cost(sums: object) -> str:
    cost = getattr(sums, "cost_usd", None)
    records = getattr(sums, "records", 0)
    unpriced = getattr(sums, "unpriced_records", 0)
    if records and cost is None:
        return "unknown"
    text = fmt.usd(cost) if cost is not None else "$0"
    return f"≥{text}" if unpriced else text


def status_line(status: Status | QuickStatus, *, model: str | None = None) -> str:
    """`opus-4-8 · today $12.34 · block $3.21 (2h 13m left) · session $1.02`"""
    parts = []
    if model:
        parts.append(terminal(fmt.short_model(model)))  # from the hook's JSON: shown, never obeyed
    parts.append(f"today {_cost(status.today)}")
    if status.block is not None:
        left = status.block_left
        parts.append(f"block {_cost(status.block.sums)} ({fmt.left_text(left)} left)" if left is not None else f"block {_cost(status.block.sums)}")
    else:
        parts.append("no block")
    if status.session is not None:
        parts.append(f"session {_cost(status.session)}")
    return " · ".join(parts)
