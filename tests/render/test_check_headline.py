"""The headline's money and percentages over a budget's models: a range never reads as
crossing zero unless it does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tokopt.budgets.results import Span
from tokopt.render.check_headline import percent, signed_money


def span(a: str, b: str) -> Span:
    return Span(cheapest=Decimal(a), dearest=Decimal(b))


@pytest.mark.parametrize(
    ("cheapest", "dearest", "money", "pct"),
    [
        ("1.2", "1.2", "+$1.20", "+1.2%"),
        ("-0.4", "-0.4", "-$0.40", "-0.4%"),
        ("0.3", "1.2", "+$0.30–$1.20", "+0.3–1.2%"),
        ("-0.3", "-1.2", "-$0.30 to -$1.20", "-0.3% to -1.2%"),
        ("-1.2", "-0.3", "-$0.30 to -$1.20", "-0.3% to -1.2%"),
        ("-0.4", "1.2", "-$0.40 to +$1.20", "-0.4% to +1.2%"),
        ("0", "-2", "$0 to -$2.00", "0% to -2%"),
    ],
)
def test_ranges_say_their_sign_at_both_ends(cheapest, dearest, money, pct):
    assert signed_money(span(cheapest, dearest)) == money
    assert percent(span(cheapest, dearest)) == pct
