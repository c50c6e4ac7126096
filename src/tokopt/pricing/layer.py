"""tokopt's own pricing layer (pricing/*.toml) and the user's pricing files, read and checked.

The layer holds what genai-prices does not: which models are the defaults, each family's
tokenizer and capability tier, hosts and the prefixes logs write for them, aliases, and any
correction of an upstream price (with its source and date). Files:

    upstream.toml      the genai-prices release tokopt ships with (version, data hash, date)
    hosts.toml         hosts (Bedrock, Vertex, Azure, OpenRouter, ...): prefixes and id patterns
    families.toml      tokenizer and tier by model family, first match wins
    <provider>.toml    one maker's defaults, limits genai-prices lacks, aliases, corrections

User and project pricing files have the shape of a provider file (and may add `[aliases]`);
they override both layers. A name used twice, across layers or files, is an error naming both
files, and so is an alias cycle.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokopt.errors import PricingError
from tokopt.pricing.model import RATE_FIELDS
from tokopt.tomlio import read_toml

SPECIAL_FILES = ("upstream.toml", "hosts.toml", "families.toml")
FILE_KEYS = {"provider", "upstream", "listed", "as_of", "source", "defaults", "models", "aliases"}
PRICE_FIELDS = {*RATE_FIELDS, "batch_input", "batch_output", "long_context"}


@dataclass(frozen=True)
class Pin:
    """The genai-prices release whose data ships with tokopt."""

    version: str | None = None
    data_sha256: str | None = None
    as_of: dt.date | None = None


@dataclass(frozen=True)
class Host:
    name: str
    upstream: str  # genai-prices provider id
    prefixes: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class Family:
    name: str
    pattern: re.Pattern[str]
    tier: str | None
    tokenizer: dict[str, Any] | None
    measured_on: tuple[str, ...] = ()  # the models the tokenizer factor was measured on


@dataclass
class Entry:
    """One `[models."x"]` table: tokopt's facts about a model, or a user's model or override."""

    name: str
    path: Path
    fields: dict[str, Any]  # the table merged with its file's header and defaults
    stated: set[str]  # header keys the file itself states (not inherited)
    upstream: str | None  # the genai-prices provider of the file, if any
    user: bool
    own: set[str] = field(default_factory=set)  # keys of the table itself (not from [defaults])


@dataclass
class ProviderFile:
    name: str  # tokopt's name for the provider
    upstream: str | None
    listed: bool
    path: Path
    defaults: dict[str, Any]
    source: str | None


@dataclass
class Layer:
    pin: Pin = field(default_factory=Pin)
    hosts: list[Host] = field(default_factory=list)
    unpriced_hosts: tuple[str, ...] = ()
    makers: tuple[str, ...] = ()
    log_prefixes: tuple[str, ...] = ()
    families: list[Family] = field(default_factory=list)
    providers: list[ProviderFile] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)  # lower-case id -> entry
    names: dict[str, tuple[str, Path]] = field(default_factory=dict)  # lower-case id or alias -> (entry key, file)
    aliases: dict[str, tuple[str, Path]] = field(default_factory=dict)  # [aliases] table: name -> (target, file)

    def host_for_prefix(self, prefix: str) -> Host | None:
        for host in self.hosts:
            if prefix in host.prefixes:
                return host
        return None

    def host_name(self, upstream_id: str) -> str:
        """The name hosted ids use for a genai-prices provider (`bedrock/...` for aws)."""
        for host in self.hosts:
            if host.upstream == upstream_id:
                return host.name
        return upstream_id

    def maker_name(self, upstream_id: str) -> str:
        for p in self.providers:
            if p.upstream == upstream_id:
                return p.name
        return upstream_id

    def provider_file(self, upstream_id: str) -> ProviderFile | None:
        return next((p for p in self.providers if p.upstream == upstream_id), None)

    def family(self, model_id: str, attribute: str) -> Family | None:
        """The first family rule that takes `model_id` and sets `attribute` (tier or tokenizer)."""
        key = model_id.lower()
        return next((f for f in self.families if getattr(f, attribute) is not None and f.pattern.search(key)), None)


@functools.cache
def file_digest(path: Path) -> str:
    """The first 8 hex digits of a pricing file's SHA-256: the version of the prices it sets."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    except OSError:
        return "unread"


def data_version(upstream_sha256: str | None, files: tuple[Path, ...] = ()) -> str | None:
    """The version of the price data a model's prices come from: `gp:` and genai-prices' data
    hash, then `+file:` and the hash of each pricing file that set one of its prices."""
    parts = [f"gp:{upstream_sha256[:16]}"] if upstream_sha256 else []
    parts += [f"file:{file_digest(path)}" for path in files]
    return "+".join(parts) or None


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise PricingError(f"{path}: '{key}' must be a table")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PricingError(f"{where}: expected a list of strings")
    return tuple(value)


def _regex(text: Any, where: str) -> re.Pattern[str]:
    if not isinstance(text, str):
        raise PricingError(f"{where}: expected a regular expression string")
    try:
        return re.compile(text)
    except re.error as exc:
        raise PricingError(f"{where}: bad regular expression: {exc}") from None


def _read_pin(path: Path) -> Pin:
    data = read_toml(path, what="pricing file", error=PricingError)
    as_of = data.get("as_of")
    if as_of is not None and not isinstance(as_of, dt.date):
        raise PricingError(f"{path}: as_of: expected a date")
    return Pin(version=data.get("version"), data_sha256=data.get("data_sha256"), as_of=as_of)


def _read_hosts(path: Path, layer: Layer) -> None:
    data = read_toml(path, what="pricing file", error=PricingError)
    layer.makers = _strings(data.get("makers", []), f"{path}: makers")
    layer.unpriced_hosts = tuple(h.lower() for h in _strings(data.get("unpriced", []), f"{path}: unpriced"))
    layer.log_prefixes = tuple(p.lower() for p in _strings(data.get("log_prefixes", []), f"{path}: log_prefixes"))
    for name, table in _table(data, "hosts", path).items():
        where = f"{path}: hosts.{name}"
        if not isinstance(table, dict) or not isinstance(table.get("upstream"), str):
            raise PricingError(f"{where}: needs upstream = \"<genai-prices provider id>\"")
        prefixes = (name.lower(), *(p.lower() for p in _strings(table.get("prefixes", []), f"{where}.prefixes")))
        patterns = tuple(_regex(p, f"{where}.patterns") for p in _strings(table.get("patterns", []), f"{where}.patterns"))
        layer.hosts.append(Host(name=name, upstream=table["upstream"], prefixes=tuple(dict.fromkeys(prefixes)), patterns=patterns))


def _read_families(path: Path, layer: Layer) -> None:
    data = read_toml(path, what="pricing file", error=PricingError)
    rules = data.get("family", [])
    if not isinstance(rules, list):
        raise PricingError(f"{path}: 'family' must be an array of tables ([[family]])")
    for index, rule in enumerate(rules):
        where = f"{path}: family #{index + 1}"
        if not isinstance(rule, dict) or "name" not in rule or "match" not in rule:
            raise PricingError(f"{where}: needs name and match")
        unknown = set(rule) - {"name", "match", "tier", "tokenizer", "measured_on"}
        if unknown:
            raise PricingError(f"{where}: unknown key '{sorted(unknown)[0]}'")
        measured = _strings(rule.get("measured_on", []), f"{where}.measured_on")
        layer.families.append(Family(rule["name"], _regex(rule["match"], f"{where}.match"), rule.get("tier"), rule.get("tokenizer"), measured))


def _file_entries(path: Path, data: dict[str, Any], *, user: bool) -> tuple[ProviderFile | None, list[Entry]]:
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise PricingError(f"{path}: unknown top-level key '{sorted(unknown)[0]}'")
    models = _table(data, "models", path)
    defaults = _table(data, "defaults", path)
    header = {k: data[k] for k in ("provider", "as_of", "source") if k in data}
    upstream = data.get("upstream", data.get("provider") if not user else None)
    provider = None
    if "provider" in data and not user:
        provider = ProviderFile(
            name=data["provider"], upstream=upstream, listed=bool(data.get("listed", False)), path=path, defaults=defaults, source=data.get("source")
        )
    entries = []
    for model_id, table in models.items():
        if not isinstance(table, dict):
            raise PricingError(f"{path}: model '{model_id}': expected a table of fields")
        entries.append(
            Entry(model_id, path, {**header, **defaults, **table}, set(header), upstream if not user else data.get("upstream"), user, set(table))
        )
    return provider, entries


def _add_name(layer: Layer, name: str, key: str, path: Path) -> None:
    low = name.lower()
    if low in layer.names and layer.names[low][0] != key:
        other, other_path = layer.names[low]
        raise PricingError(
            f"{path}: model '{key}': name '{name}' is already used by '{other}' in {other_path}",
            hint="rename the alias, or override the model by its own name",
        )
    layer.names[low] = (key, path)


def read_layer(directory: Path) -> Layer:
    """tokopt's own layer from `directory` (every *.toml, sorted by name)."""
    if not directory.is_dir():
        raise PricingError(f"pricing directory not found: {directory}")
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise PricingError(f"no pricing files (*.toml) in {directory}")
    layer = Layer()
    for path in files:
        if path.name == "upstream.toml":
            layer.pin = _read_pin(path)
        elif path.name == "hosts.toml":
            _read_hosts(path, layer)
        elif path.name == "families.toml":
            _read_families(path, layer)
    for path in files:
        if path.name in SPECIAL_FILES:
            continue
        data = read_toml(path, what="pricing file", error=PricingError)
        provider, entries = _file_entries(path, data, user=False)
        if provider is not None:
            layer.providers.append(provider)
        _read_aliases(layer, path, data)
        for entry in entries:
            key = entry.name.lower()
            if key in layer.entries:
                raise PricingError(f"{path}: model '{entry.name}' is also defined in {layer.entries[key].path}")
            layer.entries[key] = entry
    for key, entry in layer.entries.items():
        _add_name(layer, entry.name, key, entry.path)
    for key, entry in layer.entries.items():
        for alias in entry.fields.get("aliases", ()):
            _add_name(layer, alias, key, entry.path)
    return layer


def _read_aliases(layer: Layer, path: Path, data: dict[str, Any]) -> None:
    for name, target in _table(data, "aliases", path).items():
        if not isinstance(target, str):
            raise PricingError(f"{path}: aliases.{name}: expected the name of a model")
        low = name.lower()
        if low in layer.aliases and layer.aliases[low][1] != path:
            raise PricingError(f"{path}: alias '{name}' is also defined in {layer.aliases[low][1]}")
        layer.aliases[low] = (target, path)


def apply_user_files(layer: Layer, files: list[Path], locate: Any = None) -> None:
    """Add the user's pricing files: new models, field overrides and aliases, in order.

    `locate(name)` says where the price data puts a name the layer does not have: (the layer
    entry that covers that model or None, genai-prices provider id, model id), or None."""
    for path in files:
        data = read_toml(path, what="pricing file", error=PricingError)
        stated = {k for k in ("provider", "as_of", "source") if k in data}
        data.setdefault("source", f"user pricing file {path}")
        _, entries = _file_entries(path, data, user=True)
        for entry in entries:
            entry.stated = set(stated)
        before = dict(layer.aliases)
        _read_aliases(layer, path, data)
        for low, (target, apath) in layer.aliases.items():
            if apath == path and low in layer.names and before.get(low) is None:
                other, other_path = layer.names[low]
                raise PricingError(f"{path}: alias '{low}' is already the name of model '{other}' in {other_path}")
        for entry in entries:
            key = layer.names.get(entry.name.lower(), (entry.name.lower(), path))[0]
            found = locate(entry.name) if locate is not None and key not in layer.entries else None
            if found is not None:
                covered, provider_id, model_id = found
                if covered is not None:
                    key = covered
                else:
                    # a model the data prices and the layer does not name: the user's table overrides it
                    entry.upstream = provider_id
                    entry.fields["genai_prices"] = model_id
            base = layer.entries.get(key)
            if base is not None:
                # Fields the user names replace the layer's; the header counts only where the user
                # stated it, so an override's as_of says when *their* price was set.
                own = {k: v for k, v in entry.fields.items() if k not in {"provider", "as_of", "source"} or k in entry.stated}
                if "source" not in own:
                    own["source"] = f"{base.fields.get('source', 'genai-prices')}; overridden by {path}"
                layer.entries[key] = Entry(
                    base.name, path, {**base.fields, **own}, base.stated | entry.stated, base.upstream, True, base.own | entry.own
                )
                for alias in entry.fields.get("aliases", ()):
                    _add_name(layer, alias, key, path)
                continue
            layer.entries[key] = entry
            _add_name(layer, entry.name, key, path)
            for alias in entry.fields.get("aliases", ()):
                _add_name(layer, alias, key, path)


def check_alias_cycles(layer: Layer) -> None:
    for start in layer.aliases:
        seen = [start]
        name = start
        while name in layer.aliases:
            name = layer.aliases[name][0].lower()
            if name in seen:
                files = sorted({str(layer.aliases[n][1]) for n in seen})
                raise PricingError(f"{' and '.join(files)}: alias cycle: {' -> '.join([*seen, name])}")
            seen.append(name)


def resolve_alias(layer: Layer, key: str) -> str:
    while key in layer.aliases:
        key = layer.aliases[key][0].strip().lower()
    return key
