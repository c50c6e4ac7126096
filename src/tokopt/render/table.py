"""Rich tables for people. The only module outside cli/ that imports rich.

Every text a grid holds is escaped for the terminal here (`escape.terminal`), whoever built it.
Widths are decided here, not by rich: a number is never cut. On a narrow terminal the columns
with the lowest drop priority are left out (and named), then text columns wrap at spaces; if
even that is too wide, the table is printed wider than the terminal rather than cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokopt.render.escape import for_charset, terminal, visible
from tokopt.render.grid import Cell, Grid, text_of

if TYPE_CHECKING:
    from rich.console import Console


def _escaper(encoding: str):  # type: ignore[no-untyped-def]
    """Text for this terminal: control characters visible, and what its charset cannot show
    replaced (≈ by ~, ✓ by ok) before the columns are measured."""
    unicode = encoding.lower().replace("-", "").startswith("utf")

    def text(value: str) -> str:
        shown = terminal(value)
        return shown if unicode else for_charset(shown, encoding)

    def cell(value: Cell) -> Cell:
        return (text(value[0]), value[1]) if isinstance(value, tuple) else text(value)

    return text, cell


@dataclass
class _Measure:
    natural: int  # the widest line
    word: int  # the longest word: the narrowest it can wrap to
    number: bool  # right-aligned: a number, never narrower than its widest line


def _measure(grid: Grid) -> list[_Measure]:
    from rich.cells import cell_len

    rows = [*grid.rows, *([grid.footer] if grid.footer is not None else [])]
    out = []
    for index, col in enumerate(grid.columns):
        lines = [line for row in rows for line in text_of(row[index]).splitlines()] or [""]
        natural = max(cell_len(line) for line in [*lines, *col.header.splitlines()])  # a header may be two lines
        header_word = max((cell_len(w) for w in col.header.split()), default=0)
        if col.justify == "right":
            out.append(_Measure(max(natural, col.min_width or 0), max(header_word, *(cell_len(x) for x in lines)), True))
            continue
        word = max([header_word, *(cell_len(w) for line in lines for w in line.split())])
        out.append(_Measure(max(natural, col.min_width or 0), word, False))
    return out


def _extra(n: int) -> int:
    """The padding and divider between columns (3) and the edges (2) of a SIMPLE_HEAD table."""
    return 3 * max(0, n - 1) + 2


def _layout(grid: Grid, measures: list[_Measure], width: int) -> tuple[list[int], dict[int, int], list[str]]:
    """The columns kept (with their widths) and the headers of those left out."""
    keep = list(range(len(grid.columns)))

    def strict(i: int) -> int:
        # a no-wrap text column keeps its whole width while columns can still be dropped
        m, col = measures[i], grid.columns[i]
        return m.natural if (m.number or col.no_wrap) else max(m.word, col.min_width or 0)

    def loose(i: int) -> int:
        # a no-wrap text column wraps at spaces too, when nothing else is left; a word is
        # never broken, so no number inside one is cut either
        m, col = measures[i], grid.columns[i]
        return m.natural if m.number else max(m.word, min(m.natural, col.min_width or 0))

    droppable = sorted((c.drop_priority, -i) for i, c in enumerate(grid.columns) if c.drop_priority > 0)
    hidden = []
    while droppable and sum(strict(i) for i in keep) + _extra(len(keep)) > width:
        _, neg_index = droppable.pop(0)
        keep.remove(-neg_index)
        hidden.append(grid.columns[-neg_index].header.replace("\n", " "))  # a two-line header named on one
    floor = strict if sum(strict(i) for i in keep) + _extra(len(keep)) <= width else loose
    widths = {i: measures[i].natural for i in keep}
    excess = sum(widths.values()) + _extra(len(keep)) - width
    # narrow the widest text column first (as rich would), never below what it can wrap to
    while excess > 0:
        narrowable = [i for i in keep if widths[i] > floor(i)]
        if not narrowable:
            break
        i = max(narrowable, key=lambda k: widths[k])
        widths[i] -= 1
        excess -= 1
    return keep, widths, list(reversed(hidden))


def _ascii_simple_head():  # type: ignore[no-untyped-def]
    """SIMPLE_HEAD drawn with `-` (rich would fall back to a full grid of `+-|`)."""
    from rich.box import Box

    return Box("    \n    \n -- \n    \n    \n -- \n    \n    \n", ascii=True)


def _build(grid: Grid, keep: list[int], widths: dict[int, int], ascii_only: bool = False):  # type: ignore[no-untyped-def]
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=box.SIMPLE_HEAD if ascii_only is False else _ascii_simple_head(),
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
            width=widths[index],
            no_wrap=False,
            style=col.style,
            footer=footer,
            overflow="fold",
        )
    for row in grid.rows:
        cells = [row[i] for i in keep]
        table.add_row(*(Text(c[0], style=c[1]) if isinstance(c, tuple) else Text(c) for c in cells))
    return table


def write_lines(console: Console, renderable: object, *, width: int | None = None, wrap: bool = False) -> None:
    """Print through `console` with no trailing spaces on any line. A line of text is left
    whole (the terminal wraps it) unless `wrap`: then it wraps at the console's width, a word
    longer than a line folded, never cut. A table is drawn `width` wide when that is given,
    wider than the terminal if it must be."""
    saved = console.width
    if width is not None:
        console.width = width
    try:
        with console.capture() as capture:
            if wrap or width:
                console.print(renderable, soft_wrap=False, overflow="fold")
            else:
                console.print(renderable, soft_wrap=True)
    finally:
        console.width = saved
    text = "\n".join(line.rstrip(" ") for line in capture.get().split("\n"))
    console.file.write(text)
    console.file.flush()


def _needs_compact(grid: Grid, measures: list[_Measure], width: int, up_to: int) -> bool:
    """Whether a grid is too wide even without its columns of drop priority up to `up_to`
    (then its compact form, counts abbreviated, is drawn instead of dropping more)."""
    keep = [i for i, c in enumerate(grid.columns) if not 0 < c.drop_priority <= up_to]
    need = sum(m.natural if (m.number or grid.columns[i].no_wrap) else max(m.word, grid.columns[i].min_width or 0) for i, m in enumerate(measures) if i in keep)
    return need + _extra(len(keep)) > width


def print_grid(console: Console, grid: Grid, notes: Console | None = None) -> None:
    """Draw a grid on `console`, and its notes (and the columns left out) on `notes`. On a
    narrow terminal a grid with a compact form is drawn in that form rather than leave out
    more than its columns of priority up to `drop_before_compact`."""
    from rich.text import Text

    from dataclasses import replace

    text, cell = _escaper(console.encoding)

    def escaped(g: Grid) -> Grid:
        return Grid(
            columns=[replace(c, header="\n".join(text(line) for line in c.header.split("\n"))) for c in g.columns],  # a header's own line break kept
            rows=[[cell(c) for c in row] for row in g.rows],
            title=text(g.title) if g.title else None,
            footer=[cell(c) for c in g.footer] if g.footer is not None else None,
        )

    shown = escaped(grid)
    measures = _measure(shown)
    if grid.compact is not None and _needs_compact(shown, measures, console.width, grid.drop_before_compact):
        grid = grid.compact
        shown = escaped(grid)
        measures = _measure(shown)
    keep, widths, hidden = _layout(shown, measures, console.width)
    table_width = sum(widths.values()) + _extra(len(keep))
    if shown.title:
        write_lines(console, Text(shown.title, style="bold"), wrap=True)
    ascii_only = not console.encoding.lower().replace("-", "").startswith("utf")
    write_lines(console, _build(shown, keep, widths, ascii_only), width=max(table_width, console.width))
    notes = notes or console
    text, _ = _escaper(notes.encoding)
    for line in grid.notes:
        write_lines(notes, Text(text(line), style="dim"))
    if hidden:
        write_lines(notes, Text(f"not shown at this width: {', '.join(hidden)} (wider terminal, or --format json)", style="dim"))


def print_text(console: Console, text: str, style: str | None = None) -> None:
    """One line of text (a verdict) under a table: escaped as the table's cells are."""
    from rich.text import Text

    escape, _ = _escaper(console.encoding)
    write_lines(console, Text(escape(text), style=style or ""))


def print_token_pieces(console: Console, label: str, encoding: str, pieces: Iterable[tuple[str, int]]) -> None:
    """The text with token boundaries visible: alternating styles on a colour terminal,
    `|` between tokens elsewhere. Newlines show as `↵`, tabs as `→`, other control characters
    as escapes (`\\x1b`)."""
    from rich.text import Text

    styled = console.is_terminal and not console.no_color
    styles = ("black on rgb(200,220,255)", "black on rgb(255,225,190)")
    text = Text()
    total = 0
    at_line_start = True
    for index, (piece, n) in enumerate(pieces):
        total += n
        shown = visible(piece.replace("\t", "→").replace("\r", "␍").replace("\n", "↵\n"), keep="\n")
        if styled:
            text.append(shown, style=styles[index % 2])
        else:
            text.append(("" if at_line_start else "|") + shown)
        at_line_start = shown.endswith("\n")
    write_lines(console, Text(f"── {visible(label)} · {encoding} · {total:,} tokens", style="bold"))
    write_lines(console, text)
