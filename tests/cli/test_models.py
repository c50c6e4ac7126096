"""`tokopt models`: the catalog as a table and as data."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from tests.helpers import one_error_line
from tests.conftest import PRICING_DIR
from tokopt.pricing import load_catalog

CATALOG = load_catalog(PRICING_DIR)


def test_json_lists_every_model_with_exact_prices(run):
    r = run("models", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["unit"] == "USD per 1M tokens"
    assert len(doc["models"]) == len(CATALOG)
    row = next(m for m in doc["models"] if m["model"] == "claude-opus-4-8")
    model = CATALOG.get("claude-opus-4-8")
    assert Decimal(row["input_per_mtok_usd"]) == model.input
    assert Decimal(row["cache_write_1h_per_mtok_usd"]) == model.cache_write_1h
    assert row["tokenizer_exact"] is False and row["tokenizer_source"]
    assert row["as_of"] == model.as_of.isoformat()


def test_filter_by_glob_provider_and_defaults(run):
    doc = json.loads(run("models", "gpt-5.4*", "-f", "json").stdout)
    assert {m["model"] for m in doc["models"]} == {m.id for m in CATALOG if m.id.startswith("gpt-5.4")}
    doc = json.loads(run("models", "--provider", "anthropic", "--defaults", "-f", "json").stdout)
    assert {m["model"] for m in doc["models"]} == {m.id for m in CATALOG.defaults() if m.provider == "anthropic"}


def test_table_shows_aliases_and_marks(run):
    r = run("models", "mistral-medium-2508", "claude-opus-4-7")
    assert r.exit_code == 0
    assert "mistral-medium-3-1-2508" in r.stdout and re.search(r"≈ ×1\.\d+–1\.\d+ ±\d+–\d+% ᶠ", r.stdout)
    assert "prices as of 2026-11-10 (genai-prices 0.2.3 (bundled))" in r.stderr  # notes: stderr when stdout is not a terminal


def test_host_filter_lists_the_hosts_own_prices(run):
    r = run("models", "--host", "bedrock", "claude-sonnet-4-5*", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["models"] and all(m["provider"] == "bedrock" and m["model"].startswith("bedrock/") for m in doc["models"])
    assert doc["price_data"]["label"] == "genai-prices 0.2.3 (bundled)"


def test_all_lists_every_host(run):
    doc = json.loads(run("models", "--all", "-f", "json").stdout)
    providers = {m["provider"] for m in doc["models"]}
    assert len(doc["models"]) > 2000 and {"bedrock", "azure", "openrouter", "groq", "vertex_ai", "anthropic"} <= providers
    listed = json.loads(run("models", "-f", "json").stdout)["models"]
    assert len(listed) == len(CATALOG) < len(doc["models"])


def test_unknown_host(run):
    r = run("models", "--host", "nowhere")
    assert r.exit_code == 2 and "unknown host: nowhere" in one_error_line(r.stderr)


def test_a_hosted_id_without_a_price_names_the_host(run):
    r = run("models", "azure/mistral-large-latest")
    assert r.exit_code == 2
    assert "no price for mistral-large-latest on azure" in one_error_line(r.stderr)


def test_unknown_pattern(run):
    r = run("models", "nothing-like-this*")
    assert r.exit_code == 2 and "unknown model" in one_error_line(r.stderr)
