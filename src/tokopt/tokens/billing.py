"""Count a conversation the way each API bills it: a model's input tokens for one request.

Every text of a request (message contents, names, tool calls and results, tool definitions,
response schemas) is counted once per encoding; `Counted.model_input` then applies the model's
rules to those counts.

OpenAI models (an exact tokenizer): the Chat Completions format, as OpenAI's cookbook "How to
count tokens with tiktoken" gives it and the API confirms there:
- 3 tokens per message, plus the role's own tokens, plus 1 more and the name's tokens when a
  message has a `name`; 3 more to prime the reply;
- tools, tool_choice, tool calls and results, response schemas by the rules in `tools.py`,
  derived from API-verified counts; a shape none of them confirms marks the count ≈;
- images by OpenAI's published rule for the model (`images.py`).

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
from tokopt.requests.model import Conversation, ImagePart, Message, OpaquePart, Part, Request, TextPart, ToolCallPart, ToolDef, ToolResultPart
from tokopt.pricing.model import ModelPrice
from tokopt.tokens import approx, tools

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
TOOL_CALL_TOKENS = tools.TOOL_CALL_TOKENS

# Anthropic's tool-use system prompt, added once when a request has tools (Claude 4 models,
# docs "Tool use pricing and tokens"): auto/none vs any/tool.
ANTHROPIC_TOOL_PROMPT = {"any": 313, "tool": 313, "required": 313}
ANTHROPIC_TOOL_PROMPT_DEFAULT = 346

# Buckets for the counts of one request: per message, its content and its name; then these:
# the tools section as OpenAI shows it (after the end of the system text it joins), that end
# of the system text alone, the tool definitions as JSON (other providers), the response schema.
_TOOL_SECTION, _TOOL_SEAM, _TOOL_JSON, _RESPONSE_FORMAT = 0, 1, 2, 3
_SPECIAL = 4
# The tools section changes the count of the system text only near its end: from a safe cut at
# least this far before the end, the rest of the text is counted twice, with and without it.
_SEAM_MARGIN = 64


def uses_openai_rules(model: ModelPrice) -> bool:
    """Models counted exactly with OpenAI's chat rules: those whose tokenizer is exact."""
    return model.tokenizer.exact


@functools.lru_cache(maxsize=256)
def _role_tokens(role: str, encoding: str) -> int:
    return tokens.count(role, encoding)


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
    tool results), 2k+1 its name; the last three are the tools section (OpenAI rule, joined to
    the system text it follows), the tool definitions as JSON (other providers) and the
    response schema.
    """

    request: Request
    texts: list[str] = field(default_factory=list)
    buckets: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    named: list[bool] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    images: list[list[ImagePart]] = field(default_factory=list)
    opaque: list[tuple[int, OpaquePart]] = field(default_factory=list)  # (message index, part)
    authors: list[str | None] = field(default_factory=list)  # the name a tool result is billed under
    tool_features: set[str] = field(default_factory=set)  # the tool shapes the request uses (tools.FEATURES)
    tool_seam: int | None = None  # the system message the tools section joins; None: a message of its own
    tool_section: bool = False  # the tools section was gathered (OpenAI rules)
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
    features = p.tool_features
    call_names: dict[str, str] = {}
    split_text = False
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
        p.authors.append(_author(message, call_names, features) if message.role in ("tool", "function") else None)
        if calls:
            features.add("parallel-calls" if calls > 1 else "tool-call")
            if any(type(part) is TextPart and part.text for part in message.parts):  # type: ignore[union-attr]
                features.add("tool-call-with-text")
            for part in message.parts:
                if type(part) is ToolCallPart and part.id:  # type: ignore[union-attr]
                    call_names[part.id] = part.name  # type: ignore[union-attr]
    if conv.tools:
        if openai_rules:
            _tools_section(conv, p, special)
        if other_rules:
            for tool in conv.tools:
                p._add(_tool_json(tool), special + _TOOL_JSON)
        features |= tools.choice_features(conv.tool_choice, conv.tool_choice_name)
    if conv.response_format is not None:
        p._add(tools.response_schema(conv.response_format), special + _RESPONSE_FORMAT)

    if split_text:
        p.approximations.append("several text parts in one message: each counted on its own (how the API joins them is not published)")
    if conv.response_format is not None:
        p.approximations.append(
            f"response schema: its JSON without required, additionalProperties and $schema, plus {tools.RESPONSE_SCHEMA_TOKENS} tokens"
            " (openai-cookbook#2140; no API-verified count)"
        )
    return p


def _author(message: Message, call_names: dict[str, str], features: set[str]) -> str:
    """The name a tool or function message is billed under: its own, or that of the call it answers."""
    if message.name:
        features.add("tool-result-named")
        return message.name
    resolved = call_names.get(message.tool_call_id or "")
    features.add("tool-result-resolved" if resolved else "tool-result-anonymous")
    return resolved or message.role


def _tools_section(conv: Conversation, p: Plan, special: int) -> None:
    """The tools section, joined to the text of the first system message when there is one."""
    section = tools.render(conv.tools, conv.tools_api, p.tool_features)
    p.tool_section = True
    seam = next((k for k, m in enumerate(conv.messages) if m.role in ("system", "developer")), None)
    if seam is None:
        p.tool_features.add("no-system")
        p._add(section, special + _TOOL_SECTION)
        return
    message = conv.messages[seam]
    p.tool_seam = seam
    p.tool_features.add("developer-seam" if message.role == "developer" else "system-seam")
    if seam:
        p.tool_features.add("system-not-first")
    texts = [part.text for part in message.parts if type(part) is TextPart]  # type: ignore[union-attr]
    if len(texts) != 1 or len(message.parts) != 1:
        p.tool_features.add("system-parts")
    system = "\n".join(texts)
    joined = system + tools.SECTION_JOIN + section
    cut = tokens.find_cut(system, 1, len(system) - _SEAM_MARGIN) if len(system) > 2 * _SEAM_MARGIN else -1
    if cut <= 0 or not tokens.is_safe_cut(joined, cut):
        cut = 0
    chars = p.chars
    p._add(joined[cut:], special + _TOOL_SECTION)
    p._add(system[cut:], special + _TOOL_SEAM)
    p.chars = chars + len(section)  # the system text is the input's once, already


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
            p.tool_features.add("tool-result-anonymous")  # an Anthropic tool_result: no OpenAI rule
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

    __slots__ = ("plan", "sums", "_images", "_mix")

    def __init__(self, plan: Plan, counts: dict[str, list[int]]) -> None:
        self.plan = plan
        self.sums: dict[str, list[int]] = {}
        self.add_counts(counts)
        self._images: dict[str, tuple[list[int], tuple[str, ...]]] = {}
        self._mix: approx.Mix | None = None

    def content(self) -> approx.Mix:
        """The content classes of the texts other providers' counts scale (found once, when asked)."""
        if self._mix is None:
            scaled = 2 * len(self.plan.roles)
            wanted = (scaled + _TOOL_JSON, scaled + _RESPONSE_FORMAT)
            self._mix = approx.classify_all(t for t, b in zip(self.plan.texts, self.plan.buckets) if b < scaled or b in wanted)
        return self._mix

    def add_counts(self, counts: dict[str, list[int]]) -> None:
        """Take the counts of `plan.texts` in more encodings (one count per text, in order)."""
        n = self.plan.n_buckets
        for encoding, values in counts.items():
            sums = [0] * n
            for bucket, value in zip(self.plan.buckets, values):
                sums[bucket] += value
            self.sums[encoding] = sums

    def texts_to_count(self) -> list[str]:
        return self.plan.texts

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
        plan = self.plan
        author = plan.authors[k]
        if author is not None:  # a tool result: billed under the function's name, without a role
            return tools.TOOL_RESULT_TOKENS + _role_tokens(author, encoding) + s[2 * k] + TOOL_CALL_TOKENS * plan.calls[k]
        n = TOKENS_PER_MESSAGE + _role_tokens(plan.roles[k], encoding) + s[2 * k] + TOOL_CALL_TOKENS * plan.calls[k]
        if plan.named[k]:
            n += s[2 * k + 1] + TOKENS_PER_NAME
        return n

    def _tools_tokens(self, encoding: str) -> int:
        """The tools section and tool_choice on an OpenAI model: what they add to the request."""
        plan = self.plan
        conv = plan.conversation
        if not plan.tool_section:
            return 0
        section = self._special(encoding, _TOOL_SECTION)
        if plan.tool_seam is None:
            n = TOKENS_PER_MESSAGE + _role_tokens("system", encoding) + section
        else:
            n = section - self._special(encoding, _TOOL_SEAM)
        name_tokens = _role_tokens(conv.tool_choice_name, encoding) if conv.tool_choice_name else 0
        return n + tools.SECTION_ADJUST + tools.choice_tokens(conv.tool_choice, conv.tool_choice_name, conv.tools_api, name_tokens)

    def openai_fixed(self, encoding: str) -> int:
        """Reply priming, tool definitions and response schema on an OpenAI model."""
        n = REPLY_PRIMING + self._tools_tokens(encoding)
        if self.plan.conversation.response_format is not None:
            n += self._special(encoding, _RESPONSE_FORMAT) + tools.RESPONSE_SCHEMA_TOKENS
        return n

    def openai_tokens(self, encoding: str) -> int:
        """The request's tokens on an OpenAI model of this encoding, images left out."""
        return sum(self._openai_message(k, encoding) for k in range(len(self.plan.roles))) + self.openai_fixed(encoding)

    def tool_notes(self, model: ModelPrice) -> tuple[str, ...]:
        """Why the tool part of this request's count on an OpenAI model is ≈ (empty: exact)."""
        plan = self.plan
        if not plan.tool_features:
            return ()
        conv = plan.conversation
        return tools.gaps(frozenset(plan.tool_features), conv.tools_api, model.id, model.tokenizer.encoding)

    def _other_fixed_tokens(self, model: ModelPrice) -> int:
        n = REPLY_PRIMING
        if self.plan.conversation.tools and model.provider == "anthropic":
            n += ANTHROPIC_TOOL_PROMPT.get(self.plan.conversation.tool_choice or "", ANTHROPIC_TOOL_PROMPT_DEFAULT)
        return n

    def _scaled(self, model: ModelPrice, n: int) -> int:
        return model_tokens(model, {model.tokenizer.encoding: n}, self.content())

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
        notes: tuple[str, ...] = ()
        if uses_openai_rules(model):
            total = self.openai_tokens(encoding) + sum(image_tokens)
            notes = self.tool_notes(model)
            approximate = bool(self.plan.approximations) or bool(notes)
        else:
            text, rest = self.approx_split(model, image_tokens)
            scaled = approx.estimate(model.tokenizer, text, self.content())
            return ModelInput(scaled.tokens + rest, True, uncounted, sum(image_tokens), notes, scaled.low + rest, scaled.high + rest)
        return ModelInput(total, approximate, uncounted, sum(image_tokens), notes)

    def approx_split(self, model: ModelPrice, image_tokens: Sequence[int] | None = None) -> tuple[int, int]:
        """For a model without OpenAI's rules: (the base-encoding tokens of the text its factors
        scale, the tokens they do not: message overhead, tool prompts, images)."""
        if image_tokens is None:
            image_tokens = self._image_tokens(model)[0]
        encoding = model.tokenizer.encoding
        n = len(self.plan.roles)
        s = self.sums[encoding]
        text = sum(s[: 2 * n]) + self._special(encoding, _TOOL_JSON) + self._special(encoding, _RESPONSE_FORMAT)
        overhead = TOKENS_PER_MESSAGE * n + TOKENS_PER_NAME * sum(self.plan.named)
        return text, overhead + self._other_fixed_tokens(model) + sum(image_tokens)


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
