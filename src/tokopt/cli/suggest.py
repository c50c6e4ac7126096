"""`tokopt suggest`: measured ways to pay less for prompts, request files and conversations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokopt.cli._common import EncodingErrorsChoice, FormatOption, OutputFormat, PricingOption, emit, load_catalog, load_user_config, note
if TYPE_CHECKING:
    from tokopt import optimize
    from tokopt.pricing import Catalog

from tokopt.cli.estimate import EncodingErrorsOption, InputFormatChoice, InputFormatOption, PathsArgument, resolve_paths


def suggest_command(
    paths: PathsArgument = None,
    *,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Where to look for a cheaper model: ids, aliases or globs (repeatable). \\[default: the whole catalog]", show_default=False),
    ] = None,
    target_model: Annotated[
        str | None,
        typer.Option("--target-model", "-t", help="The model the calls use today. \\[default: the request's model, or your first configured model]", show_default=False),
    ] = None,
    output_tokens: Annotated[
        int | None,
        typer.Option("--output-tokens", "-o", min=0, help="Expected completion tokens per call. \\[default: the request's max_tokens, 500, or your config]", show_default=False),
    ] = None,
    calls: Annotated[
        int | None,
        typer.Option("--calls", "-n", min=1, help="Project the savings over this many calls. \\[default: 1000, or your config]", show_default=False),
    ] = None,
    write: Annotated[
        Path | None,
        typer.Option("--write", "-w", help="Write the prompt with the exact rewrites (formatting, duplicates) applied to this file.", show_default=False),
    ] = None,
    output_format: FormatOption = OutputFormat.table,
    pricing: PricingOption = None,
    encoding_errors: EncodingErrorsOption = EncodingErrorsChoice.strict,
    input_format: InputFormatOption = InputFormatChoice.auto,
) -> None:
    """Suggest concrete ways to pay less, each with the tokens and dollars it saves.

    Rules: a cheaper model that fits, prompt caching, the batch API, whitespace and formatting,
    duplicated paragraphs, conversation growth, output length, and the long-context tier.
    Savings are per call and for --calls N; "estimated" ones print their assumption.
    """
    from tokopt import inputs, optimize
    from tokopt.inputs import formats
    from tokopt.render import suggest as view

    catalog = load_catalog(pricing)
    options = suggest_options(target_model, model, output_tokens, calls, input_format, encoding_errors, keep_going=False, catalog=catalog)
    expansion = inputs.expand(resolve_paths(paths))
    for skipped in expansion.skipped:
        note(f"skipped {skipped}")
    with formats.spooled(expansion.sources) as sources:
        work, settings = optimize.prepare(sources, catalog, options)
        report = optimize.suggest(work, settings, inputs=[s.label for s in sources])
        written = optimize.write_rewritten(work, sources, write, settings.model) if write is not None else None
    if written is not None:
        note(f"wrote {written.path}: {written.tokens_before:,} → {written.tokens_after:,} {written.encoding} tokens")

    def document() -> dict[str, Any]:
        doc = view.document(report)
        if written is not None:
            doc["write"] = written.model_dump()
        return doc

    emit(output_format, document=document, rows=lambda: view.csv_rows(report), grids=lambda: view.grids(report), columns=view.COLUMNS)


def suggest_options(
    target_model: str | None,
    model: list[str] | None,
    output_tokens: int | None,
    calls: int | None,
    input_format: InputFormatChoice,
    encoding_errors: EncodingErrorsChoice,
    keep_going: bool,
    *,
    catalog: Catalog | None = None,
) -> optimize.Options:
    """The core's options from the command line and the user's config."""
    from tokopt import config, optimize

    defaults = load_user_config(catalog).defaults
    return optimize.Options(
        target=target_model,
        candidates=model or (),
        config_models=defaults.models or (),
        output_tokens=output_tokens,
        default_output=defaults.output_tokens if defaults.output_tokens is not None else config.DEFAULT_OUTPUT_TOKENS,
        default_output_from="config" if defaults.output_tokens is not None else "default",
        calls=calls or defaults.calls or config.DEFAULT_CALLS,
        input_format=input_format.value,
        errors=encoding_errors.value,
        keep_going=keep_going,
    )
