"""Pydantic models shared by the core: prices, token counts, usage, cost lines.

Money is `Decimal` everywhere. Prices are USD per 1M tokens, as the providers publish them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

EncodingName = Literal["cl100k_base", "o200k_base"]
# JSON carries money as a plain decimal string ("0.0000005", never "5E-7" and never a float).
_plain = PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str, when_used="json")
PlainDecimal = Annotated[Decimal, _plain]
Usd = PlainDecimal
PerMillion = Annotated[Decimal, Field(ge=0, description="USD per 1M tokens"), _plain]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class Tier(str, Enum):
    """Capability tier, lowest first; suggestions compare tiers by this order."""

    mini = "mini"
    fast = "fast"
    strong = "strong"
    frontier = "frontier"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)


class Tokenizer(BaseModel):
    """How a model's tokens are counted.

    `exact` models use an OpenAI encoding as the provider does. The rest count with `encoding`
    and scale by `factor`, a measured ratio whose `source` is recorded next to it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    encoding: EncodingName
    exact: bool = False
    factor: Annotated[Decimal, Field(gt=0), _plain] = Decimal(1)
    source: str | None = None

    @model_validator(mode="after")
    def _approximation_has_source(self) -> Tokenizer:
        if self.exact and self.factor != 1:
            raise ValueError("an exact tokenizer cannot have a factor")
        if not self.exact and not self.source:
            raise ValueError("an approximate tokenizer needs a `source` for its factor")
        return self

    @property
    def label(self) -> str:
        if self.exact:
            return self.encoding
        return f"≈ {self.encoding} × {self.factor}"


class LongContext(BaseModel):
    """Prices that apply to the whole request once its input exceeds `threshold` tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: PositiveInt
    input: PerMillion
    output: PerMillion
    cached_input: PerMillion | None = None
    cache_write: PerMillion | None = None
    cache_write_1h: PerMillion | None = None


class ModelPrice(BaseModel):
    """One model's entry in the catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    provider: str
    as_of: dt.date
    source: str
    tier: Tier
    tokenizer: Tokenizer
    context_window: PositiveInt = Field(description="input plus output tokens one request may hold")
    max_output: PositiveInt
    max_input: PositiveInt | None = Field(None, description="a lower cap on input, where the provider has one")
    input: PerMillion
    output: PerMillion
    cached_input: PerMillion | None = None
    cache_write: PerMillion | None = Field(None, description="5-minute cache write, or the only one")
    cache_write_1h: PerMillion | None = None
    batch_input: PerMillion | None = None
    batch_output: PerMillion | None = None
    long_context: LongContext | None = None
    min_cache_tokens: PositiveInt | None = None
    aliases: tuple[str, ...] = ()
    default: bool = False
    deprecated: dt.date | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelPrice:
        if self.max_input is not None and self.max_input > self.context_window:
            raise ValueError("max_input cannot exceed context_window")
        if (self.batch_input is None) != (self.batch_output is None):
            raise ValueError("batch_input and batch_output go together")
        return self

    @property
    def input_limit(self) -> int:
        return self.max_input if self.max_input is not None else self.context_window

    @property
    def approximate(self) -> bool:
        return not self.tokenizer.exact

    @property
    def has_batch(self) -> bool:
        return self.batch_input is not None


class Usage(BaseModel):
    """Tokens of one API call, the way providers bill them.

    `input_tokens` is the whole prompt; `cached_input_tokens` and the cache-write counts are
    the parts of it read from or written to the provider's prompt cache. `output_tokens`
    includes reasoning tokens.
    """

    model_config = ConfigDict(frozen=True)

    input_tokens: NonNegativeInt = 0
    cached_input_tokens: NonNegativeInt = 0
    cache_write_tokens: NonNegativeInt = 0
    cache_write_1h_tokens: NonNegativeInt = 0
    output_tokens: NonNegativeInt = 0

    @model_validator(mode="after")
    def _parts_fit(self) -> Usage:
        parts = self.cached_input_tokens + self.cache_write_tokens + self.cache_write_1h_tokens
        if parts > self.input_tokens:
            raise ValueError(
                f"cached and cache-write tokens ({parts}) exceed the input tokens ({self.input_tokens})"
            )
        return self

    @property
    def uncached_input_tokens(self) -> int:
        return self.input_tokens - self.cached_input_tokens - self.cache_write_tokens - self.cache_write_1h_tokens


class Cost(BaseModel):
    """The cost of one call in USD, split the way the bill is."""

    model_config = ConfigDict(frozen=True)

    input_usd: Usd
    cached_input_usd: Usd
    cache_write_usd: Usd
    output_usd: Usd
    long_context: bool = False
    batch: bool = False

    @property
    def prompt_usd(self) -> Decimal:
        return self.input_usd + self.cached_input_usd + self.cache_write_usd

    @property
    def total_usd(self) -> Decimal:
        return self.prompt_usd + self.output_usd


class TextCount(BaseModel):
    """Counts for one input text: characters, UTF-8 bytes, and tokens per encoding."""

    source: str
    chars: NonNegativeInt
    bytes: NonNegativeInt
    tokens: dict[str, int]


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
