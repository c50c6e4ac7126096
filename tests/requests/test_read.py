"""What an input is, decided once: plain text, a chat request, a transcript, a request or batch file."""

from __future__ import annotations

import pytest

from tests.chatdata import COOKBOOK_MESSAGES, write_json, write_jsonl
from tokopt.errors import InputError
from tokopt.inputs import Source
from tokopt.inputs.formats import InputFormat
from tokopt.requests.model import Request
from tokopt.requests.read import PlainText, ReadOptions, open_inputs


def src(path) -> Source:
    return Source(path.name, path, path.stat().st_size)


def batch_line(i: int) -> dict:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"ticket {i}"}]}
    return {"custom_id": f"t{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}


def test_each_input_is_one_of_six_kinds(tmp_path):
    (tmp_path / "p.txt").write_text("Summarise the notes.", encoding="utf-8")
    write_json(tmp_path / "chat.json", {"model": "gpt-4o", "messages": COOKBOOK_MESSAGES})
    write_json(tmp_path / "claude.json", {"system": "terse", "messages": [{"role": "user", "content": "hi"}]})
    write_jsonl(tmp_path / "reqs.jsonl", [{"messages": [{"role": "user", "content": "a"}]}] * 2)
    write_jsonl(tmp_path / "batch.jsonl", [batch_line(i) for i in range(3)])
    write_jsonl(tmp_path / "talk.jsonl", [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    names = ["p.txt", "chat.json", "claude.json", "reqs.jsonl", "batch.jsonl", "talk.jsonl"]
    opened = open_inputs([src(tmp_path / n) for n in names])
    counts = [len(list(i.requests())) for i in opened]
    assert [i.kind for i in opened] == ["text", "openai", "anthropic", "requests", "batch", "transcript"]
    assert counts == [1, 1, 1, 2, 3, 1]
    assert [i.single for i in opened] == [True, True, True, False, False, True]
    assert [i.batch for i in opened] == [False, False, False, False, True, False]


def test_plain_text_is_one_request_with_one_user_message(tmp_path):
    text = "line one\r\nline two 日本語\n"
    (tmp_path / "p.md").write_bytes(text.encode())
    (item,) = open_inputs([src(tmp_path / "p.md")])
    (request,) = item.requests()
    assert isinstance(request, PlainText)
    assert (request.where, request.model, request.max_output_tokens, request.line) == ("p.md", None, None, None)
    assert request.text() == text  # CRLF kept: it changes the count
    (message,) = request.conversation.messages
    assert message.role == "user" and message.text == text


def test_a_forced_format_wins_over_the_content(tmp_path):
    write_json(tmp_path / "chat.json", {"messages": COOKBOOK_MESSAGES})
    (item,) = open_inputs([src(tmp_path / "chat.json")], ReadOptions(input_format=InputFormat.text))
    assert item.is_text and isinstance(next(item.requests()), PlainText)


def test_bad_lines_are_skipped_with_keep_going_and_an_error_without(tmp_path):
    good = {"messages": [{"role": "user", "content": "hi"}]}
    path = write_jsonl(tmp_path / "r.jsonl", [good, [1], good])
    (item,) = open_inputs([src(path)], ReadOptions(keep_going=True))
    requests = list(item.requests())
    assert [r.line for r in requests] == [1, 3] and all(isinstance(r, Request) for r in requests)
    assert (item.lines, item.skipped, item.line_errors) == (3, 1, ["r.jsonl:2: not a JSON object (a JSON array)"])

    (item,) = open_inputs([src(path)])
    with pytest.raises(InputError, match="r.jsonl:2: not a JSON object"):
        list(item.requests())


def test_a_caller_rejects_a_request_as_a_bad_line_only_where_lines_can_be_skipped(tmp_path):
    good = {"messages": [{"role": "user", "content": "hi"}]}
    path = write_jsonl(tmp_path / "r.jsonl", [good, good])
    (item,) = open_inputs([src(path)], ReadOptions(keep_going=True))
    first, second = item.requests()
    item.reject(second, InputError("r.jsonl:2: no price for its model"))
    assert item.line_errors == ["r.jsonl:2: no price for its model"]

    doc = write_json(tmp_path / "chat.json", good)
    (item,) = open_inputs([src(doc)], ReadOptions(keep_going=True))
    (request,) = item.requests()
    with pytest.raises(InputError, match="no price"):
        item.reject(request, InputError("chat.json: no price for its model"))
