"""Bar charts of cost, for people who would rather look than read: one bar per period or
block, its length the cost, with the total and the peak named above. Drawn with rich."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from tokopt.render import fmt
from tokopt.render.escape import terminal

if TYPE_CHECKING:
    from rich.console import Console

_EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass(frozen=True)
class Bar:
    label: str
    cost: Decimal | None  # None: nothing in it has a price
    partial: bool = False  # some of it has no price: the cost is a lower bound
    note: str = ""  # e.g. "active"


def bar_text(value: Decimal, peak: Decimal, width: int) -> str:
    """A bar `width` cells long at `peak`, in eighths of a cell."""
    if peak <= 0 or value <= 0:
        return ""
    eighths = int(value / peak * width * 8)
    whole, part = divmod(max(eighths, 1), 8)
    return "█" * whole + (_EIGHTHS[part] if part else "")


def print_chart(console: Console, title: str, bars: Sequence[Bar], *, notes: Sequence[str] = ()) -> None:
    from rich.text import Text

    costs = [b.cost for b in bars if b.cost is not None]
    total = sum(costs, Decimal(0))
    peak_bar = max((b for b in bars if b.cost is not None), key=lambda b: b.cost or 0, default=None)
    head = Text(terminal(title), style="bold")
    if peak_bar is not None:
        head.append(f" — total {fmt.usd(total)}, peak {fmt.usd(peak_bar.cost or Decimal(0))}: {peak_bar.label}", style="bold")
    console.print(head, soft_wrap=True)
    if not bars:
        console.print(Text("nothing to chart", style="dim"))
        return
    label_width = max(len(terminal(b.label)) for b in bars)
    amounts = [("≥ " if b.partial else "") + (fmt.usd(b.cost) if b.cost is not None else "unknown") for b in bars]
    amount_width = max(len(a) for a in amounts)
    note_width = max(len(b.note) for b in bars)
    width = max(console.width - label_width - amount_width - note_width - 4, 10)
    peak = peak_bar.cost if peak_bar is not None and peak_bar.cost is not None else Decimal(0)
    for bar, amount in zip(bars, amounts):
        line = Text(terminal(bar.label).ljust(label_width) + " ")
        drawn = bar_text(bar.cost or Decimal(0), peak, width)
        line.append(drawn.ljust(width), style="yellow" if bar.partial else "cyan")
        line.append(" " + amount.rjust(amount_width), style="bold" if bar is peak_bar else "")
        if bar.note:
            line.append(" " + bar.note, style="green")
        console.print(line, soft_wrap=True, no_wrap=True, overflow="ignore")
    for note in notes:
        console.print(Text(terminal(note), style="dim"), soft_wrap=True)
