"""The shipped layer (pricing/*.toml) over the bundled genai-prices data.

Prices come from genai-prices; the layer adds defaults, tiers, tokenizers and limits. These
tests check that every table of the layer names a model the data prices, that the listed
models carry genai-prices' prices at the catalog's moment exactly, and the parts of the layer
genai-prices does not hold: tokenizer approximations, tiers, defaults, file headers.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import types as gp
from genai_prices.data import providers as GP_PROVIDERS

from tokopt.pricing import load_catalog
from tokopt.pricing.model import ModelPrice, Tier

PRICING_DIR = Path(__file__).parents[1] / "pricing"
NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)
CATALOG = load_catalog(PRICING_DIR, moment=NOW)
PROVIDERS = ("openai", "anthropic", "google", "mistral", "deepseek", "xai")
SPECIAL = {"upstream.toml", "hosts.toml", "families.toml"}

CLAUDE_FACTOR_BEFORE_4_7 = Decimal("1.18")
CLAUDE_FACTOR_FROM_4_7 = Decimal("1.53")
GEMINI_FACTOR = Decimal("1.08")


def genai_model(model: ModelPrice) -> tuple[gp.Provider, gp.ModelInfo]:
    provider_id, _, model_id = (model.upstream or "").partition("/")
    provider = next(p for p in GP_PROVIDERS if p.id == provider_id)
    return provider, next(m for m in provider.models if m.id == model_id.removesuffix(" (fallback)"))


def claude_generation(model_id: str) -> tuple[int, int]:
    """(major, minor) from claude-opus-4-7, claude-sonnet-5, claude-3-5-haiku and the like."""
    match = re.fullmatch(r"claude-(?:[a-z]+-)?(\d+)(?:-(\d))?(?:-[a-z]+)?(?:-latest)?", model_id)
    assert match, f"cannot read the Claude generation of {model_id}"
    return int(match.group(1)), int(match.group(2) or 0)


ALL_MODELS = [pytest.param(m, id=m.id) for m in CATALOG]


def test_every_layer_table_names_a_model_the_data_prices():
    for path in sorted(PRICING_DIR.glob("*.toml")):
        if path.name in SPECIAL:
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for name, table in data["models"].items():
            model = CATALOG.get(name)
            assert model.upstream is not None, f"{path.name}: {name} is not in genai-prices"
            # a table that states a price is a correction: it needs its own source and date
            assert not {"input", "output", "cached_input", "batch_input"} & set(table), f"{path.name}: {name} states prices"


@pytest.mark.parametrize("model", ALL_MODELS)
def test_listed_prices_are_genai_prices_at_the_moment(model: ModelPrice) -> None:
    provider, info = genai_model(model)
    prices = info.get_prices(NOW)

    def base(value):
        return value.base if isinstance(value, gp.TieredPrices) else value

    assert model.input == base(prices.input_mtok)
    assert model.output == (base(prices.output_mtok) if prices.output_mtok is not None else 0)
    assert model.cached_input == base(prices.cache_read_mtok)
    assert model.cache_write == base(prices.cache_write_mtok)
    assert model.cache_write_1h == base(prices.cache_write_1h_mtok)
    tiered = {t.start for v in vars(prices).values() if isinstance(v, gp.TieredPrices) for t in v.tiers}
    assert [t.threshold for t in model.tiers] == sorted(tiered)
    batch = [v for v in info.price_variants or () if v.when == {"processing": "batch"}]
    assert model.has_batch == bool(batch)
    if batch:
        batched = info.get_prices(NOW, {"processing": "batch"})
        assert model.batch_input == base(batched.input_mtok)
    assert model.as_of == CATALOG.as_of and model.data_version == "gp:" + CATALOG.data.sha256[:16]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_has_a_default(provider: str) -> None:
    assert any(m.default for m in CATALOG if m.provider == provider), f"{provider} has no default model"


def test_default_set_size() -> None:
    defaults = [m.id for m in CATALOG.defaults()]
    assert 9 <= len(defaults) <= 15, defaults


@pytest.mark.parametrize("model", ALL_MODELS)
def test_tokenizer(model: ModelPrice) -> None:
    tok = model.tokenizer
    if model.provider == "openai":
        assert tok.exact and tok.factor == 1
        return
    assert not tok.exact
    assert tok.source
    assert tok.encoding == "o200k_base"
    if model.provider == "anthropic":
        generation = claude_generation(model.id)
        expected = CLAUDE_FACTOR_FROM_4_7 if generation >= (4, 7) and generation[0] >= 4 else CLAUDE_FACTOR_BEFORE_4_7
        assert tok.factor == expected, f"Claude {generation}: factor {tok.factor}, expected {expected}"
    elif model.provider == "google":
        assert tok.factor == GEMINI_FACTOR
    else:
        assert tok.factor == 1
        assert "no published measurement" in tok.source


def test_a_family_factor_is_marked_except_on_the_model_it_was_measured_on():
    assert CATALOG.get("claude-opus-5").tokenizer.family is None
    assert CATALOG.get("claude-sonnet-4-5").tokenizer.family is None
    newer = CATALOG.get("claude-opus-5-5").tokenizer
    assert newer.factor == CLAUDE_FACTOR_FROM_4_7 and newer.family == "Claude Opus 4.7 and later generations"


@pytest.mark.parametrize("model", ALL_MODELS)
def test_tier_and_deprecation(model: ModelPrice) -> None:
    assert isinstance(model.tier, Tier)
    assert model.deprecated is None or model.deprecated <= dt.date(2027, 1, 1)


def test_context_limits_are_consistent() -> None:
    for model in CATALOG:
        if model.max_input is not None and model.context_window is not None:
            assert model.max_input <= model.context_window, model.id


def test_layer_aliases_are_ones_genai_prices_does_not_know():
    # an alias genai-prices resolves is its business ("-latest" aliases move with its data)
    for name, (key, path) in CATALOG.layer.names.items():
        entry = CATALOG.layer.entries[key]
        if name == key or entry.user:
            continue
        try:
            provider, model, _ = CATALOG.upstream_hit(name, name, near=False)
        except Exception:
            continue
        assert CATALOG.get(key).upstream == f"{provider.id}/{model.id}", f"{path}: alias {name}"


def test_file_headers():
    for path in sorted(PRICING_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if path.name == "upstream.toml":
            assert data["package"] == "genai-prices" and re.fullmatch(r"[0-9a-f]{64}", data["data_sha256"])
            continue
        if path.name in SPECIAL:
            continue
        assert data["provider"] in PROVIDERS and data["listed"] is True and data["source"], path.name
