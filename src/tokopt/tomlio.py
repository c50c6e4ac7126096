"""Reading TOML (floats as Decimal) and describing validation errors by key path."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokopt.errors import TokoptError

if TYPE_CHECKING:
    from pydantic import ValidationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


MAX_TOML = 16 << 20  # bytes: a config or pricing file is a few KiB
# Parsed files by their exact text: a process that loads the catalog or a config again (the
# Python API, a server; the test suite's thousands of in-process runs) parses each text once.
# Callers get a deep copy, theirs to change. Keyed by content, so an edit is never missed.
_PARSED: dict[str, dict[str, Any]] = {}
_PARSED_MAX, _PARSED_MAX_CHARS = 64, 1 << 20


def read_toml(path: Path, *, what: str, error: type[TokoptError]) -> dict[str, Any]:
    """Parse a TOML file with floats as Decimal; every failure is `error` naming the file."""
    from tokopt.errors import InputError
    from tokopt.inputs.formats import human_size, read_limited

    try:
        raw = read_limited(path, str(path), MAX_TOML)
    except InputError:
        # a device or a pipe (/dev/zero) named as a config or pricing file would never end
        raise error(f"{what} {path}: more than {human_size(MAX_TOML)}; stopped reading (not a {what}?)") from None
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{what} is a directory, expected a .toml file: {path}") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 (byte {exc.start})") from None
    parsed = _PARSED.get(text)
    if parsed is None:
        try:
            parsed = tomllib.loads(text, parse_float=Decimal)
        except tomllib.TOMLDecodeError as exc:
            raise error(f"{path}: invalid TOML: {exc}") from None
        if len(text) <= _PARSED_MAX_CHARS:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[text] = parsed
    return _copied(parsed)


def _copied(value: Any) -> Any:
    """A TOML value's own copy: tables and arrays new, scalars (immutable) shared."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


def describe_validation(exc: ValidationError, prefix: str = "", limit: int = 3) -> str:
    """`key.path: message` for the first errors of a pydantic ValidationError."""
    parts = []
    errors = exc.errors()
    for err in errors[:limit]:
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        where = f"{loc}: " if loc else ""
        if err["type"] == "extra_forbidden":
            parts.append(f"{where}unknown key")
        elif err["type"] == "missing":
            parts.append(f"{where}missing")
        elif err["type"] in ("model_type", "dict_type"):
            parts.append(f"{where}expected a table")
        else:
            parts.append(f"{where}{err['msg'].removeprefix('Value error, ')}")
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return "; ".join(parts)
