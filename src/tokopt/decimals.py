"""Rounding of Decimals that never fails for want of digits. Its own module, importing nothing
but decimal, so that what renders a number does not pay for importing `tokopt.usage` and
what it imports: `tokopt tokenize` needs no model of usage."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal


def quantize(value: Decimal, exponent: Decimal | str | int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """`value` rounded to the place of `exponent` ("0.0001"), however many digits that takes.

    Decimal's own quantize fails (InvalidOperation) when the result needs more digits than the
    context's precision, 28: a huge but valid limit, token count or number of calls.
    """
    exp = Decimal(exponent)
    if not value.is_finite():
        return value
    digits = max(value.adjusted(), 0) - exp.adjusted() + 2
    return value.quantize(exp, rounding=rounding, context=Context(prec=max(28, digits)))
