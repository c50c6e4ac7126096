"""The Catalog: how a model name resolves to its prices (see tokopt.pricing for the order)."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokopt.errors import PricingError
from tokopt.pricing import layer as layer_mod
from tokopt.pricing.listed import Listing
from tokopt.pricing.lookup import HostPriceError, Lookup  # noqa: F401 - HostPriceError is imported from here
from tokopt.pricing.model import RATE_FIELDS, UPSTREAM_KEYS, LongContext, ModelPrice, Rates, Tier
from tokopt.pricing.upstream import TOKEN_KEYS, Model, Provider, Upstream
from tokopt.tomlio import describe_validation

# keys of a layer table that say where its prices come from, not what they are
LAYER_ONLY = ("upstream", "genai_prices", "listed")
UNMEASURED = {
    "encoding": "o200k_base",
    "factor": Decimal("1.0"),
    # the lowest and highest class factor measured for any family (families.toml)
    "low": Decimal("0.71"),
    "high": Decimal("1.71"),
    "source": "no published measurement; o200k_base count used unscaled, with a band as wide as the measured families' content classes",
}
# the service tiers genai-prices prices as variants, and the processing mode it calls batch
SERVICE_TIERS = ("flex", "priority")


def rates_from_sheet(sheet: dict[str, Any]) -> Rates | None:
    """genai-prices' prices for tokens as `Rates`; None when input tokens are not priced."""
    if "input_mtok" not in sheet:
        return None
    starts = sorted({s for key in TOKEN_KEYS if isinstance(sheet.get(key), tuple) for s, _ in sheet[key][1]})

    def price(key: str, threshold: int | None) -> Decimal | None:
        value = sheet.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return Decimal(value)
        chosen = value[0]
        for start, tier_price in value[1]:
            if threshold is not None and start <= threshold:
                chosen = tier_price
        return Decimal(chosen)

    def prices(threshold: int | None) -> dict[str, Decimal | None]:
        return {name: price(UPSTREAM_KEYS[name], threshold) for name in RATE_FIELDS}

    tiers = tuple(
        LongContext(threshold=start, **{**prices(start), "output": price("output_mtok", start) or Decimal(0)})
        for start in starts
        if start > 0
    )
    return Rates(**prices(None), tiers=tiers)


class _EntryNames:
    """Which layer entry (key) names each genai-prices model, by (provider id, model id). It is
    the same at every moment and service tier, so a catalog and its views share one, built on
    first use (about 2 ms: an import prices each period of its records on its own view)."""

    def __init__(self, layer: layer_mod.Layer, upstream: Upstream | None) -> None:
        self.layer, self.upstream = layer, upstream

    @functools.cached_property
    def table(self) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        if self.upstream is not None:
            for key, entry in self.layer.entries.items():
                provider = self.upstream.provider(entry.upstream) if entry.upstream else None
                found = self.upstream.find_model(provider, entry.fields.get("genai_prices", entry.name)) if provider is not None else None
                if provider is not None and found is not None and not found[1]:
                    out.setdefault((provider.id, found[0].id), key)
        return out


class Catalog(Listing, Lookup):
    """Every model tokopt can price: the listed ones (iteration) and any id that resolves.

    How a name resolves is `Lookup`'s, what is listed `Listing`'s; here: the data and the
    moment it is priced at, and how a ModelPrice is built from the layer and genai-prices."""

    def __init__(
        self, layer: layer_mod.Layer, upstream: Upstream | None, moment: dt.datetime | None = None, service_tier: str | None = None, names: _EntryNames | None = None
    ) -> None:
        self.layer = layer
        self.upstream = upstream
        self.moment = moment
        # flex, priority: every model that has prices for this tier is priced at them (--tier)
        self.service_tier = service_tier
        self._resolved: dict[str, ModelPrice] = {}
        self._models: list[ModelPrice] | None = None
        self._names = names if names is not None else _EntryNames(layer, upstream)  # shared with its views
        self._upstream_models: dict[str, Any] = {}  # an upstream reference -> genai-prices' model (None: not there)

    # --- the data ---------------------------------------------------------------------------

    @property
    def data(self) -> Any:
        return self.upstream.info if self.upstream is not None else None

    @property
    def as_of(self) -> dt.date | None:
        info = self.data
        return info.as_of if info is not None else None

    def get_at(self, name: str, moment: dt.datetime | None) -> ModelPrice:
        """`get(name)` with the prices in force at `moment` (a record's own time, off-peak hours
        included). Models priced alike at two moments share one ModelPrice."""
        model = self.get(name)
        if moment is None or self.upstream is None or model.upstream is None:
            return model
        found = self._upstream_models.get(model.upstream, self)
        if found is self:  # looked up once per model: an import prices every record at its own time
            found = self._upstream_models[model.upstream] = self._genai_model(model.upstream)
        if found is None:
            return model
        key = f"\x00at:{model.id}:{found.signature(moment)}"
        cached = self._resolved.get(key)
        if cached is None:
            cached = self._resolved[key] = self.at(moment).get(name)
        return cached

    def _genai_model(self, ref: str) -> Any:
        """genai-prices' model of an upstream reference ("provider/model"), or None."""
        assert self.upstream is not None
        provider_id, _, rest = ref.partition("/")
        provider = self.upstream.provider(provider_id)
        upstream_model = rest.removesuffix(" (fallback)")
        found = next((m for m in provider.models if m.id == upstream_model), None) if provider is not None else None
        if found is None:
            fallback = [self.upstream.provider(f) for f in (provider.fallback if provider else ())]
            found = next((m for p in fallback if p is not None for m in p.models if m.id == upstream_model), None)
        return found

    def at(self, moment: dt.datetime | None) -> Catalog:
        """The same catalog priced at `moment` (None: now)."""
        if moment == self.moment:
            return self
        return Catalog(self.layer, self.upstream, moment, self.service_tier, self._names)

    def on_tier(self, service_tier: str | None) -> Catalog:
        """The same catalog with every model priced on `service_tier` where it has that tier."""
        if service_tier == self.service_tier:
            return self
        return Catalog(self.layer, self.upstream, self.moment, service_tier, self._names)

    def _tiered(self, model: ModelPrice) -> ModelPrice:
        """`model` on the catalog's service tier, or as it is when it has no price for it."""
        if self.service_tier is None:
            return model
        return model.at_service_tier(self.service_tier) or model

    def _now(self) -> dt.datetime:
        return self.moment if self.moment is not None else dt.datetime.now(dt.timezone.utc)

    # --- building a ModelPrice ----------------------------------------------------------------

    def _first_party(self, provider: Provider, model: Model, fallback: bool) -> bool:
        """A maker's own model: not a fallback, and not another maker's model it resells
        (Google lists Claude for Vertex: genai-prices matches `claude-...` to Anthropic)."""
        if fallback or provider.id not in self.layer.makers:
            return False
        assert self.upstream is not None
        return self.upstream.provider_for_model(model.id) is provider

    def _label(self, provider: Provider, model: Model, fallback: bool) -> str:
        if self._first_party(provider, model, fallback):
            return self.layer.maker_name(provider.id)
        return self.layer.host_name(provider.id)

    def _canonical(self, provider: Provider, model: Model, fallback: bool) -> tuple[str, str, str | None]:
        """(id, provider name, host) of an upstream model as priced by `provider`."""
        if self._first_party(provider, model, fallback):
            return model.id, self.layer.maker_name(provider.id), None
        host = self.layer.host_name(provider.id)
        return f"{host}/{model.id}", host, host

    def _entry_for(self, provider_id: str, model_id: str) -> str | None:
        """The layer entry (key) that names this upstream model, if one does."""
        return self._names.table.get((provider_id, model_id))

    def _in_data(self, entry: layer_mod.Entry) -> bool:
        """Whether the entry's provider is one the price data has (else the entry stands alone)."""
        return entry.upstream is not None and self.upstream is not None and self.upstream.provider(entry.upstream) is not None

    def _entry_model(self, key: str) -> ModelPrice | None:
        entry = self.layer.entries[key]
        cache_key = f"\x00entry:{key}"
        if cache_key in self._resolved:
            return self._resolved[cache_key]
        model: ModelPrice | None = None
        hit: tuple[Provider, Model, bool] | None = None
        if self.upstream is not None and entry.upstream is not None:
            provider = self.upstream.provider(entry.upstream)
            found = self.upstream.find_model(provider, entry.fields.get("genai_prices", entry.name)) if provider is not None else None
            hit = (provider, *found) if provider is not None and found is not None else None
        elif self.upstream is not None and entry.user:
            # a user's table for a model the data prices overrides it field by field
            try:
                hit = self.upstream_hit(entry.name, entry.name.strip().lower(), near=False)
            except PricingError:
                hit = None
        if hit is not None:
            model = self._upstream_model(hit[0], hit[1], fallback=hit[2], entry=entry)
        if model is None:
            missing = [f for f in ("tier", "input", "output") if f not in entry.fields]
            if missing and self._in_data(entry) and not entry.user:
                # tokopt's layer names a model the data in use no longer has: it is simply not listed
                return None
            fields = {k: v for k, v in entry.fields.items() if k not in LAYER_ONLY}
            model = self._tiered(self._validate(entry.path, entry.name, {**fields, "data_version": layer_mod.data_version(None, (entry.path,))}))
        self._resolved[cache_key] = model
        return model

    def _validate(self, path: Path, model_id: str, raw: dict[str, Any]) -> ModelPrice:
        try:
            return ModelPrice.model_validate({**raw, "id": model_id})
        except ValueError as exc:
            # only data the quick check refused reaches pydantic, which says what is wrong
            from pydantic import ValidationError

            if not isinstance(exc, ValidationError):
                raise
            raise PricingError(f"{path}: model '{model_id}': {describe_validation(exc)}") from None

    def _family_fields(self, model_id: str, entry: layer_mod.Entry | None, pfile: layer_mod.ProviderFile | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        defaults = pfile.defaults if pfile is not None else {}
        for key in ("tier", "tokenizer"):
            family = self.layer.family(model_id, key)
            if entry is not None and key in entry.own:
                out[key] = entry.fields[key]
            elif family is not None:
                out[key] = getattr(family, key)
                measured = any(model_id.lower().endswith(m) for m in family.measured_on)
                if key == "tokenizer" and not out[key].get("exact") and not measured:
                    out[key] = {**out[key], "family": family.name}
            elif key in defaults:
                out[key] = defaults[key]
        out.setdefault("tier", Tier.strong.value)
        out.setdefault("tokenizer", UNMEASURED)
        return out

    def _upstream_model(self, provider: Provider, model: Model, *, fallback: bool, entry: layer_mod.Entry | None = None) -> ModelPrice | None:
        model_id, provider_name, host = self._canonical(provider, model, fallback)
        cache_key = f"\x00up:{provider.id}:{model.id}:{fallback}"
        if entry is None:
            if cache_key in self._resolved:
                return self._resolved[cache_key]
            linked = self._entry_for(provider.id, model.id) if not fallback else None
            if linked is not None:
                return self._entry_model(linked)
        elif not entry.user:
            # tokopt's layer names the model, and says whose it is
            model_id = entry.name
            if entry.upstream == provider.id and not fallback:
                provider_name, host = self.layer.maker_name(provider.id), None
        moment = self._now()
        standard = rates_from_sheet(model.sheet_at(moment))
        if standard is None:
            return None
        info = self.upstream.info if self.upstream is not None else None
        batch = service = None
        variants: dict[str, Rates] = {}
        if not fallback:  # genai-prices prices a fallback provider's model without its variants
            names = model.variant_names()
            if "processing=batch" in names:
                batch = rates_from_sheet(model.sheet_at(moment, {"processing": "batch"}))
            for tier in SERVICE_TIERS:
                if f"service_tier={tier}" in names:
                    service = rates_from_sheet(model.sheet_at(moment, {"service_tier": tier}))
                    if service is not None:
                        variants[tier] = service
        pfile = self.layer.provider_file(provider.id) if host is None else None
        as_of = info.as_of if info is not None and info.as_of is not None else moment.date()
        url = provider.pricing_urls[0] if provider.pricing_urls else provider.name
        fields: dict[str, Any] = {
            "id": model_id,
            "provider": provider_name,
            "host": host,
            "name": model.name,
            "upstream": f"{provider.id}/{model.id}" + (" (fallback)" if fallback else ""),
            "as_of": as_of,
            "source": f"{url} (via {info.label if info else 'genai-prices'})",
            "context_window": model.context_window,
            **{name: getattr(standard, name) for name in RATE_FIELDS},
            "output": standard.output if standard.output is not None else Decimal(0),
            "tiers": standard.tiers,
            "long_context": standard.tiers[0] if standard.tiers else None,
            "batch": batch,
            "batch_input": batch.input if batch else None,
            "batch_output": (batch.output if batch.output is not None else Decimal(0)) if batch else None,
            "service_tiers": tuple(variants.items()),
            "deprecated": as_of if model.deprecated else None,
            "data_version": layer_mod.data_version(info.sha256 if info else None),
            **self._family_fields(model.id, entry, pfile),
        }
        if entry is not None:
            own = {k: v for k, v in entry.fields.items() if k in entry.own or k in entry.stated & {"as_of", "source"}}
            for key in ("provider", *LAYER_ONLY):
                own.pop(key, None)
            if layer_mod.PRICE_FIELDS & set(own) and "long_context" not in own and "input" in own:
                own.setdefault("tiers", ())
            if "long_context" in own:
                own["tiers"] = ()
            if entry.user and "source" not in entry.own and layer_mod.PRICE_FIELDS & set(own):
                own["source"] = f"{fields['source']}; overridden by {entry.path}"
            if layer_mod.PRICE_FIELDS & set(own):
                own["data_version"] = layer_mod.data_version(info.sha256 if info else None, (entry.path,))
            fields.update(own)
            result = self._tiered(self._validate(entry.path, model_id, fields))
        else:
            result = self._tiered(ModelPrice.model_validate(fields))
            self._resolved[cache_key] = result
        return result
