"""How a name resolves to a model: aliases, the layer's names, log prefixes, hosted ids, and
what genai-prices' data matches (the order is in tokopt.pricing's docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokopt.errors import PricingError, UnknownModelError
from tokopt.pricing import layer as layer_mod

if TYPE_CHECKING:
    from tokopt.pricing.model import ModelPrice
    from tokopt.pricing.upstream import Model, Provider, Upstream


class HostPriceError(PricingError):
    """A hosted id whose host has no price for the model."""


class Lookup:
    """The lookup methods of `Catalog`."""

    layer: layer_mod.Layer
    upstream: Upstream | None
    _resolved: dict[str, ModelPrice]

    # --- lookup -----------------------------------------------------------------------------

    def find(self, name: str) -> ModelPrice | None:
        try:
            return self.get(name)
        except PricingError:
            return None

    def get(self, name: str) -> ModelPrice:
        """The model with this id, alias or hosted id; PricingError naming what is missing."""
        key = name.strip().lower()
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve(name, key)
            self._resolved[key] = found
        return found

    def _resolve(self, name: str, key: str) -> ModelPrice:
        layer = self.layer
        key = layer_mod.resolve_alias(layer, key)
        if key in layer.names:
            model = self._entry_model(layer.names[key][0])
            if model is not None:
                return model
        for prefix in layer.log_prefixes:
            if key.startswith(prefix) and len(key) > len(prefix):
                return self.get(key[len(prefix) :])
        head, _, tail = key.partition("/")
        own = next((p for p in layer.providers if p.name.lower() == head), None) if tail else None
        if own is not None and (own.upstream is None or self.upstream is None or self.upstream.provider(own.upstream) is None):
            # "acme/acme-large": a provider only tokopt's files price
            return self.get(tail)
        return self._priced(name, *self.upstream_hit(name, key))

    def upstream_hit(self, name: str, key: str, *, near: bool = True) -> tuple[Provider, Model, bool]:
        """Where the genai-prices data alone prices `key`: (provider, model, via a fallback)."""
        layer = self.layer
        if self.upstream is None:
            raise UnknownModelError(name, self.suggest(name) if near else [])
        head, _, tail = key.partition("/")
        if tail:
            host = layer.host_for_prefix(head)
            if host is not None:
                return self._on_host(host.name, host.upstream, tail)
            named = self.upstream.provider(head)
            if named is not None:
                return self._on_host(layer.host_name(named.id), named.id, tail)
            if head in layer.unpriced_hosts:
                raise HostPriceError(f"no price for {tail} on {head}", hint="add one with --pricing")
        for host in layer.hosts:
            if any(p.search(key) for p in host.patterns):
                return self._on_host(host.name, host.upstream, key)
        provider = self.upstream.provider_for_model(key)
        if provider is not None:
            hit = self.upstream.find_model(provider, key)
            if hit is not None:
                return (provider, *hit)
        matches = list(self.upstream.matching(key))
        if len(matches) == 1:
            return (*matches[0], False)
        if matches:
            hosts = [self._label(p, m, False) for p, m in matches]
            raise PricingError(
                f"ambiguous model: {name} is priced by {', '.join(hosts[:6])}{' and others' if len(hosts) > 6 else ''}",
                hint=f"name the host, e.g. {hosts[0]}/{name}",
            )
        raise UnknownModelError(name, self.suggest(name) if near else [])

    def _on_host(self, host: str, upstream_id: str, ref: str) -> tuple[Provider, Model, bool]:
        assert self.upstream is not None
        provider = self.upstream.provider(upstream_id)
        hit = self.upstream.find_model(provider, ref) if provider is not None else None
        if provider is None or hit is None:
            raise HostPriceError(f"no price for {ref} on {host}", hint="add one with --pricing")
        return (provider, *hit)

    def _priced(self, name: str, provider: Provider, model: Model, fallback: bool) -> ModelPrice:
        found = self._upstream_model(provider, model, fallback=fallback)
        if found is None:
            where = self._label(provider, model, fallback)
            raise PricingError(f"no per-token price for {name} ({where})", hint="add one with --pricing")
        return found
