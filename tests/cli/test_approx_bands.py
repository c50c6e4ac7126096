"""Approximate counts carry a band, and the band holds what was measured.

The measurements are the published ones (ratios of a provider's count_tokens, or of its
vocabulary, to o200k_base), written down here independently of pricing/families.toml, so that
a factor or band changed there without new measurements fails this test.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D

import pytest

from tests import approx_samples
from tests.conftest import PRICING_DIR
from tokopt import tokens
from tokopt.pricing import load_catalog

CATALOG = load_catalog(PRICING_DIR)

# Claude up to 4.6 against o200k_base.
OLD_CLAUDE_OVERALL = (D("1.18"), D("1.18"))  # sammcj/ingest#65: 506 count_tokens (claude-sonnet-4-5) / 429 o200k_base
# Claude Code Camp: 4.33 English characters per token on Opus 4.6; o200k_base gives 4.72-5.02 on English prose
OLD_CLAUDE_PROSE = (D("1.09"), D("1.16"))

# Claude Opus 4.7 against 4.6, by content (Anthropic count_tokens): sol.ava.dev (2026-04-17)
# and Claude Code Camp (2026-04). reference/approximations.md lists the Claude Code Camp figures
# as "vs o200k"; its article measures 4.7 against 4.6, as sol.ava.dev does.
NEW_OVER_OLD = {
    "prose": [D("1.45"), D("1.46"), D("1.36"), D("1.24"), D("1.20"), D("1.445"), D("1.368"), D("1.47")],
    "code": [D("1.33"), D("1.20"), D("1.19"), D("1.17"), D("1.15"), D("1.13"), D("1.29"), D("1.36"), D("1.39")],
    "json": [D("1.31")],
    "cjk": [D("1.00"), D("1.01"), D("1.07")],
    "japanese": [D("1.00"), D("1.01")],
    "other_scripts": [D("1.00")],
    "digits": [D("1.00"), D("1.06"), D("1.07")],
    "whitespace": [D("1.00")],
}

# Gemini 2.x / 3-preview: the Gemma 3 vocabulary against o200k_base (reference/approximations.md)
GEMINI = {
    "prose": (D("1.00"), D("1.03")),
    "code": (D("1.14"), D("1.33")),
    "json": (D("1.21"), D("1.34")),
    "cjk": (D("0.97"), D("0.97")),
    "japanese": (D("0.75"), D("0.75")),
    "digits": (D("2.37"), D("2.37")),
    "whitespace": (D("1.65"), D("1.65")),
}


def _new_claude(name: str) -> tuple[D, D]:
    """Opus 4.7 against o200k_base: its ratio to 4.6 times 4.6's ratio to o200k_base."""
    old = OLD_CLAUDE_PROSE if name == "prose" else OLD_CLAUDE_OVERALL
    low, high = min(NEW_OVER_OLD[name]) * old[0], max(NEW_OVER_OLD[name]) * old[1]
    if name == "prose":  # Claude Code Camp: 3.60 English characters per token on 4.7
        low = min(low, D("4.72") / D("3.60"))
    return low, high


MEASURED = [
    *[("claude-opus-4-7", name, *_new_claude(name)) for name in NEW_OVER_OLD],
    ("claude-sonnet-4-5", "prose", *OLD_CLAUDE_PROSE),
    *[("gemini-2.5-pro", name, *ratios) for name, ratios in GEMINI.items()],
]
OVERALL = [
    ("claude-opus-4-7", D("1.53")),  # sammcj/ingest#65: 656 count_tokens (claude-opus-5) / 429 o200k_base
    ("claude-sonnet-4-5", D("1.18")),
    ("gemini-2.5-pro", D("1.08")),  # alehatsman/dex#183
]


def _estimate(run, tmp_path, text: str, model: str) -> tuple[int, dict]:
    path = tmp_path / "sample.txt"
    path.write_text(text, encoding="utf-8")
    r = run("estimate", str(path), "-m", model, "-f", "json")
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)["models"]
    return tokens.count(text, "o200k_base"), row


@pytest.mark.parametrize("model,name,low,high", MEASURED, ids=[f"{m}-{n}" for m, n, *_ in MEASURED])
def test_the_band_of_an_estimate_holds_the_published_measurements(run, tmp_path, model, name, low, high):
    tokenizer = CATALOG.get(model).tokenizer
    band = tokenizer.class_factor(name)
    assert band.lo <= low <= high <= band.hi, f"{model} {name}: measured {low}..{high}, band {band.lo}..{band.hi}"
    base, row = _estimate(run, tmp_path, approx_samples.SAMPLES[name], model)
    assert row["approximate"] is True
    assert row["approx_low"] <= base * low and base * high <= row["approx_high"]
    assert row["approx_low"] <= row["input_tokens"] <= row["approx_high"]


@pytest.mark.parametrize("model,ratio", OVERALL)
def test_the_whole_text_measurements_fall_in_the_band_of_mixed_content(run, tmp_path, model, ratio):
    # the measured inputs' content is not published: a README of prose, code and JSON stands in
    tokenizer = CATALOG.get(model).tokenizer
    assert tokenizer.lo <= ratio <= tokenizer.hi
    base, row = _estimate(run, tmp_path, approx_samples.MIXED, model)
    if model.startswith("claude"):
        assert row["approx_low"] <= base * ratio <= row["approx_high"]


def test_table_json_and_csv_show_the_band(run, tmp_path):
    path = tmp_path / "prompt.txt"
    path.write_text(approx_samples.PROSE, encoding="utf-8")
    doc = json.loads(run("estimate", str(path), "-m", "claude-opus-4-7", "-m", "gpt-5.5", "-f", "json").stdout)
    rows = {r["model"]: r for r in doc["models"]}
    claude, gpt = rows["claude-opus-4-7"], rows["gpt-5.5"]
    assert (gpt["approx_low"], gpt["approx_high"]) == (None, None)
    assert claude["approx_low"] < claude["input_tokens"] < claude["approx_high"]
    pct = max(claude["input_tokens"] - claude["approx_low"], claude["approx_high"] - claude["input_tokens"]) * 100
    pct = -(-pct // claude["input_tokens"])

    table = run("estimate", str(path), "-m", "claude-opus-4-7", "-m", "gpt-5.5").stdout
    assert f"≈{claude['input_tokens']:,} (±{pct}%)" in table
    assert f" {gpt['input_tokens']:,} " in table and f"≈{gpt['input_tokens']:,}" not in table

    rows = list(csv.DictReader(io.StringIO(run("estimate", str(path), "-m", "claude-opus-4-7", "-f", "csv").stdout)))
    assert (int(rows[0]["approx_low"]), int(rows[0]["approx_high"])) == (claude["approx_low"], claude["approx_high"])

    markdown = run("estimate", str(path), "-m", "claude-opus-4-7", "-f", "markdown").stdout
    assert f"≈{claude['input_tokens']:,} (±{pct}%)" in markdown


def test_a_chat_request_and_a_batch_file_carry_the_band(run, tmp_path):
    request = {"model": "claude-opus-4-7", "max_tokens": 100, "messages": [{"role": "user", "content": approx_samples.PROSE}]}
    (tmp_path / "one.json").write_text(json.dumps(request), encoding="utf-8")
    one = json.loads(run("estimate", str(tmp_path / "one.json"), "-f", "json").stdout)["models"][0]
    assert one["approx_low"] < one["input_tokens"] < one["approx_high"]
    lines = [json.dumps({"custom_id": f"r{i}", "params": request}) for i in range(3)]
    (tmp_path / "batch.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = json.loads(run("estimate", str(tmp_path / "batch.jsonl"), "-f", "json").stdout)["models"][0]
    assert [batch[k] for k in ("approx_low", "input_tokens", "approx_high")] == [3 * one[k] for k in ("approx_low", "input_tokens", "approx_high")]


def test_tokenize_with_an_approximate_model_shows_the_band(run, tmp_path):
    path = tmp_path / "code.py"
    path.write_text(approx_samples.CODE, encoding="utf-8")
    doc = json.loads(run("tokenize", str(path), "-m", "gemini-2.5-pro", "-f", "json").stdout)
    item = doc["inputs"][0]
    base = item["o200k_base_tokens"]
    assert item["gemini-2.5-pro_approx_low"] <= base * D("1.14") and base * D("1.33") <= item["gemini-2.5-pro_approx_high"]
    table = run("tokenize", str(path), "-m", "gemini-2.5-pro").stdout
    assert f"≈{item['gemini-2.5-pro_tokens_approx']:,} (±" in table


def test_a_text_read_from_the_count_cache_has_the_same_approximate_count(run, tmp_path, monkeypatch):
    # the cache holds exact counts only: the content classes are found again, so the ≈ count
    # and its band are what counting the file gives
    monkeypatch.setenv("TOKOPT_COUNT_CACHE", "1")
    monkeypatch.setenv("TOKOPT_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "mixed.md"
    path.write_text(approx_samples.MIXED * (20_000 // len(approx_samples.MIXED) + 1), encoding="utf-8")

    def rows() -> dict:
        r = run("estimate", str(path), "-m", "claude-opus-4-7", "-m", "gemini-2.5-pro", "-f", "json")
        assert r.exit_code == 0, r.output
        return {m["model"]: (m["input_tokens"], m["approx_low"], m["approx_high"]) for m in json.loads(r.stdout)["models"]}

    first = rows()
    assert any((tmp_path / "cache").rglob("counts-*.bin"))
    assert rows() == first

@pytest.mark.parametrize("kind", ["text", "request"])
def test_check_budgets_the_high_end_of_the_band_when_asked(run, tmp_path, monkeypatch, kind):
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    if kind == "text":
        path = prompts / "a.md"
        path.write_text(approx_samples.PROSE, encoding="utf-8")
    else:
        path = prompts / "a.json"
        messages = [{"role": "user", "content": approx_samples.PROSE}]
        path.write_text(json.dumps({"model": "claude-opus-4-7", "max_tokens": 10, "messages": messages}), encoding="utf-8")
    est = json.loads(run("estimate", str(path), "-m", "claude-opus-4-7", "-f", "json").stdout)["models"][0]
    point, high = est["input_tokens"], est["approx_high"]
    assert point < high
    monkeypatch.chdir(tmp_path)

    def check(approximate: str | None) -> tuple[int, dict]:
        head = f'approximate = "{approximate}"\n' if approximate else ""
        (tmp_path / "tokopt.toml").write_text(
            head + f'[[budgets]]\npaths = ["prompts/*"]\nmodels = ["claude-opus-4-7"]\noutput_tokens = 0\nmax_tokens = {point}\n',
            encoding="utf-8",
        )
        r = run("check", "-f", "json")
        return r.exit_code, json.loads(r.stdout)

    # at the point estimate (the default) the budget holds exactly; at the high end it fails
    for approximate in (None, "point"):
        code, doc = check(approximate)
        assert code == 0, doc
        (row,) = doc["rows"]
        assert row["approximate"] is True and row["current"]["input_tokens"] == point
    code, doc = check("high")
    assert code == 1
    (row,) = doc["rows"]
    assert row["current"]["input_tokens"] == high
    assert any('approximate = "high"' in note for note in doc["notes"])


def test_check_refuses_an_unknown_approximate_setting(run, tmp_path, monkeypatch):
    (tmp_path / "tokopt.toml").write_text('approximate = "max"\n[[budgets]]\npaths = ["*.md"]\nmax_tokens = 1\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    r = run("check")
    assert r.exit_code == 2 and "approximate" in r.stderr and "Traceback" not in r.stderr
