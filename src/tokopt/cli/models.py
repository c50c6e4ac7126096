"""`tokopt models`: the pricing catalog."""

from __future__ import annotations

from typing import Annotated

import typer

from tokopt.cli._common import FormatOption, OutputFormat, PricingOption, emit, load_catalog, complete_model


def models_command(
    patterns: Annotated[
        list[str] | None,
        typer.Argument(
            help="Model ids, aliases, hosted ids or globs such as 'gpt-5*' (default: the listed models).",
            show_default=False,
            autocompletion=complete_model,
        ),
    ] = None,
    *,
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", "-p", help="Only models of this provider or host (repeatable).", show_default=False),
    ] = None,
    host: Annotated[
        list[str] | None,
        typer.Option("--host", help="Only models a host prices itself: bedrock, vertex_ai, azure, openrouter, groq, ... (repeatable).", show_default=False),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every model of every provider and host, not only the listed ones.")] = False,
    defaults_only: Annotated[bool, typer.Option("--defaults", help="Only the models `estimate` prices by default.")] = False,
    output_format: FormatOption = OutputFormat.table,
    pricing: PricingOption = None,
) -> None:
    """List the models tokopt prices: prices per 1M tokens, context, tokenizer, date."""
    from tokopt import pricing as pricing_mod
    from tokopt.render import catalog as view

    catalog = load_catalog(pricing)
    chosen = pricing_mod.listing(catalog, patterns or [], providers=provider or [], hosts=host or [], every=every, defaults_only=defaults_only)
    status = pricing_mod.data_status(catalog)
    emit(
        output_format,
        document=lambda: view.document(chosen, status.as_dict()),
        rows=lambda: [view.csv_row(m) for m in chosen],
        grids=lambda: [view.grid(chosen, view.data_notes(status.label, status.as_of, status.age_days, status.stale))],
    )
