"""`tokopt suggest` and `tokopt estimate --suggest`, through the real app."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PRICING_DIR
from tests.helpers import one_error_line, python_output
from tokopt.pricing import load_catalog

KEYS = {"id", "title", "detail", "tokens_saved", "cost_saved_per_call", "cost_saved_total", "confidence"}
PARA = "Always answer in English and cite the section of the policy that applies to the case."


@pytest.fixture
def prompt(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    text = "Rules:   \n\n\n\n" + PARA + "\n\n==========\n\n" + PARA + "\n\nQuestion: can I return the item?\n"
    path.write_text(text, encoding="utf-8")
    return path


def test_table(run, prompt, monkeypatch):
    # named relatively: the table's columns share the width with the file's name, and a longer
    # temporary path (pytest-xdist's popen-gw0/, a longer --basetemp) wrapped the suggestions
    monkeypatch.chdir(prompt.parent)
    r = run("suggest", prompt.name, "--target-model", "gpt-5.4", "-n", "200")
    assert r.exit_code == 0, r.output
    assert "Suggestions for" in r.stdout and "gpt-5.4" in r.stdout
    assert "remove repeated paragraphs" in r.stdout
    assert "× 200 calls" in r.stdout
    assert " Saves " in r.stdout.splitlines()[2] and "Per call" not in r.stdout
    assert "today:" in r.stderr  # the table's notes: stderr when stdout is not a terminal
    assert not any(line.startswith(("warning:", "error:")) for line in r.stderr.splitlines())


def test_any_provider_widens_the_search_for_a_cheaper_model(run, prompt):
    def targets(*extra):
        r = run("suggest", str(prompt), "-t", "claude-sonnet-4-6", "-o", "2000", "--format", "json", *extra)
        assert r.exit_code == 0, r.output
        return {s["target"] for s in json.loads(r.stdout)["suggestions"] if s["kind"] == "model"}

    catalog = load_catalog(PRICING_DIR)
    assert all(catalog.get(t).provider == "anthropic" for t in targets())
    assert {catalog.get(t).provider for t in targets("--any-provider")} - {"anthropic"}


def test_estimate_suggest_names_its_assumption(run, prompt):
    # estimate prices many models; with none named, its suggestions are on an assumed one, said so
    r = run("estimate", str(prompt), "--suggest", "--format", "json")
    assert r.exit_code == 0, r.output
    hints = json.loads(r.stdout)["suggestions"]
    assert hints["model_from"] == "assumed"
    r = run("estimate", str(prompt), "--suggest")
    assert "(assumed: nothing names the model the calls use; name it first with -m)" in r.stderr


def test_json_is_the_same_suggestions_as_data(run, prompt, reference):
    r = run("suggest", str(prompt), "-t", "gpt-5.4", "-o", "3000", "-n", "40", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["model"] == "gpt-5.4" and doc["model_from"] == "option" and doc["calls"] == 40
    suggestions = doc["suggestions"]
    assert suggestions
    model = load_catalog(PRICING_DIR).get("gpt-5.4")
    # the fixes first, then the model switches; each by saving
    kinds = [s["kind"] for s in suggestions]
    assert kinds == sorted(kinds, key=lambda k: k == "model") and set(kinds) <= {"prompt", "request", "model"}
    for switch in (False, True):
        saved = [Decimal(s["cost_saved_per_call"]) for s in suggestions if (s["kind"] == "model") == switch]
        assert saved == sorted(saved, reverse=True) and all(x > 0 for x in saved)
    for s in suggestions:
        assert KEYS <= set(s)
        assert isinstance(s["cost_saved_per_call"], str) and isinstance(s["tokens_saved"], int)
        assert Decimal(s["cost_saved_total"]) == Decimal(s["cost_saved_per_call"]) * 40
        assert s["confidence"] in ("exact", "estimated")
    found = {s["id"]: s for s in suggestions}
    text = prompt.read_text(encoding="utf-8")
    enc = reference["o200k_base"]
    dup = len(enc.encode_ordinary(text)) - len(enc.encode_ordinary(text.replace(PARA + "\n\nQuestion", "Question")))
    assert found["duplicates.paragraphs"]["tokens_saved"] == dup
    assert Decimal(found["duplicates.paragraphs"]["cost_saved_per_call"]) == Decimal(dup) * model.input / 1_000_000
    assert Decimal(found["output.cap"]["cost_saved_per_call"]) == Decimal(1500) * model.output / 1_000_000


def test_csv_and_markdown(run, prompt):
    r = run("suggest", str(prompt), "-t", "gpt-5.4", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows and KEYS <= set(rows[0])
    assert all(Decimal(row["cost_saved_per_call"]) > 0 for row in rows)
    r = run("suggest", str(prompt), "-t", "gpt-5.4", "--format", "markdown")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("### Suggestions for") and "| # | Suggestion |" in r.stdout


def test_request_model_is_the_default_target(run, tmp_path):
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps({"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 900}))
    r = run("suggest", str(chat), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["model"] == "gpt-5.4-mini" and doc["model_from"] == "request"
    assert doc["output_tokens"] == 900 and doc["output_from"] == "request"


def test_write(run, prompt, tmp_path, reference):
    before = prompt.read_bytes()
    out = tmp_path / "clean.txt"
    r = run("suggest", str(prompt), "-t", "gpt-5.4", "--write", str(out), "--format", "json")
    assert r.exit_code == 0, r.output
    assert prompt.read_bytes() == before
    written = out.read_text(encoding="utf-8")
    assert written.count(PARA) == 1 and "   \n" not in written and "\n\n\n" not in written and "===\n" in written
    enc = reference["o200k_base"]
    info = json.loads(r.stdout)["write"]
    assert info["tokens_before"] == len(enc.encode_ordinary(before.decode("utf-8")))
    assert info["tokens_after"] == len(enc.encode_ordinary(written))
    assert f"{info['tokens_before']:,} → {info['tokens_after']:,}" in r.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["missing.txt"], "error: file not found: missing.txt"),
        (["x.bin"], "error: binary file (contains NUL bytes)"),
        (["latin1.txt"], "invalid UTF-8 at byte 3"),
        (["chat.json"], "error: chat.json:2:19: malformed JSON: expecting ',' delimiter"),
        (["p.txt", "-t", "gpt-5.44"], "error: unknown model: gpt-5.44"),
        (["p.txt", "-t", "gpt-5.4", "-m", "claud-*"], "error: unknown model: claud-*"),
        (["p.txt", "-t", "gpt-5.4", "--write", "p.txt"], "error: --write would overwrite the input itself: p.txt"),
        (["p.txt", "-t", "gpt-5.4", "--write", "./p.txt"], "error: --write would overwrite the input itself"),
        (["p.txt", "q.txt", "-t", "gpt-5.4", "--write", "out.txt"], "error: --write takes one plain-text prompt"),
        (["p.txt"], "error: which model do these calls use? no request names one and your config sets no models"),
        (["p.txt", "--calls", "0"], "error: invalid value for '--calls'"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(run, tmp_path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.txt").write_text("hello\n")
    (tmp_path / "q.txt").write_text("hello again\n")
    (tmp_path / "x.bin").write_bytes(b"\x89PNG\x00\x00")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "chat.json").write_text('{"messages": [\n  {"role": "user" "content": "hi"}]}\n')
    r = run("suggest", *args)
    assert r.exit_code == 2, r.output
    line = one_error_line(r.stderr)
    assert expected in line
    assert r.stdout == ""
    assert (tmp_path / "p.txt").read_text() == "hello\n"
    if "unknown model: gpt-5.44" in expected:
        assert "gpt-5.4" in r.stderr  # the near names, on the hint line
    if "which model" in expected:
        assert "hint: name it with --target-model" in r.stderr


def test_estimate_suggest_json_is_one_document(run, prompt):
    r = run("estimate", str(prompt), "-m", "gpt-5.4", "--suggest", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["models"][0]["model"] == "gpt-5.4"
    assert doc["suggestions"]["model"] == "gpt-5.4"
    assert {s["id"] for s in doc["suggestions"]["suggestions"]} >= {"duplicates.paragraphs", "batch"}


def test_estimate_suggest_table_and_csv(run, prompt):
    r = run("estimate", str(prompt), "-m", "gpt-5.4", "--suggest")
    assert r.exit_code == 0, r.output
    assert "Top suggestions on gpt-5.4" in r.stdout
    r = run("estimate", str(prompt), "-m", "gpt-5.4", "--suggest", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["model"] for row in rows] == ["gpt-5.4"]
    assert "note: suggestion: " in r.stderr
    r = run("estimate", str(prompt), "-m", "gpt-5.4")
    assert "suggestion" not in r.stdout.lower() + r.stderr.lower()


def test_suggest_stdin_and_help_stay_light(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "tokopt", "suggest", "-", "-t", "gpt-5.4", "--format", "json"],
        input="x  \n" * 10,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["inputs"] == ["<stdin>"]
    code = "import sys; from tokopt.cli import app; print(sorted(m for m in ('tiktoken', 'pydantic', 'tokopt.optimize') if m in sys.modules))"
    assert python_output(code).strip() == "[]"


def test_optimize_imports_neither_typer_nor_rich():
    code = (
        "import sys, pkgutil, importlib, tokopt.optimize, tokopt.render.suggest; "
        "names = [m.name for m in pkgutil.walk_packages(tokopt.optimize.__path__, 'tokopt.optimize.')]; "
        "[importlib.import_module(n) for n in names]; "
        "print(len(names) > 10, sorted(m for m in ('typer', 'rich') if m in sys.modules))"
    )
    assert python_output(code).strip() == "True []"


def test_the_suggest_view_neither_tokenizes_nor_reads():
    # render/ only renders: its suggest view needs the report models, not the rules behind them
    code = "import sys, tokopt.render.suggest; print(sorted(m for m in ('tiktoken', 'tokopt.tokens', 'tokopt.inputs', 'tokopt.optimize.rules', 'sqlite3') if m in sys.modules))"
    assert python_output(code).strip() == "[]"


def test_nothing_to_suggest_is_said_plainly(run, tmp_path):
    pricing = tmp_path / "plain.toml"
    pricing.write_text(
        'provider = "acme"\nas_of = 2026-01-01\nsource = "test"\n[models."acme-plain"]\ntier = "mini"\n'
        "context_window = 100000\nmax_output = 1000\ninput = 1.00\noutput = 1.00\n"
        'tokenizer = { encoding = "o200k_base", exact = true }\n',
        encoding="utf-8",
    )
    prompt = tmp_path / "p.txt"
    prompt.write_text("Say hello.\n", encoding="utf-8")
    args = ("suggest", str(prompt), "-t", "acme-plain", "-m", "acme-plain", "-o", "0", "--pricing", str(pricing))
    r = run(*args)
    assert r.exit_code == 0, r.output
    assert "no suggestion saves anything here" in r.stderr
    r = run(*args, "--format", "json")
    assert json.loads(r.stdout)["suggestions"] == []
    r = run(*args, "--format", "csv")
    header, *rows = csv.reader(io.StringIO(r.stdout))
    assert rows == [] and KEYS <= set(header)


def test_a_conversation_gets_its_agent_loop_suggestions_in_their_own_table(run, tmp_path):
    messages = [{"role": "system", "content": "You are a careful coding agent. " * 150}]
    for i in range(8):
        messages.append({"role": "user", "content": f"Step {i}: read module_{i}.py and fix the failing test. " * 15})
        messages.append({"role": "assistant", "content": f"Fixed module_{i}.py: the loop stopped one item early. " * 20})
    messages.append({"role": "user", "content": "Summarise what changed."})
    path = tmp_path / "agent.json"
    # Anthropic caches what a request marks: caching the history is a change to suggest
    path.write_text(json.dumps({"model": "claude-sonnet-4-6", "max_tokens": 400, "messages": messages}), encoding="utf-8")
    doc = json.loads(run("suggest", str(path), "-f", "json").stdout)
    runs = [s for s in doc["suggestions"] if s["scope"] == "run"]
    assert {s["id"] for s in runs} == {"cache.turns", "history.window"}
    assert all(s["run_calls"] == 9 for s in runs)
    scopes = [s["scope"] for s in doc["suggestions"]]
    assert scopes == sorted(scopes, key=lambda x: x != "call")  # never one ranking across units
    table = run("suggest", str(path)).stdout
    assert "The conversation as an agent loop: one run is its 9 calls" in table
    assert "Saves" in table and "× 1,000 runs" in table


def test_approximate_models_are_named_once_with_their_factors(run, prompt):
    r = run("suggest", str(prompt), "--target-model", "claude-opus-4-8")
    notes = r.stderr.replace("\n", " ").replace("≈ approximate", "\n≈ approximate")  # notes wrap at COLUMNS
    line = next(x for x in notes.splitlines() if x.startswith("≈"))
    assert line.startswith("≈ approximate token counts, o200k_base × a measured factor: ")
    assert "claude-opus-4-8 ×1.53" in line and line.count("claude-opus-4-8") == 1
