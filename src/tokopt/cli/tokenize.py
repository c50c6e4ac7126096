"""`tokopt tokenize`: counts per encoding, token boundaries, token ids."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

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
    note,
    resolve_paths,
    stdout_console,
    warn,
)


class EncodingChoice(str, Enum):
    o200k_base = "o200k_base"
    cl100k_base = "cl100k_base"


def tokenize_command(
    paths: PathsArgument = None,
    *,
    encoding: Annotated[
        list[EncodingChoice] | None,
        typer.Option("--encoding", "-e", help="Encoding to count with (repeatable). \\[default: both]", show_default=False),
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
    input_format: InputFormatOption = InputFormatChoice.auto,
    keep_going: KeepGoingOption = False,
) -> None:
    """Count characters, bytes and tokens per encoding; show the tokens themselves.

    For chat requests and request files: the text's tokens and the tokens OpenAI's chat
    format bills (per-message overhead, names, tools), per encoding.
    """
    from tokopt import inputs
    from tokopt.inputs import formats
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
    fmt = formats.InputFormat(input_format.value)
    with formats.spooled(expansion.sources) as sources:
        options = None
        if not all(formats.sniff(s, fmt) == "text" for s in sources):
            from tokopt.costing import pipeline

            options = pipeline.Options(
                selected=None, defaults=[], output_tokens=None, default_output=0, default_output_from="default", calls=1,
                keep_going=keep_going, input_format=fmt, errors=errors,
            )  # fmt: skip
        chat = options is not None
        if ids:
            sys.stdout.write(view.ids_json(sources, encodings, errors=errors, options=options))
            return
        if show:
            _show(sources, encodings[0], errors, options)
            return
        total = None if any(s.size is None for s in sources) else sum(s.size or 0 for s in sources)
        with byte_progress(total, "counting") as on_bytes:
            if options is not None:
                from tokopt.costing import pipeline

                results = pipeline.tokenize_inputs(sources, encodings, model_price, options, on_bytes=on_bytes)
            else:
                from tokopt.tokens import measure

                counts = measure.count_sources(sources, encodings, errors=errors, on_bytes=on_bytes)
    if chat:
        for item in results:
            for line in item.line_errors[:10]:
                warn(f"skipped {line}")
        emit(
            output_format,
            document=lambda: view.chat_document(results, encodings, model_price),
            rows=lambda: view.chat_csv_rows(results, encodings, model_price),
            grids=lambda: [view.chat_grid(results, encodings, model_price)],
        )
        return
    emit(
        output_format,
        document=lambda: view.document(counts, encodings, model_price),
        rows=lambda: view.csv_rows(counts, encodings, model_price),
        grids=lambda: [view.grid(counts, encodings, model_price)],
    )


def _show(sources, encoding, errors, options) -> None:  # type: ignore[no-untyped-def]
    from tokopt.render import tokenize as view
    from tokopt.render.table import print_token_pieces

    console = stdout_console()
    for source in sources:
        if options is None or view.is_text(source, options):
            print_token_pieces(console, source.label, encoding, view.token_pieces(source, encoding, errors=errors))
            continue
        for label, pieces in view.conversation_pieces(source, encoding, options):
            print_token_pieces(console, label, encoding, pieces)
