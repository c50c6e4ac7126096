"""A model's entry in the price catalog: prices per 1M tokens, tokenizer, limits.

A `ModelPrice` is one model's prices as they stand at one moment (the standard prices; the
batch and service-tier prices next to them), resolved from genai-prices and tokopt's own layer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from tokopt.usage import TOKEN_KINDS, PlainDecimal, PositiveInt, _plain

EncodingName = Literal["cl100k_base", "o200k_base"]
PerMillion = Annotated[Decimal, Field(ge=0, description="USD per 1M tokens"), _plain]


# what providers call the tier with no price of its own (OpenAI "default", Anthropic "standard")
STANDARD_TIERS = ("default", "standard", "auto")


class Tier(str, Enum):
    """Capability tier, lowest first; suggestions compare tiers by this order."""

    mini = "mini"
    fast = "fast"
    strong = "strong"
    frontier = "frontier"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)


# The content classes an approximate count is split into (tokens/approx.py classifies text).
CONTENT_CLASSES = ("prose", "code", "json", "cjk", "japanese", "other_scripts", "digits", "whitespace")
Factor = Annotated[Decimal, Field(gt=0), _plain]


class _Band:
    """A factor with its band `low`..`high` (None: the factor itself), for the models below."""

    if TYPE_CHECKING:  # fields of the models that use it (declared there, in their order)
        factor: Decimal
        low: Decimal | None
        high: Decimal | None

    @property
    def lo(self) -> Decimal:
        return self.low if self.low is not None else self.factor

    @property
    def hi(self) -> Decimal:
        return self.high if self.high is not None else self.factor

    def _check_band(self) -> None:
        if not self.lo <= self.factor <= self.hi:
            raise ValueError(f"low <= factor <= high does not hold ({self.lo}, {self.factor}, {self.hi})")


class ClassFactor(_Band, BaseModel):
    """A measured ratio to the base encoding's count for one content class: its central value,
    the lowest and highest measurement (the band), where they come from and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    factor: Factor
    low: Factor | None = None  # None: the factor itself
    high: Factor | None = None
    source: str
    as_of: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ClassFactor:
        self._check_band()
        return self


def _classes(value: Any) -> Any:
    """A TOML table {class: {...}} as (class, factor) pairs in CONTENT_CLASSES order, so that a
    Tokenizer stays hashable; unknown classes are refused."""
    if not isinstance(value, dict):
        return value
    unknown = sorted(set(value) - set(CONTENT_CLASSES))
    if unknown:
        raise ValueError(f"unknown content class '{unknown[0]}' (known: {', '.join(CONTENT_CLASSES)})")
    return tuple((name, value[name]) for name in CONTENT_CLASSES if name in value)


class Tokenizer(_Band, BaseModel):
    """How a model's tokens are counted.

    `exact` models use an OpenAI encoding as the provider does. The rest count with `encoding`
    and scale by measured ratios whose `source` is recorded next to them: `factor` (with its
    band `low`..`high`) for text of unknown content, and per content class in `classes`, each
    with its own band, source and date (tokens/approx.py weighs them by the text's content).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    encoding: EncodingName
    exact: bool = False
    factor: Factor = Decimal(1)
    low: Factor | None = None
    high: Factor | None = None
    source: str | None = None
    as_of: dt.date | None = None
    classes: Annotated[tuple[tuple[str, ClassFactor], ...], BeforeValidator(_classes)] = ()
    # the family rule the factor comes from, when it was not measured on this model itself
    family: str | None = None

    @model_validator(mode="after")
    def _approximation_has_source(self) -> Tokenizer:
        if self.exact and (self.factor != 1 or self.classes or self.low is not None or self.high is not None):
            raise ValueError("an exact tokenizer cannot have a factor")
        if not self.exact and not self.source:
            raise ValueError("an approximate tokenizer needs a `source` for its factor")
        self._check_band()
        return self

    def class_factor(self, name: str) -> ClassFactor:
        """The factor for one content class: its own, else the overall factor and band."""
        for key, value in self.classes:
            if key == name:
                return value
        return ClassFactor(factor=self.factor, low=self.lo, high=self.hi, source=self.source or "", as_of=self.as_of)

    @property
    def label(self) -> str:
        """`≈ o200k_base × 1.53`: the factor for text of unknown content."""
        if self.exact:
            return self.encoding
        return f"≈ {self.encoding} × {self.factor}"

    @property
    def by_content(self) -> str:
        """`×1.18–1.55 by content`, or `×1.53` without factors per class."""
        if not self.classes:
            return f"×{self.factor}"
        factors = [self.class_factor(name).factor for name in CONTENT_CLASSES]
        return f"×{min(factors)}–{max(factors)} by content"


class LongContext(BaseModel):
    """Prices that apply to the whole request once its input exceeds `threshold` tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: PositiveInt
    input: PerMillion
    output: PerMillion
    cached_input: PerMillion | None = None
    cache_write: PerMillion | None = None
    cache_write_1h: PerMillion | None = None


class Rates(BaseModel):
    """One set of prices per 1M tokens (standard, batch, flex or priority), with its long-context tiers.

    A price left out bills those tokens the way genai-prices does: cache reads and writes at
    the input price, 1-hour writes at the cache-write price, anything else at nothing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: PerMillion
    output: PerMillion | None = None
    cached_input: PerMillion | None = None
    cache_write: PerMillion | None = None
    cache_write_1h: PerMillion | None = None
    tiers: tuple[LongContext, ...] = ()  # ascending thresholds; the highest one exceeded applies


# The price fields of a `Rates` (and of `LongContext` and `ModelPrice`), one per priced token
# kind, in the order of `usage.TOKEN_KINDS`; and the name genai-prices gives each. A new token
# kind is its field in usage.py, its field in the three classes here, and its name below.
RATE_FIELDS: tuple[str, ...] = tuple(k.rate for k in TOKEN_KINDS if k.rate is not None)
UPSTREAM_KEYS: dict[str, str] = {
    "input": "input_mtok",
    "cached_input": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "cache_write_1h": "cache_write_1h_mtok",
    "output": "output_mtok",
}


class ModelPrice(BaseModel):
    """One model's entry in the catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    provider: str
    as_of: dt.date
    source: str
    tier: Tier
    name: str | None = None
    host: str | None = Field(None, description="the host that bills this model, when it is not its maker")
    upstream: str | None = Field(None, description="genai-prices provider/model this price comes from")
    tiers: tuple[LongContext, ...] = ()  # all long-context tiers; `long_context` is the first
    batch: Rates | None = Field(None, description="prices under the provider's batch API, where it has one")
    # (name, prices) pairs rather than a dict, so that a ModelPrice stays hashable
    service_tiers: tuple[tuple[str, Rates], ...] = Field((), description="flex, priority, ...: their prices")
    data_version: str | None = Field(None, description="the price data's version: gp:<genai-prices data sha256>[+file:<pricing file sha256>]")
    service_tier: str | None = Field(None, description="the service tier its standard prices are (flex, priority); None: the standard tier")
    tokenizer: Tokenizer
    context_window: PositiveInt | None = Field(None, description="input plus output tokens one request may hold")
    max_output: PositiveInt | None = None
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
        if self.max_input is not None and self.context_window is not None and self.max_input > self.context_window:
            raise ValueError("max_input cannot exceed context_window")
        if (self.batch_input is None) != (self.batch_output is None):
            raise ValueError("batch_input and batch_output go together")
        return self

    @property
    def input_limit(self) -> int | None:
        return self.max_input if self.max_input is not None else self.context_window

    @property
    def approximate(self) -> bool:
        return not self.tokenizer.exact

    @property
    def has_batch(self) -> bool:
        return self.batch_input is not None

    def service_tier_rates(self, name: str) -> Rates | None:
        return next((rates for tier, rates in self.service_tiers if tier == name), None)

    def at_service_tier(self, name: str | None) -> ModelPrice | None:
        """The model as priced on service tier `name` (flex, priority): its standard prices are
        the tier's, its batch prices stay; None when it has no price for that tier. No tier
        (None, "default", "standard") is the model itself."""
        if name is None or name in STANDARD_TIERS or name == self.service_tier:
            return self
        rates = self.service_tier_rates(name)
        if rates is None:
            return None
        return self.model_copy(
            update={
                **{name: getattr(rates, name) for name in RATE_FIELDS},
                "output": rates.output if rates.output is not None else Decimal(0),
                "tiers": rates.tiers,
                "long_context": rates.tiers[0] if rates.tiers else None,
                "service_tier": name,
            }
        )

    @property
    def standard(self) -> Rates:
        """The standard prices as one `Rates`."""
        return Rates(
            **{name: getattr(self, name) for name in RATE_FIELDS},
            tiers=self.tiers or ((self.long_context,) if self.long_context else ()),
        )
