"""What an input is, decided once, in one place; and its requests.

`open_inputs` looks at each source once (`inputs.formats.sniff`) and gives an `Input` whose
`requests()` every command counts:

- plain text is one request with one user message, the whole input (`PlainText`). Its text is
  read when it is counted, block by block, so a text of any size is counted in bounded memory;
- a JSON document is one request: an OpenAI Chat Completions or Anthropic Messages request, a
  list of messages, or one batch line;
- JSONL is one request per line (requests, or OpenAI/Anthropic batch lines), streamed line by
  line; or a transcript of one message per line, which is one request.

Plain text never imports the parser or the request model: `tokopt estimate prompt.txt` stays
as light as counting the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union

from tokopt import inputs
from tokopt.errors import InputError
from tokopt.inputs import EncodingErrors, Source
from tokopt.inputs.formats import InputFormat, Shape, sniff

if TYPE_CHECKING:
    from tokopt.requests.model import Conversation, Request
    from tokopt.requests.jsonl import JsonlReader

# What an input is: its format as reported to people and in JSON.
Kind = Literal["text", "openai", "anthropic", "requests", "batch", "transcript"]


@dataclass(frozen=True)
class ReadOptions:
    """How inputs are read: --input-format, --keep-going, --encoding-errors."""

    input_format: InputFormat = InputFormat.auto
    keep_going: bool = False
    errors: EncodingErrors = "strict"


class PlainText:
    """A plain-text input as a request: one user message whose text is the whole input.

    It names no model and no output cap, and its text is read when it is counted (`blocks`),
    never held unless asked for (`text`, `conversation`)."""

    __slots__ = ("source", "errors")
    line: int | None = None
    custom_id: str | None = None
    endpoint: str | None = None
    model: str | None = None
    max_output_tokens: int | None = None

    def __init__(self, source: Source, errors: EncodingErrors = "strict") -> None:
        self.source = source
        self.errors: EncodingErrors = errors

    @property
    def where(self) -> str:
        return self.source.label

    def blocks(self, on_bytes: Callable[[int], None] | None = None) -> Iterator[str]:
        """The text, decoded block by block."""
        return inputs.read_blocks(self.source, errors=self.errors, on_bytes=on_bytes)

    def text(self) -> str:
        return "".join(self.blocks())

    @property
    def conversation(self) -> Conversation:
        """The request as a conversation: one user message holding the whole text."""
        from tokopt.requests.model import Conversation, Message, TextPart

        return Conversation(messages=(Message("user", (TextPart(self.text()),)),))


AnyRequest = Union["Request", PlainText]


class Input:
    """One source and what it is. `kind`, `batch` and `single` are final once `requests()` has
    started (a JSON or JSONL input is opened then); `lines`, `skipped` and `line_errors` once it
    has been read to the end."""

    def __init__(self, source: Source, shape: Shape, options: ReadOptions) -> None:
        self.source = source
        self.shape = shape
        self.options = options
        self.kind: Kind = "text" if shape == "text" else "openai"
        self.batch = False
        self.single = shape != "jsonl"  # one call: plain text, a JSON document, a transcript
        self.reader: JsonlReader | None = None

    @property
    def is_text(self) -> bool:
        return self.shape == "text"

    def requests(self, on_bytes: Callable[[int], None] | None = None) -> Iterator[AnyRequest]:
        """Every request of the input, in order; lines that are not requests are reported by
        the reader (`line_errors`) with --keep-going, an InputError without."""
        if self.shape == "text":
            yield PlainText(self.source, self.options.errors)
            return
        from tokopt.requests.jsonl import open_requests
        from tokopt.requests.model import Request

        o = self.options
        opened = open_requests(self.source, self.shape, o.input_format, keep_going=o.keep_going, errors=o.errors, on_bytes=on_bytes)
        if opened.batch:
            self.kind = "batch"
        elif opened.first is not None:
            self.kind = "anthropic" if opened.first.conversation.dialect.value == "anthropic" else "openai"
        else:
            self.kind = "transcript" if opened.kind == "transcript" else "requests"
        self.batch, self.single, self.reader = opened.batch, opened.single, opened.reader
        for item in opened.items:
            if isinstance(item, Request):
                yield item

    def reject(self, request: AnyRequest, error: InputError) -> None:
        """Skip a request the caller cannot use, as a bad line (--keep-going), or raise `error`."""
        if self.single or self.reader is None or not self.options.keep_going:
            raise error
        self.reader.reject(request.line or 0, error.message.removeprefix(f"{request.where}: "))

    @property
    def lines(self) -> int:
        return self.reader.lines if self.reader is not None else 0

    @property
    def skipped(self) -> int:
        return self.reader.error_count if self.reader is not None else 0

    @property
    def line_errors(self) -> list[str]:
        return [e.text for e in self.reader.errors] if self.reader is not None else []


def open_inputs(sources: Sequence[Source], options: ReadOptions = ReadOptions()) -> list[Input]:
    """Each source and what it is, from its first bytes (or as --input-format says)."""
    return [Input(source, sniff(source, options.input_format), options) for source in sources]
