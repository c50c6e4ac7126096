"""`tokopt prices`: the price data in use, and updating it (the one command that uses the network)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tokopt.cli._common import FormatOption, OutputFormat, emit, load_catalog, note

prices_app = typer.Typer(help="The price data in use: status, update (fetches), rollback.", no_args_is_help=True)

OfflineOption = Annotated[
    bool,
    typer.Option("--offline", help="Forbid the network: only --file can update. \\[env var: TOKOPT_OFFLINE=1]"),
]


def prices_status(*, output_format: FormatOption = OutputFormat.table) -> None:
    """Name the price data in use, its date and its age."""
    from tokopt import pricing
    from tokopt.pricing import store
    from tokopt.render import catalog as view

    status = pricing.data_status(load_catalog(None))
    back = store.can_roll_back()
    emit(
        output_format,
        document=lambda: view.status_document(status, back),
        rows=lambda: [view.status_document(status, back)],
        grids=lambda: [view.status_grid(status, back)],
    )


def prices_update(
    *,
    url: Annotated[str | None, typer.Option("--url", help="Fetch from this mirror instead of genai-prices' own URL.", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Install a copy of genai-prices' data from this file (no network).", show_default=False)] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Install without asking.")] = False,
    offline: OfflineOption = False,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Fetch genai-prices' newest data, verify it, show what changes, and install it."""
    from tokopt import paths
    from tokopt.errors import InputError
    from tokopt.pricing import update
    from tokopt.render import catalog as view

    if url and file:
        raise InputError("--url and --file: choose one")
    catalog = load_catalog(None)
    fetched = update.fetch(url=url, file=file, offline=offline or paths.offline())
    candidate = update.verify(fetched, catalog.upstream, catalog._now())
    emit(
        output_format,
        document=lambda: view.diff_document(candidate),
        rows=lambda: view.diff_rows(candidate),
        grids=lambda: [view.diff_grid(candidate)],
    )
    if candidate.sha256 == catalog.data.sha256:
        note("this data is already in use: nothing installed")
        return
    if not yes:
        try:
            answer = typer.confirm("install this price data?", default=False, err=True)
        except typer.Abort:  # no answer: standard input closed or empty
            sys.stderr.write("\n")
            raise InputError("no answer to the question: nothing installed", hint="pass --yes to install without asking") from None
        if not answer:
            note("kept the price data in use: nothing installed")
            return
    installed = update.install(candidate)
    note(f"installed {installed.label}; `tokopt prices rollback` returns to the data in use before")


def prices_rollback() -> None:
    """Go back to the price data in use before the last update."""
    from tokopt.pricing import update

    found = update.rollback()
    note(f"now in use: {found.label if found is not None else 'the bundled genai-prices data'}")
