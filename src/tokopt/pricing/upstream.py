"""genai-prices' data as tokopt reads it: plain data, cached by the hash of the data it came from.

The upstream is pydantic's genai-prices: its bundled data module, or the newer JSON that
`tokopt prices update` installed in the user data directory. Importing the bundled module costs
about 0.2 s, so its content is kept in a compact form (tuples, dicts and strings; money as
decimal strings) in a `marshal` file in the cache directory, named by the SHA-256 of the data
file it was built from. The data file is hashed on every load: a cache is used only for the
exact bytes it was made from, and only when its HMAC verifies with the user's cache key
(`tokopt.cachekey`), so a cache file someone else wrote is rebuilt, never unmarshalled.

Matching follows genai-prices to the letter (`types.Provider.find_model`, `ModelInfo.is_match`,
`ModelInfo.get_prices`, `data_snapshot.find_provider_by_id`); tests/test_pricing_upstream.py
checks it against genai-prices' own `calc_price`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import marshal
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from tokopt.errors import PricingError
from tokopt.pricing import datacache
from tokopt.pricing.model import RATE_FIELDS, UPSTREAM_KEYS

CACHE_FORMAT = 3
# The price keys tokopt bills (per 1M tokens); others (web searches, audio, images) are not
# counted by tokopt and cost nothing in its estimates, as a zero count does in genai-prices.
TOKEN_KEYS = tuple(UPSTREAM_KEYS[name] for name in RATE_FIELDS)

Clause = tuple[Any, ...]
Sheet = dict[str, Any]  # price key -> "decimal" | ("decimal base", ((start, "decimal"), ...))
Constraint = tuple[Any, ...] | None  # None | ("date", "YYYY-MM-DD") | ("time", (h, m, s, us), (h, m, s, us))


@dataclass(frozen=True)
class DataInfo:
    """Which price data is in use: where it came from, its hash and the date it was current."""

    label: str  # "genai-prices 0.2.3 (bundled)" or "genai-prices data from <url>"
    path: Path
    sha256: str
    as_of: dt.date | None
    installed: bool  # fetched by `tokopt prices update`, not the bundled module


@dataclass
class Model:
    id: str
    name: str | None
    match: Clause
    context_window: int | None
    deprecated: bool
    prices: list[tuple[Constraint, Sheet]]
    variants: list[tuple[dict[str, str], Constraint, Sheet]]

    def is_match(self, ref_lower: str) -> bool:
        return clause_matches(self.match, ref_lower)

    def sheet_at(self, moment: dt.datetime, context: Mapping[str, str] | None = None) -> Sheet:
        """The prices in force at `moment` (genai-prices' `ModelInfo.get_prices`)."""
        standard = self.prices[0][1]
        for constraint, sheet in reversed(self.prices):
            if constraint is None or constraint_active(constraint, moment):
                standard = sheet
                break
        if not context:
            return standard
        overrides: Sheet = {}
        for when, constraint, sheet in self.variants:
            if constraint is not None and not constraint_active(constraint, moment):
                continue
            if not all(context.get(k) == v for k, v in when.items()):
                continue
            for key, price in sheet.items():
                overrides.setdefault(key, price)
        return {**standard, **overrides}

    def signature(self, moment: dt.datetime) -> tuple[bool, ...]:
        """Which of its dated and timed prices are in force at `moment`: equal signatures, equal prices."""
        constraints = [c for c, _ in self.prices] + [c for _, c, _ in self.variants]
        return tuple(constraint_active(c, moment) for c in constraints if c is not None)

    def variant_names(self) -> set[str]:
        return {f"{k}={v}" for when, _, _ in self.variants for k, v in when.items()}

    def change_dates(self) -> list[dt.date]:
        return sorted(dt.date.fromisoformat(c[1]) for c, _ in self.prices if c is not None and c[0] == "date")


@dataclass
class Provider:
    """A provider's header; its models are unpacked from their own marshal blob on first use,
    so that a command pricing a few models never reads the other two thousand."""

    id: str
    name: str
    model_match: Clause | None
    provider_match: Clause | None
    fallback: tuple[str, ...]
    pricing_urls: tuple[str, ...]
    blob: bytes = field(default=b"", repr=False)
    _models: list[Model] | None = field(default=None, repr=False)

    @property
    def models(self) -> list[Model]:
        if self._models is None:
            self._models = [_model(m) for m in marshal.loads(self.blob)] if self.blob else []
        return self._models


# --- matching (genai-prices' Clause* classes) -------------------------------------------------

_regex_cache: dict[str, re.Pattern[str]] = {}


def clause_matches(clause: Clause, text: str) -> bool:
    """`text` is already lower-case; string arguments were lowered when the data was compacted."""
    kind = clause[0]
    if kind == "starts_with":
        return text.startswith(clause[1])
    if kind == "equals":
        return text == clause[1]
    if kind == "contains":
        return clause[1] in text
    if kind == "ends_with":
        return text.endswith(clause[1])
    if kind == "regex":
        pattern = _regex_cache.get(clause[1])
        if pattern is None:
            pattern = _regex_cache[clause[1]] = re.compile(clause[1])
        return pattern.search(text) is not None
    if kind == "or":
        return any(clause_matches(c, text) for c in clause[1])
    if kind == "and":
        return all(clause_matches(c, text) for c in clause[1])
    raise ValueError(f"unknown match clause {kind!r}")


def constraint_active(constraint: tuple[Any, ...], moment: dt.datetime) -> bool:
    """genai-prices' StartDateConstraint / TimeOfDateConstraint: UTC dates and times; naive is UTC."""
    utc = moment if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)
    if constraint[0] == "date":
        return utc.date() >= dt.date.fromisoformat(constraint[1])
    now = (utc.hour, utc.minute, utc.second, utc.microsecond)
    start, end = tuple(constraint[1]), tuple(constraint[2])
    if end < start:
        return now >= start or now < end
    return start <= now < end


_COMPACT_DATE = re.compile(r"(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)")


def _dashed_dates(ref: str) -> str:
    """`gpt-5.2-20251211` -> `gpt-5.2-2025-12-11`, as genai-prices retries a compact date."""

    def replace(m: re.Match[str]) -> str:
        year, month, day = int(m.group(2)), int(m.group(3)), int(m.group(4))
        try:
            dt.date(year, month, day)
        except ValueError:
            return m.group(0)
        return f"-{year:04d}-{month:02d}-{day:02d}"

    return _COMPACT_DATE.sub(replace, ref)


class Upstream:
    """Every provider and model of one genai-prices data set."""

    def __init__(self, info: DataInfo, providers: list[Provider]) -> None:
        self.info = info
        self.providers = providers
        self._by_id = {p.id: p for p in providers}

    def provider(self, provider_id: str) -> Provider | None:
        """genai-prices' `find_provider_by_id`: the id, then each provider's `provider_match`."""
        key = provider_id.lower().strip()
        if key in self._by_id:
            return self._by_id[key]
        for p in self.providers:
            if p.provider_match is not None and clause_matches(p.provider_match, key):
                return p
        return None

    def provider_for_model(self, ref: str) -> Provider | None:
        """The first provider whose `model_match` takes `ref` (genai-prices' `find_provider`)."""
        key = ref.lower()
        for p in self.providers:
            if p.model_match is not None and clause_matches(p.model_match, key):
                return p
        return None

    def find_model(self, provider: Provider, ref: str) -> tuple[Model, bool] | None:
        """`provider`'s model for `ref` and whether it came from a fallback provider's list."""
        key = ref.lower()
        found = self._match(provider, key)
        if found is None:
            dashed = _dashed_dates(key)
            if dashed != key:
                found = self._match(provider, dashed)
        return found

    def _match(self, provider: Provider, key: str) -> tuple[Model, bool] | None:
        for model in provider.models:
            # a model's own id names it, even where genai-prices' match rules write the id
            # differently (its Bedrock ids "regional.anthropic.claude-..." are matched as "us.anthropic...")
            if model.id.lower() == key:
                return model, False
        for model in provider.models:
            if model.is_match(key):
                return model, False
        for fallback_id in provider.fallback:
            other = self._by_id.get(fallback_id)
            if other is not None:
                for model in other.models:
                    if model.is_match(key):
                        return model, True
        return None

    def matching(self, ref: str) -> Iterator[tuple[Provider, Model]]:
        """Every provider's own model that takes `ref`, one per provider."""
        key = ref.lower()
        for p in self.providers:
            for model in p.models:
                if model.is_match(key):
                    yield p, model
                    break

    def owner(self, model: Model) -> Provider:
        for p in self.providers:
            if any(m is model for m in p.models):
                return p
        raise KeyError(model.id)

    def newest_change(self) -> dt.date | None:
        """The latest start date of any price change in the data (None if it has none)."""
        dates = [d for p in self.providers for m in p.models for d in m.change_dates()]
        return max(dates) if dates else None


# --- building the compact form ----------------------------------------------------------------


def _clause(c: Any) -> Clause:
    for kind in ("starts_with", "ends_with", "contains", "equals"):
        if hasattr(c, kind):
            return (kind, str(getattr(c, kind)).lower())
    if hasattr(c, "regex"):
        return ("regex", str(c.regex))
    if hasattr(c, "or_"):
        return ("or", tuple(_clause(x) for x in c.or_))
    if hasattr(c, "and_"):
        return ("and", tuple(_clause(x) for x in c.and_))
    raise PricingError(f"genai-prices data: unknown match clause {type(c).__name__}")


def _constraint(c: Any) -> Constraint:
    if c is None:
        return None
    if hasattr(c, "start_date"):
        return ("date", c.start_date.isoformat())

    def utc(t: dt.time) -> tuple[int, int, int, int]:
        if t.tzinfo is not None:
            t = dt.datetime.combine(dt.date(1970, 1, 1), t).astimezone(dt.timezone.utc).timetz()
        return (t.hour, t.minute, t.second, t.microsecond)

    return ("time", utc(c.start_time), utc(c.end_time))


def _sheet(prices: Any) -> Sheet:
    out: Sheet = {}
    for key, value in vars(prices).items():
        if key.startswith("_") or value is None:
            continue
        if isinstance(value, Decimal):
            out[key] = str(value)
        else:  # TieredPrices
            out[key] = (str(value.base), tuple((int(t.start), str(t.price)) for t in sorted(value.tiers, key=lambda t: t.start)))
    return out


def _compact(providers: list[Any]) -> list[dict[str, Any]]:
    out = []
    for p in providers:
        models = []
        for m in p.models:
            if isinstance(m.prices, list):
                prices = [(_constraint(c.constraint), _sheet(c.prices)) for c in m.prices]
            else:
                prices = [(None, _sheet(m.prices))]
            if not prices:
                continue
            variants = [(dict(v.when), _constraint(v.constraint), _sheet(v.prices)) for v in (m.price_variants or ())]
            models.append(
                {
                    "id": m.id,
                    "name": m.name,
                    "match": _clause(m.match),
                    "context_window": m.context_window,
                    "deprecated": bool(m.deprecated),
                    "prices": prices,
                    "variants": variants,
                }
            )
        out.append(
            {
                "id": p.id,
                "name": p.name,
                "model_match": _clause(p.model_match) if p.model_match is not None else None,
                "provider_match": _clause(p.provider_match) if p.provider_match is not None else None,
                "fallback": tuple(p.fallback_model_providers or ()),
                "pricing_urls": tuple(p.pricing_urls or ()),
                "models": models,
            }
        )
    return out


def _model(m: dict[str, Any]) -> Model:
    return Model(
        id=m["id"],
        name=m["name"],
        match=m["match"],
        context_window=m["context_window"],
        deprecated=m["deprecated"],
        prices=[(c, s) for c, s in m["prices"]],
        variants=[(w, c, s) for w, c, s in m["variants"]],
    )


def _pack(compact: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each provider's models as their own marshal blob (unpacked only when needed)."""
    return [{**{k: v for k, v in p.items() if k != "models"}, "blob": marshal.dumps(p["models"], 4)} for p in compact]


def _inflate(packed: list[dict[str, Any]]) -> list[Provider]:
    return [
        Provider(
            id=p["id"],
            name=p["name"],
            model_match=p["model_match"],
            provider_match=p["provider_match"],
            fallback=tuple(p["fallback"]),
            pricing_urls=tuple(p["pricing_urls"]),
            blob=p["blob"],
        )
        for p in packed
    ]


def parse_json(raw: bytes, where: str) -> list[Any]:
    """genai-prices' published JSON validated by genai-prices' own schema; PricingError if not."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PricingError(f"{where}: not JSON: {exc}") from None
    if not isinstance(payload, list):
        raise PricingError(f"{where}: expected a list of providers (genai-prices data), got {type(payload).__name__}")
    import pydantic

    # The reader genai-prices' own UpdatePrices uses for this JSON.
    from genai_prices.types import _providers_from_raw

    try:
        return list(_providers_from_raw(payload))
    except (pydantic.ValidationError, ValueError, TypeError) as exc:
        first = str(exc).splitlines()
        raise PricingError(f"{where}: not valid genai-prices data: {' '.join(first[:3])}") from None


def compact_from_json(raw: bytes, where: str) -> list[dict[str, Any]]:
    return _compact(parse_json(raw, where))


# --- where the data is and the cache ----------------------------------------------------------


def bundled_data_file() -> Path:
    spec = find_spec("genai_prices")
    if spec is None or not spec.submodule_search_locations:
        raise PricingError("genai-prices is not installed", hint="pip install genai-prices")
    return Path(next(iter(spec.submodule_search_locations))) / "data.py"


def _bundled_compact() -> list[dict[str, Any]]:
    from genai_prices.data import providers

    return _compact(providers)


def current_info(pin: Any) -> tuple[DataInfo, bytes | None]:
    """The data in use: the installed JSON if there is one, else the bundled genai-prices module.

    The bundled data's version and date are those tokopt's layer pins (upstream.toml) when its
    hash is the pinned one; another genai-prices release is named by its version, date unknown."""
    from tokopt.pricing import store

    installed = store.current()
    if installed is not None:
        raw = installed.path.read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        return DataInfo(label=installed.label, path=installed.path, sha256=sha, as_of=installed.as_of, installed=True), raw
    from tokopt import cachekey

    path = bundled_data_file()
    sha = datacache.sha256_of(path, cachekey.user_key())
    if pin.data_sha256 == sha:
        version, as_of = pin.version, pin.as_of
    else:
        from importlib.metadata import version as dist_version

        version, as_of = dist_version("genai-prices"), None
    return DataInfo(label=f"genai-prices {version} (bundled)", path=path, sha256=sha, as_of=as_of, installed=False), None


def load(info: DataInfo, raw: bytes | None) -> Upstream:
    """The data `info` names, from the cache when it was built from these exact bytes.

    Within a process the same data is loaded once: an Upstream is never changed once made, and
    it is reused only while the cache file and the user's key are the ones it was read with
    (a cache rewritten or a key changed is read and verified again)."""
    from tokopt import cachekey

    cache = datacache.path_for(info.sha256, CACHE_FORMAT)
    key = cachekey.user_key()  # None: no key can be had, so no cache is trusted or written
    hit = datacache.loaded(info, cache, key)
    if hit is not None:
        return hit
    packed = None if key is None else datacache.read(cache, info.sha256, key)
    if packed is None:
        packed = _pack(compact_from_json(raw, str(info.path)) if raw is not None else _bundled_compact())
        if key is not None:
            datacache.write(cache, info.sha256, packed, key)
    upstream = Upstream(info, _inflate(packed))
    datacache.keep(info, cache, key, upstream)
    return upstream


def to_decimal(value: str) -> Decimal:
    return Decimal(value)
