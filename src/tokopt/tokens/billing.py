"""Count a conversation the way each API bills it: a model's input tokens for one request.

Every text of a request (message contents, names, tool calls and results, tool definitions,
response schemas) is counted once per encoding; `Counted.model_input` then applies the model's
rules to those counts.

OpenAI models (an exact tokenizer): the Chat Completions format, as OpenAI's cookbook "How to
count tokens with tiktoken" gives it and the API confirms there:
- 3 tokens per message, plus the role's own tokens, plus 1 more and the name's tokens when a
  message has a `name`; 3 more to prime the reply;
- tool definitions: 7 tokens per function (10 on cl100k_base models), the tokens of
  "name:description" (a final "." dropped), and when it has parameters 3, then per property
  3 and the tokens of "name:type:description", with 3 per enum value plus its tokens less 3
  per enum; 12 more once for the whole list;
- images by OpenAI's published rule for the model (`images.py`).
Parts with no published rule are counted by a stated approximation and mark the count ≈: tool
calls in messages (name + arguments + 3 tokens each), tool messages (like other messages),
tool schemas beyond the cookbook's shape (nested objects are counted property by property),
and `response_format` schemas (their JSON text).

Other providers publish no tokenizer. Their count is tokopt's documented approximation: all
text (contents, names, tool calls, tool definitions and schemas as compact JSON) counted with
o200k_base and scaled by the model's factor, plus the same per-message overhead as OpenAI
(3 per message, 1 per name, 3 for the reply) — each API wraps messages in role markers of a
few tokens, and the OpenAI values are the only published ones. Anthropic adds its published
tool-use system prompt when a request has tools (346 tokens, 313 with tool_choice any/tool)
and bills images by its 28-px patch rule; images are not scaled by the factor.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tokopt import tokens
from tokopt.tokens.measure import ModelInput, model_tokens
from tokopt.requests import images
from tokopt.requests.model import Conversation, ImagePart, OpaquePart, Part, Request, TextPart, ToolCallPart, ToolDef, ToolResultPart
from tokopt.pricing.model import ModelPrice

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
TOOL_CALL_TOKENS = 3  # per call in a message, besides its name and arguments (approximation)

# OpenAI cookbook, "Counting tokens for chat completions with tool calls" (API-confirmed).
TOOL_FUNC_INIT = {"o200k_base": 7, "cl100k_base": 10}
TOOL_PROP_INIT = 3
TOOL_PROP_KEY = 3
TOOL_ENUM_INIT = -3
TOOL_ENUM_ITEM = 3
TOOL_FUNC_END = 12

# Anthropic's tool-use system prompt, added once when a request has tools (Claude 4 models,
# docs "Tool use pricing and tokens"): auto/none vs any/tool.
ANTHROPIC_TOOL_PROMPT = {"any": 313, "tool": 313, "required": 313}
ANTHROPIC_TOOL_PROMPT_DEFAULT = 346

# Buckets for the counts of one request: per message, its content and its name; then these.
_TOOL_LINES, _TOOL_JSON, _RESPONSE_FORMAT = 0, 1, 2
_SPECIAL = 3


def uses_openai_rules(model: ModelPrice) -> bool:
    """Models counted exactly with OpenAI's chat rules: those whose tokenizer is exact."""
    return model.tokenizer.exact


@functools.lru_cache(maxsize=256)
def _role_tokens(role: str, encoding: str) -> int:
    return tokens.count(role, encoding)


def _strip_dot(text: str) -> str:
    return text[:-1] if text.endswith(".") else text


@dataclass(slots=True)
class _ToolShape:
    """What the cookbook's tool rule needs besides the tokens of its lines."""

    functions: int = 0
    with_properties: int = 0
    properties: int = 0
    enums: int = 0
    enum_items: int = 0
    cookbook_shape: bool = True  # every schema is what the cookbook's rule was confirmed on

    def overhead(self, encoding: str) -> int:
        if not self.functions:
            return 0
        return (
            self.functions * TOOL_FUNC_INIT.get(encoding, TOOL_FUNC_INIT["o200k_base"])
            + self.with_properties * TOOL_PROP_INIT
            + self.properties * TOOL_PROP_KEY
            + self.enums * TOOL_ENUM_INIT
            + self.enum_items * TOOL_ENUM_ITEM
            + TOOL_FUNC_END
        )


def _tool_lines(tools: Sequence[ToolDef], shape: _ToolShape, out: list[str]) -> None:
    for tool in tools:
        shape.functions += 1
        if tool.kind != "function":
            # Not a function (a custom or built-in tool): its JSON stands in for its lines.
            shape.cookbook_shape = False
            out.append(f"{tool.name}:{_compact(_without_cache(tool.definition))}")
            continue
        if tool.description is None:
            shape.cookbook_shape = False
        out.append(f"{tool.name}:{_strip_dot(tool.description or '')}")
        props = (tool.parameters or {}).get("properties")
        if isinstance(props, dict) and props:
            shape.with_properties += 1
            _property_lines(props, shape, out, nested=False)


def _property_lines(props: dict[str, Any], shape: _ToolShape, out: list[str], *, nested: bool) -> None:
    if nested:
        shape.cookbook_shape = False
    for key, spec in props.items():
        shape.properties += 1
        if not isinstance(spec, dict):
            shape.cookbook_shape = False
            out.append(f"{key}::")
            continue
        kind = spec.get("type")
        desc = spec.get("description")
        if not isinstance(kind, str) or not isinstance(desc, str) or set(spec) - {"type", "description", "enum"}:
            shape.cookbook_shape = False
        enum = spec.get("enum")
        if isinstance(enum, list):
            shape.enums += 1
            for item in enum:
                shape.enum_items += 1
                if not isinstance(item, str):
                    shape.cookbook_shape = False
                out.append(item if isinstance(item, str) else _compact(item))
        type_text = kind if isinstance(kind, str) else ("|".join(map(str, kind)) if isinstance(kind, list) else "")
        out.append(f"{key}:{type_text}:{_strip_dot(desc) if isinstance(desc, str) else ''}")
        inner = spec.get("properties")
        if not isinstance(inner, dict) and isinstance(spec.get("items"), dict):
            inner = spec["items"].get("properties")
        if isinstance(inner, dict) and inner:
            _property_lines(inner, shape, out, nested=True)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _without_cache(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k != "cache_control"} if "cache_control" in definition else definition


def _tool_json(tool: ToolDef) -> str:
    if tool.kind == "function":
        return _compact({"name": tool.name, "description": tool.description, "input_schema": tool.parameters})
    return _compact(_without_cache(tool.definition))


@dataclass(slots=True)
class Plan:
    """The texts of one request to count, and the structure the billing rules need.

    `texts[i]` is counted into bucket `buckets[i]`: 2k is message k's content (text, tool calls,
    tool results), 2k+1 its name; the last three are the tool lines (OpenAI rule), the tool
    definitions as JSON (other providers) and the response_format schema.
    """

    request: Request
    texts: list[str] = field(default_factory=list)
    buckets: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    named: list[bool] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    images: list[list[ImagePart]] = field(default_factory=list)
    opaque: list[tuple[int, OpaquePart]] = field(default_factory=list)  # (message index, part)
    tool_shape: _ToolShape = field(default_factory=_ToolShape)
    chars: int = 0
    n_images: int = 0
    approximations: list[str] = field(default_factory=list)  # why OpenAI counts are ≈

    @property
    def conversation(self) -> Conversation:
        return self.request.conversation

    @property
    def n_buckets(self) -> int:
        return 2 * len(self.roles) + _SPECIAL

    def _add(self, text: str, bucket: int) -> None:
        if text:
            self.texts.append(text)
            self.buckets.append(bucket)
            self.chars += len(text)


def plan(request: Request, *, openai_rules: bool = True, other_rules: bool = True) -> Plan:
    """Gather the texts of a request; `openai_rules`/`other_rules` say which rules will be
    applied, so that texts only one of them needs (tool lines or tool JSON) are skipped."""
    p = Plan(request)
    conv = request.conversation
    special = 2 * len(conv.messages)
    has_calls = has_tool_messages = split_text = False
    for k, message in enumerate(conv.messages):
        if len(message.parts) > 1 and sum(type(part) is TextPart for part in message.parts) > 1:
            split_text = True
        p.roles.append(message.role)
        p.named.append(message.name is not None)
        if message.name:
            p._add(message.name, 2 * k + 1)
        imgs: list[ImagePart] = []
        calls = _gather(message.parts, 2 * k, p, imgs, k)
        p.calls.append(calls)
        p.images.append(imgs)
        p.n_images += len(imgs)
        has_calls |= calls > 0
        has_tool_messages |= message.role in ("tool", "function") or any(
            isinstance(part, ToolResultPart) for part in message.parts
        )
    if conv.tools:
        if openai_rules:
            lines: list[str] = []
            _tool_lines(conv.tools, p.tool_shape, lines)
            for line in lines:
                p._add(line, special + _TOOL_LINES)
        if other_rules:
            for tool in conv.tools:
                p._add(_tool_json(tool), special + _TOOL_JSON)
    if conv.response_format is not None:
        schema = conv.response_format.get("json_schema", conv.response_format)
        p._add(_compact(schema), special + _RESPONSE_FORMAT)

    if has_calls:
        p.approximations.append(f"tool calls in messages: name + arguments + {TOOL_CALL_TOKENS} tokens each (no published rule)")
    if has_tool_messages:
        p.approximations.append("tool results: counted like other messages (no published rule)")
    if split_text:
        p.approximations.append("several text parts in one message: each counted on its own (how the API joins them is not published)")
    if conv.tools and not p.tool_shape.cookbook_shape:
        p.approximations.append("tool schemas beyond the cookbook's shape: counted property by property by the same rule")
    if conv.response_format is not None:
        p.approximations.append("response_format schema: counted as its JSON text (no published rule)")
    return p


def _gather(parts: Sequence[Part], bucket: int, p: Plan, imgs: list[ImagePart], k: int) -> int:
    calls = 0
    for part in parts:
        kind = type(part)
        if kind is TextPart:
            p._add(part.text, bucket)  # type: ignore[union-attr]
        elif kind is ToolCallPart:
            calls += 1
            p._add(part.name, bucket)  # type: ignore[union-attr]
            p._add(part.arguments, bucket)  # type: ignore[union-attr]
        elif kind is ToolResultPart:
            calls += _gather(part.parts, bucket, p, imgs, k)  # type: ignore[union-attr]
        elif kind is ImagePart:
            imgs.append(part)  # type: ignore[arg-type]
        elif kind is OpaquePart:
            p.opaque.append((k, part))  # type: ignore[arg-type]
    return calls


def not_counted(plan: Plan) -> list[str]:
    """Every part of a request that no model's count includes: parts of unknown type without
    text, and images whose size is not known offline."""
    return [f"message {k + 1}: {part.description} — {part.reason}" for k, part in plan.opaque] + unsized_images(plan)


def unsized_images(plan: Plan) -> list[str]:
    """Images no model's count includes, because their size is not known offline."""
    if not plan.n_images:
        return []
    return [
        f"message {k + 1}: {image_description(img)} — {img.note or 'size unknown'}"
        for k, imgs in enumerate(plan.images)
        for img in imgs
        if not img.known_size
    ]


@functools.lru_cache(maxsize=512)
def _image_rule(provider: str, names: tuple[str, ...]) -> images.ImageRule | None:
    for name in names:
        rule = images.rule_for(provider, name)
        if rule is not None:
            return rule
    return None


def image_rule(model: ModelPrice) -> images.ImageRule | None:
    """The image rule `model` is billed by (by its id or an alias), None if there is none."""
    return _image_rule("openai" if uses_openai_rules(model) else model.provider, (model.id, *model.aliases))


def image_description(img: ImagePart) -> str:
    if img.known_size:
        return f"{img.width}x{img.height} {img.media_type or 'image'}"
    return {"url": "image URL", "file": "uploaded image file"}.get(img.source, "inline image")


class Counted:
    """A request's counts per encoding, and the rules that make them a model's input tokens."""

    __slots__ = ("plan", "sums", "_images")

    def __init__(self, plan: Plan, counts: dict[str, list[int]]) -> None:
        self.plan = plan
        n = plan.n_buckets
        self.sums: dict[str, list[int]] = {}
        for encoding, values in counts.items():
            sums = [0] * n
            for bucket, value in zip(plan.buckets, values):
                sums[bucket] += value
            self.sums[encoding] = sums
        self._images: dict[str, tuple[list[int], tuple[str, ...]]] = {}

    # What every counted request answers (tokens.measure.CountedText too).

    @property
    def request(self) -> Request:
        return self.plan.request

    @property
    def chars(self) -> int:
        return self.plan.chars

    @property
    def n_messages(self) -> int:
        return len(self.plan.roles)

    @property
    def n_images(self) -> int:
        return self.plan.n_images

    @property
    def n_tools(self) -> int:
        return len(self.plan.conversation.tools)

    @property
    def approximations(self) -> list[str]:
        return self.plan.approximations

    def not_counted(self) -> list[str]:
        return not_counted(self.plan) if self.plan.opaque or self.plan.n_images else []

    def chat_tokens(self, encoding: str) -> int:
        return self.openai_tokens(encoding)

    def text_tokens(self, encoding: str) -> int:
        """Tokens of the request's own text (contents and names), without any overhead."""
        s = self.sums[encoding]
        return sum(s[: 2 * len(self.plan.roles)])

    def _special(self, encoding: str, which: int) -> int:
        return self.sums[encoding][2 * len(self.plan.roles) + which]

    def _image_tokens(self, model: ModelPrice) -> tuple[list[int], tuple[str, ...]]:
        """Image tokens per message on `model`, and the images it cannot count."""
        if not self.plan.n_images:
            return [0] * len(self.plan.roles), ()
        cached = self._images.get(model.id)
        if cached is not None:
            return cached
        rule = image_rule(model)
        per_message = []
        uncounted: list[str] = []
        for k, imgs in enumerate(self.plan.images):
            total = 0
            for img in imgs:
                if not img.known_size:
                    continue  # not counted on any model: reported with the request (`unsized_images`)
                if rule is None:
                    uncounted.append(f"message {k + 1}: {image_description(img)} (no published image rule for {model.id})")
                else:
                    assert img.width is not None and img.height is not None
                    total += rule.tokens(img.width, img.height, img.detail)
            per_message.append(total)
        result = (per_message, tuple(uncounted))
        self._images[model.id] = result
        return result

    def _openai_message(self, k: int, encoding: str) -> int:
        s = self.sums[encoding]
        n = TOKENS_PER_MESSAGE + _role_tokens(self.plan.roles[k], encoding) + s[2 * k] + TOOL_CALL_TOKENS * self.plan.calls[k]
        if self.plan.named[k]:
            n += s[2 * k + 1] + TOKENS_PER_NAME
        return n

    def openai_fixed(self, encoding: str) -> int:
        """Reply priming, tool definitions and response schema on an OpenAI model."""
        n = REPLY_PRIMING + self._special(encoding, _RESPONSE_FORMAT)
        if self.plan.conversation.tools:
            n += self._special(encoding, _TOOL_LINES) + self.plan.tool_shape.overhead(encoding)
        return n

    def openai_tokens(self, encoding: str) -> int:
        """The request's tokens on an OpenAI model of this encoding, images left out."""
        return sum(self._openai_message(k, encoding) for k in range(len(self.plan.roles))) + self.openai_fixed(encoding)

    def _other_fixed_tokens(self, model: ModelPrice) -> int:
        n = REPLY_PRIMING
        if self.plan.conversation.tools and model.provider == "anthropic":
            n += ANTHROPIC_TOOL_PROMPT.get(self.plan.conversation.tool_choice or "", ANTHROPIC_TOOL_PROMPT_DEFAULT)
        return n

    def _scaled(self, model: ModelPrice, n: int) -> int:
        return model_tokens(model, {model.tokenizer.encoding: n})

    def turn_tokens(self, model: ModelPrice) -> tuple[list[int], list[int], int]:
        """(each message's own tokens, each message's content tokens, the request's fixed
        tokens) on `model`; own tokens plus fixed tokens add up to `model_input(model).tokens`.

        Content tokens are what the message costs as a reply (its text and tool calls,
        without the per-message overhead).
        """
        encoding = model.tokenizer.encoding
        image_tokens, _ = self._image_tokens(model)
        n = len(self.plan.roles)
        s = self.sums[encoding]
        if uses_openai_rules(model):
            own = [self._openai_message(k, encoding) + image_tokens[k] for k in range(n)]
            content = [s[2 * k] + TOOL_CALL_TOKENS * self.plan.calls[k] for k in range(n)]
            return own, content, self.openai_fixed(encoding)
        # Scaled text is rounded once on the running total, so the turns add up to the whole.
        own, content = [], []
        running = previous = 0
        for k in range(n):
            running += s[2 * k] + s[2 * k + 1]
            scaled = self._scaled(model, running)
            text = scaled - previous
            previous = scaled
            overhead = TOKENS_PER_MESSAGE + (TOKENS_PER_NAME if self.plan.named[k] else 0)
            own.append(text + overhead + image_tokens[k])
            content.append(self._scaled(model, s[2 * k]))
        rest = self._special(encoding, _TOOL_JSON) + self._special(encoding, _RESPONSE_FORMAT)
        fixed = self._scaled(model, running + rest) - previous + self._other_fixed_tokens(model)
        return own, content, fixed

    def model_input(self, model: ModelPrice) -> ModelInput:
        """The request's input tokens on `model`."""
        image_tokens, uncounted = self._image_tokens(model)
        encoding = model.tokenizer.encoding
        if uses_openai_rules(model):
            total = self.openai_tokens(encoding) + sum(image_tokens)
            approximate = bool(self.plan.approximations)
        else:
            n = len(self.plan.roles)
            s = self.sums[encoding]
            text = sum(s[: 2 * n]) + self._special(encoding, _TOOL_JSON) + self._special(encoding, _RESPONSE_FORMAT)
            overhead = TOKENS_PER_MESSAGE * n + TOKENS_PER_NAME * sum(self.plan.named)
            total = self._scaled(model, text) + overhead + self._other_fixed_tokens(model) + sum(image_tokens)
            approximate = True
        return ModelInput(total, approximate, uncounted, sum(image_tokens))


def count_requests(
    requests: Sequence[Request],
    encodings: Sequence[str],
    *,
    openai_rules: bool = True,
    other_rules: bool = True,
) -> list[Counted]:
    """Count requests already in memory (one conversation, a transcript) in each encoding."""
    plans = [plan(r, openai_rules=openai_rules, other_rules=other_rules) for r in requests]
    chars = sum(p.chars for p in plans)
    batches = ((i, p.texts, encodings) for i, p in enumerate(plans))
    return [Counted(plans[i], counts) for i, counts in tokens.count_batches(batches, expected_chars=chars)]
