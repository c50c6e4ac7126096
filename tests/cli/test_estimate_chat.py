"""`tokopt estimate` and `tokopt tokenize` on chat requests, request files and batch files."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chatdata import (
    COOKBOOK_MESSAGES,
    COOKBOOK_TOOL_MESSAGES,
    COOKBOOK_TOOLS,
    data_url,
    jpeg,
    png,
    write_json,
    write_jsonl,
)
from tests.helpers import one_error_line


def rows_by_model(doc: dict) -> dict[str, dict]:
    return {row["model"]: row for row in doc["models"]}


def batch_rows(n: int, model: str = "gpt-4o-mini") -> list[dict]:
    return [
        {
            "custom_id": f"ticket-{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": model,
                "max_tokens": 20,
                "messages": [
                    {"role": "system", "content": "Label the ticket: bug, billing or other."},
                    {"role": "user", "content": f"Ticket {i}: I was charged twice this month."},
                ],
            },
        }
        for i in range(n)
    ]


@pytest.fixture
def chat(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    request = {
        "model": "gpt-4o",
        "max_tokens": 200,
        "messages": [
            *COOKBOOK_MESSAGES,
            {"role": "assistant", "content": "We are short on time."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What does this chart say?"},
                    {"type": "image_url", "image_url": {"url": data_url(png(1024, 1024), "image/png"), "detail": "high"}},
                ],
            },
        ],
    }
    return write_json(tmp_path / "chat.json", request)


# --- requests -----------------------------------------------------------------------------------


def test_openai_request_prices_on_its_model_with_the_image(run, chat):
    r = run("estimate", "chat.json", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (row,) = doc["models"]
    assert row["model"] == "gpt-4o" and row["output_tokens"] == 200 and row["requests"] == 1
    text_only = run("tokenize", "chat.json", "-e", "o200k_base", "--format", "json")
    chat_tokens = json.loads(text_only.stdout)["inputs"][0]["o200k_base_chat_tokens"]
    assert row["input_tokens"] == chat_tokens + 765  # the 1024x1024 image: 4 tiles at detail high
    assert row["approximate"] is False
    conv = doc["conversations"][0]
    assert (conv["format"], conv["messages"], conv["images"], conv["not_counted"]) == ("openai", 8, 1, [])
    assert doc["assumptions"]["output_tokens_from"] == "request"


def test_table_names_the_request_and_its_defaults(run, chat):
    r = run("estimate", "chat.json")
    assert r.exit_code == 0, r.output
    assert "chat.json — OpenAI chat request: 8 messages, 1 image" in r.stdout
    assert "output: each request's own max_tokens" in r.stderr
    assert "models: the requests' own" in r.stderr
    assert not any(line.startswith(("warning:", "error:")) for line in r.stderr.splitlines())


def test_flags_win_over_the_request(run, chat):
    r = run("estimate", "chat.json", "-m", "gpt-4", "-m", "claude-haiku-4-5", "-m", "gemini-2.5-pro", "-o", "50", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    rows = rows_by_model(doc)
    assert set(rows) == {"gpt-4", "claude-haiku-4-5", "gemini-2.5-pro"}
    assert all(row["output_tokens"] == 50 for row in rows.values())
    assert rows["claude-haiku-4-5"]["approximate"] and not rows["gpt-4"]["approximate"]
    notes = {n["model"]: n for n in doc["model_notes"]}
    assert notes["gemini-2.5-pro"]["images_not_counted"] == 1  # known size, but no published rule
    assert notes["gpt-4"]["images_not_counted"] == 1  # gpt-4 takes no images
    assert notes["claude-haiku-4-5"]["image_tokens"] == 37 * 37


def test_cookbook_conversation_through_the_cli(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "tools.json", {"model": "gpt-4o-mini", "messages": COOKBOOK_TOOL_MESSAGES, "tools": COOKBOOK_TOOLS})
    write_json(tmp_path / "msgs.json", COOKBOOK_MESSAGES)
    r = run("estimate", "tools.json", "--format", "json")
    assert rows_by_model(json.loads(r.stdout))["gpt-4o-mini"]["input_tokens"] == 101
    r = run("estimate", "msgs.json", "-m", "gpt-3.5-turbo", "-m", "gpt-4o", "--format", "json")
    rows = rows_by_model(json.loads(r.stdout))
    assert (rows["gpt-3.5-turbo"]["input_tokens"], rows["gpt-4o"]["input_tokens"]) == (129, 124)


def test_anthropic_request_with_image_tools_and_cache_markers(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    request = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 512,
        "system": [{"type": "text", "text": "You are a radiologist's assistant.", "cache_control": {"type": "ephemeral"}}],
        "tools": [{"name": "lookup", "description": "Look up a term", "input_schema": {"type": "object", "properties": {"term": {"type": "string"}}}}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": data_url(jpeg(3000, 2000), "image/jpeg").split(",", 1)[1]}},
                    {"type": "text", "text": "Anything unusual?"},
                ],
            }
        ],
    }
    write_json(tmp_path / "claude.json", request)
    r = run("estimate", "claude.json", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (row,) = doc["models"]
    assert row["model"] == "claude-sonnet-4-5" and row["approximate"] and row["output_tokens"] == 512
    assert doc["conversations"][0]["format"] == "anthropic"
    (note,) = doc["model_notes"]
    assert note["image_tokens"] == 48 * 32  # 3000x2000 resized to 1344x896 to fit 1568 tokens
    assert row["input_tokens"] > note["image_tokens"] + 346


def test_unknown_part_types_are_counted_as_text_or_listed(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    request = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "annotation", "text": "counted like text"},
                    {"type": "hologram", "payload": "AAAA"},
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/scan.png"}},
                ],
            }
        ]
    }
    write_json(tmp_path / "odd.json", request)
    r = run("estimate", "odd.json", "-m", "gpt-4o", "--format", "json")
    assert r.exit_code == 0, r.output
    conv = json.loads(r.stdout)["conversations"][0]
    assert conv["not_counted_total"] == 3
    assert [n.split(" — ")[0] for n in conv["not_counted"]] == [
        "message 1: part of type 'hologram'",
        "message 1: input_audio (wav, 6 bytes)",
        "message 1: image URL",
    ]
    table = run("estimate", "odd.json", "-m", "gpt-4o")
    assert "✗ not counted: message 1: part of type 'hologram'" in table.stderr
    assert "✗ not counted: message 1: image URL" in table.stderr


# --- request files and batch files --------------------------------------------------------------


def test_batch_file_is_priced_at_batch_rates_line_by_line(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "batch.jsonl", batch_rows(25))
    r = run("estimate", "batch.jsonl", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (row,) = doc["models"]
    assert (row["model"], row["requests"], row["output_tokens"], row["batch"]) == ("gpt-4o-mini", 25, 500, True)
    assert doc["assumptions"]["batch"] is True
    one = run("estimate", "batch.jsonl", "-m", "gpt-4o-mini", "--format", "json", "--input-format", "batch")
    assert json.loads(one.stdout)["models"][0]["input_tokens"] == row["input_tokens"]
    standard = run("estimate", "batch.jsonl", "--input-format", "jsonl", "--format", "json")
    assert json.loads(standard.stdout)["models"][0]["per_call_usd"] == row["per_call_usd"]  # a batch file is a batch file
    conv = doc["conversations"][0]
    assert (conv["format"], conv["requests"], conv["lines"], conv["batch"]) == ("batch", 25, 25, True)
    table = run("estimate", "batch.jsonl")
    assert "batch.jsonl — batch API input: 25 requests, 50 messages" in table.stdout
    assert "batch API prices (a batch API input file)" in table.stderr


def test_requests_on_different_models_each_price_on_their_own(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "mixed.jsonl", batch_rows(3) + batch_rows(2, model="gpt-5.4-nano"))
    r = run("estimate", "mixed.jsonl", "--format", "json")
    rows = rows_by_model(json.loads(r.stdout))
    assert {m: row["requests"] for m, row in rows.items()} == {"gpt-4o-mini": 3, "gpt-5.4-nano": 2}
    assert "gpt-4o-mini (3 req)" in run("estimate", "mixed.jsonl").stdout


def test_requests_jsonl_and_a_message_per_line_transcript(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "reqs.jsonl", [{"model": "gpt-4o", "messages": COOKBOOK_MESSAGES}] * 3)
    write_jsonl(tmp_path / "transcript.jsonl", COOKBOOK_MESSAGES)
    doc = json.loads(run("estimate", "reqs.jsonl", "--format", "json").stdout)
    assert doc["models"][0]["input_tokens"] == 3 * 124 and doc["conversations"][0]["format"] == "requests"
    doc = json.loads(run("estimate", "transcript.jsonl", "-m", "gpt-4o", "--format", "json").stdout)
    assert doc["models"][0]["input_tokens"] == 124 and doc["conversations"][0]["format"] == "transcript"


def test_stdin_request(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("estimate", "-", "-m", "gpt-4o", "--format", "json", input=json.dumps({"messages": COOKBOOK_MESSAGES}))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["models"][0]["input_tokens"] == 124
    r = run("estimate", "-", "-m", "gpt-4o", "--format", "json", input="".join(json.dumps(x) + "\n" for x in batch_rows(4)))
    assert json.loads(r.stdout)["models"][0]["requests"] == 4


def test_input_format_text_counts_the_file_as_it_is(run, chat):
    r = run("estimate", "chat.json", "--input-format", "text", "-m", "gpt-4o", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert "conversations" not in doc  # the plain-text path, unchanged
    raw = run("tokenize", "chat.json", "--input-format", "text", "-e", "o200k_base", "--format", "json")
    assert doc["models"][0]["input_tokens"] == json.loads(raw.stdout)["inputs"][0]["o200k_base_tokens"]


def test_plain_text_output_is_unchanged(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prompt.txt").write_text("Write a haiku about tokens.\n", encoding="utf-8")
    doc = json.loads(run("estimate", "prompt.txt", "--format", "json").stdout)
    assert set(doc) == {"tokopt_version", "inputs", "assumptions", "models"}
    assert "requests" not in doc["models"][0]


# --- per turn -----------------------------------------------------------------------------------


def test_by_turn_json_csv_and_table_carry_the_same_rows(run, chat):
    r = run("estimate", "chat.json", "--by-turn", "-m", "gpt-4o", "-m", "claude-opus-4-8", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    tables = {t["model"]: t for t in doc["turns"]}
    assert set(tables) == {"gpt-4o", "claude-opus-4-8"}
    gpt = tables["gpt-4o"]
    assert [row["role"] for row in gpt["rows"]] == ["system"] * 5 + ["user", "assistant", "user", "assistant"]
    assert gpt["rows"][-1]["pending"] and gpt["calls"] == 2
    assert gpt["rows"][-1]["input_tokens"] == rows_by_model(doc)["gpt-4o"]["input_tokens"]
    assert gpt["total_usd"] == gpt["rows"][-1]["cumulative_usd"]

    csv_out = run("estimate", "chat.json", "--by-turn", "-m", "gpt-4o", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    assert [int(x["tokens"]) for x in rows] == [x["tokens"] for x in gpt["rows"]]
    assert rows[-1]["pending"] == "true" and rows[-1]["cumulative_usd"] == gpt["rows"][-1]["cumulative_usd"]

    table = run("estimate", "chat.json", "--by-turn", "-m", "gpt-4o")
    assert "chat.json on gpt-4o — per turn: 2 calls" in table.stdout
    assert "→ reply" in table.stdout


def test_by_turn_on_plain_text_says_why_there_is_nothing(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.txt").write_text("hello", encoding="utf-8")
    r = run("estimate", "p.txt", "--by-turn")
    assert r.exit_code == 0 and "nothing to show per turn" in r.stderr


# --- bad input ----------------------------------------------------------------------------------


def test_malformed_json_names_file_line_and_column(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chat.json").write_text('{\n  "messages": [\n    {"role": "user" "content": "x"}\n  ]\n}\n', encoding="utf-8")
    r = run("estimate", "chat.json")
    assert r.exit_code == 2
    assert one_error_line(r.stderr) == "error: chat.json:3:21: malformed JSON: expecting ',' delimiter"


def test_a_bad_jsonl_line_stops_the_run_unless_keep_going(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_jsonl(tmp_path / "batch.jsonl", batch_rows(2))
    path.write_text(path.read_text() + '"just a string"\n' + json.dumps(batch_rows(1)[0]) + "\n", encoding="utf-8")
    r = run("estimate", "batch.jsonl")
    assert r.exit_code == 2
    assert one_error_line(r.stderr) == "error: batch.jsonl:3: not a JSON object (a string)"
    assert r.stdout == ""

    r = run("estimate", "batch.jsonl", "--keep-going", "--format", "json")
    assert r.exit_code == 0, r.output
    assert "warning: skipped batch.jsonl:3: not a JSON object (a string)" in r.stderr
    doc = json.loads(r.stdout)
    conv = doc["conversations"][0]
    assert (conv["requests"], conv["skipped"], conv["line_errors"]) == (3, 1, ["batch.jsonl:3: not a JSON object (a string)"])


def test_unknown_role_is_one_error_line(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "chat.json", {"messages": [{"role": "narrator", "content": "Once upon a time"}]})
    r = run("estimate", "chat.json")
    assert r.exit_code == 2
    assert one_error_line(r.stderr) == "error: chat.json: message 1: unknown role 'narrator'"
    assert "hint: roles: system, developer, user, assistant, tool, function" in r.stderr


def test_every_line_bad_is_nothing_to_estimate(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.jsonl").write_text("[1]\n2\n", encoding="utf-8")
    r = run("estimate", "bad.jsonl", "--keep-going")
    assert r.exit_code == 2
    assert one_error_line(r.stderr) == (
        "error: nothing to estimate: no input held a request "
        "(2 lines of bad.jsonl skipped; the first: bad.jsonl:1: not a JSON object (a JSON array))"
    )


def test_unknown_request_model_suggests_the_way_out(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "chat.json", {"model": "gpt-4o-mini-ft", "messages": COOKBOOK_MESSAGES})
    r = run("estimate", "chat.json")
    assert r.exit_code == 2
    assert one_error_line(r.stderr) == "error: chat.json: the request's model 'gpt-4o-mini-ft' has no price in the catalog"
    assert "--model" in r.stderr
    assert run("estimate", "chat.json", "-m", "gpt-4o-mini").exit_code == 0


def test_batch_format_forced_on_other_lines(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "reqs.jsonl", [{"messages": COOKBOOK_MESSAGES}])
    r = run("estimate", "reqs.jsonl", "--input-format", "batch")
    assert r.exit_code == 2
    assert one_error_line(r.stderr).startswith("error: reqs.jsonl:1: a request with 'messages' in a file of OpenAI Batch lines")


# --- tokenize -----------------------------------------------------------------------------------


def test_tokenize_shows_text_and_chat_tokens(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "msgs.json", COOKBOOK_MESSAGES)
    r = run("tokenize", "msgs.json", "--format", "json")
    assert r.exit_code == 0, r.output
    (item,) = json.loads(r.stdout)["inputs"]
    assert (item["o200k_base_chat_tokens"], item["cl100k_base_chat_tokens"]) == (124, 129)
    assert item["o200k_base_tokens"] < item["o200k_base_chat_tokens"]
    r = run("tokenize", "msgs.json", "-m", "claude-sonnet-4-5", "--format", "csv")
    (row,) = list(csv.DictReader(io.StringIO(r.stdout)))
    assert row["claude-sonnet-4-5_approximate"] == "true" and int(row["claude-sonnet-4-5_tokens"]) > 0


def test_tokenize_ids_and_show_per_message(run, reference, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "batch.jsonl", batch_rows(2))
    r = run("tokenize", "batch.jsonl", "--ids", "-e", "o200k_base")
    assert r.exit_code == 0, r.output
    items = json.loads(r.stdout)
    assert [(i["line"], i["message"], i["role"]) for i in items] == [(1, 1, "system"), (1, 2, "user"), (2, 1, "system"), (2, 2, "user")]
    assert items[1]["ids"] == reference["o200k_base"].encode("Ticket 0: I was charged twice this month.")
    shown = run("tokenize", "batch.jsonl", "--show")
    assert "batch.jsonl:2 · message 2 · user · o200k_base" in shown.stdout


def test_tokenize_bad_line_and_keep_going(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_jsonl(tmp_path / "b.jsonl", batch_rows(1))
    path.write_text(path.read_text() + "null\n", encoding="utf-8")
    r = run("tokenize", "b.jsonl")
    assert r.exit_code == 2 and one_error_line(r.stderr) == "error: b.jsonl:2: not a JSON object (null)"
    r = run("tokenize", "b.jsonl", "--keep-going", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["inputs"][0]["skipped_lines"] == 1


# --- process-level ------------------------------------------------------------------------------


def test_core_chat_modules_import_neither_typer_nor_rich():
    code = (
        "import sys; import tokopt.requests.model, tokopt.requests.parse, tokopt.tokens.billing, tokopt.costing.pipeline, tokopt.requests.images; "
        "print(sorted(m for m in ('typer', 'rich', 'click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_m_tokopt_on_a_batch_file(tmp_path):
    write_jsonl(tmp_path / "batch.jsonl", batch_rows(5))
    out = subprocess.run(
        [sys.executable, "-m", "tokopt", "estimate", str(tmp_path / "batch.jsonl"), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["models"][0]["requests"] == 5


def test_anthropic_message_batches_lines(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [
        {"custom_id": f"c{i}", "params": {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": f"Item {i}"}]}}
        for i in range(3)
    ]
    write_jsonl(tmp_path / "claude-batch.jsonl", rows)
    r = run("estimate", "claude-batch.jsonl", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (row,) = doc["models"]
    assert (row["model"], row["requests"], row["batch"], row["output_tokens"]) == ("claude-haiku-4-5", 3, True, 192)
    assert doc["conversations"][0]["format"] == "batch"


def test_json_data_in_a_directory_is_counted_as_text(run, tmp_path, monkeypatch, reference):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "a.md").write_text("Summarise the ticket.", encoding="utf-8")
    data = '{"name": "pkg", "version": "1.0"}'
    (tmp_path / "prompts" / "package.json").write_text(data, encoding="utf-8")
    r = run("estimate", "prompts", "-m", "gpt-5.5", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)  # every input is plain text: the plain estimate document
    counts = {i["source"]: i["tokens"]["o200k_base"] for i in doc["inputs"]}
    assert set(counts) == {"prompts/a.md", "prompts/package.json"}
    assert counts["prompts/package.json"] == len(reference["o200k_base"].encode(data))
    # asked to read it as a request, it is one error line
    r = run("estimate", "prompts/package.json", "--input-format", "openai")
    assert r.exit_code == 2 and "no 'messages'" in one_error_line(r.stderr)


def test_a_markdown_prompt_that_opens_with_a_json_example_is_a_prompt(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = '{"messages": [{"role": "user", "content": "Where is my order?"}]}\n\nClassify the request above.\n'
    Path("prompt.md").write_text(text, encoding="utf-8")
    r = run("estimate", "prompt.md", "-m", "gpt-5.5", "-f", "json")
    assert r.exit_code == 0, r.output
    counted = run("tokenize", "prompt.md", "-f", "json")
    assert counted.exit_code == 0, counted.output
    import tiktoken

    expected = len(tiktoken.get_encoding("o200k_base").encode(text))  # the whole file, as text
    assert rows_by_model(json.loads(r.stdout))["gpt-5.5"]["input_tokens"] == expected
    assert json.loads(counted.stdout)["inputs"][0]["o200k_base_tokens"] == expected
    Path("tokopt.toml").write_text('[[budgets]]\nname = "prompts"\npaths = ["*.md"]\nmax_tokens = 1000\n', encoding="utf-8")
    checked = run("check", "-f", "json")
    assert checked.exit_code == 0, checked.output
    gpt = [row for row in json.loads(checked.stdout)["rows"] if row["model"] == "gpt-5.5"]
    assert [(row["file"], row["request"], row["current"]["input_tokens"]) for row in gpt] == [("prompt.md", None, expected)]
