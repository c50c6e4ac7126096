"""Rich tables for people. The only module outside cli/ that imports rich."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tokopt.render.grid import Grid, text_of

if TYPE_CHECKING:
    from rich.console import Console


def _build(grid: Grid, keep: list[int]):  # type: ignore[no-untyped-def]
    from rich import box
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=escape(grid.title) if grid.title else None,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_footer=grid.footer is not None,
        header_style="bold",
        pad_edge=False,
    )
    for index in keep:
        col = grid.columns[index]
        footer: Text | str = ""
        if grid.footer is not None:
            cell = grid.footer[index]
            footer = Text(cell[0], style=cell[1] + " bold") if isinstance(cell, tuple) else Text(cell, style="bold")
        table.add_column(
            col.header,
            justify=col.justify,
            no_wrap=col.no_wrap,
            min_width=col.min_width,
            max_width=col.max_width,
            style=col.style,
            footer=footer,
            overflow="fold",
        )
    for row in grid.rows:
        cells = [row[i] for i in keep]
        table.add_row(*(Text(c[0], style=c[1]) if isinstance(c, tuple) else Text(c) for c in cells))
    return table


def _needed_width(grid: Grid, keep: list[int]) -> int:
    """Columns at their natural width (the widest line of a no-wrap column, the longest word
    of a wrapping one), plus the padding and divider between them (3) and the edges (2)."""
    from rich.cells import cell_len

    rows = [*grid.rows, *([grid.footer] if grid.footer is not None else [])]
    total = 0
    for index in keep:
        col = grid.columns[index]
        texts = [col.header, *(text_of(row[index]) for row in rows)]
        if col.no_wrap:
            width = max(cell_len(line) for t in texts for line in t.splitlines() or [""])
        else:
            width = max(cell_len(word) for t in texts for word in t.split() or [""])
        total += max(width, col.min_width or 0)
    return total + 3 * max(0, len(keep) - 1) + 2


def print_grid(console: Console, grid: Grid) -> None:
    """Draw a grid; on a narrow terminal, leave out low-priority columns rather than mangle all."""
    from rich.text import Text

    keep = list(range(len(grid.columns)))
    droppable = sorted((c.drop_priority, -i) for i, c in enumerate(grid.columns) if c.drop_priority > 0)
    hidden = []
    while droppable and _needed_width(grid, keep) > console.width:
        _, neg_index = droppable.pop(0)
        keep.remove(-neg_index)
        hidden.append(grid.columns[-neg_index].header)
    console.print(_build(grid, keep))
    for line in grid.notes:
        console.print(Text(line, style="dim"), soft_wrap=True)
    if hidden:
        console.print(
            Text(f"not shown at this width: {', '.join(reversed(hidden))} (wider terminal, or --format json)", style="dim"),
            soft_wrap=True,
        )


def print_token_pieces(console: Console, label: str, encoding: str, pieces: Iterable[tuple[str, int]]) -> None:
    """The text with token boundaries visible: alternating styles on a colour terminal,
    `|` between tokens elsewhere. Newlines show as `↵`, tabs as `→`."""
    from rich.markup import escape
    from rich.text import Text

    styled = console.is_terminal and not console.no_color
    styles = ("black on rgb(200,220,255)", "black on rgb(255,225,190)")
    text = Text()
    total = 0
    at_line_start = True
    for index, (piece, n) in enumerate(pieces):
        total += n
        shown = piece.replace("\t", "→").replace("\r", "␍").replace("\n", "↵\n")
        if styled:
            text.append(shown, style=styles[index % 2])
        else:
            text.append(("" if at_line_start else "|") + shown)
        at_line_start = shown.endswith("\n")
    console.print(Text(f"── {escape(label)} · {encoding} · {total:,} tokens", style="bold"))
    console.print(text, soft_wrap=True)
