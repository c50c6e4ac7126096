"""Usage of one API call and its cost: the token kinds and money types every layer shares.

Money is `Decimal` everywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

# JSON carries money as a plain decimal string ("0.0000005", never "5E-7" and never a float).
_plain = PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str, when_used="json")
PlainDecimal = Annotated[Decimal, _plain]
Usd = PlainDecimal
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


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
