"""`tokopt tokenize`: counts per encoding, token boundaries, token ids."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from tokopt.cli._common import (
    EncodingErrorsChoice,
    FormatOption,
    OutputFormat,
    PricingOption,
    byte_progress,
    emit,
    load_catalog,
    note,
    stdout_console,
)
from tokopt.cli.estimate import EncodingErrorsOption, PathsArgument, resolve_paths


class EncodingChoice(str, Enum):
    o200k_base = "o200k_base"
    cl100k_base = "cl100k_base"


def tokenize_command(
    paths: PathsArgument = None,
    *,
    encoding: Annotated[
        list[EncodingChoice] | None,
        typer.Option("--encoding", "-e", help="Encoding to count with (repeatable). [default: both]", show_default=False),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Count as this model does (its encoding, and its factor if approximate).", show_default=False),
    ] = None,
    show: Annotated[bool, typer.Option("--show", help="Print the text with token boundaries visible.")] = False,
    ids: Annotated[bool, typer.Option("--ids", help="Print the token ids as JSON.")] = False,
    output_format: FormatOption = OutputFormat.table,
    pricing: PricingOption = None,
    encoding_errors: EncodingErrorsOption = EncodingErrorsChoice.strict,
) -> None:
    """Count characters, bytes and tokens per encoding; show the tokens themselves."""
    from tokopt import inputs, measure
    from tokopt.errors import InputError
    from tokopt.render import tokenize as view

    if show and ids:
        raise InputError("--show and --ids cannot be combined", hint="run the command twice")
    chosen = model_price = None
    if model:
        model_price = load_catalog(pricing).get(model)
        chosen = [model_price.tokenizer.encoding]
    if encoding:
        chosen = list(dict.fromkeys([*(chosen or []), *(e.value for e in encoding)]))
    encodings = chosen or [e.value for e in EncodingChoice]

    expansion = inputs.expand(resolve_paths(paths))
    for skipped in expansion.skipped:
        note(f"skipped {skipped}")
    errors = encoding_errors.value
    if ids:
        sys.stdout.write(view.ids_json(expansion.sources, encodings, errors=errors))
        return
    if show:
        from tokopt.render.table import print_token_pieces

        console = stdout_console()
        for source in expansion.sources:
            print_token_pieces(console, source.label, encodings[0], view.token_pieces(source, encodings[0], errors=errors))
        return

    total = None if any(s.size is None for s in expansion.sources) else sum(s.size or 0 for s in expansion.sources)
    with byte_progress(total, "counting") as on_bytes:
        counts = measure.count_sources(expansion.sources, encodings, errors=errors, on_bytes=on_bytes)
    emit(
        output_format,
        document=lambda: view.document(counts, encodings, model_price),
        rows=lambda: view.csv_rows(counts, encodings, model_price),
        grids=lambda: [view.grid(counts, encodings, model_price)],
    )
