"""`tokopt session reprice`: price ledger records again with the price data in use."""

from __future__ import annotations

from typing import Annotated

import typer

from tokopt.cli._common import FormatOption, LedgerOption, OutputFormat, PricingOption, SinceOption, UntilOption, UserOption, emit, load_catalog, note


def session_reprice(
    ctx: typer.Context,
    *,
    run: Annotated[str | None, typer.Option("--run", "-r", help="Only this run (id or name).", show_default=False)] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    timezone: Annotated[str, typer.Option("--timezone", "--tz", help="Zone for dates without one: an IANA name, UTC, or local.")] = "local",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    all_users: Annotated[bool, typer.Option("--all-users", help="Every user's records, not only yours.")] = False,
    user: UserOption = None,
    ledger: LedgerOption = None,
    pricing: PricingOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Price recorded usage again with the price data in use, each record at its own time.

    Records without a price get one once it is known (after `tokopt prices update`, or with
    --pricing); the totals per model before and after are printed. All records or none are
    changed.
    """
    from tokopt.errors import InputError
    from tokopt.ledger import ALL_USERS, Ledger
    from tokopt.render import reprice as view

    if all_users and user is not None and ctx.get_parameter_source("user").name == "COMMANDLINE":  # type: ignore[union-attr]
        raise InputError("--user and --all-users do not go together")
    with Ledger(ledger, user=user, catalog=load_catalog(pricing)) as book:
        report = book.reprice(user=ALL_USERS if all_users else None, run=run, since=since, until=until, timezone=timezone, dry_run=dry_run)
        for message in book.notices:
            note(message)
    for line in view.messages(report):
        note(line)
    emit(
        output_format,
        document=lambda: view.document(report),
        rows=lambda: view.rows(report),
        grids=lambda: [view.grid(report)],
        columns=view.COLUMNS,
    )
