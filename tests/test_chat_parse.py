"""Reading chat requests: format detection, both providers' shapes, and every kind of bad input."""

from __future__ import annotations

import json

import pytest
from tests.chatdata import COOKBOOK_MESSAGES, COOKBOOK_TOOLS, data_url, jpeg, png, write_jsonl

from tokopt.requests import parse
from tokopt.inputs import formats
from tokopt.requests.model import Dialect, ImagePart, InputFormat, OpaquePart, TextPart, ToolCallPart, ToolResultPart
from tokopt.errors import InputError
from tokopt.inputs import Source


def source(path) -> Source:
    return Source(path.name, path, path.stat().st_size)


# --- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "label", "shape"),
    [
        ("Summarise this text.", "prompt.txt", "text"),
        ("[link](https://example.com) and more", "notes.md", "text"),
        ("{{ template }}", "t.txt", "text"),
        ('{"model": "gpt-4o", "messages": []}', "chat.txt", "json"),
        ('{\n  "model": "gpt-4o"\n}', "chat", "json"),
        ('[\n  {"role": "user", "content": "hi"}\n]', "-", "json"),
        ('{"a": 1}\n{"a": 2}\n', "x", "jsonl"),
        ('{"a": 1}\n', "one.jsonl", "jsonl"),
        ("{broken", "chat.json", "json"),
        ("\ufeff{\"messages\": []}", "bom.json", "json"),
    ],
)
def test_shape_from_content(head, label, shape):
    assert formats.sniff_shape(head, label) == shape


def test_forced_formats_win():
    assert formats.sniff_shape('{"messages": []}', "x.json", InputFormat.text) == "text"
    assert formats.sniff_shape("plain", "x", InputFormat.openai) == "json"
    assert formats.sniff_shape('{"a": 1}', "x", InputFormat.batch) == "jsonl"


@pytest.mark.parametrize(
    ("data", "label", "shape"),
    [
        ('{"name": "pkg", "version": "1.0"}', "package.json", "text"),  # JSON data is a prompt like any other
        ('[{"q": "a", "a": "b"}]', "examples.json", "text"),
        ('{"prompt": "a", "completion": "b"}\n{"prompt": "c", "completion": "d"}\n', "data.jsonl", "text"),
        ('{"model": "gpt-4o", "messages": []}', "chat.json", "json"),
        ('[{"role": "user", "content": "hi"}]', "m.json", "json"),
        ('{"role": "user", "content": "hi"}\n{"role": "assistant", "content": "yo"}\n', "t.jsonl", "jsonl"),
        ('{"custom_id": "1", "body": {}}\n', "b.jsonl", "jsonl"),
        ('{"name": "pkg",', "broken.json", "json"),  # malformed: the reader names line and column
        ("[1]\n2\n", "bad.jsonl", "jsonl"),  # lines that are not objects: reported as such
    ],
)
def test_json_that_is_not_a_request_is_text(data, label, shape):
    assert formats.sniff_data(data.encode(), label, whole=True) == shape


def test_request_keys_are_looked_for_in_the_whole_first_megabyte(tmp_path):
    tools = [{"type": "function", "function": {"name": f"t{i}", "description": "x" * 200}} for i in range(200)]
    path = tmp_path / "req.json"
    path.write_text(json.dumps({"tools": tools, "messages": [{"role": "user", "content": "hi"}]}), encoding="utf-8")
    assert path.stat().st_size > 2 * formats.SNIFF_CHARS
    assert formats.sniff(source(path)) == "json"
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"rows": ["y" * 100] * 20_000}), encoding="utf-8")  # 2 MB, no request key
    assert formats.sniff(source(data)) == "json"  # too big to be sure: read as a request, an error if not
    assert formats.sniff(source(data), InputFormat.text) == "text"


# --- OpenAI -------------------------------------------------------------------------------------


def test_openai_request_with_every_part_type():
    request = {
        "model": "gpt-4o",
        "max_completion_tokens": 256,
        "tools": COOKBOOK_TOOLS,
        "tool_choice": "auto",
        "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}}},
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {
                "role": "user",
                "name": "ana",
                "content": [
                    {"type": "text", "text": "What is in these?"},
                    {"type": "image_url", "image_url": {"url": data_url(png(640, 480), "image/png"), "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
                    {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
                    {"type": "file", "file": {"filename": "report.pdf", "file_data": "JVBER"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_current_weather", "arguments": '{"location": "Paris"}'}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "18C and sunny"},
        ],
    }
    r = parse.parse_document(request, "chat.json")
    conv = r.conversation
    assert conv.dialect is Dialect.openai
    assert (conv.model, conv.max_output_tokens, conv.tool_choice) == ("gpt-4o", 256, "auto")
    assert conv.roles == ["developer", "user", "assistant", "tool"]
    assert conv.tools[0].name == "get_current_weather" and conv.tools[0].parameters["required"] == ["location"]
    assert conv.response_format["type"] == "json_schema"
    user = conv.messages[1]
    assert user.name == "ana"
    kinds = [type(p) for p in user.parts]
    assert kinds == [TextPart, ImagePart, ImagePart, OpaquePart, OpaquePart]
    inline, remote = user.parts[1], user.parts[2]
    assert (inline.width, inline.height, inline.detail, inline.source) == (640, 480, "low", "data")
    assert remote.source == "url" and not remote.known_size and "not known offline" in remote.note
    assert conv.messages[2].parts == (ToolCallPart("get_current_weather", '{"location": "Paris"}', "c1"),)
    assert conv.messages[3].tool_call_id == "c1" and conv.messages[3].text == "18C and sunny"
    assert [p.type for _, p in conv.opaque] == ["input_audio", "file"]


def test_a_bare_list_of_messages_is_a_conversation():
    r = parse.parse_document(COOKBOOK_MESSAGES, "msgs.json")
    assert len(r.conversation.messages) == 6 and r.conversation.model is None
    assert r.conversation.messages[1].name == "example_user"


def test_unknown_part_types_are_text_if_they_carry_text_else_listed():
    r = parse.parse_document(
        {"messages": [{"role": "user", "content": [{"type": "note", "text": "hi"}, {"type": "hologram", "data": 1}]}]}, "x"
    )
    text, other = r.conversation.messages[0].parts
    assert text == TextPart("hi", type="note")
    assert isinstance(other, OpaquePart) and other.type == "hologram" and "does not know" in other.reason


# --- Anthropic ----------------------------------------------------------------------------------


def test_anthropic_request_blocks_and_cache_markers():
    request = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "You review code.", "cache_control": {"type": "ephemeral"}}],
        "tools": [{"name": "grep", "description": "Search files", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": data_url(jpeg(1600, 1200), "x").split(",")[1]}},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "line one"}, "title": "notes"},
                    {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}},
                    {"type": "text", "text": "Review this."},
                ],
            },
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm", "signature": "s"}, {"type": "tool_use", "id": "t1", "name": "grep", "input": {"q": "TODO"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "3 matches"}]}]},
        ],
    }
    conv = parse.parse_document(request, "a.json").conversation
    assert conv.dialect is Dialect.anthropic and conv.max_output_tokens == 1024
    assert conv.roles == ["system", "user", "assistant", "user"]
    assert conv.messages[0].cache_breakpoint
    image, doc, pdf, _ = conv.messages[1].parts
    assert (image.width, image.height, image.media_type) == (1600, 1200, "image/jpeg")
    assert doc == TextPart("notes\nline one", type="document")
    assert isinstance(pdf, OpaquePart) and "application/pdf" in pdf.description
    thinking, call = conv.messages[2].parts
    assert isinstance(thinking, OpaquePart) and call == ToolCallPart("grep", '{"q":"TODO"}', "t1")
    (result,) = conv.messages[3].parts
    assert isinstance(result, ToolResultPart) and conv.messages[3].text == "3 matches"
    assert conv.tools[0].parameters == {"type": "object", "properties": {"q": {"type": "string"}}}


@pytest.mark.parametrize(
    "request_",
    [
        {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}]}]},
        {"messages": [], "tools": [{"name": "f", "input_schema": {}}]},
    ],
)
def test_anthropic_is_recognised_by_its_own_features(request_):
    assert parse.detect_dialect(request_) is Dialect.anthropic


# --- bad requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"messages": [{"role": "bot", "content": "hi"}]}, "x.json: message 1: unknown role 'bot'"),
        ({"messages": [{"content": "hi"}]}, "x.json: message 1: a message needs a 'role' string"),
        ({"messages": "hi"}, "x.json: 'messages' must be a list, found a string"),
        ({"prompt": "hi"}, "x.json: no 'messages' in the request"),
        ({"messages": [{"role": "user", "content": 5}]}, "content must be a string or a list of parts, found a number"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "an image_url part needs a 'url' string"),
        ({"messages": [], "max_tokens": "lots"}, "'max_tokens' must be a whole number of tokens"),
        ({"messages": [], "tools": [{"type": "function", "function": {"description": "no name"}}]}, "tool 1: a tool needs a 'name' string"),
        (42, "x.json: expected a request object or a list of messages, found a number"),
    ],
)
def test_bad_requests_name_the_place(request_, message):
    with pytest.raises(InputError) as err:
        parse.parse_document(request_, "x.json")
    assert message in err.value.message


def test_malformed_json_names_line_and_column():
    with pytest.raises(InputError) as err:
        parse.loads_document('{\n  "messages": [\n    {"role": "user",, "content": "x"}\n  ]\n}', "chat.json")
    assert err.value.message.startswith("chat.json:3:21: malformed JSON: expecting property name")
    assert "--input-format text" in err.value.hint


# --- JSONL --------------------------------------------------------------------------------------


def batch_line(i: int, **body) -> dict:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question {i}"}], **body}
    return {"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}


def test_batch_lines_stream_with_their_line_numbers(tmp_path):
    path = write_jsonl(tmp_path / "batch.jsonl", [batch_line(i) for i in range(3)])
    path.write_text(path.read_text() + "\n\n", encoding="utf-8")  # blank lines are not data
    reader = parse.JsonlReader(source(path))
    assert reader.peek_kind() == "batch"
    got = list(reader)
    assert [(r.line, r.custom_id, r.endpoint) for r in got] == [(1, "r0", "/v1/chat/completions"), (2, "r1", "/v1/chat/completions"), (3, "r2", "/v1/chat/completions")]
    assert reader.lines == 3


def test_a_bad_line_stops_the_read_unless_keep_going(tmp_path):
    rows = [batch_line(0), [1, 2], batch_line(2), {"note": "x"}, batch_line(4, messages=[{"role": "wizard", "content": "x"}])]
    path = write_jsonl(tmp_path / "batch.jsonl", rows)
    with pytest.raises(InputError) as err:
        list(parse.JsonlReader(source(path)))
    assert err.value.message == "batch.jsonl:2: not a JSON object (a JSON array)"
    assert "--keep-going" in err.value.hint

    reader = parse.JsonlReader(source(path), keep_going=True)
    items = list(reader)
    good = [i for i in items if not isinstance(i, parse.LineError)]
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
    reader = parse.JsonlReader(source(path), keep_going=True)
    list(reader)
    assert [e.text for e in reader.errors] == [
        "mixed.jsonl:2: malformed JSON at column 15: expecting value",
        "mixed.jsonl:3: an OpenAI Batch line (custom_id, method, url, body) in a file of requests (as line 1)",
    ]


def test_non_chat_endpoints_are_refused_by_line(tmp_path):
    path = write_jsonl(tmp_path / "emb.jsonl", [{"custom_id": "e", "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}}])
    with pytest.raises(InputError, match=r"emb.jsonl:1: endpoint /v1/embeddings is not a chat endpoint"):
        list(parse.JsonlReader(source(path)))


def test_invalid_utf8_in_a_line_names_line_and_byte(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(json.dumps(batch_line(0)).encode() + b"\n" + b'{"custom_id": "\xff"}\n')
    with pytest.raises(InputError) as err:
        list(parse.JsonlReader(source(path)))
    first = len(json.dumps(batch_line(0)).encode()) + 1
    assert err.value.message == f"bad.jsonl:2: invalid UTF-8 at byte {first + 15}"


def test_one_message_per_line_is_a_transcript(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", COOKBOOK_MESSAGES)
    reader = parse.JsonlReader(source(path))
    assert reader.peek_kind() == "message"
    conv = reader.transcript().conversation
    assert conv.roles == [m["role"] for m in COOKBOOK_MESSAGES]
