"""A model's entry in the price catalog: prices per 1M tokens, tokenizer, limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tokopt.usage import PlainDecimal, PositiveInt, _plain

EncodingName = Literal["cl100k_base", "o200k_base"]
PerMillion = Annotated[Decimal, Field(ge=0, description="USD per 1M tokens"), _plain]


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
