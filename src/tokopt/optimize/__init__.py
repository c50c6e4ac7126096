"""Suggestions: measured ways to pay less for a prompt, a request file or a conversation.

`suggest(workload, settings)` runs eight rules and returns `Suggestion`s, each with the tokens
and USD it saves per call (one call of every input: a batch file is all its lines once) and for
`calls` calls. Money comes from `costing.cost_of` on the catalog's prices, so every figure can
be recomputed from a `ModelPrice` and a token count. A suggestion is "exact" when its saving
is measured (re-tokenizing a rewritten text, catalog arithmetic on the counted prompt) and
"estimated" when it rests on an assumption, which it states.

Rewrites of plain text (rules 4 and 5) are measured without re-counting the whole text for
each one: the text is cut into segments at safe cuts (`tokens.is_safe_cut`, line starts only),
each rewrite is applied segment by segment, and only the segments it changes are counted again.
Where a rewrite makes a segment border unsafe, the segments on both sides are counted together,
so the sum stays the exact count of the rewritten text.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from tokopt import costing, tokens
from tokopt.tokens import billing
from tokopt.tokens.billing import Counted
from tokopt.requests.model import Conversation, Request
from tokopt.errors import InputError
from tokopt.inputs import EncodingErrors, Source
from tokopt.pricing.model import ModelPrice
from tokopt.config import Defaults, UserConfig
from tokopt.usage import Usage, Usd
from tokopt.pricing import Catalog

Rule = Literal[
    "cheaper-model",
    "caching",
    "batch",
    "formatting",
    "duplicates",
    "conversation-growth",
    "output-length",
    "long-context",
]
Confidence = Literal["exact", "estimated"]

SEGMENT_CHARS = 4096  # rewrites re-count only the segments they change
MIN_DUPLICATE_CHARS = 60  # shorter repeated paragraphs (headings, "Answer:") are left alone
OUTPUT_SHARE = Decimal("0.5")  # rule 7 speaks up when output is at least this share of the cost
HISTORY_KEEP = 4  # rule 6: messages kept verbatim besides the system prompt
MAX_SAME_TIER = 3
MAX_LOWER_TIER = 2


class Suggestion(BaseModel):
    """One change that makes the calls cheaper, with what it saves."""

    id: str
    rule: Rule
    title: str
    detail: str
    tokens_saved: int  # input tokens per call no longer sent (or no longer billed in full)
    cost_saved_per_call: Usd
    cost_saved_total: Usd
    calls: int
    confidence: Confidence
    assumption: str | None = None
    model: str  # the model the saving is priced on: the one the calls use today
    target: str | None = None  # rule 1: the model to switch to
    trade_off: bool = False  # rule 1: one tier down
    rewrite: bool = False  # applied by `tokopt suggest --write`
    # "call": the figures are per call (one call of every input), like the report's cost_per_call.
    # "run": per run of the agent loop that built a conversation, each assistant turn one call
    # (`run_calls` of them, as `estimate --by-turn` prices it); `calls` then counts runs.
    scope: Literal["call", "run"] = "call"
    run_calls: int | None = None


class SuggestReport(BaseModel):
    """What was looked at, what it costs today, and the suggestions, largest saving first."""

    inputs: list[str]
    requests: int
    model: str
    model_from: Literal["option", "request", "config", "default"]
    approximate: bool
    input_tokens: int  # per call (all inputs once), on `model`
    output_tokens: int
    output_from: Literal["option", "request", "config", "default"]
    calls: int
    batch: bool
    cost_per_call: Usd
    cost_total: Usd
    suggestions: list[Suggestion]
    notes: list[str]


# --- the workload ------------------------------------------------------------------------------


@dataclass
class TextPrompt:
    """One plain-text input: its text cut at safe line starts, and each segment's counts."""

    label: str
    text: str
    segments: list[str]
    counts: list[dict[str, int]]  # per segment, per encoding

    def raw(self, encoding: str) -> int:
        return sum(c[encoding] for c in self.counts)


@dataclass
class Workload:
    """The calls one run makes: plain-text prompts and chat requests, each one call."""

    texts: list[TextPrompt] = field(default_factory=list)
    requests: list[Counted] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)  # per call: texts first, then requests
    batch: bool = False  # the requests came from a batch input file
    encodings: tuple[str, ...] = ()

    @property
    def n_calls(self) -> int:
        return len(self.texts) + len(self.requests)

    def inputs_on(self, model: ModelPrice) -> list[int]:
        """Each call's input tokens on `model`."""
        out = [costing.model_tokens(model, {model.tokenizer.encoding: t.raw(model.tokenizer.encoding)}) for t in self.texts]
        out += [c.model_input(model).tokens for c in self.requests]
        return out


def segment(text: str, target: int = SEGMENT_CHARS) -> list[str]:
    """`text` cut into pieces of about `target` characters, only at safe cuts at line starts,
    preferring the start of a paragraph (after a blank line)."""
    out = []
    start = 0
    n = len(text)
    while n - start > target:
        cut = _line_cut(text, start + target // 2, start + target, paragraph=True)
        if cut < 0:
            cut = _line_cut(text, start + 1, start + target, paragraph=False)
        if cut < 0:
            cut = _line_cut_forward(text, start + target, min(n, start + 16 * target))
        if cut < 0:
            break
        out.append(text[start:cut])
        start = cut
    out.append(text[start:])
    return out


def _line_cut(text: str, lo: int, hi: int, *, paragraph: bool) -> int:
    pos = hi
    while True:
        nl = text.rfind("\n", lo, pos)
        if nl < 0:
            return -1
        if (not paragraph or (nl > 0 and text[nl - 1] == "\n")) and tokens.is_safe_cut(text, nl + 1):
            return nl + 1
        pos = nl


def _line_cut_forward(text: str, lo: int, hi: int) -> int:
    pos = lo
    while True:
        nl = text.find("\n", pos, hi)
        if nl < 0:
            return -1
        if tokens.is_safe_cut(text, nl + 1):
            return nl + 1
        pos = nl + 1


def text_prompt(label: str, text: str, encodings: Sequence[str]) -> TextPrompt:
    segs = segment(text)
    counted = tokens.count_keyed(enumerate(segs), encodings, expected_chars=len(text))
    return TextPrompt(label, text, segs, [counted[i] for i in range(len(segs))])


# --- rewrites (rules 4 and 5) ------------------------------------------------------------------

_TRAILING = re.compile(r"[ \t]+(?=\r?\n|\Z)")
_BLANK_RUN = re.compile(r"(\r?\n)(?:[ \t]*\r?\n){2,}")
_SEPARATOR = re.compile(r"^([ \t]*)([-=_*~+.])\2{4,}[ \t]*(?=\r?$)", re.MULTILINE)
_LEADING = re.compile(r"^( +)(?=\S)", re.MULTILINE)
_JSON_STRING_OR_SPACE = re.compile(r'("(?:\\.|[^"\\])*")|[ \t\r\n]+')
_FENCED_JSON = re.compile(r"^```json[ \t]*\r?\n(.*?)^```", re.MULTILINE | re.DOTALL)


def strip_trailing(seg: str) -> str:
    return _TRAILING.sub("", seg)


def collapse_blank_lines(seg: str) -> str:
    return _BLANK_RUN.sub(lambda m: m.group(1) * 2, seg)


def shorten_separators(seg: str) -> str:
    return _SEPARATOR.sub(lambda m: m.group(1) + m.group(2) * 3, seg)


def halve_indentation(seg: str) -> str:
    return _LEADING.sub(lambda m: " " * (len(m.group(1)) // 2), seg)


def deep_indentation(text: str) -> bool:
    """Lines indented by 8 spaces or more, and every indentation even (so halving keeps the nesting)."""
    widths = {len(m.group(1)) for m in _LEADING.finditer(text)}
    return bool(widths) and max(widths) >= 8 and all(w % 2 == 0 for w in widths)


def _minify_json(text: str) -> str:
    return _JSON_STRING_OR_SPACE.sub(lambda m: m.group(1) or "", text)


def minify_json(text: str) -> str:
    """The whole text, if it is JSON, or each ```json block, without whitespace between tokens.

    Only whitespace outside strings goes, so numbers and strings keep their exact text."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and _is_json(stripped):
        lead = text[: len(text) - len(text.lstrip())]
        tail = text[len(text.rstrip()) :]
        return lead + _minify_json(stripped) + tail

    def block(m: re.Match[str]) -> str:
        body = m.group(1)
        if not _is_json(body):
            return m.group(0)
        newline = "\r\n" if body.endswith("\r\n") else "\n"
        return m.group(0)[: m.start(1) - m.start(0)] + _minify_json(body) + newline + "```"

    return _FENCED_JSON.sub(block, text)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


@dataclass
class Dedup:
    """Removes paragraphs (runs of non-blank lines) already seen, outside code fences."""

    seen: set[str] = field(default_factory=set)
    in_fence: bool = False
    removed: int = 0
    _skip_blank: bool = False  # the paragraph just removed takes the blank lines after it along

    def __call__(self, seg: str) -> str:
        lines = seg.splitlines(keepends=True)
        out: list[str] = []
        para: list[str] = []

        def flush(following_blank: bool) -> None:
            if not para:
                return
            body = "".join(para)
            key = body.rstrip()
            if self._eligible(para, key) and key in self.seen:
                self.removed += 1
                if following_blank:
                    self._skip_blank = True
                elif out and not out[-1].strip():
                    while out and not out[-1].strip():
                        out.pop()
            else:
                if self._eligible(para, key):
                    self.seen.add(key)
                out.extend(para)
            para.clear()

        self._skip_blank = False
        for line in lines:
            fence = line.lstrip().startswith("```")
            if not line.strip():
                flush(True)
                if self._skip_blank:
                    continue
                out.append(line)
                continue
            self._skip_blank = False
            if fence:
                flush(False)
                self.in_fence = not self.in_fence
                out.append(line)
                continue
            if self.in_fence:
                out.append(line)
                continue
            para.append(line)
        flush(False)
        return "".join(out)

    def _eligible(self, para: list[str], key: str) -> bool:
        return len(key) >= MIN_DUPLICATE_CHARS and not para[0][:1].isspace()


@dataclass
class Rewrite:
    id: str
    rule: Rule
    title: str
    what: str  # for the detail line: what changed
    apply: Callable[[str], str]
    per_segment: bool = True
    written: bool = True  # part of --write


def rewrites(text: str) -> list[Rewrite]:
    """The rewrites that may change `text`, in the order --write applies them (each with its
    own state: the duplicate finder remembers what it has seen)."""
    return [rw for rw in _all_rewrites() if rw.id != "format.indentation" or deep_indentation(text)]


def _all_rewrites() -> list[Rewrite]:
    return [
        Rewrite("format.json", "formatting", "minify pretty-printed JSON", "JSON whitespace outside strings removed", minify_json, per_segment=False),
        Rewrite("format.trailing-spaces", "formatting", "remove trailing spaces", "spaces and tabs at line ends removed", strip_trailing),
        Rewrite("format.blank-lines", "formatting", "collapse runs of blank lines", "3 or more line breaks in a row made 2", collapse_blank_lines),
        Rewrite("format.separators", "formatting", "shorten separator lines", "lines of 5+ repeated - = _ * ~ + . made 3", shorten_separators),
        Rewrite("duplicates.paragraphs", "duplicates", "remove repeated paragraphs", "paragraphs of 60+ characters that appeared earlier removed", Dedup()),
        Rewrite("format.indentation", "formatting", "halve deep indentation", "leading spaces halved (8 → 4)", halve_indentation, written=False),
    ]


def _regroup(old: Sequence[str], new: Sequence[str]) -> list[tuple[list[int], str]]:
    """Rewritten segments joined where a border is no longer a safe cut: (old indices, new text)."""
    groups: list[tuple[list[int], str]] = []
    for i, seg in enumerate(new):
        if groups and (not seg or not groups[-1][1] or not tokens.is_safe_cut(groups[-1][1][-1] + seg[:256], 1)):
            idx, text = groups[-1]
            groups[-1] = (idx + [i], text + seg)
        else:
            groups.append(([i], seg))
    return groups


@dataclass
class Measured:
    """One rewrite applied to one prompt: the exact tokens before and after, in one encoding."""

    rewrite: Rewrite
    before: int
    after: int
    changes: int  # paragraphs removed, for duplicates


def measure_rewrites(prompt: TextPrompt, encoding: str) -> tuple[list[Measured], dict[str, str]]:
    """Each rewrite alone on the prompt, counted exactly; also the rewritten texts for
    rewrites that work on the whole text."""
    found: list[Measured] = []
    pending: list[tuple[tuple[str, int], str]] = []
    plans: list[tuple[Rewrite, list[tuple[list[int], str]], bool, int]] = []
    whole: dict[str, str] = {}
    before = prompt.raw(encoding)
    for rw in rewrites(prompt.text):
        if not rw.per_segment:
            new_text = rw.apply(prompt.text)
            if new_text != prompt.text:
                whole[rw.id] = new_text
                pending.append(((rw.id, -1), new_text))
                plans.append((rw, [], False, 0))
            continue
        new = [rw.apply(s) for s in prompt.segments]
        if all(a == b for a, b in zip(prompt.segments, new)):
            continue
        groups = _regroup(prompt.segments, new)
        changed = False
        for g, (idx, text) in enumerate(groups):
            if len(idx) == 1 and text == prompt.segments[idx[0]]:
                continue
            changed = True
            pending.append(((rw.id, g), text))
        if changed:
            plans.append((rw, groups, True, getattr(rw.apply, "removed", 0)))
    if not pending:
        return found, whole
    counted = tokens.count_keyed(iter(pending), [encoding], expected_chars=sum(len(t) for _, t in pending))
    for rw, groups, per_segment, changes in plans:
        if not per_segment:
            after = counted[(rw.id, -1)][encoding]
        else:
            after = before
            for g, (idx, text) in enumerate(groups):
                key = (rw.id, g)
                if key in counted:
                    after += counted[key][encoding] - sum(prompt.counts[i][encoding] for i in idx)
        found.append(Measured(rw, before, after, changes))
    return found, whole


def rewrite_text(text: str) -> str:
    """`text` with every written rewrite (rules 4 and 5) applied, in order."""
    for rw in rewrites(text):
        if not rw.written:
            continue
        if rw.per_segment:
            text = "".join(rw.apply(s) for s in segment(text))
        else:
            text = rw.apply(text)
    return text


# --- pricing helpers ---------------------------------------------------------------------------


def _sub(a: Decimal, b: Decimal) -> Decimal:
    with decimal.localcontext(costing.MONEY_CONTEXT):
        return a - b


def _sum(values: Iterable[Decimal]) -> Decimal:
    with decimal.localcontext(costing.MONEY_CONTEXT):
        return sum(values, Decimal(0))


def _calls_cost(model: ModelPrice, usages: Iterable[Usage], batch: bool) -> Decimal:
    return _sum(costing.cost_of(model, u, batch=batch).total_usd for u in usages)


def _scaled(model: ModelPrice, raw: int) -> int:
    return costing.model_tokens(model, {model.tokenizer.encoding: raw})


def _approx_note(model: ModelPrice) -> str | None:
    if model.tokenizer.exact:
        return None
    return f"{model.id}'s tokens are approximate ({model.tokenizer.label})"


def _join(*parts: str | None) -> str | None:
    found = [p for p in parts if p]
    return "; ".join(found) if found else None


# --- the rules ---------------------------------------------------------------------------------


@dataclass
class Settings:
    model: ModelPrice  # what the calls use today
    model_from: Literal["option", "request", "config", "default"]
    candidates: list[ModelPrice]  # rule 1 looks among these
    calls: int
    output_from: Literal["option", "request", "config", "default"]


class _Rules:
    def __init__(self, work: Workload, s: Settings) -> None:
        self.work = work
        self.s = s
        self.model = s.model
        self.inputs = work.inputs_on(s.model)
        self.outputs = work.outputs
        self.batch = work.batch
        self.base = self._cost(self.model, self.inputs, self.outputs, self.batch)
        self.found: list[Suggestion] = []
        self.notes: list[str] = []

    def _cost(self, model: ModelPrice, inputs: Sequence[int], outputs: Sequence[int], batch: bool) -> Decimal:
        return _calls_cost(model, (Usage(input_tokens=i, output_tokens=o) for i, o in zip(inputs, outputs)), batch)

    def add(self, saved: Decimal, **fields: object) -> None:
        """A suggestion, if it saves anything."""
        if saved <= 0:
            return
        total = costing.times(saved, self.s.calls)
        self.found.append(
            Suggestion(
                cost_saved_per_call=saved,
                cost_saved_total=total,
                calls=self.s.calls,
                model=self.model.id,
                **fields,  # type: ignore[arg-type]
            )
        )

    # 1 -------------------------------------------------------------------------------------------
    def cheaper_model(self) -> None:
        rank = self.model.tier.rank
        same: list[tuple[Decimal, ModelPrice, int]] = []
        lower: list[tuple[Decimal, ModelPrice, int]] = []
        for m in self.s.candidates:
            if m.id == self.model.id or m.tier.rank < rank - 1 or m.tokenizer.encoding not in self.work.encodings:
                continue
            ins = self.work.inputs_on(m)
            if any(costing.fit_problems(m, i, o) for i, o in zip(ins, self.outputs)):
                continue
            cost = self._cost(m, ins, self.outputs, self.batch)
            if cost >= self.base:
                continue
            (same if m.tier.rank >= rank else lower).append((cost, m, sum(ins)))
        same.sort(key=lambda x: (x[0], x[1].id))
        lower.sort(key=lambda x: (x[0], x[1].id))
        mine = sum(self.inputs)
        for group, trade in ((same[:MAX_SAME_TIER], False), (lower[:MAX_LOWER_TIER], True)):
            for cost, m, theirs in group:
                relation = "one tier down: a quality trade-off" if trade else ("same tier" if m.tier == self.model.tier else "a higher tier")
                self.add(
                    _sub(self.base, cost),
                    id=f"model.{m.id}",
                    rule="cheaper-model",
                    title=f"switch to {m.id} ({m.tier.value}, {relation})",
                    detail=f"{theirs:,} input tokens (now {mine:,}) at ${m.input}/${m.output} per 1M in/out "
                    f"(now ${self.model.input}/${self.model.output}); fits its {m.context_window:,}-token window",
                    tokens_saved=0,
                    confidence="exact" if m.tokenizer.exact and self.model.tokenizer.exact else "estimated",
                    assumption=_join(_approx_note(self.model), _approx_note(m)),
                    target=m.id,
                    trade_off=trade,
                )

    # 2 -------------------------------------------------------------------------------------------
    def _cache_saving(self, prefix: int, sharing: Sequence[int]) -> tuple[Decimal, int]:
        """Saving per run when the calls at `sharing` (indices) share a `prefix`-token prefix:
        the first writes the cache, the rest read it."""
        m = self.model
        cached = costing.cacheable_tokens(m, prefix)
        if not cached or len(sharing) < 2:
            return Decimal(0), 0
        plain = []
        with_cache = []
        for n, k in enumerate(sharing):
            i, o = self.inputs[k], self.outputs[k]
            c = min(cached, i)
            plain.append(Usage(input_tokens=i, output_tokens=o))
            if n == 0:
                writes = c if m.cache_write is not None else 0
                with_cache.append(Usage(input_tokens=i, cache_write_tokens=writes, output_tokens=o))
            else:
                with_cache.append(Usage(input_tokens=i, cached_input_tokens=c, output_tokens=o))
        saved = _sub(_calls_cost(m, plain, self.batch), _calls_cost(m, with_cache, self.batch))
        return saved, cached * (len(sharing) - 1)

    def _cache_assumption(self) -> str:
        m = self.model
        text = "every call after the first reads the prefix from the cache (calls within the cache lifetime, about 5 minutes, of each other)"
        if m.cache_write is not None:
            text += f"; the first call writes it at ${m.cache_write} per 1M"
        return _join(text, _approx_note(m)) or text

    def _where(self, anthropic: str, other: str) -> str:
        if self.model.provider == "anthropic":
            return anthropic
        if self.model.provider == "openai":
            return other + " (OpenAI caches prefixes of 1,024+ tokens automatically)"
        return other

    def caching(self) -> None:
        m = self.model
        if m.cached_input is None or m.cached_input >= m.input:
            return
        minimum = m.min_cache_tokens or 0
        enc = m.tokenizer.encoding
        texts = self.work.texts
        if len(texts) >= 2:
            prefix_end = shared_prefix([t.text for t in texts])
            prefix = _scaled(m, tokens.count(texts[0].text[:prefix_end], enc)) if prefix_end else 0
            saved, reads = self._cache_saving(prefix, range(len(texts)))
            if saved > 0:
                line = texts[0].text.count("\n", 0, prefix_end)
                self.add(
                    saved,
                    id="cache.prefix",
                    rule="caching",
                    title=f"cache the shared first {prefix:,} tokens of the {len(texts)} prompts",
                    detail=self._where(
                        f"send the shared start (through line {line + 1:,}) as its own system block with cache_control on it",
                        f"keep the shared start (through line {line + 1:,}) first and unchanged",
                    ),
                    tokens_saved=reads,
                    confidence="estimated",
                    assumption=self._cache_assumption(),
                )
            elif prefix_end and prefix < minimum:
                self.notes.append(f"caching: the prompts share a prefix of {prefix:,} tokens, below {m.id}'s minimum of {minimum:,}")
            suffix_start = shared_suffix([t.text for t in texts])
            if suffix_start is not None:
                suffix = _scaled(m, tokens.count(texts[0].text[suffix_start:], enc))
                if suffix > prefix:
                    saved2, reads2 = self._cache_saving(suffix, range(len(texts)))
                    saved2 = _sub(saved2, saved) if saved > 0 else saved2
                    self.add(
                        saved2,
                        id="cache.reorder",
                        rule="caching",
                        title=f"move the shared last {suffix:,} tokens before the parts that vary, and cache them",
                        detail=f"the {len(texts)} prompts end with the same {suffix:,} tokens but share only {prefix:,} at the start",
                        tokens_saved=max(reads2 - reads, 0),
                        confidence="estimated",
                        assumption=_join("the order of the parts does not matter to the answer", self._cache_assumption()),
                    )
        requests = self.work.requests
        if len(requests) >= 2:
            self._cache_requests()
        for k, counted in enumerate(requests):
            if len(requests) == 1:
                self._cache_conversation(counted, len(texts) + k)

    def _cache_requests(self) -> None:
        m = self.model
        requests = self.work.requests
        convs = [c.plan.conversation for c in requests]
        if any(any(msg.cache_breakpoint for msg in c.messages) for c in convs):
            self.notes.append("caching: the requests already mark cache breakpoints (cache_control); nothing to add")
            return
        shared = 0
        first = convs[0].messages
        while shared < len(first) - 1 and all(len(c.messages) > shared + 1 and c.messages[shared] == first[shared] for c in convs[1:]):
            shared += 1
        if not shared:
            self._reorder_first_message(convs)
            return
        own, _, _ = requests[0].turn_tokens(m)
        prefix = sum(own[:shared])
        offset = len(self.work.texts)
        saved, reads = self._cache_saving(prefix, range(offset, offset + len(requests)))
        where = f"message {shared} ({first[shared - 1].role})"
        if saved > 0:
            self.add(
                saved,
                id="cache.prefix",
                rule="caching",
                title=f"cache the {shared} shared leading messages ({prefix:,} tokens) of the {len(requests)} requests",
                detail=self._where(f"put cache_control on the last block of {where}", f"keep message{'s 1–' if shared > 1 else ' '}{shared} first and unchanged"),
                tokens_saved=reads,
                confidence="estimated",
                assumption=self._cache_assumption(),
            )
        elif prefix < (m.min_cache_tokens or 0):
            self.notes.append(f"caching: the requests share {prefix:,} leading tokens, below {m.id}'s minimum of {m.min_cache_tokens:,}")

    def _reorder_first_message(self, convs: Sequence[Conversation]) -> None:
        """Requests whose first messages differ only at the start: the shared end could come
        first (a date or a name before long instructions is the usual case)."""
        m = self.model
        texts = [c.messages[0].text for c in convs]
        if not all(texts) or len({c.messages[0].role for c in convs}) != 1:
            return
        start = shared_suffix(texts)
        if start is None:
            return
        suffix = _scaled(m, tokens.count(texts[0][start:], m.tokenizer.encoding))
        offset = len(self.work.texts)
        saved, reads = self._cache_saving(suffix, range(offset, offset + len(convs)))
        self.add(
            saved,
            id="cache.reorder",
            rule="caching",
            title=f"move the shared end of message 1 ({suffix:,} tokens) before the part that varies, and cache it",
            detail=f"the first messages of the {len(convs)} requests differ in their first {texts[0].count(chr(10), 0, start) + 1:,} "
            f"line(s) and then agree; put the shared part first, the varying part after it",
            tokens_saved=reads,
            confidence="estimated",
            assumption=_join("the order of the parts does not matter to the answer", self._cache_assumption()),
        )

    def _cache_conversation(self, counted: Counted, index: int) -> None:
        from tokopt.costing.pipeline import turn_table

        m = self.model
        conv = counted.plan.conversation
        if conv.roles.count("assistant") < 1:
            return
        if any(msg.cache_breakpoint for msg in conv.messages):
            self.notes.append("caching: the conversation already marks cache breakpoints (cache_control); nothing to add")
            return
        table = turn_table(counted, m, self.outputs[index], batch=self.batch)
        saved = _sub(table.total_usd, table.total_cached_usd)
        reads = sum(r.cached_input_tokens or 0 for r in table.rows)
        self.add(
            saved,
            id="cache.turns",
            rule="caching",
            title=f"cache the conversation's history between its {table.calls} calls",
            detail=self._where(
                "put cache_control on the last message of each call, so the next call reads the history from the cache",
                "keep earlier messages unchanged from call to call",
            )
            + f"; saving over one run of the conversation's {table.calls} calls",
            tokens_saved=reads,
            scope="run",
            run_calls=table.calls,
            confidence="estimated",
            assumption=self._cache_assumption(),
        )

    # 3 -------------------------------------------------------------------------------------------
    def batch_api(self) -> None:
        m = self.model
        if self.batch or not m.has_batch:
            return
        cost = self._cost(m, self.inputs, self.outputs, True)
        self.add(
            _sub(self.base, cost),
            id="batch",
            rule="batch",
            title=f"use the {m.provider} batch API",
            detail=f"${m.batch_input}/${m.batch_output} per 1M in/out (now ${m.input}/${m.output})",
            tokens_saved=0,
            confidence="estimated",
            assumption="the workload is not interactive: results within 24 hours are fine",
        )

    # 4 and 5 -------------------------------------------------------------------------------------
    def rewrites(self) -> None:
        m = self.model
        enc = m.tokenizer.encoding
        by_id: dict[str, list[tuple[int, Measured]]] = {}
        for k, prompt in enumerate(self.work.texts):
            measured, _ = measure_rewrites(prompt, enc)
            for item in measured:
                by_id.setdefault(item.rewrite.id, []).append((k, item))
        by_id_requests = self._request_rewrites(enc)
        for rid, items in by_id_requests.items():
            by_id.setdefault(rid, []).extend(items)
        for rid, items in by_id.items():
            rw = items[0][1].rewrite
            new_inputs = list(self.inputs)
            raw_saved = 0
            changes = 0
            for k, item in items:
                if k < len(self.work.texts):
                    new_inputs[k] = _scaled(m, item.after)
                else:
                    new_inputs[k] -= _scaled(m, item.before) - _scaled(m, item.after)
                raw_saved += item.before - item.after
                changes += item.changes
            saved_tokens = sum(self.inputs) - sum(new_inputs)
            if saved_tokens <= 0:
                continue
            cost = self._cost(m, new_inputs, self.outputs, self.batch)
            where = ", ".join(dict.fromkeys(self._label(k) for k, _ in items))
            what = rw.what + (f" ({changes:,})" if changes else "")
            self.add(
                _sub(self.base, cost),
                id=rid,
                rule=rw.rule,
                title=rw.title,
                detail=f"{what}: {raw_saved:,} {enc} tokens fewer in {where}"
                + ("" if rw.written else "; not applied by --write (indentation can carry meaning, as in YAML)"),
                tokens_saved=saved_tokens,
                confidence="exact" if m.tokenizer.exact else "estimated",
                assumption=_approx_note(m),
                rewrite=rw.written,
            )

    def _label(self, k: int) -> str:
        if k < len(self.work.texts):
            return self.work.texts[k].label
        return self.work.requests[k - len(self.work.texts)].plan.request.where

    def _request_rewrites(self, enc: str) -> dict[str, list[tuple[int, Measured]]]:
        """Rules 4 and 5 on the message texts of chat requests (each text counted before and after)."""
        out: dict[str, list[tuple[int, Measured]]] = {}
        if not self.work.requests:
            return out
        pending: list[tuple[tuple[int, str, str], str]] = []
        for r, counted in enumerate(self.work.requests):
            dedup = Dedup()
            for msg_index, message in enumerate(counted.plan.conversation.messages):
                text = message.text
                if not text:
                    continue
                for rw in rewrites(text):
                    if rw.id == "duplicates.paragraphs":
                        new = "".join(dedup(s) for s in segment(text))
                    else:
                        new = rw.apply(text)
                    if new != text:
                        pending.append(((r, rw.id, "old"), text))
                        pending.append(((r, rw.id, "new"), new))
        if not pending:
            return out
        # A text that several rewrites change is counted once per rewrite; message texts are small.
        counted_texts = tokens.count_batches([(0, [t for _, t in pending], [enc])], expected_chars=sum(len(t) for _, t in pending))
        _, values = next(iter(counted_texts))
        sums: dict[tuple[int, str], list[int]] = {}
        for (key, _), n in zip(pending, values[enc]):
            r, rid, which = key
            pair = sums.setdefault((r, rid), [0, 0])
            pair[0 if which == "old" else 1] += n
        rws = {rw.id: rw for rw in _all_rewrites()}
        offset = len(self.work.texts)
        for (r, rid), (old, new) in sums.items():
            counted = self.work.requests[r]
            raw = counted.text_tokens(enc)
            out.setdefault(rid, []).append((offset + r, Measured(rws[rid], raw, raw - (old - new), 0)))
        return out

    # 6 -------------------------------------------------------------------------------------------
    def conversation_growth(self) -> None:
        if len(self.work.requests) != 1:
            return
        counted = self.work.requests[0]
        m = self.model
        roles = counted.plan.roles
        own, content, fixed = counted.turn_tokens(m)
        index = len(self.work.texts)
        out_default = self.outputs[index]
        keep = HISTORY_KEEP
        calls: list[tuple[int, int, int]] = []  # (input, truncated input, output)
        for j in range(len(roles) + 1):
            if j < len(roles) and roles[j] != "assistant":
                continue
            if j == len(roles) and roles and roles[-1] == "assistant":
                break
            full = fixed + sum(own[:j])
            history = [k for k in range(j) if roles[k] not in ("system", "developer")]
            system = [k for k in range(j) if roles[k] in ("system", "developer")]
            window = history[-keep:]
            short = fixed + sum(own[k] for k in system) + sum(own[k] for k in window)
            out = content[j] if j < len(roles) else out_default
            calls.append((full, short, out))
        trimmed = [c for c in calls if c[1] < c[0]]
        if not trimmed:
            return
        plain = _calls_cost(m, (Usage(input_tokens=i, output_tokens=o) for i, _, o in calls), self.batch)
        short = _calls_cost(m, (Usage(input_tokens=s, output_tokens=o) for _, s, o in calls), self.batch)
        first = next(n for n, c in enumerate(calls) if c[1] < c[0]) + 1
        self.add(
            _sub(plain, short),
            id="history.window",
            rule="conversation-growth",
            title=f"from call {first} on, send the system prompt and only the last {keep} messages",
            detail=f"the conversation re-sends its whole history: {calls[-1][0]:,} input tokens by its last call; "
            f"K = {keep} messages kept from call {first} on ({len(trimmed)} of {len(calls)} calls shorter); saving over one run of the conversation",
            tokens_saved=sum(c[0] - c[1] for c in calls),
            scope="run",
            run_calls=len(calls),
            confidence="estimated",
            assumption=_join(
                f"the answers do not need messages older than the last {keep} (a summary in their place costs its own tokens)",
                _approx_note(m),
            ),
        )

    # 7 -------------------------------------------------------------------------------------------
    def output_length(self) -> None:
        m = self.model
        usages = [Usage(input_tokens=i, output_tokens=o) for i, o in zip(self.inputs, self.outputs)]
        costs = [costing.cost_of(m, u, batch=self.batch) for u in usages]
        out_usd = _sum(c.output_usd for c in costs)
        if not self.base or out_usd < self.base * OUTPUT_SHARE:
            return
        caps = [o // 2 for o in self.outputs]
        new = self._cost(m, self.inputs, caps, self.batch)
        with decimal.localcontext(costing.MONEY_CONTEXT):
            share = (out_usd / self.base * 100).quantize(Decimal(1))
        same = len(set(self.outputs)) == 1
        cap_text = f"{caps[0]:,} tokens" if same else "half of each call's output"
        source = {
            "option": "--output-tokens",
            "request": "the requests' max_tokens, an upper bound",
            "config": "your config",
            "default": "the default; set --output-tokens",
        }[self.s.output_from]
        self.add(
            _sub(self.base, new),
            id="output.cap",
            rule="output-length",
            title=f"cap the output at {cap_text} (max_tokens) and ask for shorter answers",
            detail=f"output is {share}% of the cost: {sum(self.outputs):,} output tokens per call ({source})",
            tokens_saved=0,
            confidence="estimated",
            assumption=f"answers fit in {cap_text}; a reply cut at the cap is incomplete",
        )

    # 8 -------------------------------------------------------------------------------------------
    def long_context(self) -> None:
        m = self.model
        lc = m.long_context
        if lc is None:
            return
        over = [k for k, i in enumerate(self.inputs) if i > lc.threshold]
        if not over:
            return
        before = []
        after = []
        parts_total = 0
        for k in over:
            i, o = self.inputs[k], self.outputs[k]
            parts = -(-i // lc.threshold)
            parts_total += parts
            before.append(Usage(input_tokens=i, output_tokens=o))
            for p in range(parts):
                after.append(Usage(input_tokens=i // parts + (1 if p < i % parts else 0), output_tokens=o // parts + (1 if p < o % parts else 0)))
        saved = _sub(_calls_cost(m, before, self.batch), _calls_cost(m, after, self.batch))
        biggest = max(self.inputs[k] for k in over)
        self.add(
            saved,
            id="long-context.split",
            rule="long-context",
            title=f"split prompts over {lc.threshold:,} tokens into {parts_total} parts below it",
            detail=f"{len(over)} call(s) pass {m.id}'s long-context threshold of {lc.threshold:,} input tokens (the largest: {biggest:,}) "
            f"and are billed ${lc.input}/${lc.output} per 1M in/out instead of ${m.input}/${m.output}",
            tokens_saved=0,
            confidence="estimated",
            assumption=_join(
                "the prompt splits into independent parts, its output shared among them; instructions each part needs add their tokens",
                _approx_note(m),
            ),
        )


def shared_prefix(texts: Sequence[str]) -> int:
    """The length of the longest common prefix of `texts` that ends at a safe cut in every one
    of them (so that its tokens are the same in each), or 0."""
    import os.path

    end = len(os.path.commonprefix(list(texts)))
    if end == 0:
        return 0
    first = texts[0]
    while end > 0:
        if all(end == len(t) or tokens.is_safe_cut(t, end) for t in texts):
            return end
        end = first.rfind("\n", 0, end - 1) + 1
    return 0


def shared_suffix(texts: Sequence[str]) -> int | None:
    """Where the longest common suffix of `texts` starts in texts[0], at a line start that is a
    safe cut in every text; None if there is none."""
    import os.path

    n = len(os.path.commonprefix([t[::-1] for t in texts]))
    if n == 0:
        return None
    first = texts[0]
    pos = len(first) - n
    while pos < len(first):
        if pos > 0 and first[pos - 1] == "\n":
            offset = len(first) - pos
            if all(tokens.is_safe_cut(t, len(t) - offset) for t in texts):
                return pos
        nl = first.find("\n", pos)
        if nl < 0:
            return None
        pos = nl + 1
    return None


def suggest(work: Workload, settings: Settings, *, inputs: Sequence[str]) -> SuggestReport:
    """Every rule on the workload, priced on `settings.model`; largest saving first."""
    rules = _Rules(work, settings)
    rules.cheaper_model()
    rules.caching()
    rules.batch_api()
    rules.rewrites()
    rules.conversation_growth()
    rules.output_length()
    rules.long_context()
    # per-call suggestions first, then those for a run of a conversation: different units
    found = sorted(rules.found, key=lambda s: (s.scope != "call", -s.cost_saved_per_call, s.id))
    return SuggestReport(
        inputs=list(inputs),
        requests=work.n_calls,
        model=settings.model.id,
        model_from=settings.model_from,
        approximate=settings.model.approximate,
        input_tokens=sum(rules.inputs),
        output_tokens=sum(work.outputs),
        output_from=settings.output_from,
        calls=settings.calls,
        batch=work.batch,
        cost_per_call=rules.base,
        cost_total=costing.times(rules.base, settings.calls),
        suggestions=found,
        notes=rules.notes,
    )


# --- reading the inputs ------------------------------------------------------------------------


@dataclass
class Options:
    """What `prepare` needs besides the inputs: the command line's choices."""

    target: str | None = None  # --target-model
    candidates: Sequence[str] = ()  # --model patterns: where rule 1 looks (default: the catalog)
    config_models: Sequence[str] = ()  # the user's config defaults
    output_tokens: int | None = None  # --output-tokens
    default_output: int = 500
    default_output_from: Literal["config", "default"] = "default"
    calls: int = 1000
    input_format: str = "auto"
    errors: EncodingErrors = "strict"
    keep_going: bool = False

    @classmethod
    def resolve(
        cls,
        defaults: Defaults,
        *,
        target: str | None = None,
        candidates: Sequence[str] = (),
        output_tokens: int | None = None,
        calls: int | None = None,
        input_format: str = "auto",
        errors: EncodingErrors = "strict",
        keep_going: bool = False,
    ) -> Options:
        """The command line's choices over the user's config defaults (a choice wins over the config, the config over tokopt's default)."""
        from tokopt import settings

        # --output-tokens stays apart: a request's own max_tokens comes between it and the config
        chosen = settings.resolve(UserConfig(defaults=defaults), calls=calls)
        return cls(
            target=target,
            candidates=candidates,
            config_models=chosen.models.value,
            output_tokens=output_tokens,
            default_output=chosen.output_tokens.value,
            default_output_from="config" if chosen.output_tokens.source == "config" else "default",
            calls=chosen.calls.value,
            input_format=input_format,
            errors=errors,
            keep_going=keep_going,
        )


def prepare(sources: Sequence[Source], catalog: Catalog, opts: Options) -> tuple[Workload, Settings]:
    """Read every input (plain text, chat requests, request and batch files, transcripts), choose
    the model the calls use today, and count what the rules need, once per encoding."""
    from tokopt import inputs
    from tokopt.costing import pipeline
    from tokopt.inputs import formats

    fmt = formats.InputFormat(opts.input_format)
    chat_opts = pipeline.Options(
        selected=None,
        defaults=[],
        output_tokens=opts.output_tokens,
        default_output=opts.default_output,
        default_output_from=opts.default_output_from,
        calls=opts.calls,
        input_format=fmt,
        errors=opts.errors,
        keep_going=opts.keep_going,
    )
    texts: list[tuple[str, str]] = []
    requests: list[Request] = []
    for source in sources:
        if formats.sniff(source, fmt) == "text":
            texts.append((source.label, inputs.read_text(source, errors=opts.errors)))
        else:
            requests.extend(pipeline.iter_requests(source, chat_opts))
    if not texts and not requests:
        raise InputError("nothing to look at: no input held a request")

    model, model_from = _target(catalog, opts, requests)
    candidates = catalog.select(opts.candidates) if opts.candidates else [m for m in catalog if m.deprecated is None]
    encodings = {model.tokenizer.encoding}
    for m in candidates:
        # A model that charges at least as much per token both ways is not counted in another
        # encoding just to be ruled out.
        if m.tier.rank >= model.tier.rank - 1 and (m.input < model.input or m.output < model.output):
            encodings.add(m.tokenizer.encoding)
    encs = tuple(sorted(encodings))

    work = Workload(encodings=encs, batch=any(r.custom_id is not None for r in requests))
    work.texts = [text_prompt(label, text, encs) for label, text in texts]
    if requests:
        work.requests = billing.count_requests(requests, encs)
    if opts.output_tokens is not None:
        output_from: Literal["option", "request", "config", "default"] = "option"
        work.outputs = [opts.output_tokens] * work.n_calls
    else:
        own = [r.conversation.max_output_tokens for r in requests]
        work.outputs = [opts.default_output] * len(texts) + [o if o is not None else opts.default_output for o in own]
        output_from = "request" if own and not texts and all(o is not None for o in own) else opts.default_output_from
    settings = Settings(model=model, model_from=model_from, candidates=candidates, calls=opts.calls, output_from=output_from)
    return work, settings


def _target(catalog: Catalog, opts: Options, requests: Sequence[Request]) -> tuple[ModelPrice, Literal["option", "request", "config", "default"]]:
    if opts.target:
        return catalog.get(opts.target), "option"
    for request in requests:
        name = request.conversation.model
        if name:
            model = catalog.find(name)
            if model is None:
                near = catalog.suggest(name)
                hint = f"did you mean {', '.join(near)}? " if near else ""
                raise InputError(
                    f"{request.where}: the request's model '{name}' has no price in the catalog",
                    hint=hint + "choose the model with --target-model, or add its price with --pricing",
                )
            return model, "request"
    if opts.config_models:
        return catalog.select([opts.config_models[0]])[0], "config"
    defaults = catalog.defaults()
    if not defaults:
        raise InputError("no model to price on", hint="name one with --target-model")
    return defaults[0], "default"


# --- --write -----------------------------------------------------------------------------------


class WriteResult(BaseModel):
    """The prompt written with rules 4 and 5 applied, and its tokens before and after."""

    source: str
    path: str
    encoding: str
    tokens_before: int
    tokens_after: int


def write_rewritten(work: Workload, sources: Sequence[Source], path: Path, model: ModelPrice) -> WriteResult:
    """Write the one plain-text prompt of `work` to `path` with the exact, meaning-preserving
    rewrites applied. The input itself is never written to."""
    if len(sources) != 1 or len(work.texts) != 1:
        raise InputError("--write takes one plain-text prompt", hint="name one text file (chat requests are not rewritten)")
    source = sources[0]
    target = path.expanduser()
    if source.path is not None and (
        target.resolve() == source.path.resolve() or (target.exists() and target.samefile(source.path))
    ):
        raise InputError(f"--write would overwrite the input itself: {path}", hint="write to another file")
    if target.is_dir():
        raise InputError(f"--write: is a directory: {path}")
    prompt = work.texts[0]
    encoding = model.tokenizer.encoding
    new_text = rewrite_text(prompt.text)
    after = tokens.count_all(new_text, [encoding])[encoding]
    try:
        with target.open("w", encoding="utf-8", newline="") as fh:
            fh.write(new_text)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    return WriteResult(source=prompt.label, path=str(path), encoding=encoding, tokens_before=prompt.raw(encoding), tokens_after=after)
