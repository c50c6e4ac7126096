"""`tokopt session push|pull|export`: ledgers merged across machines, and exports for other tools."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from tokopt.cli._common import FormatOption, LedgerOption, OutputFormat, SinceOption, UntilOption, UserOption, check_when, emit, note, warn

AllUsersOption = Annotated[bool, typer.Option("--all-users", help="Every user's records, not only yours.")]
MergeSinceOption = Annotated[str | None, typer.Option("--since", callback=check_when, help="Only records from this date (YYYY-MM-DD) or time on.", show_default=False)]
TimezoneOption = Annotated[str, typer.Option("--timezone", "--tz", help="Zone for dates: an IANA name, UTC, or local.")]
FullOption = Annotated[bool, typer.Option("--full", help="Send every record in scope again, not only those changed since the last push.")]


class ExportFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    focus = "focus"


def _merge(source: str | None, target: str, *, user: str | None, all_users: bool, since: str | None, timezone: str, full: bool, output_format: OutputFormat) -> None:
    from tokopt import paths
    from tokopt.ledger import sync
    from tokopt.render import sync as view

    result, notices = sync.merge_command(source or paths.default_ledger(), target, user=user, all_users=all_users, since=since, timezone=timezone, full=full)
    for message in notices:
        note(message)
    emit(
        output_format,
        document=lambda: view.merge_document(result),
        rows=lambda: view.merge_rows(result),
        grids=lambda: [view.merge_grid(result)],
        columns=view.MERGE_COLUMNS,
    )


def session_push(
    *,
    to: Annotated[str, typer.Option("--to", help="The ledger to push to: a postgresql:// URL or a file.", show_default=False)],
    since: MergeSinceOption = None,
    all_users: AllUsersOption = False,
    full: FullOption = False,
    timezone: TimezoneOption = "local",
    user: UserOption = None,
    ledger: LedgerOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Push your records (and their runs) from this ledger to another, e.g. the team's database.

    Safe to repeat and to interrupt: a record already there is one record, each batch is
    committed with how far the push got, and the next push goes on from there.
    """
    _merge(ledger, to, user=user, all_users=all_users, since=since, timezone=timezone, full=full, output_format=output_format)


def session_pull(
    *,
    source: Annotated[str, typer.Option("--from", help="The ledger to pull from: a postgresql:// URL or a file.", show_default=False)],
    since: MergeSinceOption = None,
    all_users: AllUsersOption = False,
    full: FullOption = False,
    timezone: TimezoneOption = "local",
    user: UserOption = None,
    ledger: LedgerOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Pull your records (and their runs) from another ledger into this one."""
    from tokopt import paths

    _merge(source, ledger or paths.default_ledger(), user=user, all_users=all_users, since=since, timezone=timezone, full=full, output_format=output_format)


def session_export(
    *,
    export_format: Annotated[ExportFormat, typer.Option("--format", "-f", help="csv (one row per record), parquet, or focus (FinOps FOCUS 1.3, as CSV).")] = ExportFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (needed for parquet). \\[default: stdout]", show_default=False)] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    timezone: TimezoneOption = "local",
    run: Annotated[str | None, typer.Option("--run", "-r", help="Only this run (id or name).", show_default=False)] = None,
    all_users: AllUsersOption = False,
    user: UserOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Export recorded usage, one row per record, for DuckDB, pandas, warehouses and FinOps tools.

    Costs add up to `session report`'s total exactly. FOCUS leaves out records without a known
    price (FOCUS costs are never empty, and tokopt never shows an unknown price as $0).
    """
    from tokopt import paths
    from tokopt.ledger import export

    summary = export.export_command(
        ledger or paths.default_ledger(), export_format.value, output, sys.stdout,
        user=user, all_users=all_users, run=run, since=since, until=until, timezone=timezone,
    )  # fmt: skip
    where = f" to {summary.output}" if summary.output else ""
    note(f"exported {summary.records:,} records{where} ({summary.format}), ${summary.cost_usd} in all")
    if summary.unpriced_records:
        left = "left out of it" if summary.format == "focus" else "exported without a cost"
        warn(f"{summary.unpriced_records:,} records have no known price: {left}")
