"""The pydantic schemas of the price catalog's classes (tokopt.pricing.model), for validation.

The catalog's classes are plain dataclasses (tokopt.plain says why). Values that their fast
check cannot vouch for are validated here, by pydantic models with the same fields, defaults,
constraints and checks, so that a bad pricing file gets pydantic's message and its key path.

Each schema is made from its class's own fields: their names, order, annotations and defaults.
So a field added there, such as the price of a new token kind, needs nothing here. This module
says only what an annotation leaves out: a price is 0 or more, a factor above 0 and a count of
tokens above 0; a class table is read as pairs; and the checks across fields.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator

from tokopt.pricing import model
from tokopt.pricing.model import check_band, check_model, check_tokenizer, class_table
from tokopt.usage import PositiveInt

PerMillion = Annotated[Decimal, Field(ge=0)]
Factor = Annotated[Decimal, Field(gt=0)]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Band(_Schema):
    @model_validator(mode="after")
    def _ordered(self) -> Any:
        check_band(self.factor, self.low, self.high)  # type: ignore[attr-defined]
        return self


class _Tokenizer(_Schema):
    @model_validator(mode="after")
    def _approximation_has_source(self) -> Any:
        check_tokenizer(self)
        return self


class _ModelPrice(_Schema):
    @model_validator(mode="after")
    def _consistent(self) -> Any:
        check_model(self)
        return self


# What the names in the classes' annotations mean in a schema (the schemas made so far are added)
_NAMES: dict[str, Any] = {"Decimal": PerMillion, "int": PositiveInt, "dt": dt, "EncodingName": model.EncodingName, "Tier": model.Tier}


def _mirror(plain: type, base: type[BaseModel], **names: Any) -> Any:
    """The schema of `plain`: its fields, in order, with their annotations read by `_NAMES`
    (then `names`, by annotation or by field name) and their defaults."""
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(plain):
        annotation = names[f.name] if f.name in names else eval(f.type, vars(model), {**_NAMES, **names})  # noqa: S307 (our own annotations)
        fields[f.name] = (annotation, ... if f.default is dataclasses.MISSING else f.default)
    made = create_model(plain.__name__, __base__=base, __module__=__name__, **fields)
    _NAMES[plain.__name__] = made
    return made


# A band's numbers are factors (above 0); every other Decimal is a price per 1M tokens (0 or more).
ClassFactor = _mirror(model.ClassFactor, _Band, Decimal=Factor)
Tokenizer = _mirror(
    model.Tokenizer, _Tokenizer, Decimal=Factor, classes=Annotated[tuple[tuple[str, ClassFactor], ...], BeforeValidator(class_table)]
)
LongContext = _mirror(model.LongContext, _Schema)
Rates = _mirror(model.Rates, _Schema)
ModelPrice = _mirror(model.ModelPrice, _ModelPrice)
