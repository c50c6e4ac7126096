"""The shipped pricing data (pricing/*.toml) against LiteLLM's price table.

tests/data/litellm/model_prices_and_context_window.json is an unchanged copy of LiteLLM's file
(MIT; see SOURCES.md there). Every shipped id and alias found in it must agree exactly on every
price, limit and cache field that LiteLLM records; the rest of these tests check the parts
LiteLLM does not hold: tokenizer approximations, tiers, defaults and file headers.

Money is compared as Decimal only. The JSON is parsed with `parse_float=Decimal`, which gives
the same value as `Decimal(repr(float))` for the shortest-repr floats LiteLLM writes, without
ever making a float.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tokopt.pricing.model import ModelPrice, Tier
from tokopt.pricing import load_catalog

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PRICING_DIR = Path(__file__).parents[1] / "pricing"
LITELLM_FILE = Path(__file__).parent / "data" / "litellm" / "model_prices_and_context_window.json"
PER_MILLION = Decimal(1_000_000)

CATALOG = load_catalog(PRICING_DIR)
LITELLM: dict[str, Any] = json.loads(LITELLM_FILE.read_text(encoding="utf-8"), parse_float=Decimal)

PROVIDERS = ("openai", "anthropic", "google", "mistral", "deepseek", "xai")
# provider -> (key prefix in LiteLLM, LiteLLM's `litellm_provider`)
LITELLM_NAMES = {
    "openai": ("", "openai"),
    "anthropic": ("", "anthropic"),
    "google": ("gemini/", "gemini"),
    "mistral": ("mistral/", "mistral"),
    "deepseek": ("deepseek/", "deepseek"),
    "xai": ("xai/", "xai"),
}
# Shipped ids that LiteLLM does not list (keep this short and explicit).
NOT_IN_LITELLM: set[str] = set()
# Providers whose batch API bills half of standard input and output, with no batch fields in LiteLLM.
HALF_PRICE_BATCH = {"anthropic", "google", "mistral"}

# Our price field -> LiteLLM's key (per token). Long-context keys add "_above_<N>k_tokens".
PRICE_KEYS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cached_input": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "cache_write_1h": "cache_creation_input_token_cost_above_1hr",
}
LONG_CONTEXT_SUFFIX = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")

CLAUDE_FACTOR_BEFORE_4_7 = Decimal("1.18")
CLAUDE_FACTOR_FROM_4_7 = Decimal("1.53")
GEMINI_FACTOR = Decimal("1.08")


def litellm_entry(provider: str, name: str) -> dict[str, Any] | None:
    """LiteLLM's entry for `name`: the bare key, then the provider-prefixed one, of this provider."""
    prefix, litellm_provider = LITELLM_NAMES[provider]
    for key in (name, prefix + name):
        entry = LITELLM.get(key)
        if isinstance(entry, dict) and entry.get("litellm_provider") == litellm_provider:
            return entry
    return None


def per_million(value: Any) -> Decimal:
    return Decimal(value) * PER_MILLION


def expected_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """What a catalog entry must hold, by our field names, for the fields LiteLLM records."""
    want: dict[str, Any] = {}
    for ours, theirs in PRICE_KEYS.items():
        if theirs in entry:
            want[ours] = per_million(entry[theirs])
    if "cached_input" not in want and "input_cost_per_token_cache_hit" in entry:
        want["cached_input"] = per_million(entry["input_cost_per_token_cache_hit"])
    # LiteLLM writes a cache-creation cost of 0 where the provider has no write price (DeepSeek);
    # tokopt leaves cache_write unset there, so writes are billed as plain input.
    if want.get("cache_write") == 0:
        del want["cache_write"]
    if "input_cost_per_token_batches" in entry:
        want["batch_input"] = per_million(entry["input_cost_per_token_batches"])
        want["batch_output"] = per_million(entry["output_cost_per_token_batches"])
    thresholds = [int(m.group(1)) for key in entry if (m := LONG_CONTEXT_SUFFIX.match(key))]
    assert len(thresholds) <= 1, f"several long-context thresholds: {thresholds}"
    if thresholds:
        suffix = f"_above_{thresholds[0]}k_tokens"
        want["long_context"] = {"threshold": thresholds[0] * 1000} | {
            ours: per_million(entry[theirs + suffix]) for ours, theirs in PRICE_KEYS.items() if theirs + suffix in entry
        }
    want["input_limit"] = int(entry["max_input_tokens"])
    want["max_output"] = int(entry["max_output_tokens"])
    if "prompt_cache_min_tokens" in entry:
        want["min_cache_tokens"] = int(entry["prompt_cache_min_tokens"])
    return want


def mismatches(model: ModelPrice, name: str, entry: dict[str, Any]) -> list[str]:
    """Every field where `model` differs from LiteLLM's entry for `name` (an id or alias)."""
    found = []
    for field, want in expected_fields(entry).items():
        if field == "long_context":
            lc = model.long_context
            if lc is None:
                found.append(f"{name}: long_context missing, LiteLLM has {want}")
                continue
            for key, value in want.items():
                have = getattr(lc, key)
                if have != value:
                    found.append(f"{name}: long_context.{key} = {have}, LiteLLM {value}")
            continue
        have = getattr(model, field)
        if have is None:
            found.append(f"{name}: {field} missing, LiteLLM has {want}")
        elif have != want:
            found.append(f"{name}: {field} = {have}, LiteLLM {want}")
    if model.long_context is not None and "long_context" not in expected_fields(entry):
        found.append(f"{name}: long_context set, LiteLLM has no long-context prices")
    return found


def claude_generation(model_id: str) -> tuple[int, int]:
    """(major, minor) from claude-opus-4-7, claude-sonnet-5, claude-fable-5 and the like."""
    match = re.fullmatch(r"claude-[a-z]+-(\d+)(?:-(\d))?", model_id)
    assert match, f"cannot read the Claude generation of {model_id}"
    return int(match.group(1)), int(match.group(2) or 0)


ALL_MODELS = [pytest.param(m, id=m.id) for m in CATALOG]


@pytest.mark.parametrize("model", ALL_MODELS)
def test_model_agrees_with_litellm(model: ModelPrice) -> None:
    problems = []
    for name in (model.id, *model.aliases):
        entry = litellm_entry(model.provider, name)
        if entry is not None:
            problems += mismatches(model, name, entry)
    assert not problems, "\n".join(problems)


def test_most_models_are_in_litellm() -> None:
    missing = {m.id for m in CATALOG if litellm_entry(m.provider, m.id) is None}
    print(f"ids not in LiteLLM: {sorted(missing) or 'none'}")
    assert missing == NOT_IN_LITELLM
    assert len(CATALOG) - len(missing) >= Decimal("0.9") * len(CATALOG)


def test_every_alias_is_in_litellm() -> None:
    # An alias is only kept where LiteLLM lists it at the same prices (checked above).
    missing = [f"{m.id}: {a}" for m in CATALOG for a in m.aliases if litellm_entry(m.provider, a) is None]
    assert not missing, missing


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
        expected = CLAUDE_FACTOR_FROM_4_7 if generation >= (4, 7) else CLAUDE_FACTOR_BEFORE_4_7
        assert tok.factor == expected, f"Claude {generation}: factor {tok.factor}, expected {expected}"
    elif model.provider == "google":
        assert tok.factor == GEMINI_FACTOR
    else:
        assert tok.factor == 1
        assert "no published measurement" in tok.source


@pytest.mark.parametrize("model", [p for p in ALL_MODELS if p.values[0].provider in HALF_PRICE_BATCH])
def test_half_price_batch(model: ModelPrice) -> None:
    assert model.batch_input == model.input / 2
    assert model.batch_output == model.output / 2


@pytest.mark.parametrize("model", ALL_MODELS)
def test_prices_are_plain_decimals(model: ModelPrice) -> None:
    """No binary-float artefacts such as 0.30000000000000004: at most 6 decimal places."""
    prices = [model.input, model.output, model.cached_input, model.cache_write, model.cache_write_1h]
    prices += [model.batch_input, model.batch_output]
    if model.long_context is not None:
        lc = model.long_context
        prices += [lc.input, lc.output, lc.cached_input, lc.cache_write, lc.cache_write_1h]
    for price in prices:
        if price is not None:
            assert isinstance(price, Decimal)
            assert price.as_tuple().exponent >= -6, price


@pytest.mark.parametrize("path", sorted(PRICING_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_file_header(path: Path) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    assert data["provider"] == path.stem
    assert isinstance(data["as_of"], dt.date)
    assert "cross-checked against LiteLLM" in data["source"]
    assert data["source"].startswith("https://")
    for model_id, table in data["models"].items():
        assert "tier" in table, f"{path.name}: {model_id} has no tier"


def test_every_provider_has_a_file() -> None:
    assert sorted(p.stem for p in PRICING_DIR.glob("*.toml")) == sorted(PROVIDERS)
    assert sorted(CATALOG.providers) == sorted(PROVIDERS)


@pytest.mark.parametrize("model", ALL_MODELS)
def test_tier_and_deprecation(model: ModelPrice) -> None:
    assert isinstance(model.tier, Tier)
    if model.deprecated is not None:
        assert not model.default, f"{model.id} is deprecated ({model.deprecated}) but a default"


def test_context_limits_are_consistent() -> None:
    bad = [m.id for m in CATALOG if m.max_output > m.context_window or m.input_limit > m.context_window]
    assert not bad, bad


def _openai_batch_without_litellm_price(model: ModelPrice) -> bool:
    entry = litellm_entry("openai", model.id) or {}
    return "/v1/batch" in entry.get("supported_endpoints", []) and "input_cost_per_token_batches" not in entry


@pytest.mark.parametrize("model", [p for p in ALL_MODELS if p.values[0].provider == "openai"])
def test_openai_batch_where_litellm_lists_the_endpoint(model: ModelPrice) -> None:
    # OpenAI's Batch API bills half of standard; where LiteLLM lists the /v1/batch endpoint
    # for a model but no batch price, tokopt uses exactly half.
    entry = litellm_entry("openai", model.id) or {}
    if _openai_batch_without_litellm_price(model):
        assert model.batch_input == model.input / 2 and model.batch_output == model.output / 2
    elif "/v1/batch" not in entry.get("supported_endpoints", []) and "input_cost_per_token_batches" not in entry:
        assert not model.has_batch, f"{model.id}: batch price without a batch endpoint"


@pytest.mark.parametrize("model", [p for p in ALL_MODELS if p.values[0].provider == "google"])
def test_gemini_window_holds_input_and_output_limits(model: ModelPrice) -> None:
    # Google documents separate input and output limits.
    assert model.max_input is not None and model.context_window == model.max_input + model.max_output
