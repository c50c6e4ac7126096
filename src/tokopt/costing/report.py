"""What an estimate reports: counts per input, cost lines per model, the assumptions made."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from tokopt.pricing.model import Tier
from tokopt.tokens.measure import TextCount
from tokopt.usage import Cost, PlainDecimal, Usd


class ModelEstimate(BaseModel):
    """What one call (and `calls` calls) of a prompt costs on one model."""

    model: str
    provider: str
    tier: Tier
    tokenizer: str
    approximate: bool
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    cost: Cost
    calls: int
    total_usd: Usd
    context_window: int
    max_output: int
    context_share: PlainDecimal = Field(description="(input + output) / context_window")
    fits: bool
    problems: list[str] = Field(default_factory=list)
    batch_unavailable: bool = False
    as_of: dt.date


class Assumptions(BaseModel):
    """What an estimate assumed besides the prompt itself."""

    output_tokens: int
    output_tokens_from: Literal["option", "config", "default", "request"]
    calls: int
    cached_tokens: int = 0
    batch: bool = False


class FileEstimate(BaseModel):
    source: str
    models: list[ModelEstimate]


class EstimateReport(BaseModel):
    """An estimate over one or more inputs; each input is one call, `models` is their total."""

    inputs: list[TextCount]
    assumptions: Assumptions
    models: list[ModelEstimate]
    per_file: list[FileEstimate] = Field(default_factory=list)
