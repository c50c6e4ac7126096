"""`tokopt estimate`: tokens and cost of prompts on every configured model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokopt.cli._common import (
    EncodingErrorsChoice,
    EncodingErrorsOption,
    FormatOption,
    InputFormatChoice,
    InputFormatOption,
    KeepGoingOption,
    OutputFormat,
    PathsArgument,
    PricingOption,
    byte_progress,
    emit,
    load_catalog,
    load_user_config,
    note,
    resolve_paths,
    warn,
)

if TYPE_CHECKING:
    from tokopt.inputs import Source
    from tokopt.optimize import SuggestReport
    from tokopt.pricing import Catalog
    from tokopt.render.grid import Grid


class SortKey(str, Enum):
    cost = "cost"
    name = "name"
    tokens = "tokens"
    provider = "provider"


ModelOption = Annotated[
    list[str] | None,
    typer.Option("--model", "-m", help="Model id, alias or glob such as 'claude-*' (repeatable).", show_default=False),
]
ProviderOption = Annotated[
    list[str] | None,
    typer.Option("--provider", "-p", help="Only models of this provider (repeatable).", show_default=False),
]
AllOption = Annotated[bool, typer.Option("--all", help="Price every model in the catalog.")]

def estimate_command(
    paths: PathsArgument = None,
    *,
    model: ModelOption = None,
    provider: ProviderOption = None,
    all_models: AllOption = False,
    output_tokens: Annotated[
        int | None,
        typer.Option("--output-tokens", "-o", min=0, help="Expected completion tokens per call. \\[default: 500, or your config]", show_default=False),
    ] = None,
    calls: Annotated[
        int | None,
        typer.Option("--calls", "-n", min=1, help="Project the cost of this many calls. \\[default: 1000, or your config]", show_default=False),
    ] = None,
    cached_tokens: Annotated[
        int, typer.Option("--cached-tokens", min=0, help="Prompt prefix served from the provider's cache, in tokens.")
    ] = 0,
    batch: Annotated[bool, typer.Option("--batch", help="Use batch-API prices (about half, not interactive).")] = False,
    sort: Annotated[SortKey, typer.Option("--sort", help="Order of the rows.")] = SortKey.cost,
    per_file: Annotated[bool, typer.Option("--per-file", help="A breakdown for each input as well as the total.")] = False,
    output_format: FormatOption = OutputFormat.table,
    pricing: PricingOption = None,
    encoding_errors: EncodingErrorsOption = EncodingErrorsChoice.strict,
    input_format: InputFormatOption = InputFormatChoice.auto,
    by_turn: Annotated[
        bool, typer.Option("--by-turn", help="For a conversation: each turn's tokens, context, and the cost of every reply as its own call.")
    ] = False,
    keep_going: KeepGoingOption = False,
    suggest: Annotated[
        bool, typer.Option("--suggest", help="Add the top suggestions of `tokopt suggest` (a second table; a \"suggestions\" key in JSON).")
    ] = False,
) -> None:
    """Count a prompt's tokens and price one call (and N calls) on each model.

    Inputs can be plain text, chat requests (OpenAI or Anthropic JSON), JSONL files of requests
    or messages, and batch input files (priced at batch rates); a request's own model
    and max_tokens are the defaults.
    """
    from tokopt import costing, inputs, settings as settings_mod
    from tokopt.inputs import formats
    from tokopt.tokens import measure
    from tokopt.costing.report import Assumptions
    from tokopt.render import estimate as view

    catalog = load_catalog(pricing)
    chosen = settings_mod.resolve(
        load_user_config(catalog), models=model or ([m.id for m in catalog] if all_models else None), output_tokens=output_tokens, calls=calls
    )
    models = catalog.select(chosen.models.value or [m.id for m in catalog.defaults()], provider or ())
    if not models:
        from tokopt.errors import InputError

        raise InputError(f"no models left after --provider {' '.join(provider or [])}", hint="add --all or --model")

    expansion = inputs.expand(resolve_paths(paths))
    for skipped in expansion.skipped:
        note(f"skipped {skipped}")
    fmt = formats.InputFormat(input_format.value)
    out, out_from, n_calls = chosen.output_tokens.value, chosen.output_tokens.source, chosen.calls.value

    with formats.spooled(expansion.sources) as sources:
        total = None if any(s.size is None for s in sources) else sum(s.size or 0 for s in sources)
        if all(formats.sniff(s, fmt) == "text" for s in sources):
            if by_turn:
                note("--by-turn: plain text is one message; nothing to show per turn")
            encodings = sorted({m.tokenizer.encoding for m in models})
            with byte_progress(total, "counting") as on_bytes:
                counts = measure.count_sources(sources, encodings, errors=encoding_errors.value, on_bytes=on_bytes)
            assumptions = Assumptions(output_tokens=out, output_tokens_from=out_from, calls=n_calls, cached_tokens=cached_tokens, batch=batch)
            report = costing.build_report(counts, models, assumptions, sort=sort.value)
            hints = _suggestions(sources, catalog, model, output_tokens, calls, input_format, encoding_errors, keep_going) if suggest else None
            _emit(
                output_format,
                hints,
                document=lambda: view.document(report, per_file=per_file),
                rows=lambda: view.csv_rows(report, per_file=per_file),
                grids=lambda: view.grids(report, per_file=per_file),
                columns=view.COLUMNS,
            )
            return
        from tokopt.costing import pipeline

        options = pipeline.Options(
            selected=models if (model or all_models or provider) else None,
            defaults=models,
            output_tokens=output_tokens,
            default_output=out,
            default_output_from="default" if out_from == "default" else "config",
            calls=n_calls,
            cached_tokens=cached_tokens,
            batch=batch,
            by_turn=by_turn,
            keep_going=keep_going,
            input_format=fmt,
            errors=encoding_errors.value,
        )
        with byte_progress(total, "counting") as on_bytes:
            result = pipeline.estimate_inputs(sources, catalog, options, sort=sort.value, on_bytes=on_bytes)
        hints = _suggestions(sources, catalog, model, output_tokens, calls, input_format, encoding_errors, keep_going) if suggest else None
    for line in view.chat_warnings(result):
        warn(line)
    _emit(
        output_format,
        hints,
        document=lambda: view.chat_document(result, per_file=per_file),
        rows=lambda: view.chat_csv_rows(result, per_file=per_file),
        grids=lambda: view.chat_grids(result, per_file=per_file),
        columns=view.TURN_COLUMNS if result.turns else view.CHAT_COLUMNS,
    )


def _suggestions(
    sources: Sequence[Source],
    catalog: Catalog,
    model: list[str] | None,
    output_tokens: int | None,
    calls: int | None,
    input_format: InputFormatChoice,
    encoding_errors: EncodingErrorsChoice,
    keep_going: bool,
) -> SuggestReport:
    """`tokopt suggest` on the same inputs, on the first --model (or the request's or default model)."""
    from tokopt import optimize

    options = optimize.Options.resolve(
        load_user_config(catalog).defaults,
        target=catalog.select([model[0]])[0].id if model else None,
        assume=True,
        output_tokens=output_tokens,
        calls=calls,
        input_format=input_format.value,
        errors=encoding_errors.value,
        keep_going=keep_going,
    )
    work, settings = optimize.prepare(sources, catalog, options)
    return optimize.suggest(work, settings, inputs=[s.label for s in sources])


def _emit(
    output_format: OutputFormat,
    hints: SuggestReport | None,
    *,
    document: Callable[[], dict[str, Any]],
    rows: Callable[[], list[dict[str, Any]]],
    grids: Callable[[], list[Grid]],
    columns: Sequence[str],
) -> None:
    """`emit`, with the suggestions (if any) as a second table, a JSON key, or notes beside CSV."""
    if hints is None:
        emit(output_format, document=document, rows=rows, grids=grids, columns=columns)
        return
    from tokopt.render import suggest as hint_view

    if output_format is OutputFormat.csv:
        for line in hint_view.summary_lines(hints):
            note(line)
    emit(
        output_format,
        document=lambda: {**document(), "suggestions": hint_view.document(hints)},
        rows=rows,
        grids=lambda: [*grids(), hint_view.summary_grid(hints)],
        columns=columns,
    )
