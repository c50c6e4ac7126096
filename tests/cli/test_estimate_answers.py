"""Everyday answers in one command: --fits, --cheapest N, -n 50k, --per day|month, --text."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from tests.conftest import PRICING_DIR
from tokopt.pricing import load_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(PRICING_DIR)


def doc(run, *args):
    r = run("estimate", *args, "--format", "json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.fixture
def big(tmp_path):
    """A prompt of about 150,000 tokens: some context windows hold it, some do not."""
    path = tmp_path / "big.txt"
    path.write_text(" hello" * 150_000, encoding="utf-8")
    return path


def test_fits_keeps_only_the_models_whose_window_holds_the_call(run, big, catalog):
    every = doc(run, str(big), "--all")["models"]
    assert any(not m["fits"] for m in every) and any(m["fits"] for m in every)
    # sorted by cost, the models that do not fit come last: the cheapest one listed is an answer
    fits = [m["fits"] for m in every]
    assert fits == sorted(fits, reverse=True)
    kept = doc(run, str(big), "--all", "--fits")
    assert {m["model"] for m in kept["models"]} == {m["model"] for m in every if m["fits"]}
    a = kept["assumptions"]
    assert a["fits"] is True and a["not_fitting"] == a["left_out"] == sum(1 for m in every if not m["fits"])
    shown = run("estimate", str(big), "--all", "--fits")
    # the table's notes are on stderr when stdout is not a terminal (as here)
    assert f"the {a['not_fitting']:,} that do not are left out" in " ".join(shown.stderr.split())


def test_the_cheapest_model_that_fits(run, big):
    every = [m for m in doc(run, str(big), "--all")["models"] if m["fits"]]
    cheapest = min(every, key=lambda m: (Decimal(m["total_usd"]), m["model"]))
    [only] = doc(run, str(big), "--all", "--fits", "--cheapest", "1")["models"]
    assert only["model"] == cheapest["model"]
    three = doc(run, str(big), "--all", "--fits", "--cheapest", "3", "--sort", "name")["models"]
    names = [m["model"] for m in three]
    assert names == sorted(names) and len(names) == 3  # the three cheapest, in the order asked for
    assert set(names) == {m["model"] for m in sorted(every, key=lambda m: (Decimal(m["total_usd"]), m["model"]))[:3]}


@pytest.mark.parametrize(("written", "calls"), [("50k", 50_000), ("50,000", 50_000), ("1.5M", 1_500_000), ("2k", 2_000), ("7", 7)])
def test_calls_as_people_write_them(run, tmp_path, written, calls):
    p = tmp_path / "p.txt"
    p.write_text("Summarize the ticket.\n", encoding="utf-8")
    d = doc(run, str(p), "-m", "gpt-5.5", "-n", written)
    assert d["assumptions"]["calls"] == calls
    assert Decimal(d["models"][0]["total_usd"]) == Decimal(d["models"][0]["per_call_usd"]) * calls


@pytest.mark.parametrize("bad", ["1.2345k", "0", "lots", "5x", "-3"])
def test_a_count_that_is_not_one_is_an_error(run, tmp_path, bad):
    p = tmp_path / "p.txt"
    p.write_text("x\n", encoding="utf-8")
    r = run("estimate", str(p), "-n", bad)
    assert r.exit_code == 2 and r.stderr.startswith("error: invalid value for '--calls' / '-n': ") and r.stdout == ""


@pytest.mark.parametrize("per", ["day", "month"])
def test_per_day_or_month(run, tmp_path, per):
    p = tmp_path / "p.txt"
    p.write_text("Summarize the ticket.\n", encoding="utf-8")
    d = doc(run, str(p), "-m", "gpt-5.5", "-m", "gpt-5.4-mini", "-n", "50k", "--per", per)
    for m in d["models"]:
        per_call = Decimal(m["per_call_usd"])
        day = per_call * 50_000 if per == "day" else per_call * 50_000 / 30
        assert Decimal(m["per_day_usd"]) == day and Decimal(m["per_month_usd"]) == day * 30
    shown = run("estimate", str(p), "-m", "gpt-5.5", "-n", "50k", "--per", per)
    table = shown.stdout
    assert "A day" in table and "A month" in table and f"--per {per}: 50,000 calls a {per}; a month is 30 days" in shown.stderr
    rows = list(csv.DictReader(io.StringIO(run("estimate", str(p), "-m", "gpt-5.5", "-n", "50k", "--per", per, "-f", "csv").stdout)))
    gpt = next(m for m in d["models"] if m["model"] == "gpt-5.5")
    assert [r["model"] for r in rows] == ["gpt-5.5"] and Decimal(rows[0]["per_month_usd"]) == Decimal(gpt["per_month_usd"])


def test_inline_text_counts_like_a_file(run, tmp_path, reference):
    text = "Summarize the following support ticket in one sentence."
    p = tmp_path / "same.txt"
    p.write_text(text, encoding="utf-8")
    from_text = doc(run, "--text", text, "-m", "gpt-5.5")
    from_file = doc(run, str(p), "-m", "gpt-5.5")
    assert from_text["inputs"][0]["source"] == "<text>"
    assert from_text["models"][0]["input_tokens"] == from_file["models"][0]["input_tokens"] == len(reference["o200k_base"].encode_ordinary(text))
    r = run("tokenize", "--text", text, "--format", "json")
    assert r.exit_code == 0, r.output
    counted = json.loads(r.stdout)["inputs"][0]
    assert counted["source"] == "<text>" and counted["o200k_base_tokens"] == len(reference["o200k_base"].encode_ordinary(text))
    two = doc(run, "--text", "one", "--text", "two", "-m", "gpt-5.5", "--per-file")
    assert [i["source"] for i in two["inputs"]] == ["<text 1>", "<text 2>"]
    # a file and text together, and text that looks like a chat request is read as one
    both = doc(run, str(p), "--text", json.dumps({"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": "hi"}]}))
    assert [i["source"] for i in both["inputs"]] == [str(p), "<text>"]
