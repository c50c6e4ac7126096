"""budgets.check on request and batch files: each request is a row, counted as the API bills it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.budget_fixtures import git, write
from tests.chatdata import COOKBOOK_MESSAGES, COOKBOOK_MESSAGES_TOTALS, write_json, write_jsonl
from tests.conftest import PRICING_DIR
from tokopt import budgets, pricing, settings
from tokopt.budgets import config as project_config
from tokopt.config import UserConfig
from tokopt.errors import InputError

MILLION = Decimal(1_000_000)


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def run(root: Path, catalog, *, base: str | None = None) -> budgets.CheckResult:
    p = project_config.locate(None, root)
    return budgets.check(p, catalog, settings.resolve(UserConfig(), p.values()), base=base)


def setup(root: Path, limits: str = "max_tokens = 100000", *, models: str = '["gpt-4o"]', output: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write(
        root / "tokopt.toml",
        f"[defaults]\nmodels = {models}\noutput_tokens = 50\ncalls_per_month = 1000\n"
        f'[[budgets]]\nname = "r"\npaths = ["prompts/**"]\n{output}\n{limits}\n',
    )
    (root / "prompts").mkdir()
    return root


def batch_line(custom_id: str, text: str, max_tokens: int | None = None) -> dict:
    body: dict = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def user_message_tokens(reference, text: str) -> int:
    # OpenAI's rule: 3 per message, the role and content tokens, 3 to prime the reply
    enc = reference["o200k_base"]
    return 3 + len(enc.encode("user")) + len(enc.encode(text, disallowed_special=())) + 3


def test_a_chat_request_is_one_request_with_the_api_count(tmp_path, catalog):
    root = setup(tmp_path)
    write_json(root / "prompts" / "chat.json", {"model": "gpt-4o", "messages": COOKBOOK_MESSAGES, "max_tokens": 7})
    (row,) = run(root, catalog).rows
    assert row.request is None and not row.batch
    assert row.current.input_tokens == COOKBOOK_MESSAGES_TOTALS["gpt-4o"]
    assert row.current.output_tokens == 7  # the request's own max_tokens
    m = catalog.get("gpt-4o")
    assert row.current.per_call_usd == (124 * m.input + 7 * m.output) / MILLION


def test_a_budget_output_tokens_wins_over_the_request_max_tokens(tmp_path, catalog):
    root = setup(tmp_path, output="output_tokens = 11")
    write_json(root / "prompts" / "chat.json", {"messages": COOKBOOK_MESSAGES, "max_tokens": 7})
    (row,) = run(root, catalog).rows
    assert row.current.output_tokens == 11


def test_batch_file_rows_per_request_at_batch_prices(tmp_path, catalog, reference):
    root = setup(tmp_path)
    texts = {"a": "Summarise the ticket.", "b": "Translate this into French: good morning", "c": "x" * 40}
    write_jsonl(root / "prompts" / "batch.jsonl", [batch_line(k, v, max_tokens=20) for k, v in texts.items()])
    result = run(root, catalog)
    rows = {r.request: r for r in result.rows}
    assert set(rows) == {"a", "b", "c"}
    m = catalog.get("gpt-4o")
    for key, text in texts.items():
        row = rows[key]
        n = user_message_tokens(reference, text)
        assert row.batch and row.current.input_tokens == n and row.current.output_tokens == 20
        assert row.current.per_call_usd == (n * m.batch_input + 20 * m.batch_output) / MILLION
        assert row.current.monthly_usd == row.current.per_call_usd * 1000
    assert result.budgets[0].files == ["prompts/batch.jsonl"]


def test_a_limit_is_checked_per_request(tmp_path, catalog, reference):
    small, big = "short", "word " * 200
    limit = user_message_tokens(reference, small)
    root = setup(tmp_path, f"max_tokens = {limit}")
    write_jsonl(root / "prompts" / "reqs.jsonl", [{"messages": [{"role": "user", "content": t}]} for t in (small, big)])
    result = run(root, catalog)
    assert {r.request: r.ok for r in result.rows} == {"line 1": True, "line 2": False}
    assert not result.ok


def test_repeated_custom_ids_stay_separate_rows(tmp_path, catalog):
    root = setup(tmp_path)
    write_jsonl(root / "prompts" / "batch.jsonl", [batch_line("x", "one"), batch_line("x", "two two")])
    labels = [r.request for r in run(root, catalog).rows]
    assert labels == ["x", "x (line 2)"]


def test_a_message_transcript_is_one_request(tmp_path, catalog):
    root = setup(tmp_path)
    write_jsonl(root / "prompts" / "chat.jsonl", COOKBOOK_MESSAGES)
    (row,) = run(root, catalog).rows
    assert row.request is None and row.current.input_tokens == COOKBOOK_MESSAGES_TOTALS["gpt-4o"]


def test_an_anthropic_request_is_approximate(tmp_path, catalog):
    root = setup(tmp_path, models='["claude-sonnet-4-5"]')
    write_json(
        root / "prompts" / "claude.json",
        {"model": "claude-sonnet-4-5", "max_tokens": 5, "system": "Be brief.", "messages": [{"role": "user", "content": "Hi"}]},
    )
    (row,) = run(root, catalog).rows
    assert row.approximate and row.current.input_tokens > 0


def test_a_malformed_line_is_an_input_error_naming_the_line(tmp_path, catalog):
    root = setup(tmp_path)
    path = write_jsonl(root / "prompts" / "batch.jsonl", [batch_line("a", "one")])
    path.write_text(path.read_text() + '{"custom_id": "b", "body": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"prompts/batch.jsonl:2: malformed JSON") as err:
        run(root, catalog)
    assert "exclude" in (err.value.hint or "")  # check's own way out, not estimate's options


def test_an_image_of_unknown_size_is_a_warning_not_zero(tmp_path, catalog):
    root = setup(tmp_path)
    content = [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    write_json(root / "prompts" / "img.json", {"messages": [{"role": "user", "content": content}]})
    result = run(root, catalog)
    (row,) = result.rows
    assert row.approximate
    assert any("prompts/img.json: 1 part(s) not counted" in w for w in result.warnings)


def test_base_compares_a_batch_file_request_by_request(tmp_path, catalog, reference):
    root = setup(tmp_path / "repo", "max_tokens = 100000\nmax_increase_pct = 10")
    git(root, "init", "-q", "-b", "main")
    path = root / "prompts" / "batch.jsonl"
    write_jsonl(path, [batch_line("keep", "same text"), batch_line("grow", "short"), batch_line("drop", "bye")])
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    longer = "short but now a good deal longer than it was"
    write_jsonl(path, [batch_line("keep", "same text"), batch_line("grow", longer), batch_line("add", "hello")])
    result = run(root, catalog, base="main")
    rows = {r.request: r for r in result.rows}
    assert {k: r.change for k, r in rows.items()} == {"keep": "changed", "grow": "changed", "add": "new", "drop": "deleted"}
    assert rows["keep"].delta_tokens == 0 and rows["keep"].ok
    grow = rows["grow"]
    assert grow.delta_tokens == user_message_tokens(reference, longer) - user_message_tokens(reference, "short")
    assert not grow.ok and [c.name for c in grow.failures] == ["max_increase_pct"]
    assert rows["drop"].current is None and rows["drop"].base.input_tokens == user_message_tokens(reference, "bye")


def test_an_unchanged_file_against_a_base_is_unchanged_and_warned_about_once(tmp_path, catalog):
    root = setup(tmp_path / "repo")
    git(root, "init", "-q", "-b", "main")
    content = [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    write_json(root / "prompts" / "img.json", {"messages": [{"role": "user", "content": content}]})
    write(root / "prompts" / "grow.md", "Say hello.")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    write(root / "prompts" / "grow.md", "Say hello, then say goodbye.")
    result = run(root, catalog, base="main")
    rows = {r.file: r for r in result.rows}
    same, grown = rows["prompts/img.json"], rows["prompts/grow.md"]
    assert same.change == "unchanged" and same.base == same.current and (same.delta_tokens, same.delta_usd) == (0, 0)
    assert grown.change == "changed" and grown.delta_tokens > 0 and grown.base.input_tokens < grown.current.input_tokens
    warned = [w for w in result.warnings if "not counted" in w]
    assert len(warned) == 1 and warned[0].startswith("prompts/img.json: ")  # not main:prompts/img.json again
