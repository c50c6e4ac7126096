"""Chat requests parsed into one provider-neutral shape: OpenAI, Anthropic, lists of messages."""

from __future__ import annotations

import pytest

from tests.chatdata import COOKBOOK_MESSAGES, COOKBOOK_TOOLS, data_url, jpeg, png
from tokopt.errors import InputError
from tokopt.requests import parse
from tokopt.requests.model import Dialect, ImagePart, OpaquePart, TextPart, ToolCallPart, ToolResultPart


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
