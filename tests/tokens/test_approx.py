"""Content classes and the bands of approximate counts (tokens/approx.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import approx_samples
from tests.conftest import PRICING_DIR
from tokopt import tokens
from tokopt.pricing import load_catalog
from tokopt.pricing.model import CONTENT_CLASSES, ClassFactor, Tokenizer
from tokopt.tokens import approx

CATALOG = load_catalog(PRICING_DIR)
APPROXIMATE = [m.tokenizer for m in {m.tokenizer: m for m in CATALOG if not m.tokenizer.exact}.values()]


@pytest.mark.parametrize("name", CONTENT_CLASSES)
def test_a_text_of_one_class_is_found_to_be_that_class(name):
    shares = dict(zip(CONTENT_CLASSES, approx.classify(approx_samples.SAMPLES[name]).shares()))
    assert shares[name] >= Decimal("0.95"), shares


def test_a_readme_is_split_into_its_prose_code_and_json():
    shares = dict(zip(CONTENT_CLASSES, approx.classify(approx_samples.MIXED).shares()))
    assert all(shares[c] > Decimal("0.15") for c in ("prose", "code", "json")), shares
    assert sum(shares.values()) == pytest.approx(1)


def test_japanese_is_told_from_chinese_by_its_kana():
    assert approx.classify(approx_samples.JAPANESE).as_dict().keys() == {"japanese"}
    assert approx.classify(approx_samples.CHINESE).as_dict().keys() == {"cjk"}


def test_accented_latin_is_prose_and_a_script_takes_the_spaces_between_its_words():
    assert approx.classify("Les élèves étaient déjà là, à côté de l'église.").as_dict().keys() == {"prose"}
    russian = approx.classify(approx_samples.RUSSIAN).as_dict()
    assert russian.keys() == {"other_scripts"}


def test_white_space_runs_are_about_one_token_each():
    mix = approx.classify(approx_samples.SPACES)
    assert mix.as_dict() == {"whitespace": tokens.count(approx_samples.SPACES, "o200k_base")}


def test_weights_follow_the_base_count():
    # each class's characters per o200k_base token make the mix's weights add up near the count
    for text in [*approx_samples.SAMPLES.values(), approx_samples.MIXED]:
        mix = approx.classify(text)
        weight = sum(Decimal(n) / cpt for n, cpt in zip(mix.counts, approx.CHARS_PER_TOKEN))
        assert 0.75 < weight / tokens.count(text, "o200k_base") < 1.3


def test_a_long_text_classified_in_segments_as_counting_reads_it():
    text = (approx_samples.MIXED + "\n\n") * 200
    whole = approx.classify(text)
    parts = approx.Mix()
    for segment in tokens.split_text(text, 1 << 14):
        parts.add(approx.classify(segment))
    for a, b in zip(whole.shares(), parts.shares()):
        assert abs(a - b) < Decimal("0.02")


def test_a_long_text_is_classified_on_an_even_sample_of_it():
    text = "\n\n".join([approx_samples.PROSE, approx_samples.CODE, approx_samples.JSON, approx_samples.CHINESE] * 120)
    assert len(text) > 4 * approx.SAMPLE_STRIDE
    whole, sampled = approx.classify(text), approx.classify_sampled(text)
    for a, b in zip(whole.shares(), sampled.shares()):
        assert abs(a - b) < Decimal("0.03")
    assert approx.classify_sampled(approx_samples.PROSE) == approx.classify(approx_samples.PROSE)


@given(st.text(max_size=3000))
def test_classification_is_deterministic_and_never_negative(text):
    first, second = approx.classify(text), approx.classify(text)
    assert first == second and all(n >= 0 for n in first.counts)


# --- bands -------------------------------------------------------------------------------------

factor_values = st.decimals(min_value=Decimal("0.3"), max_value=Decimal("3"), places=2)


@st.composite
def class_factors(draw):
    a, b, c = sorted(draw(st.lists(factor_values, min_size=3, max_size=3)))
    return ClassFactor(factor=b, low=a, high=c, source="test")


@st.composite
def tokenizers(draw):
    overall = draw(class_factors())
    names = draw(st.lists(st.sampled_from(CONTENT_CLASSES), unique=True))
    classes = {name: draw(class_factors()).model_dump() for name in names}
    return Tokenizer(encoding="o200k_base", factor=overall.factor, low=overall.low, high=overall.high, source="test", classes=classes)


mixes = st.lists(st.integers(min_value=0, max_value=10**7), min_size=len(CONTENT_CLASSES), max_size=len(CONTENT_CLASSES)).map(approx.Mix)


@given(tokenizers(), st.integers(min_value=0, max_value=10**9), mixes)
def test_the_band_contains_the_point_estimate(tokenizer, base, mix):
    a = approx.estimate(tokenizer, base, mix)
    assert a.low <= a.tokens <= a.high
    factors = [tokenizer.class_factor(c) for c, n in zip(CONTENT_CLASSES, mix.counts) if n] or [tokenizer.class_factor("")]
    # every weighted mean lies between the smallest and the largest of what it weighs
    assert base * min(f.lo for f in factors) - 1 <= a.low and a.high <= base * max(f.hi for f in factors) + 1
    assert base * min(f.factor for f in factors) - 1 <= a.tokens <= base * max(f.factor for f in factors) + 1


@given(tokenizers(), st.integers(min_value=0, max_value=10**9), mixes)
def test_the_integer_arithmetic_is_the_exact_one(tokenizer, base, mix):
    fast, exact = approx.estimate(tokenizer, base, mix), approx._estimate_decimal(tokenizer, base, mix)
    # equal, but for a tie at .5 that 40 decimal digits of division cannot tell
    assert all(abs(a - b) <= 1 for a, b in zip((fast.tokens, fast.low, fast.high), (exact.tokens, exact.low, exact.high)))


@given(st.sampled_from(APPROXIMATE), st.integers(min_value=0, max_value=10**9), st.text(max_size=500))
def test_every_shipped_approximation_has_a_band_around_its_count(tokenizer, base, text):
    a = approx.estimate(tokenizer, base, approx.classify(text))
    assert a.low <= a.tokens <= a.high


def test_without_classes_or_content_the_overall_factor_applies():
    plain = Tokenizer(encoding="o200k_base", factor=Decimal("1.2"), low=Decimal("1.1"), high=Decimal("1.3"), source="test")
    assert approx.estimate(plain, 1000, approx.classify(approx_samples.CODE)) == approx.Approx(1200, 1100, 1300)
    claude = CATALOG.get("claude-opus-4-7").tokenizer
    assert approx.estimate(claude, 1000, None) == approx.Approx(1530, 1120, 1710)


def test_one_class_gives_that_class_s_factor_and_band():
    gemini = CATALOG.get("gemini-2.5-pro").tokenizer
    digits = approx.classify(approx_samples.DIGITS)
    assert approx.estimate(gemini, 1000, digits) == approx.Approx(2370, 2250, 2490)


def test_a_band_is_shown_as_its_wider_side():
    assert approx.band_pct(1000, 940, 1060) == 6
    assert approx.band_pct(1000, 900, 1001) == 10
    assert approx.band_pct(0, 0, 0) == 0


def test_a_class_factor_outside_its_band_is_refused():
    with pytest.raises(ValueError, match="low <= factor <= high"):
        ClassFactor(factor=Decimal("2"), low=Decimal("1"), high=Decimal("1.5"), source="x")
    with pytest.raises(ValueError, match="unknown content class 'poetry'"):
        Tokenizer(encoding="o200k_base", factor=1, source="x", classes={"poetry": {"factor": 1, "source": "x"}})
