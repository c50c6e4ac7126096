"""The price catalog: genai-prices' data under tokopt's own layer and the user's pricing files.

`load_catalog` reads tokopt's layer (pricing/*.toml, see `layer`), the user's files, and the
genai-prices data in use (see `upstream`), and returns a `Catalog`. A name resolves, in order:

1. an `[aliases]` entry, followed to its model (cycles are refused when the files load);
2. a model or alias named in the layer or a user file;
3. a hosted id: `bedrock/...`, `azure/...`, `vertex_ai/...`, `openrouter/...` (hosts.toml
   prefixes), or an id whose form names its host (`us.anthropic.claude-...-v1:0` is Bedrock,
   `claude-...@20250929` is Vertex). It gets *that host's* price or an error naming the host;
4. the model of the provider genai-prices matches the id to (`gpt-...` is OpenAI), with the
   id variants genai-prices knows (dated snapshots, dotted and dashed versions);
5. a model exactly one provider prices; several is an error asking to name the host.

Prices are those in force at the catalog's moment (now, unless `at()` says otherwise).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokopt.errors import PricingError, UnknownModelError
from tokopt.pricing import layer as layer_mod
from tokopt.pricing.model import ModelPrice, Tier, Tokenizer

if TYPE_CHECKING:
    from tokopt.pricing.catalog import Catalog, HostPriceError, rates_from_sheet

# past this many days, outputs add a line suggesting `tokopt prices update`
STALE_DAYS = 60


def parse_moment(text: str, where: str = "--at") -> dt.datetime:
    """A date (priced at 12:00 UTC that day) or an ISO date-time (UTC unless it says otherwise)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(12), dt.timezone.utc)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PricingError(f"{where}: not a date or date-time: {text!r}", hint="use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def default_moment() -> dt.datetime | None:
    """TOKOPT_PRICES_AT, when set: the moment prices are taken at instead of now."""
    import os

    from tokopt import paths

    value = os.environ.get(paths.ENV_PRICES_AT)
    return parse_moment(value, paths.ENV_PRICES_AT) if value else None


def load_catalog(
    bundled_dir: Path | None = None, extra_files: Sequence[Path] = (), *, moment: dt.datetime | None = None, service_tier: str | None = None
) -> Catalog:
    """tokopt's layer from `bundled_dir`, the user's `extra_files` over it, and the price data in
    use; with `service_tier` (flex, priority), each model that has that tier priced at it."""
    from tokopt import paths
    from tokopt.pricing import upstream as upstream_mod
    from tokopt.pricing.catalog import Catalog

    directory = bundled_dir if bundled_dir is not None else paths.bundled_pricing_dir()
    if moment is None:
        moment = default_moment()
    layer = layer_mod.read_layer(directory)
    info, raw = upstream_mod.current_info(layer.pin)
    upstream = upstream_mod.load(info, raw)
    if extra_files:
        bare = Catalog(layer, upstream, moment)

        def locate(name: str) -> tuple[str | None, str, str] | None:
            try:
                provider, model, _ = bare.upstream_hit(name, name.strip().lower(), near=False)
            except PricingError:
                return None
            return bare._entry_for(provider.id, model.id), provider.id, model.id

        layer_mod.apply_user_files(layer, list(extra_files), locate)
    layer_mod.check_alias_cycles(layer)
    catalog = Catalog(layer, upstream, moment)
    _check_user_names(catalog)
    for key, entry in layer.entries.items():
        # what only a file prices is checked now, so a broken file fails every command alike
        if entry.user or not catalog._in_data(entry):
            catalog._entry_model(key)
    return catalog.on_tier(service_tier)


def missing_tier(catalog: Catalog, models: Iterable[ModelPrice]) -> list[str]:
    """The ids of `models` that have no price for the catalog's service tier (priced standard)."""
    wanted = catalog.service_tier
    if wanted is None:
        return []
    return list(dict.fromkeys(m.id for m in models if m.service_tier != wanted))

def _check_user_names(catalog: Catalog) -> None:
    """A user's new model or alias may not take the name of another model the data prices."""
    layer = catalog.layer
    for low, (key, path) in layer.names.items():
        entry = layer.entries[key]
        if not entry.user or low == key:
            continue
        if entry.upstream is None and entry.fields.get("provider") is not None:
            other = _upstream_name(catalog, low)
            if other is not None:
                info = catalog.data
                raise PricingError(
                    f"{path}: model '{entry.name}': name '{low}' is already used by '{other}' in {info.label if info else 'genai-prices'}",
                    hint="rename the alias, or override that model by its own name",
                )
    for low, (target, path) in layer.aliases.items():
        if low in layer.names:
            continue
        other = _upstream_name(catalog, low)
        if other is not None and other.lower() != layer_mod.resolve_alias(layer, low):
            target_model = catalog.find(target)
            if target_model is None or target_model.id != other:
                info = catalog.data
                raise PricingError(
                    f"{path}: alias '{low}' is already the name of '{other}' in {info.label if info else 'genai-prices'}",
                    hint="rename the alias",
                )


def _upstream_name(catalog: Catalog, name: str) -> str | None:
    """The id the upstream data alone gives `name`, if any."""
    try:
        provider, model, fallback = catalog.upstream_hit(name, name.strip().lower(), near=False)
    except PricingError:
        return None
    return catalog._canonical(provider, model, fallback)[0]



def listing(
    catalog: Catalog,
    patterns: Sequence[str],
    *,
    providers: Sequence[str] = (),
    hosts: Sequence[str] = (),
    every: bool = False,
    defaults_only: bool = False,
) -> list[ModelPrice]:
    """What `tokopt models` lists: the listed models, or every one (`every`), or a host's own
    (`hosts`); narrowed to `providers`, to `patterns` (ids, aliases, globs), to the defaults."""
    import fnmatch

    from tokopt.inputs.globs import has_glob

    for host in hosts:
        if catalog.layer.host_for_prefix(host.lower()) is None:
            known = ", ".join(h.name for h in catalog.layer.hosts)
            raise PricingError(f"unknown host: {host}", hint=f"known hosts: {known}")
    if not hosts and not every:
        chosen = catalog.select(patterns, providers) if (patterns or providers) else list(catalog)
    else:
        pool = [m for host in hosts for m in catalog.hosted(host)] if hosts else catalog.everything()
        wanted = {p.lower() for p in providers}
        if wanted:
            pool = [m for m in pool if m.provider.lower() in wanted]
        chosen = [] if patterns else pool
        for pattern in patterns:
            if has_glob(pattern):
                found = [m for m in pool if any(fnmatch.fnmatchcase(n, pattern.lower()) for n in glob_names(m))]
                if not found:
                    raise UnknownModelError(pattern, catalog.suggest(pattern.strip("*?[]")))
                chosen += found
            else:
                chosen.append(catalog.get(pattern))
    if defaults_only:
        chosen = [m for m in chosen if m.default]
    return list({m.id: m for m in chosen}.values())


def glob_names(m: ModelPrice) -> set[str]:
    """The names a glob is tried on: the id, its aliases, and a hosted id without its host and
    region (`claude*` finds bedrock/regional.anthropic.claude-...)."""
    names = {m.id.lower(), *(a.lower() for a in m.aliases)}
    if m.host:
        bare = m.id.partition("/")[2].lower() or m.id.lower()
        names |= {bare, bare.rsplit("/", 1)[-1], bare.split(".")[-1] if bare.count(".") >= 2 else bare}
    return names


@dataclass(frozen=True)
class DataStatus:
    label: str
    sha256: str
    as_of: dt.date | None
    age_days: int | None
    stale: bool
    installed: bool
    path: Path

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "sha256": self.sha256,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "age_days": self.age_days,
            "installed": self.installed,
        }


def data_status(catalog: Catalog, today: dt.date | None = None) -> DataStatus:
    """Which price data is in use, how old it is, and whether it is past STALE_DAYS."""
    info = catalog.data
    # age relative to the moment priced: now, or --at / TOKOPT_PRICES_AT
    today = today or (catalog.moment.date() if catalog.moment is not None else dt.date.today())
    age = (today - info.as_of).days if info.as_of else None
    return DataStatus(
        label=info.label,
        sha256=info.sha256,
        as_of=info.as_of,
        age_days=age,
        stale=age is not None and age > STALE_DAYS,
        installed=info.installed,
        path=info.path,
    )


__all__ = [
    "STALE_DAYS",
    "Catalog",
    "DataStatus",
    "HostPriceError",
    "ModelPrice",
    "Tier",
    "Tokenizer",
    "data_status",
    "listing",
    "load_catalog",
    "missing_tier",
    "rates_from_sheet",
]


def __getattr__(name: str) -> Any:
    # The catalog (and the genai-prices data behind it) loads when it is first asked for, so
    # that importing the price models (tokopt.pricing.model), as every render view does, does
    # not pull in the loader.
    if name in ("Catalog", "HostPriceError", "rates_from_sheet"):
        from tokopt.pricing import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
