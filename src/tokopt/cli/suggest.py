"""`tokopt suggest`: measured ways to pay less for prompts, request files and conversations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tokopt.cli._common import (
    AtOption,
    TierOption,
    complete_model,
    parse_calls,
    EncodingErrorsChoice,
    EncodingErrorsOption,
    FormatOption,
    InputFormatChoice,
    InputFormatOption,
    OutputFormat,
    PathsArgument,
    PricingOption,
    emit,
    load_catalog,
    load_user_config,
    note,
    expand_inputs,
    TextOption,
    MaxInputSizeOption,
    spool,
)

CandidatesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "-m",
        metavar="MODEL",
        autocompletion=complete_model,
        help="Where to look for a cheaper model: ids, aliases or globs (repeatable), whatever their provider. \\[default: the models of the same provider and tier]",
        show_default=False,
    ),
]
AnyProviderOption = Annotated[
    bool,
    typer.Option("--any-provider", help="Look for a cheaper model among every provider's current models, one tier down included (as a trade-off)."),
]
TargetModelOption = Annotated[
    str | None,
    typer.Option(
        "--target-model",
        "-t",
        metavar="MODEL",
        autocompletion=complete_model,
        help="The model the calls use today. \\[default: the request's model, or your config's first model; else required]",
        show_default=False,
    ),
]
OutputTokensOption = Annotated[
    int | None,
    typer.Option("--output-tokens", "-o", min=0, help="Expected completion tokens per call. \\[default: the request's max_tokens, 500, or your config]", show_default=False),
]
CallsOption = Annotated[
    int | None,
    typer.Option(
        "--calls",
        "-n",
        parser=parse_calls,
        metavar="N",
        help="Project the savings over this many calls: 50000, 50k, 1.5M. \\[default: 1000, or your config]",
        show_default=False,
    ),
]
WriteOption = Annotated[
    Path | None,
    typer.Option("--write", "-w", help="Write the prompt with the exact rewrites (formatting, duplicates) applied to this file.", show_default=False),
]


def suggest_command(
    paths: PathsArgument = None,
    *,
    model: CandidatesOption = None,
    any_provider: AnyProviderOption = False,
    target_model: TargetModelOption = None,
    output_tokens: OutputTokensOption = None,
    calls: CallsOption = None,
    write: WriteOption = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print what --write changes (a unified diff: '-' lines are removed) instead of the suggestions.")
    ] = False,
    output_format: FormatOption = OutputFormat.table,
    pricing: PricingOption = None,
    at: AtOption = None,
    tier: TierOption = None,
    encoding_errors: EncodingErrorsOption = EncodingErrorsChoice.strict,
    input_format: InputFormatOption = InputFormatChoice.auto,
    text: TextOption = None,
    max_input_size: MaxInputSizeOption = None,
) -> None:
    """Suggest concrete ways to pay less, each with the tokens and dollars it saves.

    Fixes to the prompt and the request come first (whitespace and formatting, duplicated
    paragraphs, prompt caching, the batch API, output length, conversation growth, the
    long-context tier), then cheaper models of the same provider and tier (--any-provider: any).
    Savings are per call and for --calls N; "estimated" ones print their assumption.
    """
    from tokopt import optimize
    from tokopt.render import suggest as view

    catalog = load_catalog(pricing, at=at, tier=tier)
    options = optimize.Options.resolve(
        load_user_config(catalog).defaults,
        target=target_model,
        candidates=model or (),
        any_provider=any_provider,
        output_tokens=output_tokens,
        calls=calls,
        input_format=input_format.value,
        errors=encoding_errors.value,
    )
    expansion = expand_inputs(paths, text)
    for skipped in expansion.skipped:
        note(f"skipped {skipped}")
    with spool(expansion.sources, max_input_size) as sources:
        work, settings = optimize.prepare(sources, catalog, options)
        report = optimize.suggest(work, settings, inputs=[s.label for s in sources])
        written = optimize.write_rewritten(work, sources, write, settings.model) if write is not None else None
        changes = optimize.rewrite_diff(work) if diff else None
    if written is not None:
        note(f"wrote {written.path}: {written.tokens_before:,} → {written.tokens_after:,} {written.encoding} tokens")

    if changes is not None:
        from tokopt.render.escape import visible

        if not changes:
            note("--write would change nothing: no exact rewrite applies")
        sys.stdout.write(visible(changes, keep="\n\t"))  # prompt text: shown, never acted on
        return

    def document() -> dict[str, Any]:
        doc = view.document(report)
        if written is not None:
            doc["write"] = written.model_dump()
        return doc

    emit(output_format, document=document, rows=lambda: view.csv_rows(report), grids=lambda: view.grids(report), columns=view.COLUMNS)

