"""Load pricing TOML into a `Catalog` of `ModelPrice`, and find models by id, alias or glob.

A pricing file looks like::

    provider = "openai"
    as_of = 2026-07-18
    source = "https://openai.com/api/pricing/"

    [defaults]                      # merged into every model of this file
    tokenizer = { encoding = "o200k_base", exact = true }

    [models."gpt-5.5"]
    tier = "frontier"
    input = 5.00                    # USD per 1M tokens; read as Decimal, never float
    ...

User files (``--pricing``, ``TOKOPT_PRICING``, ``<config dir>/pricing.toml``) use the same
shape. A model they name that the catalog already has is updated field by field; a new
model needs every required field.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tokopt.errors import PricingError, UnknownModelError
from tokopt.inputs.globs import has_glob
from tokopt.pricing.model import ModelPrice
from tokopt.tomlio import describe_validation, read_toml

FILE_KEYS = {"provider", "as_of", "source", "defaults", "models"}


class Catalog:
    """Every priced model, in file order, with an index of ids and aliases."""

    def __init__(self, models: Sequence[ModelPrice]) -> None:
        self.models: list[ModelPrice] = list(models)
        self._by_name: dict[str, ModelPrice] = {}
        for model in self.models:
            for name in (model.id, *model.aliases):
                self._by_name[name.lower()] = model

    def __len__(self) -> int:
        return len(self.models)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.models)

    @property
    def providers(self) -> list[str]:
        return list(dict.fromkeys(m.provider for m in self.models))

    def names(self) -> list[str]:
        return [name for m in self.models for name in (m.id, *m.aliases)]

    def find(self, name: str) -> ModelPrice | None:
        key = name.strip().lower()
        model = self._by_name.get(key)
        if model is None and "/" in key:
            # "openai/gpt-5.5", "gemini/gemini-2.5-pro": a provider prefix as LiteLLM writes it
            model = self._by_name.get(key.split("/", 1)[1])
        return model

    def get(self, name: str) -> ModelPrice:
        """The model with this id or alias; UnknownModelError with near names otherwise."""
        model = self.find(name)
        if model is None:
            raise UnknownModelError(name, self.suggest(name))
        return model

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        key = name.strip().lower().split("/")[-1]
        ids = [m.id for m in self.models]
        close = difflib.get_close_matches(key, [n.lower() for n in self.names()], n=limit, cutoff=0.55)
        found = [self._by_name[c].id for c in close]
        found += [i for i in ids if key and key in i.lower()]
        return list(dict.fromkeys(found))[:limit]

    def select(self, patterns: Iterable[str] = (), providers: Iterable[str] = ()) -> list[ModelPrice]:
        """Models matching any pattern (id, alias or glob), limited to `providers` if given."""
        wanted_providers = {p.lower() for p in providers}
        known = set(self.providers)
        for p in wanted_providers:
            if p not in known:
                close = difflib.get_close_matches(p, sorted(known), n=2)
                hint = f"did you mean {', '.join(close)}?" if close else f"known providers: {', '.join(sorted(known))}"
                raise PricingError(f"unknown provider: {p}", hint=hint)
        chosen: list[ModelPrice] = []
        for pattern in patterns:
            if has_glob(pattern):
                matches = [
                    m
                    for m in self.models
                    if any(fnmatch.fnmatchcase(n.lower(), pattern.lower()) for n in (m.id, *m.aliases))
                ]
                if not matches:
                    raise UnknownModelError(pattern, self.suggest(pattern.strip("*?[]")))
                chosen.extend(matches)
            else:
                chosen.append(self.get(pattern))
        if not chosen and wanted_providers:
            chosen = list(self.models)
        if wanted_providers:
            chosen = [m for m in chosen if m.provider in wanted_providers]
        return list({m.id: m for m in chosen}.values())

    def defaults(self) -> list[ModelPrice]:
        return [m for m in self.models if m.default]


def _file_entries(path: Path, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The raw model tables of one file, each merged with the file's header and defaults."""
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise PricingError(f"{path}: unknown top-level key '{sorted(unknown)[0]}'")
    models = data.get("models", {})
    defaults = data.get("defaults", {})
    if not isinstance(models, dict) or not isinstance(defaults, dict):
        raise PricingError(f"{path}: 'models' and 'defaults' must be tables")
    header = {k: data[k] for k in ("provider", "as_of", "source") if k in data}
    entries = {}
    for model_id, table in models.items():
        if not isinstance(table, dict):
            raise PricingError(f"{path}: model '{model_id}': expected a table of fields")
        entries[model_id] = {**header, **defaults, **table}
    return entries


def _validate(path: Path, model_id: str, raw: dict[str, Any]) -> ModelPrice:
    try:
        return ModelPrice.model_validate({**raw, "id": model_id})
    except ValidationError as exc:
        raise PricingError(f"{path}: model '{model_id}': {describe_validation(exc)}") from None


def load_catalog(
    bundled_dir: Path | None = None,
    extra_files: Sequence[Path] = (),
) -> Catalog:
    """Load every `*.toml` in `bundled_dir` (sorted by name), then apply `extra_files` in order."""
    from tokopt import paths

    directory = bundled_dir if bundled_dir is not None else paths.bundled_pricing_dir()
    if not directory.is_dir():
        raise PricingError(f"pricing directory not found: {directory}")
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise PricingError(f"no pricing files (*.toml) in {directory}")

    raw: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}
    for path in files:
        for model_id, entry in _file_entries(path, read_toml(path, what="pricing file", error=PricingError)).items():
            if model_id in raw:
                raise PricingError(f"{path}: model '{model_id}' is also defined in {origin[model_id]}")
            raw[model_id] = entry
            origin[model_id] = path

    for path in extra_files:
        data = read_toml(path, what="pricing file", error=PricingError)
        stated = {k for k in ("provider", "as_of", "source") if k in data}
        data.setdefault("source", f"user pricing file {path}")
        for model_id, entry in _file_entries(path, data).items():
            target = _resolve_override(model_id, raw)
            if target is None:
                raw[model_id] = entry
                origin[model_id] = path
                continue
            # Fields the user names replace the bundled ones; the file's header counts only
            # where the user stated it, so an override's as_of says when *their* price was set.
            own = {k: v for k, v in entry.items() if k not in {"provider", "as_of", "source"} or k in stated}
            if "source" not in own:
                own["source"] = f"{raw[target]['source']}; overridden by {path}"
            raw[target] = {**raw[target], **own}
            origin[target] = path

    models = [_validate(origin[model_id], model_id, entry) for model_id, entry in raw.items()]
    _check_names_unique(models, origin)
    return Catalog(models)


def _resolve_override(model_id: str, raw: dict[str, dict[str, Any]]) -> str | None:
    if model_id in raw:
        return model_id
    for existing, entry in raw.items():
        if model_id in entry.get("aliases", ()):
            return existing
    return None


def _check_names_unique(models: Sequence[ModelPrice], origin: dict[str, Path]) -> None:
    seen: dict[str, str] = {}
    for model in models:
        for name in (model.id, *model.aliases):
            key = name.lower()
            if key in seen and seen[key] != model.id:
                # blame the model whose alias takes another's name, not the one whose id it took
                culprit, other = (seen[key], model.id) if key == model.id.lower() else (model.id, seen[key])
                raise PricingError(f"{origin[culprit]}: model '{culprit}': name '{name}' is already used by '{other}'")
            seen[key] = model.id
