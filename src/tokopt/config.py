"""The user's config file (`<config dir>/config.toml`, or TOKOPT_CONFIG): its schema and loading.

    [defaults]
    models = ["gpt-5.5", "claude-*"]   # what `estimate` prices without --model
    output_tokens = 800                 # expected completion length
    calls = 10000                       # the "N calls" projection

Every key is optional; an unknown key or a bad value is an error naming the file and key.
Where its values stand among flags, env vars and project config is `settings.py`'s job.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokopt.errors import ConfigError, UnknownModelError
from tokopt.plain import Plain
from tokopt.tomlio import describe_validation, read_toml

if TYPE_CHECKING:
    from tokopt.pricing import Catalog


# Plain dataclasses: every command reads the config, and most have none. A file's contents are
# validated by the pydantic schema below (its errors name the key), made only when one is read.


@dataclass(slots=True, kw_only=True)
class Defaults(Plain):
    models: list[str] | None = None
    output_tokens: int | None = None  # 0 or more
    calls: int | None = None  # 1 or more

    @classmethod
    def _schema(cls) -> Any:
        return _schemas()[0]


@dataclass(slots=True, kw_only=True)
class UserConfig(Plain):
    defaults: Defaults = field(default_factory=Defaults)

    @classmethod
    def _schema(cls) -> Any:
        return _schemas()[1]

    @classmethod
    def model_validate(cls, data: Any) -> UserConfig:
        """A config from its TOML table, validated (pydantic's ValidationError when it is not valid)."""
        return cls._schema().model_validate(data).to_plain()  # type: ignore[no-any-return]


@functools.cache
def _schemas() -> tuple[Any, Any]:
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field

    class Defaults(BaseModel):
        model_config = ConfigDict(extra="forbid")

        models: list[str] | None = None
        output_tokens: Annotated[int, Field(ge=0)] | None = None
        calls: Annotated[int, Field(ge=1)] | None = None

    class UserConfig(BaseModel):
        model_config = ConfigDict(extra="forbid")

        defaults: Defaults = Field(default_factory=Defaults)

        def to_plain(self) -> Any:
            return globals()["UserConfig"](defaults=globals()["Defaults"](**self.defaults.model_dump()))

    return Defaults, UserConfig


def load_user_config(path: Path, *, required: bool = False, catalog: Catalog | None = None) -> UserConfig:
    """The config at `path`; an absent file is an empty config unless `required` (a file the
    user named). With `catalog`, every model the config names must be in it."""
    if not required and not path.exists():
        return UserConfig()
    data: dict[str, Any] = read_toml(path, what="config file", error=ConfigError)
    from pydantic import ValidationError

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
