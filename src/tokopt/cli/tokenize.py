"""`tokopt tokenize`: counts per encoding, token boundaries, token ids."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from tokopt.cli._common import (
    complete_model,
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
    expand_inputs,
    TextOption,
    MaxInputSizeOption,
    spool,
    stdout_charset,
    stdout_console,
    warn,
)


class EncodingChoice(str, Enum):
    o200k_base = "o200k_base"
    cl100k_base = "cl100k_base"


EncodingOption = Annotated[
    list[EncodingChoice] | None,
    typer.Option("--encoding", "-e", help="Encoding to count with (repeatable). \\[default: both]", show_default=False),
]
ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Count as this model does (its encoding, and its factor if approximate).", show_default=False, autocompletion=complete_model),
]
ShowOption = Annotated[bool, typer.Option("--show", help="Print the text with token boundaries visible.")]
IdsOption = Annotated[bool, typer.Option("--ids", help="Print the token ids as JSON.")]


def tokenize_command(
    paths: PathsArgument = None,
    *,
    encoding: EncodingOption = None,
    model: ModelOption = None,
    show: ShowOption = False,
    ids: IdsOption = False,
    output_format: FormatOption = OutputFormat.table,
    pricing: PricingOption = None,
    encoding_errors: EncodingErrorsOption = EncodingErrorsChoice.strict,
    input_format: InputFormatOption = InputFormatChoice.auto,
    keep_going: KeepGoingOption = False,
    text: TextOption = None,
    max_input_size: MaxInputSizeOption = None,
) -> None:
    """Count characters, bytes and tokens per encoding; show the tokens themselves.

    For chat requests and request files: the text's tokens and the tokens OpenAI's chat
    format bills (per-message overhead, names, tools), per encoding.
    """
    from tokopt.errors import InputError
    from tokopt.inputs import formats
    from tokopt.render import tokenize as view
    from tokopt.requests.read import ReadOptions, open_inputs
    from tokopt.tokens import tokenize

    if show and ids:
        raise InputError("--show and --ids cannot be combined", hint="run the command twice")
    model_price = load_catalog(pricing).get(model) if model else None
    chosen = [model_price.tokenizer.encoding] if model_price else []
    encodings = list(dict.fromkeys([*chosen, *(e.value for e in encoding or ())])) or [e.value for e in EncodingChoice]
    read = ReadOptions(formats.InputFormat(input_format.value), keep_going, encoding_errors.value)
    expansion = expand_inputs(paths, text)
    for skipped in expansion.skipped:
        note(f"skipped {skipped}")
    with spool(expansion.sources, max_input_size) as sources:
        if ids:
            sys.stdout.write(view.ids_json(tokenize.ids(open_inputs(sources, read), encodings), stdout_charset()))
            return
        if show:
            from tokopt.render.table import print_token_pieces

            console = stdout_console()
            for stretch, pieces in tokenize.pieces(open_inputs(sources, read), encodings[0]):
                print_token_pieces(console, view.label(stretch), encodings[0], pieces)
            return
        total = None if any(s.size is None for s in sources) else sum(s.size or 0 for s in sources)
        with byte_progress(total, "counting") as on_bytes:
            report = tokenize.tokenize(sources, encodings, model_price, read, on_bytes=on_bytes)
    for line in view.warnings(report):
        warn(line)
    emit(output_format, document=lambda: view.document(report), rows=lambda: view.csv_rows(report), grids=lambda: [view.grid(report)])
