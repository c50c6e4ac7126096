"""What a catalog lists: the models `tokopt models` shows and `--models` globs choose from, the
providers and hosts, and the near names offered for a name that does not resolve."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from tokopt.errors import PricingError, UnknownModelError
from tokopt.inputs.globs import has_glob
from tokopt.pricing import layer as layer_mod

if TYPE_CHECKING:
    from tokopt.pricing.model import ModelPrice
    from tokopt.pricing.upstream import Model, Provider, Upstream


class Listing:
    """The listing methods of `Catalog`."""

    layer: layer_mod.Layer
    upstream: Upstream | None
    _models: list[ModelPrice] | None

    # --- listing ----------------------------------------------------------------------------

    @property
    def models(self) -> list[ModelPrice]:
        """The listed models: tokopt's layer, the user's, and every current token-priced model of
        the makers the layer lists."""
        if self._models is None:
            found: dict[str, ModelPrice] = {}
            for key, entry in self.layer.entries.items():
                model = self._entry_model(key)
                if model is not None:
                    found.setdefault(model.id, model)
            if self.upstream is not None:
                for pfile in self.layer.providers:
                    provider = self.upstream.provider(pfile.upstream) if pfile.listed and pfile.upstream else None
                    if provider is None:
                        continue
                    for m in provider.models:
                        if not self._listable(provider, m):
                            continue
                        model = self._upstream_model(provider, m, fallback=False)
                        if model is not None:
                            found.setdefault(model.id, model)
            self._models = list(found.values())
        return self._models

    def _listable(self, provider: Provider, m: Model) -> bool:
        """A current chat model of a listed maker that tokopt knows the family of: not deprecated,
        priced for input and output tokens, with a context window and a tier rule."""
        if m.deprecated or m.context_window is None or self._entry_for(provider.id, m.id):
            return False
        if self.layer.family(m.id, "tier") is None or not self._first_party(provider, m, False):
            return False
        sheet = m.sheet_at(self._now())
        return "input_mtok" in sheet and "output_mtok" in sheet

    def __len__(self) -> int:
        return len(self.models)

    def __iter__(self) -> Iterator[ModelPrice]:
        return iter(self.models)

    @property
    def providers(self) -> list[str]:
        return list(dict.fromkeys(m.provider for m in self.models))

    def known_providers(self) -> list[str]:
        """Every provider and host name `--provider` accepts."""
        names = [*self.providers, *(p.name for p in self.layer.providers), *(h.name for h in self.layer.hosts)]
        return sorted(dict.fromkeys(names))

    def names(self) -> list[str]:
        return [name for m in self.models for name in (m.id, *m.aliases)]

    def defaults(self) -> list[ModelPrice]:
        out = []
        for key, entry in self.layer.entries.items():
            if entry.fields.get("default"):
                model = self._entry_model(key)
                if model is not None:
                    out.append(model)
        return out

    def hosted(self, host: str) -> list[ModelPrice]:
        """Every token-priced model a host (or provider) prices itself."""
        if self.upstream is None:
            return []
        target = self.layer.host_for_prefix(host.lower())
        upstream_id = target.upstream if target is not None else host
        provider = self.upstream.provider(upstream_id)
        if provider is None:
            return []
        models = (self._upstream_model(provider, m, fallback=False) for m in provider.models)
        return [m for m in models if m is not None]

    def everything(self) -> list[ModelPrice]:
        """Every token-priced model of every provider and host."""
        found: dict[str, ModelPrice] = {m.id: m for m in self.models}
        if self.upstream is not None:
            for provider in self.upstream.providers:
                for m in provider.models:
                    model = self._upstream_model(provider, m, fallback=False)
                    if model is not None:
                        found.setdefault(model.id, model)
        return list(found.values())

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        key = name.strip().lower().split("/")[-1]
        names = self.names()
        lowered = {n.lower(): n for n in names}
        close = difflib.get_close_matches(key, list(lowered), n=limit, cutoff=0.55)
        found = [lowered[c] for c in close]
        found += [m.id for m in self.models if key and key in m.id.lower()]
        return list(dict.fromkeys(found))[:limit]

    def select(self, patterns: Iterable[str] = (), providers: Iterable[str] = ()) -> list[ModelPrice]:
        """Models matching any pattern (id, alias or glob), limited to `providers` if given."""
        wanted = {p.lower() for p in providers}
        known = {k.lower() for k in self.known_providers()} if wanted else set()
        for p in wanted:
            if p not in known:
                close = difflib.get_close_matches(p, sorted(known), n=2)
                hint = f"did you mean {', '.join(close)}?" if close else f"known providers: {', '.join(sorted(known))}"
                raise PricingError(f"unknown provider: {p}", hint=hint)
        chosen: list[ModelPrice] = []
        for pattern in patterns:
            if has_glob(pattern):
                pool = self.models if not wanted else self._pool(wanted)
                from tokopt.pricing import glob_names

                matches = [m for m in pool if any(fnmatch.fnmatchcase(n, pattern.lower()) for n in glob_names(m))]
                if not matches:
                    raise UnknownModelError(pattern, self.suggest(pattern.strip("*?[]")))
                chosen.extend(matches)
            else:
                chosen.append(self.get(pattern))
        if not chosen and wanted:
            chosen = self._pool(wanted)
        if wanted:
            chosen = [m for m in chosen if m.provider.lower() in wanted]
        return list({m.id: m for m in chosen}.values())

    def _pool(self, wanted: set[str]) -> list[ModelPrice]:
        pool = list(self.models)
        for name in wanted:
            if not any(m.provider.lower() == name for m in pool):
                pool += self.hosted(name)
        return list({m.id: m for m in pool}.values())
