"""Counts as people write them: `50000`, `50,000`, `50_000`, `50k`, `1.5M`, `2B`.

Used for how many calls (`-n`, `--calls-per-day`, `--calls-per-month`). The value must be a
whole number of at least one once the suffix is applied, so `1.5k` is 1,500 and `1.2345k` is
an error rather than a rounding.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

SUFFIXES = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000, "bn": 1_000_000_000}
_COUNT = re.compile(r"^\s*(?P<number>\d[\d,_]*(?:\.\d+)?|\.\d+)\s*(?P<suffix>[a-z]*)\s*$", re.IGNORECASE)


def parse_count(text: str, *, minimum: int = 1) -> int:
    """`text` as a whole number; ValueError with the reason when it is not one."""
    m = _COUNT.match(text)
    suffix = m["suffix"].lower() if m else ""
    if m is None or suffix not in SUFFIXES:
        raise ValueError(f"not a count: {text!r} (write 50000, 50,000, 50k or 1.5M)")
    digits = m["number"].replace(",", "").replace("_", "")
    try:
        value = Decimal(digits) * SUFFIXES[suffix]
    except InvalidOperation:
        raise ValueError(f"not a count: {text!r}") from None
    if value != value.to_integral_value():
        raise ValueError(f"not a whole number: {text!r} is {value.normalize():,f}")
    if value < minimum:
        raise ValueError(f"{text!r} is less than {minimum}")
    return int(value)
