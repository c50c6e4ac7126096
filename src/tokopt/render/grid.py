"""A table described once, in plain data, then drawn by rich (`table.py`) or as Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

Justify = Literal["left", "right", "center"]
# A cell is its text, or (text, rich style) where the style matters to people at a terminal.
Cell = Union[str, tuple[str, str]]


@dataclass
class Column:
    header: str
    justify: Justify = "left"
    no_wrap: bool = True
    min_width: int | None = None
    max_width: int | None = None
    style: str | None = None
    # On a narrow terminal the columns with the lowest priority are left out first (0: never).
    drop_priority: int = 0


@dataclass
class Grid:
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    footer: list[Cell] | None = None  # a total row, drawn apart from the others
    compact: Grid | None = None  # the same in fewer characters (counts abbreviated), for a narrow terminal
    # columns whose drop_priority is at most this go before the compact form is used
    drop_before_compact: int = 0

    def add(self, *cells: Cell) -> None:
        self.rows.append(list(cells))


def text_of(cell: Cell) -> str:
    return cell[0] if isinstance(cell, tuple) else cell


def to_markdown(grid: Grid) -> str:
    from tokopt.render.escape import Markup, markdown
    from tokopt.render.machine import to_markdown as md

    rows: list[list[str]] = [[text_of(c) for c in row] for row in grid.rows]
    if grid.footer is not None:
        rows.append([Markup(f"**{markdown(text_of(c))}**") if text_of(c) else "" for c in grid.footer])
    return md(
        [c.header for c in grid.columns],
        rows,
        align_right=[i for i, c in enumerate(grid.columns) if c.justify == "right"],
        title=f"### {markdown(grid.title)}" if grid.title else None,
        footer=grid.notes,
    )
