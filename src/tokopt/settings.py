"""The one precedence resolver: flag > env > project config > user config > default.

Every command's project-wide defaults (the models to price, the expected completion per call,
the number of calls) and its pricing files are resolved here and nowhere else. A flag's env
var is read by the command line (typer's `envvar=`, names in `paths.py`) and arrives here as
the flag's value, so a value's `source` is "option" for both.

What sits between the flag and these defaults belongs to the caller: a request's own
`max_tokens` (estimate, suggest), a budget's own `models` or `output_tokens` (check).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from tokopt import paths

if TYPE_CHECKING:
    from tokopt.config import UserConfig
    from tokopt.pricing import Catalog

DEFAULT_OUTPUT_TOKENS = 500
DEFAULT_CALLS = 1000

Origin = Literal["option", "project", "config", "default"]  # "config": the user's config file
T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    value: T
    source: Origin


@dataclass(frozen=True)
class ProjectValues:
    """What a project config says about the defaults (its [defaults] table); None: nothing."""

    models: Sequence[str] | None = None
    output_tokens: int | None = None
    calls: int | None = None  # calls per month, for check


@dataclass(frozen=True)
class Settings:
    """The defaults after precedence. `models` empty means the catalog's default models."""

    models: Setting[list[str]]
    output_tokens: Setting[int]
    calls: Setting[int]


def first(*candidates: tuple[T | None, Origin]) -> Setting[T]:
    """The first candidate that is set, in precedence order; the last one must be."""
    for value, source in candidates:
        if value is not None:
            return Setting(value, source)
    raise ValueError("no candidate is set: the last one must be the built-in default")


def resolve(
    user: UserConfig | None = None,
    project: ProjectValues | None = None,
    *,
    models: Sequence[str] | None = None,
    output_tokens: int | None = None,
    calls: int | None = None,
) -> Settings:
    """Flags (and their env vars) > the project's [defaults] > the user's config > built-in defaults.

    An empty `models` flag counts as not given."""
    p = project or ProjectValues()
    u = user.defaults if user is not None else None
    return Settings(
        models=first(
            (list(models) if models else None, "option"),
            (list(p.models) if p.models is not None else None, "project"),
            (list(u.models) if u is not None and u.models is not None else None, "config"),
            ([], "default"),
        ),
        output_tokens=first(
            (output_tokens, "option"),
            (p.output_tokens, "project"),
            (u.output_tokens if u is not None else None, "config"),
            (DEFAULT_OUTPUT_TOKENS, "default"),
        ),
        calls=first((calls, "option"), (p.calls, "project"), (u.calls if u is not None else None, "config"), (DEFAULT_CALLS, "default")),
    )


def user_config(catalog: Catalog | None = None) -> UserConfig:
    """The user's config file: TOKOPT_CONFIG (which must exist), else the config directory's
    config.toml (which may not). With `catalog`, the models it names must be in it."""
    from tokopt import config

    named = bool(os.environ.get(paths.ENV_CONFIG))
    return config.load_user_config(paths.user_config_file(), required=named, catalog=catalog)


def pricing_files(flags: Sequence[Path] = (), project: Sequence[Path] | None = None) -> list[Path]:
    """Pricing files to lay over the bundled catalog, later ones winning.

    Without a project: --pricing, else TOKOPT_PRICING, else the user's pricing.toml (a flag
    replaces the env var and the user's file). With a project's `pricing` files (`tokopt
    check`): the user's pricing.toml, the project's files, TOKOPT_PRICING, then --pricing.
    """
    if project is None:
        return list(flags) if flags else paths.user_pricing_files()
    user_files = paths.user_pricing_files()
    if os.environ.get(paths.ENV_PRICING):
        return [*project, *user_files, *flags]  # user_files are TOKOPT_PRICING's here
    return [*user_files, *project, *flags]
