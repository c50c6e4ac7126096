"""Display formatting of money, counts and shares; rounding happens here and only here."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Context, Decimal, getcontext

from tokopt.decimals import quantize


def usd(amount: Decimal) -> str:
    """`$1,234.56`, `$0.0123`, `$0.000105`: enough digits to tell small costs apart."""
    if amount == 0:
        return "$0"
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    # enough precision for the digits kept, however large the amount (a huge --calls or price)
    digits = Context(prec=max(getcontext().prec, value.adjusted() + 4))
    if value >= 1:
        text = f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP, context=digits):,}"
    else:
        # three significant digits (at least two decimals), in plain notation
        exponent = min(value.adjusted() - 2, -2)
        rounded = value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
        text = _at_least_two_decimals(format(rounded.normalize(), "f"))
    return f"{sign}${text}"


def _at_least_two_decimals(text: str) -> str:
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def per_million(price: Decimal | None) -> str:
    """A USD-per-1M price as published: at least two decimals, no trailing noise."""
    if price is None:
        return "—"
    return "$" + _at_least_two_decimals(format(price.normalize(), "f"))


def count(n: int, approximate: bool = False) -> str:
    return f"{'≈' if approximate else ''}{n:,}"


def count_band(n: int, low: int | None, high: int | None, approximate: bool = True) -> str:
    """`≈1,240 (±6%)`: an approximate count and its band, the wider side in whole percent
    rounded up; without a band, as `count`."""
    if low is None or high is None or not approximate:
        return count(n, approximate)
    wider = max(n - low, high - n)
    pct = -(-wider * 100 // n) if n > 0 else 0
    return f"≈{n:,} (±{pct}%)"


def share(fraction: Decimal) -> str:
    percent = fraction * 100
    if percent == 0:
        return "0%"
    if percent < Decimal("0.1"):
        return "<0.1%"
    return f"{quantize(percent, '0.1')}%"


def tokens_compact(n: int) -> str:
    """200000 -> 200K, 1048576 -> 1.05M (context windows)."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.3g}M"
    if n >= 1000:
        return f"{n / 1000:.3g}K"
    return str(n)


def short_model(model: str) -> str:
    """A model's name in compact form: `claude-opus-4-8` -> `opus-4-8` (dates dropped too)."""
    name = re.sub(r"-(20\d{6}|\d{4}-\d{2}-\d{2})$", "", model)
    return name.removeprefix("claude-")


def left_text(delta: dt.timedelta) -> str:
    """Time left, to the minute: `2h 05m`, `45m`."""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
