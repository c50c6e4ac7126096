"""The user's config file (`<config dir>/config.toml`, or TOKOPT_CONFIG): its schema and loading.

    [defaults]
    models = ["gpt-5.5", "claude-*"]   # what `estimate` prices without --model
    output_tokens = 800                 # expected completion length
    calls = 10000                       # the "N calls" projection

Every key is optional; an unknown key or a bad value is an error naming the file and key.
Where its values stand among flags, env vars and project config is `settings.py`'s job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokopt.errors import ConfigError, UnknownModelError
from tokopt.tomlio import describe_validation, read_toml

if TYPE_CHECKING:
    from tokopt.pricing import Catalog


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] | None = None
    output_tokens: Annotated[int, Field(ge=0)] | None = None
    calls: Annotated[int, Field(ge=1)] | None = None


class UserConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: Defaults = Field(default_factory=Defaults)


def load_user_config(path: Path, *, required: bool = False, catalog: Catalog | None = None) -> UserConfig:
    """The config at `path`; an absent file is an empty config unless `required` (a file the
    user named). With `catalog`, every model the config names must be in it."""
    if not required and not path.exists():
        return UserConfig()
    data: dict[str, Any] = read_toml(path, what="config file", error=ConfigError)
    try:
        config = UserConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation(exc)}") from None
    if catalog is not None and config.defaults.models:
        try:
            catalog.select(config.defaults.models)
        except UnknownModelError as exc:
            raise ConfigError(f"{path}: defaults.models: {exc.message}", hint=exc.hint) from None
    return config
