"""JSONL inputs line by line: batch lines, requests, transcripts, and the lines that are neither."""

from __future__ import annotations

import json

import pytest

from tests.chatdata import COOKBOOK_MESSAGES, write_jsonl
from tokopt.errors import InputError
from tokopt.inputs import Source
from tokopt.requests import jsonl


def source(path) -> Source:
    return Source(path.name, path, path.stat().st_size)


def batch_line(i: int, **body) -> dict:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question {i}"}], **body}
    return {"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}


def test_batch_lines_stream_with_their_line_numbers(tmp_path):
    path = write_jsonl(tmp_path / "batch.jsonl", [batch_line(i) for i in range(3)])
    path.write_text(path.read_text() + "\n\n", encoding="utf-8")  # blank lines are not data
    reader = jsonl.JsonlReader(source(path))
    assert reader.peek_kind() == "batch"
    got = list(reader)
    assert [(r.line, r.custom_id, r.endpoint) for r in got] == [(1, "r0", "/v1/chat/completions"), (2, "r1", "/v1/chat/completions"), (3, "r2", "/v1/chat/completions")]
    assert reader.lines == 3


def test_a_bad_line_stops_the_read_unless_keep_going(tmp_path):
    rows = [batch_line(0), [1, 2], batch_line(2), {"note": "x"}, batch_line(4, messages=[{"role": "wizard", "content": "x"}])]
    path = write_jsonl(tmp_path / "batch.jsonl", rows)
    with pytest.raises(InputError) as err:
        list(jsonl.JsonlReader(source(path)))
    assert err.value.message == "batch.jsonl:2: not a JSON object (a JSON array)"
    assert "--keep-going" in err.value.hint

    reader = jsonl.JsonlReader(source(path), keep_going=True)
    items = list(reader)
    good = [i for i in items if not isinstance(i, jsonl.LineError)]
    assert [r.line for r in good] == [1, 3]
    assert [e.text for e in reader.errors] == [
        "batch.jsonl:2: not a JSON object (a JSON array)",
        "batch.jsonl:4: not a request, a batch line or a message (no 'messages', 'custom_id' or 'role')",
        "batch.jsonl:5: message 1: unknown role 'wizard'",
    ]
    assert reader.error_count == 3


def test_malformed_jsonl_line_and_a_line_of_another_kind(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        json.dumps({"messages": [{"role": "user", "content": "a"}]})
        + '\n{"messages": [}\n'
        + json.dumps(batch_line(3))
        + "\n",
        encoding="utf-8",
    )
    reader = jsonl.JsonlReader(source(path), keep_going=True)
    list(reader)
    assert [e.text for e in reader.errors] == [
        "mixed.jsonl:2: malformed JSON at column 15: expecting value",
        "mixed.jsonl:3: an OpenAI Batch line (custom_id, method, url, body) in a file of requests (as line 1)",
    ]


def test_non_chat_endpoints_are_refused_by_line(tmp_path):
    path = write_jsonl(tmp_path / "emb.jsonl", [{"custom_id": "e", "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}}])
    with pytest.raises(InputError, match=r"emb.jsonl:1: endpoint /v1/embeddings is not a chat endpoint"):
        list(jsonl.JsonlReader(source(path)))


def test_invalid_utf8_in_a_line_names_line_and_byte(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(json.dumps(batch_line(0)).encode() + b"\n" + b'{"custom_id": "\xff"}\n')
    with pytest.raises(InputError) as err:
        list(jsonl.JsonlReader(source(path)))
    first = len(json.dumps(batch_line(0)).encode()) + 1
    assert err.value.message == f"bad.jsonl:2: invalid UTF-8 at byte {first + 15}"


def test_one_message_per_line_is_a_transcript(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", COOKBOOK_MESSAGES)
    reader = jsonl.JsonlReader(source(path))
    assert reader.peek_kind() == "message"
    conv = reader.transcript().conversation
    assert conv.roles == [m["role"] for m in COOKBOOK_MESSAGES]
