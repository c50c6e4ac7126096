"""Rule 2, caching: shared prefixes of prompts and requests, a shared end that could come first,
and a conversation's history, each priced with the model's cache reads and writes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tokopt import costing
from tokopt.tokens import approx

from ..support import by_id, check_invariants, run, scaled, usd, write_conversation


def _write(tmp_path: Path, texts: list[str]) -> list[Path]:
    paths = []
    for i, t in enumerate(texts):
        p = tmp_path / f"p{i}.txt"
        p.write_text(t, encoding="utf-8")
        paths.append(p)
    return paths


def test_an_automatic_cache_is_a_note_not_a_suggestion(tmp_path: Path, catalog, reference) -> None:
    # OpenAI caches a shared prefix by itself: nothing to do, so nothing to suggest
    shared = "You are a support agent for ACME. Follow the policy below exactly.\n" * 120
    paths = _write(tmp_path, [shared + f"Customer {i}: where is my order number {i * 17}?\n" for i in range(4)])
    report = run(paths, catalog, target="gpt-5.4", output_tokens=100)
    check_invariants(report)
    assert not [s for s in report.suggestions if s.rule == "caching"]
    prefix = len(reference["o200k_base"].encode_ordinary(shared))
    [note] = [n for n in report.notes if n.startswith("caching:")]
    assert "OpenAI caches prefixes of 1,024+ tokens by itself" in note and f"first {prefix:,} tokens" in note
    # Anthropic caches what a request marks: the same prompts get a suggestion that says where
    report = run(paths, catalog, target="claude-sonnet-4-6", output_tokens=100)
    s = by_id(report)["cache.prefix"]
    assert "cache_control" in s.detail and s.kind == "request"


def test_moving_the_shared_part_first_on_an_automatic_cache(tmp_path: Path, catalog, reference) -> None:
    # the shared part comes last: moving it first is the change, and OpenAI then caches it
    shared = "Reference material that every request repeats, word for word, at length.\n" * 150
    paths = _write(tmp_path, [f"Ticket {i}: the printer on floor {i} is jammed again.\n" + shared for i in range(4)])
    report = run(paths, catalog, target="gpt-5.4", output_tokens=50)
    check_invariants(report)
    s = by_id(report)["cache.reorder"]
    m = catalog.get("gpt-5.4")
    suffix = len(reference["o200k_base"].encode_ordinary(shared))
    cached = suffix // 128 * 128  # OpenAI caches in steps of 128 tokens
    assert s.tokens_saved == 3 * cached
    assert s.cost_saved_per_call == 3 * usd(cached, m.input - m.cached_input)
    assert "OpenAI then caches it by itself" in s.detail and "cache_control" not in s.detail


def test_caching_anthropic_write_premium_and_reorder(tmp_path: Path, catalog, reference) -> None:
    shared = "Reference material that every request repeats, word for word, at length.\n" * 150
    texts = [f"Ticket {i}: the printer on floor {i} is jammed again.\n" + shared for i in range(3)]
    paths = []
    for i, t in enumerate(texts):
        p = tmp_path / f"t{i}.txt"
        p.write_text(t, encoding="utf-8")
        paths.append(p)
    report = run(paths, catalog, target="claude-sonnet-4-6", output_tokens=50)
    check_invariants(report)
    found = by_id(report)
    assert "cache.prefix" not in found  # they share nothing at the start
    s = found["cache.reorder"]
    m = catalog.get("claude-sonnet-4-6")
    suffix = scaled(m, len(reference["o200k_base"].encode_ordinary(shared)))
    saved = 2 * usd(suffix, m.input - m.cached_input) - usd(suffix, m.cache_write - m.input)
    assert s.cost_saved_per_call == saved
    assert "$" + str(m.cache_write) in s.assumption


def test_conversation_caching(tmp_path: Path, catalog, reference) -> None:
    path, calls = write_conversation(tmp_path, reference["o200k_base"])
    report = run([path], catalog)
    check_invariants(report)
    # gpt-5.4 reads each call's history from its cache by itself: a note with the tokens it reads
    assert "cache.turns" not in by_id(report)
    reads = 0
    previous = 0
    for i, _, _ in calls:
        reads += min(previous // 128 * 128 if previous >= 1024 else 0, i)
        previous = i
    [note] = [n for n in report.notes if n.startswith("caching:")]
    assert f"each of the conversation's {len(calls)} calls" in note and f"({reads:,} tokens a run)" in note


def test_conversation_caching_with_breakpoints(tmp_path: Path, catalog, reference) -> None:
    path, calls = write_conversation(tmp_path, reference["o200k_base"])
    report = run([path], catalog, target="claude-sonnet-4-6")
    check_invariants(report)
    cache = by_id(report)["cache.turns"]
    assert cache.scope == "run" and cache.run_calls == len(calls)
    assert "put cache_control on the last message of each call" in cache.detail


def test_request_file_shared_messages(tmp_path: Path, catalog, reference) -> None:
    enc = reference["o200k_base"]
    system = "Classify the sentiment of the review. Answer with one word. " * 100
    path = tmp_path / "requests.jsonl"
    lines = [
        json.dumps({"model": "gpt-5.4-mini", "messages": [{"role": "system", "content": system}, {"role": "user", "content": f"Review {i}: fine."}]})
        for i in range(5)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run([path], catalog, output_tokens=5)
    check_invariants(report)
    m = catalog.get("gpt-5.4-mini")
    prefix = 3 + len(enc.encode_ordinary("system")) + len(enc.encode_ordinary(system))
    assert m.provider == "openai" and "cache.prefix" not in by_id(report)
    [note] = [n for n in report.notes if n.startswith("caching:")]
    assert f"the first message ({prefix:,} tokens) that the 5 requests share" in note
    assert "batch" in by_id(report)  # a request file is not a batch file


def test_anthropic_request_file_where_to_cache(tmp_path: Path, catalog, reference) -> None:
    system = "You grade essays against the rubric below, criterion by criterion. " * 120
    path = tmp_path / "requests.jsonl"
    lines = [
        json.dumps(
            {
                "model": "claude-sonnet-4-6",
                "max_tokens": 200,
                "system": system,
                "messages": [{"role": "user", "content": f"Essay {i}: short."}],
            }
        )
        for i in range(3)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run([path], catalog)
    check_invariants(report)
    m = catalog.get("claude-sonnet-4-6")
    s = by_id(report)["cache.prefix"]
    assert "cache_control on the last block of message 1 (system)" in s.detail
    # the request's content classes weigh the factor (all its texts: the system text and the essay)
    mix = approx.classify_all([system, "Essay 0: short."])
    prefix = costing.model_tokens(m, {"o200k_base": len(reference["o200k_base"].encode_ordinary(system))}, mix) + 3
    assert s.cost_saved_per_call == 2 * usd(prefix, m.input - m.cached_input) - usd(prefix, m.cache_write - m.input)
    # marked already: nothing to suggest, and a note says why
    marked = [
        json.dumps(
            {
                "model": "claude-sonnet-4-6",
                "max_tokens": 200,
                "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
                "messages": [{"role": "user", "content": f"Essay {i}: short."}],
            }
        )
        for i in range(3)
    ]
    path.write_text("\n".join(marked) + "\n", encoding="utf-8")
    report = run([path], catalog)
    assert "cache.prefix" not in by_id(report)
    assert any("already mark cache breakpoints" in n for n in report.notes)


def test_request_file_reorder_the_first_message(tmp_path: Path, catalog, reference) -> None:
    static = "Follow these extraction rules for every field of the invoice, in order. " * 120
    path = tmp_path / "requests.jsonl"
    lines = [
        json.dumps({"model": "gpt-5.4", "messages": [{"role": "system", "content": f"Today is 2026-11-{i + 10}.\n" + static}, {"role": "user", "content": "Invoice"}]})
        for i in range(4)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run([path], catalog, output_tokens=20)
    check_invariants(report)
    m = catalog.get("gpt-5.4")
    suffix = len(reference["o200k_base"].encode_ordinary(static))
    s = by_id(report)["cache.reorder"]
    assert s.cost_saved_per_call == 3 * usd(suffix // 128 * 128, m.input - m.cached_input)
