"""`tokopt estimate`: tokens and cost of prompts on every configured model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokopt.cli._common import (
    AtOption,
    tier_note,
    TierOption,
    complete_model,
    parse_calls,
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
    expand_inputs,
    TextOption,
    MaxInputSizeOption,
    spool,
    warn,
)

if TYPE_CHECKING:
    from tokopt.config import UserConfig
    from tokopt.tokens.measure import AnyCounted
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
    typer.Option("--model", "-m", help="Model id, alias or glob such as 'claude-*' (repeatable).", show_default=False, autocompletion=complete_model),
]
ProviderOption = Annotated[
    list[str] | None,
    typer.Option("--provider", "-p", help="Only models of this provider (repeatable).", show_default=False),
]
AllOption = Annotated[bool, typer.Option("--all", help="Price every model in the catalog.")]

OutputTokensOption = Annotated[
    int | None,
    typer.Option("--output-tokens", "-o", min=0, help="Expected completion tokens per call. \\[default: 500, or your config]", show_default=False),
]
CallsOption = Annotated[
    int | None,
    typer.Option(
        "--calls",
        "-n",
        parser=parse_calls,
        metavar="N",
        help="Project the cost of this many calls: 50000, 50k, 1.5M. \\[default: 1000, or your config]",
        show_default=False,
    ),
]
CachedTokensOption = Annotated[int, typer.Option("--cached-tokens", min=0, help="Prompt prefix served from the provider's cache, in tokens.")]
BatchOption = Annotated[bool, typer.Option("--batch", help="Use batch-API prices (about half, not interactive).")]
SortOption = Annotated[SortKey, typer.Option("--sort", help="Order of the rows.")]
PerFileOption = Annotated[bool, typer.Option("--per-file", help="A breakdown for each input as well as the total.")]
ByTurnOption = Annotated[
    bool, typer.Option("--by-turn", help="For a conversation: each turn's tokens, context, and the cost of every reply as its own call.")
]
class Per(str, Enum):
    day = "day"
    month = "month"


FitsOption = Annotated[bool, typer.Option("--fits", help="Only the models whose context window holds the prompt and its output.")]
CheapestOption = Annotated[
    int | None,
    typer.Option("--cheapest", min=1, metavar="N", help="Only the N cheapest models (of those that fit, with --fits).", show_default=False),
]
PerOption = Annotated[
    Per | None,
    typer.Option("--per", help="The calls (-n) are that many a day or a month: show the cost a day and a 30-day month.", show_default=False),
]
SuggestOption = Annotated[
    bool, typer.Option("--suggest", help="Add the top suggestions of `tokopt suggest` (a second table; a \"suggestions\" key in JSON).")
]


def estimate_command(
    paths: PathsArgument = None,
    *,
    model: ModelOption = None,
    provider: ProviderOption = None,
    all_models: AllOption = False,
    output_tokens: OutputTokensOption = None,
    calls: CallsOption = None,
    cached_tokens: CachedTokensOption = 0,
    batch: BatchOption = False,
    sort: SortOption = SortKey.cost,
    per_file: PerFileOption = False,
    output_format: FormatOption = OutputFormat.table,
    pricing: PricingOption = None,
    at: AtOption = None,
    tier: TierOption = None,
    encoding_errors: EncodingErrorsOption = EncodingErrorsChoice.strict,
    input_format: InputFormatOption = InputFormatChoice.auto,
    by_turn: ByTurnOption = False,
    keep_going: KeepGoingOption = False,
    suggest: SuggestOption = False,
    fits: FitsOption = False,
    cheapest: CheapestOption = None,
    per: PerOption = None,
    text: TextOption = None,
    max_input_size: MaxInputSizeOption = None,
) -> None:
    """Count a prompt's tokens and price one call (and N calls) on each model.

    Inputs can be plain text, chat requests (OpenAI or Anthropic JSON), JSONL files of requests
    or messages, and batch input files (priced at batch rates), or --text; a request's own model
    and max_tokens are the defaults. The cheapest model that fits: --all --fits --cheapest 1.
    """
    from tokopt.costing import answers, pipeline
    from tokopt.gcpause import no_cyclic_gc
    from tokopt.inputs import formats
    from tokopt.render import estimate as view
    from tokopt.requests.read import ReadOptions

    catalog = load_catalog(pricing, at=at, tier=tier)
    user = load_user_config(catalog)
    read = ReadOptions(formats.InputFormat(input_format.value), keep_going, encoding_errors.value)
    options = pipeline.Options.resolve(
        catalog, user, models=model or (), providers=provider or (), all_models=all_models,
        output_tokens=output_tokens, calls=calls, cached_tokens=cached_tokens, batch=batch, by_turn=by_turn, per_file=per_file, read=read,
    )  # fmt: skip
    tier_note(catalog, options.selected or options.defaults)
    # a directory of 10,000 prompts makes objects that live to the end (sources, rows): no
    # cyclic collection from walking it to rendering the table, as in the estimate itself
    with no_cyclic_gc():
        expansion = expand_inputs(paths, text)
        for skipped in expansion.skipped:
            note(f"skipped {skipped}")
        kept: list[AnyCounted] = []  # with --suggest: the counted requests, for the rules
        with spool(expansion.sources, max_input_size) as sources:
            total = None if any(s.size is None for s in sources) else sum(s.size or 0 for s in sources)
            with byte_progress(total, "counting") as on_bytes:
                report = pipeline.estimate(sources, catalog, options, sort=sort.value, on_bytes=on_bytes, keep=kept.append if suggest else None)
        report = answers.project(answers.narrow(report, fits=fits, cheapest=cheapest), per.value if per else None)
        hints = _suggestions(kept, [s.label for s in sources], catalog, user, model, output_tokens, calls) if suggest else None
        for line in view.warnings(report):
            warn(line)
        for line in view.messages(report):
            note(line)
        _emit(
            output_format,
            hints,
            document=lambda: view.document(report, per_file=per_file),
            rows=lambda: view.csv_rows(report, per_file=per_file),
            grids=lambda: view.grids(report, per_file=per_file),
            columns=view.columns(report),
        )


def _suggestions(
    counted: list[AnyCounted],
    labels: list[str],
    catalog: Catalog,
    user: UserConfig,
    model: list[str] | None,
    output_tokens: int | None,
    calls: int | None,
) -> SuggestReport:
    """`tokopt suggest` on the requests the estimate counted, on the first --model (or the
    request's, the config's, or an assumed default model)."""
    from tokopt import optimize

    options = optimize.Options.resolve(
        user.defaults, target=catalog.select([model[0]])[0].id if model else None, assume=True, output_tokens=output_tokens, calls=calls
    )
    work, settings = optimize.prepare_counted(counted, catalog, options)
    return optimize.suggest(work, settings, inputs=labels)


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
