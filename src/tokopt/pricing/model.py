"""A model's entry in the price catalog: prices per 1M tokens, tokenizer, limits.

A `ModelPrice` is one model's prices as they stand at one moment (the standard prices; the
batch and service-tier prices next to them), resolved from genai-prices and tokopt's own layer.

These are plain frozen dataclasses (tokopt.plain): every estimate builds them, and pydantic
models cost more to set up than a small estimate takes. Values from a file are checked as they
are made; what the quick check cannot vouch for goes through the pydantic schemas in
tokopt.pricing.schema, which give the same values, or the same errors, as pydantic models would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from tokopt.plain import (
    SLOW,
    Plain,
    date,
    decimal_ge0,
    decimal_gt0,
    flag,
    opt,
    positive_int,
    register,
    seq,
    text,
)
from tokopt.usage import TOKEN_KINDS

EncodingName = Literal["cl100k_base", "o200k_base"]
ENCODINGS = ("cl100k_base", "o200k_base")


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


# --- the checks, shared with the schemas ----------------------------------------------------------


def check_band(factor: Decimal, low: Decimal | None, high: Decimal | None) -> None:
    lo = low if low is not None else factor
    hi = high if high is not None else factor
    if not lo <= factor <= hi:
        raise ValueError(f"low <= factor <= high does not hold ({lo}, {factor}, {hi})")


def check_tokenizer(t: Any) -> None:
    if t.exact and (t.factor != 1 or t.classes or t.low is not None or t.high is not None):
        raise ValueError("an exact tokenizer cannot have a factor")
    if not t.exact and not t.source:
        raise ValueError("an approximate tokenizer needs a `source` for its factor")
    check_band(t.factor, t.low, t.high)


def check_model(m: Any) -> None:
    if m.max_input is not None and m.context_window is not None and m.max_input > m.context_window:
        raise ValueError("max_input cannot exceed context_window")
    if (m.batch_input is None) != (m.batch_output is None):
        raise ValueError("batch_input and batch_output go together")


def class_table(value: Any) -> Any:
    """A TOML table {class: {...}} as (class, factor) pairs in CONTENT_CLASSES order, so that a
    Tokenizer stays hashable; unknown classes are refused."""
    if not isinstance(value, dict):
        return value
    unknown = sorted(set(value) - set(CONTENT_CLASSES))
    if unknown:
        raise ValueError(f"unknown content class '{unknown[0]}' (known: {', '.join(CONTENT_CLASSES)})")
    return tuple((name, value[name]) for name in CONTENT_CLASSES if name in value)


def _passes(check: Any, *args: Any) -> None:
    """`check` as a quick test: its failure is for the schema to report."""
    try:
        check(*args)
    except ValueError:
        raise SLOW from None


class _Mirrored(Plain):
    """A price class whose pydantic mirror, of the same name, is in pricing/schema.py."""

    __slots__ = ()

    @classmethod
    def _schema(cls) -> Any:
        from tokopt.pricing import schema

        return getattr(schema, cls.__name__)


class _Band:
    """A factor with its band `low`..`high` (None: the factor itself), for the classes below."""

    __slots__ = ()
    factor: Decimal
    low: Decimal | None
    high: Decimal | None

    @property
    def lo(self) -> Decimal:
        return self.low if self.low is not None else self.factor

    @property
    def hi(self) -> Decimal:
        return self.high if self.high is not None else self.factor


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class ClassFactor(_Band, _Mirrored):
    """A measured ratio to the base encoding's count for one content class: its central value,
    the lowest and highest measurement (the band), where they come from and when."""

    factor: Decimal
    low: Decimal | None = None  # None: the factor itself
    high: Decimal | None = None
    source: str
    as_of: dt.date | None = None

    def _normalized(self) -> dict[str, Any]:
        out = {
            "factor": decimal_gt0(self.factor),
            "low": opt(decimal_gt0, self.low),
            "high": opt(decimal_gt0, self.high),
            "source": text(self.source),
            "as_of": opt(date, self.as_of),
        }
        _passes(check_band, out["factor"], out["low"], out["high"])
        return out


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class Tokenizer(_Band, _Mirrored):
    """How a model's tokens are counted.

    `exact` models use an OpenAI encoding as the provider does. The rest count with `encoding`
    and scale by measured ratios whose `source` is recorded next to them: `factor` (with its
    band `low`..`high`) for text of unknown content, and per content class in `classes`, each
    with its own band, source and date (tokens/approx.py weighs them by the text's content).
    """

    encoding: EncodingName
    exact: bool = False
    factor: Decimal = Decimal(1)
    low: Decimal | None = None
    high: Decimal | None = None
    source: str | None = None
    as_of: dt.date | None = None
    classes: tuple[tuple[str, ClassFactor], ...] = ()
    # the family rule the factor comes from, when it was not measured on this model itself
    family: str | None = None

    def _normalized(self) -> dict[str, Any]:
        if self.encoding not in ENCODINGS or type(self.encoding) is not str:
            raise SLOW
        try:
            classes = class_table(self.classes)
        except ValueError:
            raise SLOW from None
        out = {
            "exact": flag(self.exact),
            "factor": decimal_gt0(self.factor),
            "low": opt(decimal_gt0, self.low),
            "high": opt(decimal_gt0, self.high),
            "source": opt(text, self.source),
            "as_of": opt(date, self.as_of),
            "classes": tuple(_class_pair(pair) for pair in seq(classes)),
            "family": opt(text, self.family),
        }
        _passes(check_tokenizer, _View(self, out))
        return out

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


def _class_pair(pair: Any) -> tuple[str, ClassFactor]:
    if type(pair) is not tuple or len(pair) != 2 or type(pair[0]) is not str:
        raise SLOW
    return pair[0], ClassFactor.fast(pair[1])


class _View:
    """An object's fields with some of them replaced (for a check before they are set)."""

    def __init__(self, obj: Any, changed: dict[str, Any]) -> None:
        self._obj, self._changed = obj, changed

    def __getattr__(self, name: str) -> Any:
        return self._changed[name] if name in self._changed else getattr(self._obj, name)


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class LongContext(_Mirrored):
    """Prices that apply to the whole request once its input exceeds `threshold` tokens."""

    threshold: int
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None

    def _normalized(self) -> dict[str, Any]:
        return {
            "threshold": positive_int(self.threshold),
            "input": decimal_ge0(self.input),
            "output": decimal_ge0(self.output),
            "cached_input": opt(decimal_ge0, self.cached_input),
            "cache_write": opt(decimal_ge0, self.cache_write),
            "cache_write_1h": opt(decimal_ge0, self.cache_write_1h),
        }


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class Rates(_Mirrored):
    """One set of prices per 1M tokens (standard, batch, flex or priority), with its long-context tiers.

    A price left out bills those tokens the way genai-prices does: cache reads and writes at
    the input price, 1-hour writes at the cache-write price, anything else at nothing.
    """

    input: Decimal
    output: Decimal | None = None
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    tiers: tuple[LongContext, ...] = ()  # ascending thresholds; the highest one exceeded applies

    def _normalized(self) -> dict[str, Any]:
        return {
            "input": decimal_ge0(self.input),
            "output": opt(decimal_ge0, self.output),
            "cached_input": opt(decimal_ge0, self.cached_input),
            "cache_write": opt(decimal_ge0, self.cache_write),
            "cache_write_1h": opt(decimal_ge0, self.cache_write_1h),
            "tiers": tuple(LongContext.fast(t) for t in seq(self.tiers)),
        }


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


def _tier(value: Any) -> Tier:
    if type(value) is Tier:
        return value
    if type(value) is str and value in Tier._value2member_map_:
        return Tier(value)
    raise SLOW


def _service_tier(pair: Any) -> tuple[str, Rates]:
    if type(pair) is not tuple or len(pair) != 2 or type(pair[0]) is not str:
        raise SLOW
    return pair[0], Rates.fast(pair[1])


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class ModelPrice(_Mirrored):
    """One model's entry in the catalog."""

    id: str
    provider: str
    as_of: dt.date
    source: str
    tier: Tier
    name: str | None = None
    host: str | None = None  # the host that bills this model, when it is not its maker
    upstream: str | None = None  # genai-prices provider/model this price comes from
    tiers: tuple[LongContext, ...] = ()  # all long-context tiers; `long_context` is the first
    batch: Rates | None = None  # prices under the provider's batch API, where it has one
    # (name, prices) pairs rather than a dict, so that a ModelPrice stays hashable
    service_tiers: tuple[tuple[str, Rates], ...] = ()  # flex, priority, ...: their prices
    data_version: str | None = None  # the price data's version: gp:<genai-prices data sha256>[+file:<pricing file sha256>]
    service_tier: str | None = None  # the service tier its standard prices are (flex, priority); None: the standard tier
    tokenizer: Tokenizer
    context_window: int | None = None  # input plus output tokens one request may hold
    max_output: int | None = None
    max_input: int | None = None  # a lower cap on input, where the provider has one
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None  # 5-minute cache write, or the only one
    cache_write_1h: Decimal | None = None
    batch_input: Decimal | None = None
    batch_output: Decimal | None = None
    long_context: LongContext | None = None
    min_cache_tokens: int | None = None
    aliases: tuple[str, ...] = ()
    default: bool = False
    deprecated: dt.date | None = None
    notes: str | None = None

    def _normalized(self) -> dict[str, Any]:
        aliases = seq(self.aliases)
        for alias in aliases:
            text(alias)
        out = {
            "id": text(self.id),
            "provider": text(self.provider),
            "as_of": date(self.as_of),
            "source": text(self.source),
            "tier": _tier(self.tier),
            "name": opt(text, self.name),
            "host": opt(text, self.host),
            "upstream": opt(text, self.upstream),
            "tiers": tuple(LongContext.fast(t) for t in seq(self.tiers)),
            "batch": opt(Rates.fast, self.batch),
            "service_tiers": tuple(_service_tier(pair) for pair in seq(self.service_tiers)),
            "data_version": opt(text, self.data_version),
            "service_tier": opt(text, self.service_tier),
            "tokenizer": Tokenizer.fast(self.tokenizer),
            "context_window": opt(positive_int, self.context_window),
            "max_output": opt(positive_int, self.max_output),
            "max_input": opt(positive_int, self.max_input),
            "input": decimal_ge0(self.input),
            "output": decimal_ge0(self.output),
            "cached_input": opt(decimal_ge0, self.cached_input),
            "cache_write": opt(decimal_ge0, self.cache_write),
            "cache_write_1h": opt(decimal_ge0, self.cache_write_1h),
            "batch_input": opt(decimal_ge0, self.batch_input),
            "batch_output": opt(decimal_ge0, self.batch_output),
            "long_context": opt(LongContext.fast, self.long_context),
            "min_cache_tokens": opt(positive_int, self.min_cache_tokens),
            "aliases": aliases,
            "default": flag(self.default),
            "deprecated": opt(date, self.deprecated),
            "notes": opt(text, self.notes),
        }
        _passes(check_model, _View(self, out))
        return out

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
