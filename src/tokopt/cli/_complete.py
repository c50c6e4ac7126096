"""Shell completion of model ids and aliases (`tokopt estimate -m gpt<TAB>`), fast.

A TAB must answer at once, and loading the catalog (genai-prices' data, tokopt's layer, the
user's pricing files) takes longer than that. So the names are kept in a small text file in
the cache directory, under a fingerprint of everything they come from: tokopt's version, the
files of the bundled layer, the price data in use (installed by `tokopt prices update`, or the
bundled genai-prices module), and the user's pricing files, each by path, size and modification
time. The first completion after a change builds it; every other one reads a few KB.

Nothing here may fail a completion: any error gives no names rather than a traceback in the
user's shell.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

CACHE_FORMAT = 1


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def _sources() -> list[Path]:
    """Every file the catalog's names come from (without reading any)."""
    from importlib.util import find_spec

    from tokopt import paths

    found = sorted(paths.bundled_pricing_dir().glob("*.toml"))
    data = paths.data_dir() / "prices"
    found += [data / "current.json", data / "current.meta.json"]
    spec = find_spec("genai_prices")
    if spec is not None and spec.submodule_search_locations:
        found.append(Path(next(iter(spec.submodule_search_locations))) / "data.py")
    found += [Path(p) for p in paths.user_pricing_files()]
    return found


def fingerprint() -> str:
    from tokopt import __version__

    parts = [f"v{CACHE_FORMAT}", __version__, *(_stat(p) for p in _sources())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _cache_file() -> Path:
    from tokopt import paths

    return paths.cache_dir() / f"model-names-{fingerprint()}.txt"


def _build() -> list[str]:
    from tokopt import paths, pricing, settings

    catalog = pricing.load_catalog(paths.bundled_pricing_dir(), settings.pricing_files())
    return sorted(dict.fromkeys(catalog.names()), key=str.lower)


def model_names() -> list[str]:
    """Every id and alias the catalog lists, from the cache when it is current."""
    cache = _cache_file()
    try:
        return cache.read_text(encoding="utf-8").splitlines()
    except OSError:
        pass
    names = _build()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("\n".join(names) + "\n", encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only cache directory: complete from the catalog each time
    return names


def matching(names: Iterable[str], incomplete: str) -> list[str]:
    """Names that start with what was typed (any case); `openai/gpt` completes with its prefix."""
    prefix, _, rest = incomplete.rpartition("/") if "/" in incomplete else ("", "", incomplete)
    typed = rest.lower()
    lead = f"{prefix}/" if prefix else ""
    return [lead + n for n in names if n.lower().startswith(typed)]


def complete_model(incomplete: str) -> list[str]:
    """typer's autocompletion for a model option or argument."""
    try:
        return matching(model_names(), incomplete)
    except Exception:  # noqa: BLE001 - a completion never shows a traceback
        return []
