"""The user's config file (`<config dir>/config.toml`, or TOKOPT_CONFIG).

    [defaults]
    models = ["gpt-5.5", "claude-*"]   # what `estimate` prices without --model
    output_tokens = 800                 # expected completion length
    calls = 10000                       # the "N calls" projection

Every key is optional; an unknown key or a bad value is an error naming the file and key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokopt.errors import ConfigError
from tokopt.tomlio import describe_validation, read_toml

DEFAULT_OUTPUT_TOKENS = 500
DEFAULT_CALLS = 1000


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] | None = None
    output_tokens: Annotated[int, Field(ge=0)] | None = None
    calls: Annotated[int, Field(ge=1)] | None = None


class UserConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: Defaults = Field(default_factory=Defaults)


def load_user_config(path: Path) -> UserConfig:
    """The config at `path`; an absent file is an empty config."""
    if not path.is_file():
        return UserConfig()
    data: dict[str, Any] = read_toml(path, what="config file", error=ConfigError)
    try:
        return UserConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation(exc)}") from None
