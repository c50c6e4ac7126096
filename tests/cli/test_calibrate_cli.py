"""`tokopt calibrate` end to end, on batch files in the providers' real formats."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from tests import approx_samples
from tokopt import tokens

TRUE_FACTOR = D("1.40")  # what the made-up provider's tokenizer gives on every text


def _messages(i: int) -> list[dict]:
    texts = [approx_samples.PROSE, approx_samples.CODE, approx_samples.JSON, approx_samples.MIXED]
    return [{"role": "user", "content": texts[i % len(texts)] * (1 + i % 3)}]


def _reported(messages: list[dict]) -> int:
    """The provider's input tokens: its tokenizer (o200k_base × TRUE_FACTOR) on the text, plus
    a few tokens per message and for the reply, as the Messages API wraps them."""
    text = sum(tokens.count(m["role"], "o200k_base") + tokens.count(m["content"], "o200k_base") for m in messages)
    return int((text * TRUE_FACTOR).to_integral_value()) + 3 * len(messages) + 3


def _jsonl(path, items) -> None:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")


@pytest.fixture
def anthropic_batch(tmp_path):
    """An Anthropic Message Batches input and its results (.jsonl as the API returns them):
    six requests succeeded, one errored."""
    inputs, results = [], []
    for i in range(7):
        params = {"model": "claude-opus-4-7", "max_tokens": 1024, "messages": _messages(i)}
        inputs.append({"custom_id": f"req-{i}", "params": params})
        if i == 6:
            error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
            results.append({"custom_id": f"req-{i}", "result": {"type": "errored", "error": error}})
            continue
        usage = {"input_tokens": _reported(params["messages"]), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 57}
        message = {
            "id": f"msg_01{i:022d}",
            "type": "message",
            "role": "assistant",
            "model": "claude-opus-4-7",
            "content": [{"type": "text", "text": "Done."}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
        results.append({"custom_id": f"req-{i}", "result": {"type": "succeeded", "message": message}})
    _jsonl(tmp_path / "batch_input.jsonl", inputs)
    _jsonl(tmp_path / "batch_results.jsonl", results[::-1])  # results come in any order
    return tmp_path / "batch_input.jsonl", tmp_path / "batch_results.jsonl"


def test_an_anthropic_batch_calibrates_and_writes_the_user_pricing_file(run, tmp_path, monkeypatch, anthropic_batch):
    pricing = tmp_path / "mine.toml"
    pricing.write_text("# my prices\n[models.\"claude-sonnet-5\"]\ninput = 1.60\n", encoding="utf-8")
    monkeypatch.setenv("TOKOPT_PRICING", str(pricing))
    inputs, results = anthropic_batch
    r = run("calibrate", str(inputs), str(results), "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (model,) = doc["models"]
    assert model["model"] == "claude-opus-4-7" and model["requests"] == 6
    assert doc["source_kind"] == "an Anthropic Message Batches input and results"
    assert "1 request(s) failed" in r.stderr
    assert D(str(model["after"]["mean_abs_error_pct"])) < D("1") < D(str(model["before"]["mean_abs_error_pct"]))
    assert abs(D(str(model["factor"]["factor"])) - TRUE_FACTOR) <= D("0.02")
    assert doc["written_to"] is None and "calibrate on" not in pricing.read_text(encoding="utf-8")

    before = json.loads(run("estimate", str(inputs), "-m", "claude-opus-4-7", "-f", "json").stdout)["models"][0]["input_tokens"]
    r = run("calibrate", str(inputs), str(results), "--write")
    assert r.exit_code == 0, r.output
    text = pricing.read_text(encoding="utf-8")
    assert text.startswith("# my prices\n") and 'input = 1.60' in text  # what was there stays
    row = json.loads(run("models", "claude-opus-4-7", "-f", "json").stdout)["models"][0]
    assert "tokopt calibrate on 6 request(s) of batch_input.jsonl" in row["tokenizer_source"]
    after = json.loads(run("estimate", str(inputs), "-m", "claude-opus-4-7", "-f", "json").stdout)["models"][0]["input_tokens"]
    reported = sum(_reported(_messages(i)) for i in range(7))
    assert abs(after - reported) < abs(before - reported)
    assert abs(after - reported) <= reported // 100


def test_an_openai_batch_on_an_exact_model_is_measured_not_calibrated(run, tmp_path):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": approx_samples.PROSE}]}
    _jsonl(tmp_path / "in.jsonl", [{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": body}])
    counted = json.loads(run("estimate", str(tmp_path / "in.jsonl"), "-m", "gpt-4o-mini", "-f", "json").stdout)["models"][0]["input_tokens"]
    completion = {
        "id": "chatcmpl-AbC123",
        "object": "chat.completion",
        "created": 1764460800,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Kept open.", "refusal": None}, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": counted, "completion_tokens": 4, "total_tokens": counted + 4, "prompt_tokens_details": {"cached_tokens": 0}},
        "system_fingerprint": "fp_0ba0d124f1",
    }
    line = {"id": "batch_req_1", "custom_id": "a", "response": {"status_code": 200, "request_id": "req_1", "body": completion}, "error": None}
    _jsonl(tmp_path / "out.jsonl", [line])
    r = run("calibrate", str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl"), "-f", "json")
    assert r.exit_code == 0, r.output
    (model,) = json.loads(r.stdout)["models"]
    assert model["exact"] is True and model["after"] is None and D(model["before"]["max_abs_error_pct"]) == 0
    r = run("calibrate", str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl"))
    assert r.exit_code == 0 and "nothing to calibrate" in r.stdout + r.stderr


def test_pairs_and_a_count_tokens_result(run, tmp_path):
    pairs = []
    for i in range(4):
        request = {"model": "gemini-2.5-pro", "messages": _messages(i)}
        pairs.append({"request": request, "response": {"model": "gemini-2.5-pro", "usage": {"prompt_tokens": _reported(request["messages"])}}})
    _jsonl(tmp_path / "pairs.jsonl", pairs)
    r = run("calibrate", str(tmp_path / "pairs.jsonl"), "-f", "json")
    assert r.exit_code == 0, r.output
    (model,) = json.loads(r.stdout)["models"]
    assert model["model"] == "gemini-2.5-pro" and abs(D(str(model["factor"]["factor"])) - TRUE_FACTOR) <= D("0.02")

    request = {"model": "claude-opus-4-7", "max_tokens": 100, "messages": _messages(1)}
    (tmp_path / "request.json").write_text(json.dumps(request), encoding="utf-8")
    (tmp_path / "count.json").write_text(json.dumps({"input_tokens": _reported(request["messages"])}), encoding="utf-8")
    r = run("calibrate", str(tmp_path / "request.json"), str(tmp_path / "count.json"), "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["source_kind"] == "a request and its count_tokens result" and D(doc["models"][0]["after"]["max_abs_error_pct"]) <= 1


def test_bad_input_is_one_error_line(run, tmp_path, anthropic_batch):
    inputs, results = anthropic_batch
    results.write_text(results.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    r = run("calibrate", str(inputs), str(results))
    assert r.exit_code == 2 and r.stderr.startswith(f"error: {results}:8:") and "Traceback" not in r.stderr
    r = run("calibrate", str(inputs))
    assert r.exit_code == 2 and "no provider usage" in r.stderr
    r = run("calibrate", str(tmp_path / "missing.jsonl"), str(results))
    assert r.exit_code == 2 and "not found" in r.stderr
