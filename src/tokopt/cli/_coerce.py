"""Option values converted the way typer converts them, without a pydantic schema per option.

typer (0.29 and later) converts each parameter's value through a pydantic TypeAdapter that it
builds on the parameter's first use, for every parameter of the command that runs, given or
not: for `tokopt estimate` that is pydantic imported and fifteen schemas built, about a fifth
of a small prompt's whole run. tokopt's options are plain types (str, int within bounds, an
Enum's choices, Path, and lists of those), so the value typer would produce can be computed
directly with typer's own choice and path functions. Anything else, and any value the direct
way does not accept as it is, goes to typer's own conversion: results and error messages stay
typer's. A typer without this machinery is left alone.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, get_args, get_origin

try:
    from typer import _param_types as _types
    from typer._coercion import build_runtime_param
    from typer.core import _TyperParameter
except ImportError:  # pragma: no cover - a typer that converts values its own way
    _TyperParameter = None


class _NotDirect(Exception):
    """The value is left to typer's own conversion."""


def _leaf(annotation: Any, info: Any, value: Any, param: Any, ctx: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        if not isinstance(value, (str, enum.Enum)):
            raise _NotDirect
        return _types.coerce_cli_choice(value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx)
    if annotation is int:
        if isinstance(value, str) and value.isascii() and value.isdigit():
            number = int(value)
        elif type(value) is int:
            number = value
        else:
            raise _NotDirect
        if info.clamp or (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
            raise _NotDirect
        return number
    if annotation is str:
        if not isinstance(value, str):
            raise _NotDirect
        return value
    if annotation is Path and _types.routes_to_path(annotation, info):
        path_type = info.path_type or Path
        if path_type is Path:
            if not isinstance(value, (str, Path)) or value == "":
                raise _NotDirect
            value = Path(value)
        elif path_type is not str:
            raise _NotDirect
        return _types.coerce_cli_path(value, info, path_type=path_type, param=param, ctx=ctx)
    raise _NotDirect


class DirectConversion:
    """A parameter's conversion: direct for plain types, typer's own for the rest."""

    __slots__ = ("descriptor", "_typer")

    def __init__(self, descriptor: Any) -> None:
        self.descriptor = descriptor
        self._typer: Any = None

    def _typers(self) -> Any:
        if self._typer is None:
            self._typer = build_runtime_param(self.descriptor)
        return self._typer

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            return self._direct(value, param, ctx)
        except Exception:  # noqa: BLE001 - typer's conversion decides, and words the error
            return self._typers().coerce(value, param=param, ctx=ctx)

    def _direct(self, value: Any, param: Any, ctx: Any) -> Any:
        d = self.descriptor
        info = d.parameter_info
        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        if d.file_annotation is not None or info.parser is not None or (multi and isinstance(value, str)):
            raise _NotDirect
        annotation = d.annotation
        if get_origin(annotation) is list:
            (item,) = get_args(annotation)
            items = value if isinstance(value, (list, tuple)) else [value]
            return [_leaf(item, info, v, param, ctx) for v in items]
        if get_origin(annotation) is not None:
            raise _NotDirect
        return _leaf(annotation, info, value, param, ctx)


def install(command: Any) -> None:
    """Give every typer parameter of `command` and of its subcommands the direct conversion."""
    if _TyperParameter is None:
        return
    for param in [*command.params, getattr(command, "_help_option", None)]:
        if isinstance(param, _TyperParameter) and getattr(param, "_runtime_param", None) is None:
            param._runtime_param = DirectConversion(param.type_descriptor)
    for sub in getattr(command, "commands", {}).values():
        install(sub)
