"""Conversations: chat requests as the APIs receive them, in one provider-neutral shape.

A `Request` is one API call: a `Conversation` (messages, tools, the request's own model and
output cap) and where it was read from. A message holds its content as `Part`s, in order:

- `TextPart`       text the model reads: a string content, a text part or block, a text document
- `ImagePart`      an image; `width` and `height` when known (decoded from a data URL's header)
- `ToolCallPart`   a call the assistant made (OpenAI `tool_calls`, Anthropic `tool_use`)
- `ToolResultPart` what a tool returned, as parts (Anthropic `tool_result`; OpenAI sends a
                   message with role "tool" instead, whose content is ordinary parts)
- `OpaquePart`     what tokopt does not count (audio, PDF and other binary files, earlier
                   thinking blocks, part types it does not know that carry no text), with why

`requests.parse` builds these from OpenAI Chat Completions requests, OpenAI and Anthropic batch
input lines and Anthropic Messages requests; `tokens.billing` counts them the way each provider bills them.

These are frozen dataclasses with slots, not pydantic models: a batch file can hold millions of
messages and the parser is the only producer, so validation happens there, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, Union

# InputFormat lives in tokopt.inputs.formats (kept light for the plain-text path) and belongs here too.
from tokopt.inputs.formats import InputFormat  # noqa: F401


class Dialect(str, Enum):
    """Whose request shape a conversation was written in (its counting depends on the model)."""

    openai = "openai"
    anthropic = "anthropic"


# Every role either API accepts. "developer" is OpenAI's newer name for "system"; "function"
# is the legacy form of "tool". Anthropic requests carry "system" outside the messages; the
# parser turns it into a first message with role "system".
ROLES: tuple[str, ...] = ("system", "developer", "user", "assistant", "tool", "function")


@dataclass(frozen=True, slots=True)
class TextPart:
    """Text the model reads."""

    text: str
    # The part's type as written ("text", "input_text", "refusal", "document", or an unknown
    # type that carried a "text" field and is counted as text).
    type: str = "text"
    # An Anthropic `cache_control` marker: the cached prefix ends after this part.
    cache_breakpoint: bool = False


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image. Its size is known when it came inline (data URL or base64) in a format whose
    header tokopt reads (PNG, JPEG, GIF, WebP); otherwise `width`/`height` are None and `note`
    says why, and the image is reported as not counted."""

    source: Literal["data", "url", "file"]  # inline bytes, a URL the API fetches, an uploaded file id
    media_type: str | None = None
    width: int | None = None
    height: int | None = None
    detail: str | None = None  # OpenAI: "low", "high", "auto" (the default), "original"
    size_bytes: int | None = None  # of the decoded image, for inline images
    note: str | None = None
    cache_breakpoint: bool = False

    @property
    def known_size(self) -> bool:
        return self.width is not None and self.height is not None


@dataclass(frozen=True, slots=True)
class ToolCallPart:
    """A tool call in an assistant message: the function name and its arguments as JSON text."""

    name: str
    arguments: str
    id: str | None = None
    cache_breakpoint: bool = False


@dataclass(frozen=True, slots=True)
class ToolResultPart:
    """An Anthropic `tool_result` block: the parts a tool returned."""

    tool_use_id: str | None
    parts: tuple[Part, ...] = ()
    is_error: bool = False
    cache_breakpoint: bool = False


@dataclass(frozen=True, slots=True)
class OpaquePart:
    """Content that tokopt does not count, kept so that it is reported, never dropped."""

    type: str  # as written: "input_audio", "file", "document", "thinking", or an unknown type
    description: str  # what it is, for people: "input_audio (wav, 32,000 bytes)"
    reason: str  # why it is not counted


Part = Union[TextPart, ImagePart, ToolCallPart, ToolResultPart, OpaquePart]


@dataclass(frozen=True, slots=True)
class Message:
    """One message: a role, its parts in order, and the fields the APIs bill besides content."""

    role: str
    parts: tuple[Part, ...] = ()
    name: str | None = None  # OpenAI `name` (billed: one more token plus the name's own)
    tool_call_id: str | None = None  # OpenAI role "tool": which call this answers

    @property
    def text(self) -> str:
        """The message's text: text parts and tool-result text, joined by newlines."""
        return "\n".join(t for t in _texts(self.parts))

    @property
    def cache_breakpoint(self) -> bool:
        """True if any part carries a cache marker (the cached prefix ends in this message)."""
        return any(getattr(p, "cache_breakpoint", False) for p in self.parts)

    def texts(self) -> list[str]:
        """Every text the model reads in this message, in order: its name, text parts, tool
        calls (name, then arguments) and what tool results hold."""
        out = [self.name] if self.name else []
        _billed(self.parts, out)
        return [t for t in out if t]

    def iter_parts(self) -> Iterator[Part]:
        """Every part, with the parts inside tool results after their result."""
        for part in self.parts:
            yield part
            if isinstance(part, ToolResultPart):
                yield from part.parts


def _billed(parts: tuple[Part, ...], out: list[str]) -> None:
    for part in parts:
        if isinstance(part, TextPart):
            out.append(part.text)
        elif isinstance(part, ToolCallPart):
            out.extend([part.name, part.arguments])
        elif isinstance(part, ToolResultPart):
            _billed(part.parts, out)


def _texts(parts: tuple[Part, ...]) -> Iterator[str]:
    for part in parts:
        if isinstance(part, TextPart):
            yield part.text
        elif isinstance(part, ToolResultPart):
            yield from _texts(part.parts)


@dataclass(frozen=True, slots=True)
class ToolDef:
    """A tool the request offers the model.

    `kind` is "function" for functions (OpenAI `{"type": "function"}`, legacy `functions`,
    Anthropic custom tools); otherwise the tool's own type ("custom", "web_search_20250305", ...).
    `definition` is the definition as written, for providers that bill its JSON text.
    """

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None  # the JSON Schema of the arguments
    kind: str = "function"
    definition: dict[str, Any] = field(default_factory=dict)
    cache_breakpoint: bool = False


@dataclass(frozen=True, slots=True)
class Conversation:
    """The content of one API call: what the model reads, and the request's own defaults."""

    messages: tuple[Message, ...]
    dialect: Dialect = Dialect.openai
    tools: tuple[ToolDef, ...] = ()
    tool_choice: str | None = None  # "auto", "none", "required"/"any", or "tool" for a named one
    tool_choice_name: str | None = None  # the function a named tool_choice (or function_call) forces
    tools_api: str = "tools"  # "functions" when the request used the legacy `functions` list
    response_format: dict[str, Any] | None = None  # OpenAI structured outputs (or Responses text.format): the whole object
    model: str | None = None  # the request's `model`; a default, the command line wins
    max_output_tokens: int | None = None  # max_tokens / max_completion_tokens / max_output_tokens

    @property
    def roles(self) -> list[str]:
        return [m.role for m in self.messages]

    def iter_parts(self) -> Iterator[tuple[int, Part]]:
        """(message index, part) for every part, tool-result contents included."""
        for index, message in enumerate(self.messages):
            for part in message.iter_parts():
                yield index, part

    @property
    def images(self) -> list[ImagePart]:
        return [p for _, p in self.iter_parts() if isinstance(p, ImagePart)]

    @property
    def opaque(self) -> list[tuple[int, OpaquePart]]:
        """Parts that are not counted, with the index of their message."""
        return [(i, p) for i, p in self.iter_parts() if isinstance(p, OpaquePart)]


@dataclass(frozen=True, slots=True)
class Request:
    """One API call read from an input: its conversation and where it came from."""

    conversation: Conversation
    source: str  # the input's label (a path, or "<stdin>")
    line: int | None = None  # 1-based line of a JSONL input
    custom_id: str | None = None  # OpenAI Batch `custom_id`
    endpoint: str | None = None  # OpenAI Batch `url`, e.g. "/v1/chat/completions"

    @property
    def where(self) -> str:
        """`chat.json`, or `batch.jsonl:12` for a line of a JSONL file."""
        return self.source if self.line is None else f"{self.source}:{self.line}"

    @property
    def model(self) -> str | None:
        """The model the request names, if any (the command line's choice wins)."""
        return self.conversation.model

    @property
    def max_output_tokens(self) -> int | None:
        """The request's own output cap, if any."""
        return self.conversation.max_output_tokens
