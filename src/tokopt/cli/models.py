"""`tokopt models`: the pricing catalog."""

from __future__ import annotations

from typing import Annotated

import typer

from tokopt.cli._common import FormatOption, OutputFormat, PricingOption, emit, load_catalog


def models_command(
    patterns: Annotated[
        list[str] | None,
        typer.Argument(help="Model ids, aliases or globs such as 'gpt-5*' (default: all).", show_default=False),
    ] = None,
    *,
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", "-p", help="Only models of this provider (repeatable).", show_default=False),
    ] = None,
    defaults_only: Annotated[bool, typer.Option("--defaults", help="Only the models `estimate` prices by default.")] = False,
    output_format: FormatOption = OutputFormat.table,
    pricing: PricingOption = None,
) -> None:
    """List the models tokopt prices: prices per 1M tokens, context, tokenizer, date."""
    from tokopt.render import catalog as view

    catalog = load_catalog(pricing)
    chosen = catalog.select(patterns or [], provider or ()) if (patterns or provider) else list(catalog)
    if defaults_only:
        chosen = [m for m in chosen if m.default]
    emit(
        output_format,
        document=lambda: view.document(chosen),
        rows=lambda: [view.row_dict(m) for m in chosen],
        grids=lambda: [view.grid(chosen)],
    )
