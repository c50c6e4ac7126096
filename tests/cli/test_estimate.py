"""`tokopt estimate` as a user runs it: real files, the real catalog, parsed output."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from tests.helpers import one_error_line
from tokopt import tokens
from tokopt.tokens import approx
from tokopt.pricing import load_catalog
from tests.conftest import PRICING_DIR

CATALOG = load_catalog(PRICING_DIR)
PROMPT = "You are a helpful assistant.\nSummarise the text below in three bullet points.\n\n" + "Lorem ipsum dolor sit amet. " * 40


@pytest.fixture
def prompt(tmp_path):
    path = tmp_path / "prompt.txt"
    path.write_text(PROMPT, encoding="utf-8")
    return path


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_default_models_table(run, prompt):
    r = run("estimate", str(prompt))
    assert r.exit_code == 0, r.output
    for model in CATALOG.defaults():
        assert model.id in r.stdout
    assert "≈" in r.stdout and "output: 500 tokens per call (default" in r.stderr  # notes: stderr
    assert "warning" not in r.stderr and "error" not in r.stderr


def test_json_figures_are_exact_and_recomputable(run, prompt):
    doc = as_json(run("estimate", str(prompt), "-m", "gpt-5.5", "-m", "claude-sonnet-4-6", "-o", "200", "-n", "1000", "-f", "json"))
    by_model = {row["model"]: row for row in doc["models"]}
    o200k = tokens.count(PROMPT, "o200k_base")
    assert doc["inputs"][0]["tokens"]["o200k_base"] == o200k

    gpt = by_model["gpt-5.5"]
    m = CATALOG.get("gpt-5.5")
    assert gpt["input_tokens"] == o200k and gpt["approximate"] is False
    per_call = (Decimal(o200k) * m.input + Decimal(200) * m.output) / Decimal(10**6)
    assert Decimal(gpt["per_call_usd"]) == per_call
    assert Decimal(gpt["total_usd"]) == per_call * 1000
    assert isinstance(gpt["per_call_usd"], str) and "E" not in gpt["per_call_usd"]

    claude = by_model["claude-sonnet-4-6"]
    assert claude["approximate"] is True
    # o200k_base x the factors of the prompt's content (prose), with the band of their spread
    expected = approx.estimate(CATALOG.get("claude-sonnet-4-6").tokenizer, o200k, approx.classify(PROMPT))
    assert (claude["approx_low"], claude["input_tokens"], claude["approx_high"]) == (expected.low, expected.tokens, expected.high)
    assert claude["approx_low"] < claude["input_tokens"] < claude["approx_high"]
    assert gpt["approx_low"] is None and gpt["approx_high"] is None


def test_models_by_glob_provider_and_all(run, prompt):
    doc = as_json(run("estimate", str(prompt), "-m", "claude-*", "-f", "json"))
    assert {r["provider"] for r in doc["models"]} == {"anthropic"}
    assert len(doc["models"]) == len([m for m in CATALOG if m.provider == "anthropic"])
    doc = as_json(run("estimate", str(prompt), "--provider", "google", "-f", "json"))
    assert {r["model"] for r in doc["models"]} == {m.id for m in CATALOG.defaults() if m.provider == "google"}
    doc = as_json(run("estimate", str(prompt), "--all", "-f", "json"))
    assert len(doc["models"]) == len(CATALOG)


def test_sort_orders(run, prompt):
    costs = [Decimal(r["per_call_usd"]) for r in as_json(run("estimate", str(prompt), "-f", "json"))["models"]]
    assert costs == sorted(costs)
    names = [r["model"] for r in as_json(run("estimate", str(prompt), "--sort", "name", "-f", "json"))["models"]]
    assert names == sorted(names)


def test_cached_tokens_and_batch(run, prompt):
    plain = as_json(run("estimate", str(prompt), "-m", "gpt-5.5", "-f", "json"))["models"][0]
    cached = as_json(run("estimate", str(prompt), "-m", "gpt-5.5", "--cached-tokens", "100", "-f", "json"))["models"][0]
    assert cached["cached_input_tokens"] == 100
    assert Decimal(cached["input_cost_usd"]) < Decimal(plain["input_cost_usd"])
    # more cached tokens than the prompt has: the whole prompt is cached, and the note says so
    r = run("estimate", str(prompt), "-m", "gpt-5.5", "--cached-tokens", "10000000")
    assert r.exit_code == 0 and "capped at the prompt" in r.stderr + r.stdout
    whole = as_json(run("estimate", str(prompt), "-m", "gpt-5.5", "--cached-tokens", "10000000", "-f", "json"))["models"][0]
    assert whole["cached_input_tokens"] == whole["input_tokens"]
    batch = as_json(run("estimate", str(prompt), "-m", "gpt-5.5", "-m", "deepseek-v4-pro", "--batch", "-f", "json"))
    rows = {r["model"]: r for r in batch["models"]}
    assert rows["gpt-5.5"]["batch"] is True and Decimal(rows["gpt-5.5"]["per_call_usd"]) * 2 == Decimal(plain["per_call_usd"])
    assert rows["deepseek-v4-pro"]["batch_unavailable"] is True


def test_context_window_misfit_is_marked(run, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 210_000)
    r = run("estimate", str(big), "-m", "claude-haiku-4-5", "-m", "gpt-5.5")
    assert r.exit_code == 0, r.output
    assert "✗" in r.stdout and "claude-haiku-4-5" in r.stdout
    doc = as_json(run("estimate", str(big), "-m", "claude-haiku-4-5", "-m", "gpt-5.5", "-f", "json"))
    fits = {row["model"]: row["fits"] for row in doc["models"]}
    assert fits == {"claude-haiku-4-5": False, "gpt-5.5": True}


def test_several_files_total_and_per_file(run, tmp_path):
    (tmp_path / "a.txt").write_text("alpha " * 100)
    (tmp_path / "b.txt").write_text("beta " * 300)
    doc = as_json(run("estimate", str(tmp_path), "-m", "gpt-5.5", "--per-file", "-f", "json"))
    assert [i["source"].rsplit("/", 1)[-1] for i in doc["inputs"]] == ["a.txt", "b.txt"]
    parts = [f["models"][0] for f in doc["per_file"]]
    total = doc["models"][0]
    assert total["input_tokens"] == sum(p["input_tokens"] for p in parts)
    assert Decimal(total["per_call_usd"]) == sum(Decimal(p["per_call_usd"]) for p in parts)
    r = run("estimate", str(tmp_path), "-m", "gpt-5.5", "--per-file")
    assert r.exit_code == 0 and r.stdout.count("gpt-5.5") == 3


def test_a_directorys_json_totals_are_its_files_own_estimates_added_up(run, tmp_path):
    # The default models; one file past gemini-3.1-pro-preview's and grok-4.5's long-context
    # tiers (200,000 tokens) and claude-haiku-4-5's window. Every figure to the last digit.
    (tmp_path / "big.txt").write_text("word " * 210_000)
    for i, n in enumerate((1, 30, 400)):
        (tmp_path / f"p{i}.txt").write_text(f"# prompt {i}\n" + "Summarise {this}: 3.5 items, 日本語.\n" * n, encoding="utf-8")
    total = {r["model"]: r for r in as_json(run("estimate", str(tmp_path), "-f", "json"))["models"]}
    alone = [as_json(run("estimate", str(p), "-f", "json"))["models"] for p in sorted(tmp_path.iterdir())]
    assert total["gemini-3.1-pro-preview"]["long_context"] and total["grok-4.5"]["long_context"]
    assert not total["claude-haiku-4-5"]["fits"] and total["gpt-5.5"]["fits"]
    for model, row in total.items():
        parts = [next(r for r in rows if r["model"] == model) for rows in alone]
        for key in ("input_tokens", "approx_low", "approx_high", "cached_input_tokens", "output_tokens"):
            assert row[key] == (None if parts[0][key] is None else sum(p[key] for p in parts)), (model, key)
        for key in ("input_cost_usd", "cached_input_cost_usd", "cache_write_cost_usd", "output_cost_usd", "per_call_usd", "total_usd"):
            assert Decimal(row[key]) == sum(Decimal(p[key]) for p in parts), (model, key)
        assert row["fits"] == all(p["fits"] for p in parts) and row["long_context"] == any(p["long_context"] for p in parts)
        assert Decimal(row["context_share"]) == max(Decimal(p["context_share"]) for p in parts)


def test_stdin(run):
    doc = as_json(run("estimate", "-", "-m", "gpt-5.5", "-f", "json", input="hello world\n"))
    assert doc["inputs"][0]["source"] == "<stdin>" and doc["models"][0]["input_tokens"] == 3


def test_empty_file_is_zero_tokens_not_an_error(run, tmp_path):
    (tmp_path / "empty.txt").write_text("")
    doc = as_json(run("estimate", str(tmp_path / "empty.txt"), "-m", "gpt-5.5", "-f", "json"))
    assert doc["models"][0]["input_tokens"] == 0


def test_csv_and_markdown(run, prompt):
    r = run("estimate", str(prompt), "-f", "csv")
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {row["model"] for row in rows} == {m.id for m in CATALOG.defaults()}
    assert all(Decimal(row["per_call_usd"]) > 0 for row in rows)
    md = run("estimate", str(prompt), "-f", "markdown").stdout
    assert md.startswith("### ") and "| Provider | Model |" in md and "|---|---|---:|" in md
    # the notes under the table are list items, so a Markdown viewer keeps one per line
    after = md.rstrip("\n").split("\n\n")[-1].splitlines()
    assert after and all(line.startswith("- ") for line in after), after
    assert any("output: 500 tokens" in line for line in after)


def test_user_config_changes_defaults(run, prompt, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nmodels = ["gpt-5.4-mini"]\noutput_tokens = 42\ncalls = 7\n')
    monkeypatch.setenv("TOKOPT_CONFIG", str(config))
    doc = as_json(run("estimate", str(prompt), "-f", "json"))
    assert [r["model"] for r in doc["models"]] == ["gpt-5.4-mini"]
    assert doc["assumptions"] == {
        "output_tokens": 42, "output_tokens_from": "config", "calls": 7, "cached_tokens": 0, "batch": False,
        "per": None, "fits": False, "cheapest": None, "left_out": 0, "not_fitting": 0,
    }  # fmt: skip


def test_user_pricing_override(run, prompt, tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('[models."gpt-5.5"]\ninput = 1.00\noutput = 2.00\n')
    row = as_json(run("estimate", str(prompt), "-m", "gpt-5.5", "-o", "0", "--pricing", str(mine), "-f", "json"))["models"][0]
    assert Decimal(row["per_call_usd"]) == Decimal(row["input_tokens"]) / Decimal(10**6)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["missing.txt"], "error: file not found: missing.txt"),
        (["{prompt}", "-m", "gpt-5.55"], "error: unknown model: gpt-5.55"),
        (["{prompt}", "-m", "claud-*"], "error: unknown model: claud-*"),
        (["{prompt}", "--format", "xml"], "error: invalid value for '--format'"),
        (["{prompt}", "--output-tokens", "-5"], "error: invalid value for '--output-tokens'"),
        (["{prompt}", "--provider", "acme"], "error: unknown provider: acme"),
        (["{empty_dir}"], "error: no text files in directory"),
        (["{binary}"], "error: binary file (contains NUL bytes)"),
        (["{latin1}"], "invalid UTF-8 at byte 3"),
        (["{prompt}", "--pricing", "{bad_pricing}"], "model 'gpt-5.5': input: Input should be greater than or equal to 0"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(run, tmp_path, monkeypatch, prompt, args, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "x.bin").write_bytes(b"\x89PNG\x00\x00")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "bad.toml").write_text('[models."gpt-5.5"]\ninput = -1\n')
    values = {"prompt": str(prompt), "empty_dir": "empty", "binary": "x.bin", "latin1": "latin1.txt", "bad_pricing": "bad.toml"}
    r = run("estimate", *[a.format(**values) for a in args])
    assert r.exit_code == 2, r.output
    assert expected in one_error_line(r.stderr)
    assert r.stdout == ""


def test_unknown_model_suggests_near_ids(run, prompt):
    # a dotted version is one genai-prices knows: it resolves
    assert run("estimate", str(prompt), "-m", "claude-opus-4.8").exit_code == 0
    r = run("estimate", str(prompt), "-m", "claude-opsu-4-8")
    assert r.exit_code == 2
    assert "hint: did you mean claude-opus-4-8" in r.stderr


def test_encoding_errors_replace_proceeds(run, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 au lait".encode("latin-1"))
    doc = as_json(run("estimate", str(path), "-m", "gpt-5.5", "--encoding-errors", "replace", "-f", "json"))
    assert doc["models"][0]["input_tokens"] == tokens.count("caf\ufffd au lait", "o200k_base")


def test_narrow_terminal_drops_columns_and_says_so(run, prompt, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = run("estimate", str(prompt))
    assert r.exit_code == 0
    assert all(len(line) <= 80 for line in r.stdout.splitlines() if not line.startswith(("output:", "≈", "prices", "not shown")))
    assert "not shown at this width" in r.stderr


def test_a_table_of_several_calls_says_total_and_runs_for_text_and_chat_alike(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("first prompt", encoding="utf-8")
    (tmp_path / "b.txt").write_text("second prompt", encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}), encoding="utf-8")

    def headers(r) -> list[str]:
        assert r.exit_code == 0, r.output
        return [line for line in r.stdout.splitlines() if "Provider" in line]

    (one,) = headers(run("estimate", "a.txt", "-m", "gpt-5.5"))
    assert "Per call" in one and "× 1,000 calls" in one
    for args in (["a.txt", "b.txt"], ["a.txt", "c.json"]):
        *parts, total = headers(run("estimate", *args, "-m", "gpt-5.5", "--per-file"))
        assert "Total" in total and "× 1,000 runs" in total and "Per call" not in total
        assert len(parts) == 2 and all("Per call" in p and "× 1,000 calls" in p for p in parts)  # each input is one call
    r = run("estimate", "a.txt", "b.txt", "-m", "gpt-5.5")
    assert "each of the 2 requests is one call; the columns add them up" in r.stderr


def test_a_cached_prefix_longer_than_a_prompt_is_said_to_be_capped_for_each_kind_of_input(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("word " * 150, encoding="utf-8")  # 150 tokens
    (tmp_path / "b.txt").write_text("word " * 150, encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps({"messages": [{"role": "user", "content": "word " * 150}]}), encoding="utf-8")
    for args in (["c.json"], ["a.txt", "b.txt"], ["a.txt", "c.json"]):
        r = run("estimate", *args, "-m", "gpt-5.5", "--cached-tokens", "200")
        assert r.exit_code == 0, r.output
        assert "cached prefix: 200 tokens per call at cached-input prices (capped at the prompt" in r.stderr, args
    r = run("estimate", "a.txt", "b.txt", "-m", "gpt-5.5", "--cached-tokens", "100")
    assert "cached prefix: 100 tokens per call" in r.stderr and "capped" not in r.stderr


def test_tier_flex_prices_each_model_that_has_it_and_names_those_that_do_not(run, prompt):
    args = ["estimate", str(prompt), "-m", "gpt-5.5", "-m", "claude-sonnet-4-6", "-o", "0", "-f", "json"]
    standard = {row["model"]: row for row in as_json(run(*args))["models"]}
    r = run(*args, "--tier", "flex")
    assert r.exit_code == 0, r.output
    flex = {row["model"]: row for row in json.loads(r.stdout)["models"]}
    gpt = CATALOG.get("gpt-5.5")
    rates = gpt.service_tier_rates("flex")
    assert rates is not None and rates.input < gpt.input
    tokens_in = flex["gpt-5.5"]["input_tokens"]
    assert Decimal(flex["gpt-5.5"]["per_call_usd"]) == tokens_in * rates.input / Decimal(10**6)
    assert flex["claude-sonnet-4-6"]["per_call_usd"] == standard["claude-sonnet-4-6"]["per_call_usd"]
    assert "priced on the flex tier; no flex price for claude-sonnet-4-6: priced at standard prices" in r.stderr
    assert run(*args, "--tier", "slow").exit_code == 2


def test_json_and_csv_say_which_rows_are_priced_on_the_tier(run, tmp_path):
    prompt = tmp_path / "p.txt"
    prompt.write_text("Summarise the ticket below in one line.\n", encoding="utf-8")
    args = ["estimate", str(prompt), "-m", "gpt-5.5", "-m", "claude-sonnet-5", "--tier", "flex"]
    r = run(*args, "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {m["model"]: m["service_tier"] for m in doc["models"]} == {"gpt-5.5": "flex", "claude-sonnet-5": None}
    c = run(*args, "-f", "csv")
    assert c.exit_code == 0, c.output
    assert {row["model"]: row["service_tier"] for row in csv.DictReader(io.StringIO(c.stdout))} == {"gpt-5.5": "flex", "claude-sonnet-5": ""}
    plain = json.loads(run("estimate", str(prompt), "-m", "gpt-5.5", "-f", "json").stdout)
    assert plain["models"][0]["service_tier"] is None
