"""What the suggestion tests share: running the rules on real files, and the arithmetic that
recomputes every figure from the catalog's prices and tiktoken's counts."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from tokopt import inputs, optimize, pricing
from tokopt.optimize.rules import conversation_growth
from tokopt.pricing.model import ModelPrice

M = Decimal(1_000_000)

# A prompt every rewrite finds something in: trailing spaces, a run of blank lines, a separator,
# and a paragraph said twice.
PARA = "Always answer in English and cite the section of the policy that applies to the case."
REDUNDANT = "Rules:   \n\n\n\n" + PARA + "\n\n==========\n\n" + PARA + "\n\nQuestion: can I return the item?\n"
ESSAY = "Write a long essay about tokens.\n"  # short in, long out


def run(paths: list[Path], catalog: pricing.Catalog, **opts: object) -> optimize.SuggestReport:
    sources = inputs.expand([str(p) for p in paths]).sources
    work, s = optimize.prepare(sources, catalog, optimize.Options(**opts))  # type: ignore[arg-type]
    return optimize.suggest(work, s, inputs=[x.label for x in sources])


def by_id(report: optimize.SuggestReport) -> dict[str, optimize.Suggestion]:
    return {s.id: s for s in report.suggestions}


def usd(tokens: int, price: Decimal) -> Decimal:
    return Decimal(tokens) * price / M


def scaled(model: ModelPrice, raw: int) -> int:
    if model.tokenizer.exact:
        return raw
    return int((Decimal(raw) * model.tokenizer.factor).to_integral_value(rounding=ROUND_HALF_UP))


def check_invariants(report: optimize.SuggestReport) -> None:
    costs = [s.cost_saved_per_call for s in report.suggestions]
    assert all(c > 0 for c in costs)
    # per-call suggestions first, then those per run of a conversation; in each, fixes before
    # model switches, and each of those by savings
    scopes = [s.scope for s in report.suggestions]
    assert scopes == sorted(scopes, key=lambda x: x != "call")
    for scope in ("call", "run"):
        kinds = [s.kind for s in report.suggestions if s.scope == scope]
        assert kinds == sorted(kinds, key=lambda k: k == "model")
        for switch in (False, True):
            mine = [s.cost_saved_per_call for s in report.suggestions if s.scope == scope and (s.kind == "model") == switch]
            assert mine == sorted(mine, reverse=True)
    for s in report.suggestions:
        assert s.tokens_saved >= 0
        assert s.cost_saved_total == s.cost_saved_per_call * report.calls
        assert (s.confidence == "estimated") == (s.assumption is not None)


def write_conversation(tmp_path: Path, enc) -> tuple[Path, list[tuple[int, int, int]]]:
    """A 6-turn conversation on gpt-5.4 with a long system prompt, and each of its calls as an
    agent loop makes them: (input tokens, input with the history window, output tokens)."""
    messages = [{"role": "system", "content": "You are terse. " * 200}]
    for i in range(6):
        messages.append({"role": "user", "content": f"Question {i}: " + "tell me more " * 60})
        messages.append({"role": "assistant", "content": f"Answer {i}: " + "here is more " * 90})
    messages.append({"role": "user", "content": "And finally?"})
    path = tmp_path / "conv.json"
    path.write_text(json.dumps({"model": "gpt-5.4", "messages": messages, "max_tokens": 300}), encoding="utf-8")
    own = [3 + len(enc.encode_ordinary(x["role"])) + len(enc.encode_ordinary(x["content"])) for x in messages]
    content = [len(enc.encode_ordinary(x["content"])) for x in messages]
    fixed = 3
    calls = []  # (input, kept input, output)
    for j in range(len(messages) + 1):
        if j < len(messages) and messages[j]["role"] != "assistant":
            continue
        history = [k for k in range(1, j)]
        kept = fixed + own[0] + sum(own[k] for k in history[-conversation_growth.HISTORY_KEEP :])
        calls.append((fixed + sum(own[:j]), kept, content[j] if j < len(messages) else 300))
    return path, calls


# Lines that every rewrite finds something in, in any mix: spaces, separators, fences, JSON,
# indentation, repeated paragraphs, non-ASCII text.
LINE_CHOICES = [
    "",
    "   ",
    "word word word",
    "Some instruction, with punctuation.  ",
    "        deeply indented line",
    "    four spaces",
    "\t tab then space ",
    "==========",
    "----------------",
    "// a comment line",
    "/path/like",
    "```",
    "```json",
    '{"a": 1,   "b": [1, 2]}',
    "A paragraph that is long enough to be a duplicate when it appears again later.",
    "x" * 50,
    "ünïcödé tëxt — dashes",
]
