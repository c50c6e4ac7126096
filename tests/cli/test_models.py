"""`tokopt models`: the catalog as a table and as data."""

from __future__ import annotations

import json
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
    r = run("models", "claude-opus-4-7")
    assert r.exit_code == 0
    assert "claude-opus-4-7-20260416" in r.stdout and "≈ ×1.53" in r.stdout


def test_unknown_pattern(run):
    r = run("models", "nothing-like-this*")
    assert r.exit_code == 2 and "unknown model" in one_error_line(r.stderr)
