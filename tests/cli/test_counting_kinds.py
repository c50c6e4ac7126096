"""`tokopt models` and `tokenize -m MODEL` say how sure each model's counts are: exact,
rule-based (and the rules' sources) or approximate (factors per content class, band, source)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D

from tests import approx_samples
from tests.conftest import PRICING_DIR
from tokopt.pricing import load_catalog

CATALOG = load_catalog(PRICING_DIR)


def _models(run, *names: str) -> dict[str, dict]:
    r = run("models", *names, "-f", "json")
    assert r.exit_code == 0, r.output
    return {m["model"]: m for m in json.loads(r.stdout)["models"]}


def test_models_says_exact_rule_based_or_approximate(run):
    rows = _models(run, "gpt-4o", "gpt-5.5", "claude-opus-4-7", "gemini-2.5-pro")
    assert rows["gpt-4o"]["counting"] == "exact"  # the tool rules were API-verified on it
    assert rows["gpt-5.5"]["counting"] == "rule-based"
    assert "tiktoken o200k_base" in rows["gpt-5.5"]["counting_source"] and "cookbook" in rows["gpt-5.5"]["counting_source"]
    assert rows["gpt-5.5"]["tokenizer_classes"] == {} and rows["gpt-5.5"]["tokenizer_band_pct"] is None

    claude = rows["claude-opus-4-7"]
    tokenizer = CATALOG.get("claude-opus-4-7").tokenizer
    assert claude["counting"] == "approximate" and claude["counting_source"] == tokenizer.source
    assert (D(claude["tokenizer_low"]), D(claude["tokenizer_high"])) == (tokenizer.lo, tokenizer.hi)
    prose = claude["tokenizer_classes"]["prose"]
    want = tokenizer.class_factor("prose")
    assert (D(prose["factor"]), D(prose["low"]), D(prose["high"])) == (want.factor, want.lo, want.hi)
    assert prose["source"] == want.source and prose["as_of"] == want.as_of.isoformat()
    # the band as a percentage of the factor, the wider side, rounded up
    assert prose["band_pct"] >= max(want.factor - want.lo, want.hi - want.factor) * 100 / want.factor > prose["band_pct"] - 1


def test_the_csv_shows_the_factors_and_band(run):
    r = run("models", "gpt-4o", "gpt-5.5", "claude-opus-4-7", "-f", "csv")
    assert r.exit_code == 0
    rows = {row["model"]: row for row in csv.DictReader(io.StringIO(r.stdout))}
    assert rows["claude-opus-4-7"]["tokenizer_classes"].startswith("prose 1.51 (1.30-1.71); code 1.49 (1.33-1.65); ")
    assert rows["gpt-5.5"]["counting"] == "rule-based" and rows["gpt-4o"]["counting"] == "exact"


def test_tokenize_with_a_model_says_how_it_counts(run, tmp_path):
    path = tmp_path / "prompt.md"
    path.write_text(approx_samples.MIXED, encoding="utf-8")
    doc = json.loads(run("tokenize", str(path), "-m", "claude-opus-4-7", "-f", "json").stdout)
    counting = doc["model"]["counting"]
    assert counting["kind"] == "approximate" and counting["family"] and set(counting["classes"]) >= {"prose", "code", "json"}
    r = run("tokenize", str(path), "-m", "claude-opus-4-7")
    table = r.stdout + r.stderr  # notes go to stderr when stdout is not a terminal
    assert "claude-opus-4-7: approximate: o200k_base × a factor per content class: prose ×1.51 (±14%)" in " ".join(table.split())
    assert "not measured on this model" in table
    r = run("tokenize", str(path), "-m", "gpt-5.5")
    flat = " ".join((r.stdout + r.stderr).split())
    assert "gpt-5.5: rule-based: text counted with tiktoken o200k_base" in flat and "tools are ≈ on this model" in flat
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}), encoding="utf-8")
    r = run("tokenize", str(chat), "-m", "gpt-4o")
    flat = " ".join((r.stdout + r.stderr).split())
    assert "gpt-4o: exact: text counted with tiktoken o200k_base" in flat and "API-verified on gpt-4o:" in flat
