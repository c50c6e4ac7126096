"""What `tokopt suggest` reports: the suggestions, the report around them, and a --write result."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from tokopt.usage import Usd

RuleName = str  # a registered rule's name (`optimize.rules.RULES`): cheaper-model, caching, ...
Confidence = Literal["exact", "estimated"]
# "assumed": nothing named the model, and the caller allowed one named assumption (estimate --suggest)
ChosenFrom = Literal["option", "request", "config", "default", "assumed"]
# What a suggestion changes: the prompt's text, how the request is sent (caching, batch, output
# cap, history, splitting), or the model. Fixes a writer can make come before model switches.
Kind = Literal["prompt", "request", "model"]


class Suggestion(BaseModel):
    """One change that makes the calls cheaper, with what it saves."""

    id: str
    rule: RuleName
    kind: Kind = "prompt"  # set from the rule's registration by the runner
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
    model_from: ChosenFrom
    approximate: bool
    input_tokens: int  # per call (all inputs once), on `model`
    output_tokens: int
    output_from: ChosenFrom
    calls: int
    batch: bool
    cost_per_call: Usd
    cost_total: Usd
    suggestions: list[Suggestion]
    notes: list[str]


class WriteResult(BaseModel):
    """The prompt written with rules 4 and 5 applied, and its tokens before and after."""

    source: str
    path: str
    encoding: str
    tokens_before: int
    tokens_after: int
