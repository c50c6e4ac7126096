"""Plain frozen dataclasses for the data every estimate builds, validated without pydantic.

Building pydantic models costs a small command more than the rest of its work (importing
pydantic, its plugin scan of every installed package, a core schema per model: about 0.1 s of
CPU at start-up). The price catalog, a call's cost and an estimate's rows are therefore plain
dataclasses. A class whose values come from files (prices, tokenizers, the user's config)
checks them in `_normalized`: the values as they should be, or `Slow` when anything is not
plainly right. Then, and only then, its pydantic schema (a mirror of the class, imported on
demand) validates them: its coercions are applied, or its error is raised, exactly as a
pydantic model of the class would. Well-formed data never imports pydantic.

`model_copy`, `model_dump` and `model_validate` keep the pydantic methods' meaning for callers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


class Slow(Exception):
    """The fast check cannot vouch for these values: the schema decides."""


SLOW = Slow()


class Plain:
    """Base of the plain data classes (frozen dataclasses with slots)."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = ()  # filled on first use: the dataclass decorator runs after this hook

    def __post_init__(self) -> None:
        try:
            changed = self._normalized()
        except Slow:
            changed = self._slow()
        for name, value in changed.items():
            object.__setattr__(self, name, value)

    # --- what a subclass with values to check defines --------------------------------------

    def _normalized(self) -> dict[str, Any]:
        """The fields whose values change (ints to Decimal, tables to their class); raise `Slow`
        when a value is not plainly valid."""
        return {}

    @classmethod
    def _schema(cls) -> Any:
        """The pydantic model that mirrors this class (imported only when needed)."""
        raise NotImplementedError(cls.__name__)

    # --- machinery --------------------------------------------------------------------------

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        if not cls._fields:
            fields = dataclasses.fields(cls)  # type: ignore[arg-type]
            cls._fields = tuple(f.name for f in fields)
            cls._defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
        return cls._fields

    def _slow(self) -> dict[str, Any]:
        valid = self._schema().model_validate({name: dump(getattr(self, name)) for name in self.field_names()})
        return {name: from_schema(getattr(valid, name)) for name in self.field_names()}

    @classmethod
    def trusted(cls, values: dict[str, Any]) -> Any:
        """An instance of values already valid and normalized (no check)."""
        obj = object.__new__(cls)
        for name in cls.field_names():
            object.__setattr__(obj, name, values[name] if name in values else cls._defaults[name])
        return obj

    @classmethod
    def fast(cls, data: Any) -> Any:
        """An instance from a table (a dict) by the fast check alone; `Slow` if it cannot vouch."""
        if isinstance(data, cls):
            return data
        if type(data) is not dict:
            raise SLOW
        names = cls.field_names()
        if not data.keys() <= set(names) or not cls._defaults.keys() | data.keys() >= set(names):
            raise SLOW
        obj = cls.trusted(data)
        for name, value in obj._normalized().items():
            object.__setattr__(obj, name, value)
        return obj

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        """An instance from a table, checked as the pydantic model would (its errors included)."""
        try:
            return cls.fast(data)
        except Slow:
            return from_schema(cls._schema().model_validate(dump(data)))

    def model_copy(self, update: dict[str, Any] | None = None) -> Any:
        """A copy with `update` applied, unchecked (as pydantic's model_copy)."""
        values = {name: getattr(self, name) for name in self.field_names()}
        values.update(update or {})
        return self.trusted(values)

    def model_dump(self, *, exclude: set[str] | None = None) -> dict[str, Any]:
        return {name: dump(getattr(self, name)) for name in self.field_names() if not exclude or name not in exclude}


def dump(value: Any) -> Any:
    """Plain instances as dicts (recursively), as pydantic's model_dump gives nested models."""
    if isinstance(value, Plain):
        return value.model_dump()
    if type(value) is tuple:
        return tuple(dump(v) for v in value)
    if type(value) is list:
        return [dump(v) for v in value]
    if type(value) is dict:
        return {k: dump(v) for k, v in value.items()}
    return value


# the plain class of each schema class, by name (filled by the modules that define them)
PLAIN: dict[str, type[Plain]] = {}


def register(cls: type[Plain]) -> type[Plain]:
    PLAIN[cls.__name__] = cls
    return cls


def from_schema(value: Any) -> Any:
    """A value validated by a schema, with its pydantic models turned into the plain classes."""
    plain = PLAIN.get(type(value).__name__)
    if plain is not None and hasattr(value, "model_fields_set"):
        return plain.trusted({name: from_schema(getattr(value, name)) for name in plain.field_names()})
    if type(value) is tuple:
        return tuple(from_schema(v) for v in value)
    if type(value) is list:
        return [from_schema(v) for v in value]
    return value


# --- checks of single values: the value as it should be, or Slow ------------------------------


def decimal_ge0(value: Any) -> Decimal:
    if type(value) is Decimal:
        if value.is_finite() and value >= 0:
            return value
    elif type(value) is int and value >= 0:
        return Decimal(value)
    raise SLOW


def decimal_gt0(value: Any) -> Decimal:
    if type(value) is Decimal:
        if value.is_finite() and value > 0:
            return value
    elif type(value) is int and value > 0:
        return Decimal(value)
    raise SLOW


def opt(check: Any, value: Any) -> Any:
    return None if value is None else check(value)


def positive_int(value: Any) -> int:
    if type(value) is int and value > 0:
        return value
    raise SLOW


def _exactly(kind: type[T]) -> Callable[[Any], T]:
    """The check that a value is of type `kind` itself (a bool is no int, a datetime no date)."""

    def check(value: Any) -> T:
        if type(value) is kind:
            return value  # type: ignore[no-any-return]
        raise SLOW

    return check


text = _exactly(str)
date = _exactly(dt.date)
flag = _exactly(bool)


def seq(value: Any) -> tuple[Any, ...]:
    """A tuple or list as the tuple a tuple field holds."""
    if type(value) is tuple:
        return value
    if type(value) is list:
        return tuple(value)
    raise SLOW
