"""Where tokopt's files live. Environment overrides are named here and nowhere else.

Nothing here touches the disk at import time; directories are created by the code that writes.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "TOKOPT_HOME"
ENV_CONFIG = "TOKOPT_CONFIG"
ENV_PRICING = "TOKOPT_PRICING"
ENV_PRICING_DIR = "TOKOPT_PRICING_DIR"
ENV_LEDGER = "TOKOPT_LEDGER"
ENV_USER = "TOKOPT_USER"
ENV_RUN = "TOKOPT_RUN"
ENV_MACHINE = "TOKOPT_MACHINE"  # the name records made here carry (default: the host name)
ENV_CACHE_DIR = "TOKOPT_CACHE_DIR"
ENV_COUNT_CACHE = "TOKOPT_COUNT_CACHE"  # 0 turns off the cache of counts (tokens/countcache.py)
# the file of the key that signs what the caches keep (cachekey.py; default: in the data directory)
ENV_CACHE_KEY = "TOKOPT_CACHE_KEY"
# the moment prices are taken at when a command is not given --at (default: now)
ENV_PRICES_AT = "TOKOPT_PRICES_AT"
# forbid the network even to the commands whose job it is (tokopt prices update, check --comment)
ENV_OFFLINE = "TOKOPT_OFFLINE"
# `tokopt check` and `tokopt init`: the project config, and the project-wide defaults
ENV_PROJECT_CONFIG = "TOKOPT_PROJECT_CONFIG"
ENV_MODELS = "TOKOPT_MODELS"
ENV_OUTPUT_TOKENS = "TOKOPT_OUTPUT_TOKENS"
ENV_CALLS_PER_MONTH = "TOKOPT_CALLS_PER_MONTH"

APP_NAME = "tokopt"


def _home() -> Path | None:
    value = os.environ.get(ENV_HOME)
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """The user's config directory (config.toml, pricing.toml)."""
    home = _home()
    if home is not None:
        return home
    import platformdirs

    return platformdirs.user_config_path(APP_NAME)


def data_dir() -> Path:
    """The user's data directory (the ledger)."""
    home = _home()
    if home is not None:
        return home
    import platformdirs

    return platformdirs.user_data_path(APP_NAME)


def cache_dir() -> Path:
    """The user's cache directory (parsed tokenizer ranks); safe to delete at any time."""
    value = os.environ.get(ENV_CACHE_DIR)
    if value:
        return Path(value).expanduser()
    home = _home()
    if home is not None:
        return home / "cache"
    import platformdirs

    return platformdirs.user_cache_path(APP_NAME)


def user_config_file() -> Path:
    value = os.environ.get(ENV_CONFIG)
    if value:
        return Path(value).expanduser()
    return config_dir() / "config.toml"


def user_pricing_files() -> list[Path]:
    """Pricing overrides from TOKOPT_PRICING (os.pathsep-separated) or the config dir."""
    value = os.environ.get(ENV_PRICING)
    if value:
        return [Path(p).expanduser() for p in value.split(os.pathsep) if p]
    candidate = config_dir() / "pricing.toml"
    return [candidate] if candidate.is_file() else []


def bundled_pricing_dir() -> Path:
    """The pricing TOML shipped with tokopt (TOKOPT_PRICING_DIR replaces it)."""
    value = os.environ.get(ENV_PRICING_DIR)
    if value:
        return Path(value).expanduser()
    packaged = Path(__file__).parent / "pricing" / "data"
    if packaged.is_dir():
        return packaged
    # An editable install of a source checkout: the wheel's force-include is not applied,
    # so read the repo's top-level pricing/ directly.
    return Path(__file__).resolve().parents[2] / "pricing"


# TOKOPT_OFFLINE values that leave the network allowed; any other non-empty value forbids it
_OFFLINE_OFF = ("", "0", "false", "no", "off")


def offline() -> bool:
    """Whether TOKOPT_OFFLINE forbids the network: set to anything but 0, false, no or off
    (any case, blanks ignored). The one reading of it (`prices update`, `check --comment`)."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in _OFFLINE_OFF


def default_ledger() -> str:
    """The ledger's location: TOKOPT_LEDGER (a file path or a URL such as postgresql://...), else
    ledger.sqlite3 in the data directory. A URL is kept as text: a Path would fold its `//`."""
    value = os.environ.get(ENV_LEDGER)
    if value:
        return value if "://" in value else str(Path(value).expanduser())
    return str(data_dir() / "ledger.sqlite3")
