"""Calibrating on data made with known factors recovers those factors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from hypothesis import given, settings, strategies as st

from tests import approx_samples
from tests.conftest import PRICING_DIR
from tokopt import tokens
from tokopt.calibrate.fit import Sample, calibrate, fit
from tokopt.pricing import load_catalog
from tokopt.pricing.model import CONTENT_CLASSES, Tokenizer
from tokopt.tokens import approx

TODAY = dt.date(2026, 11, 30)
TEXTS = [approx_samples.PROSE, approx_samples.CODE, approx_samples.JSON, approx_samples.CHINESE, approx_samples.MIXED]
OLD = Tokenizer(encoding="o200k_base", factor=D("1.2"), low=D("1.1"), high=D("1.3"), source="a guess")


def _truth(factors: dict[str, D], overall: D) -> Tokenizer:
    classes = {name: {"factor": factors.get(name, overall), "source": "made up"} for name in CONTENT_CLASSES}
    return Tokenizer(encoding="o200k_base", factor=overall, source="made up", classes=classes)  # type: ignore[arg-type]


def _samples(truth: Tokenizer, picks: list[tuple[int, int, int]]) -> list[Sample]:
    """A request per pick: a text repeated, its exact o200k_base count, and a few tokens of
    overhead the factors do not scale; the provider's count is what `truth` says."""
    out = []
    for which, times, rest in picks:
        text = "\n\n".join([TEXTS[which]] * times)
        base = tokens.count(text, "o200k_base")
        mix = approx.classify(text)
        out.append(Sample(base, mix, rest, approx.estimate(truth, base, mix).tokens + rest))
    return out


PICKS = st.lists(st.tuples(st.integers(0, len(TEXTS) - 1), st.integers(1, 6), st.integers(0, 40)), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(factor=st.integers(60, 250).map(lambda n: D(n) / 100), picks=PICKS)
def test_one_known_factor_is_recovered(factor, picks):
    samples = _samples(_truth({}, factor), picks)
    tokenizer, fitted = fit(OLD, samples, "test data", TODAY)
    assert abs(tokenizer.factor - factor) <= D("0.01")
    assert fitted
    for name, cf in tokenizer.classes:
        if name in fitted:
            assert abs(cf.factor - factor) <= D("0.02"), (name, cf.factor, factor)
            assert cf.lo <= cf.factor <= cf.hi


@settings(max_examples=25, deadline=None)
@given(
    prose=st.integers(80, 200).map(lambda n: D(n) / 100),
    code=st.integers(80, 200).map(lambda n: D(n) / 100),
    times=st.lists(st.integers(1, 5), min_size=4, max_size=4),
)
def test_factors_per_class_are_recovered(prose, code, times):
    truth = _truth({"prose": prose, "code": code}, D("1.00"))
    picks = [(0, times[0], 5), (0, times[1], 9), (1, times[2], 5), (1, times[3], 12)]
    tokenizer, fitted = fit(OLD, _samples(truth, picks), "test data", TODAY)
    got = dict(tokenizer.classes)
    assert {"prose", "code"} <= set(fitted)
    assert abs(got["prose"].factor - prose) <= D("0.03"), (got["prose"].factor, prose)
    assert abs(got["code"].factor - code) <= D("0.03"), (got["code"].factor, code)


def test_the_error_after_is_smaller_and_an_exact_model_is_only_measured():
    catalog = load_catalog(PRICING_DIR)
    truth = _truth({"prose": D("1.45"), "code": D("1.20")}, D("1.30"))
    samples = _samples(truth, [(0, 3, 6), (1, 2, 6), (4, 1, 9), (2, 2, 6)])
    claude = catalog.get("claude-opus-4-7")
    c = calibrate(claude, samples, "test data", TODAY)
    assert c.after is not None and c.tokenizer is not None
    assert c.after.mean_abs_pct < c.before.mean_abs_pct and c.after.mean_abs_pct <= D("1.0")
    assert c.tokenizer.source.startswith("tokopt calibrate on 4 request(s) of test data, 2026-11-30")
    gpt = calibrate(catalog.get("gpt-4o"), [Sample(100, None, 0, 100), Sample(50, None, 0, 52)], "x", TODAY)
    assert gpt.tokenizer is None and gpt.after is None and gpt.before.max_abs_pct == D("3.8")
