"""The pydantic schemas of the price catalog's classes (tokopt.pricing.model), for validation.

The catalog's classes are plain dataclasses (tokopt.plain says why). Values that their fast
check cannot vouch for are validated here, by pydantic models with the same fields, defaults,
constraints and checks, so that a bad pricing file gets pydantic's message and its key path.
A test keeps the fields of the two in step.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from tokopt.pricing.model import EncodingName, Tier, check_band, check_model, check_tokenizer, class_table
from tokopt.usage import PositiveInt

PerMillion = Annotated[Decimal, Field(ge=0)]
Factor = Annotated[Decimal, Field(gt=0)]
_FROZEN = ConfigDict(extra="forbid", frozen=True)


class ClassFactor(BaseModel):
    model_config = _FROZEN

    factor: Factor
    low: Factor | None = None
    high: Factor | None = None
    source: str
    as_of: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ClassFactor:
        check_band(self.factor, self.low, self.high)
        return self


class Tokenizer(BaseModel):
    model_config = _FROZEN

    encoding: EncodingName
    exact: bool = False
    factor: Factor = Decimal(1)
    low: Factor | None = None
    high: Factor | None = None
    source: str | None = None
    as_of: dt.date | None = None
    classes: Annotated[tuple[tuple[str, ClassFactor], ...], BeforeValidator(class_table)] = ()
    family: str | None = None

    @model_validator(mode="after")
    def _approximation_has_source(self) -> Tokenizer:
        check_tokenizer(self)
        return self


class LongContext(BaseModel):
    model_config = _FROZEN

    threshold: PositiveInt
    input: PerMillion
    output: PerMillion
    cached_input: PerMillion | None = None
    cache_write: PerMillion | None = None
    cache_write_1h: PerMillion | None = None


class Rates(BaseModel):
    model_config = _FROZEN

    input: PerMillion
    output: PerMillion | None = None
    cached_input: PerMillion | None = None
    cache_write: PerMillion | None = None
    cache_write_1h: PerMillion | None = None
    tiers: tuple[LongContext, ...] = ()


class ModelPrice(BaseModel):
    model_config = _FROZEN

    id: str
    provider: str
    as_of: dt.date
    source: str
    tier: Tier
    name: str | None = None
    host: str | None = None
    upstream: str | None = None
    tiers: tuple[LongContext, ...] = ()
    batch: Rates | None = None
    service_tiers: tuple[tuple[str, Rates], ...] = ()
    data_version: str | None = None
    service_tier: str | None = None
    tokenizer: Tokenizer
    context_window: PositiveInt | None = None
    max_output: PositiveInt | None = None
    max_input: PositiveInt | None = None
    input: PerMillion
    output: PerMillion
    cached_input: PerMillion | None = None
    cache_write: PerMillion | None = None
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
        check_model(self)
        return self
