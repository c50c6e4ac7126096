"""`tokopt session sources` and `tokopt session blocks`: where coding agents keep their logs,
and the 5-hour blocks their usage falls in."""

from __future__ import annotations

from typing import Annotated

import typer

from tokopt.cli._common import (
    AgentFilter,
    BranchFilter,
    FormatOption,
    LedgerOption,
    ModelFilter,
    OutputFormat,
    ProjectFilter,
    ProviderFilter,
    SinceOption,
    TimezoneOption,
    UntilOption,
    UserOption,
    emit,
    note,
)


def session_sources(
    *,
    files: Annotated[bool, typer.Option("--files", help="List every log file found (with --format json).")] = False,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """List where coding agents keep their logs, what was found there, and what an import reads.

    Claude Code: $CLAUDE_CONFIG_DIR (comma-separated), else ~/.config/claude and ~/.claude.
    Codex: $CODEX_HOME, else ~/.codex. Gemini CLI: $GEMINI_CLI_HOME/.gemini, else ~/.gemini.
    OpenCode and Amp: $XDG_DATA_HOME, else ~/.local/share.
    """
    from tokopt.ledger import importers
    from tokopt.render import sources as view

    found = importers.discover()
    emit(
        output_format,
        document=lambda: view.sources_document(found, list_files=files),
        rows=lambda: view.sources_rows(found),
        grids=lambda: [view.sources_grid(found)],
        columns=view.SOURCE_COLUMNS,
    )


def session_blocks(
    *,
    since: SinceOption = None,
    until: UntilOption = None,
    active: Annotated[bool, typer.Option("--active", help="Only the block open now.")] = False,
    token_limit: Annotated[
        str | None,
        typer.Option("--token-limit", help="Mark blocks over this many tokens; max: the most a finished block used.", show_default=False),
    ] = None,
    timezone: TimezoneOption = "local",
    model: ModelFilter = None,
    provider: ProviderFilter = None,
    agent: AgentFilter = None,
    project: ProjectFilter = None,
    branch: BranchFilter = None,
    chart: Annotated[bool, typer.Option("--chart", help="Draw the cost of each block as a bar (table format).")] = False,
    user: UserOption = None,
    ledger: LedgerOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Show usage in 5-hour blocks, the windows subscription plans meter: tokens, cost, burn
    rate, and for the block open now, the time left and a projection to its end."""
    import dataclasses

    from tokopt.errors import InputError
    from tokopt.ledger import Ledger
    from tokopt.render import blocks as view

    limit = _token_limit(token_limit)
    if chart and output_format is not OutputFormat.table:
        raise InputError("--chart draws for people: it goes with the table format", hint="leave out --format, or --chart")
    match = {"models": model or [], "providers": provider or [], "agents": agent or [], "projects": project or [], "branches": branch or []}
    with Ledger(ledger, user=user) as book:
        report = book.blocks(since=since, until=until, timezone=timezone, token_limit=limit, **match)
        for message in book.notices:
            note(message)
    if active:
        report = dataclasses.replace(report, blocks=[b for b in report.blocks if b.active])
    if chart:
        from tokopt.cli._common import stdout_console
        from tokopt.render.chart import print_chart

        print_chart(stdout_console(), "Cost per 5-hour block", view.blocks_bars(report), notes=view.blocks_notes(report))
        return
    emit(
        output_format,
        document=lambda: view.blocks_document(report),
        rows=lambda: view.blocks_rows(report),
        grids=lambda: [view.blocks_grid(report)],
        columns=view.BLOCK_COLUMNS,
    )


def _token_limit(value: str | None) -> int | str | None:
    from tokopt.errors import InputError

    if value is None or value.strip().lower() == "max":
        return None if value is None else "max"
    try:
        limit = int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise InputError(f"--token-limit takes a number of tokens or max, got: {value}") from None
    if limit <= 0:
        raise InputError(f"--token-limit must be more than 0, got: {value}")
    return limit

