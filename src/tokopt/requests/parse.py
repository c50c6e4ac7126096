"""Read chat requests: parse an input, in the shape `tokopt.inputs.formats` detected, into `Request`s.

Formats (`inputs.formats.InputFormat`):

- a JSON object with `messages` — an OpenAI Chat Completions or an Anthropic Messages request
  (told apart by Anthropic-only features: top-level `system`, `tool_use`/`tool_result`/
  `document`/`image` blocks, `input_schema`, `cache_control`, a `claude-*` model);
- a JSON list of messages — one OpenAI conversation;
- JSONL — one request per line, one OpenAI Batch input line (`custom_id`, `method`, `url`,
  `body`) or Anthropic Message Batches request (`custom_id`, `params`) per line, or one message
  per line (a transcript);
- anything else is plain text: one prompt.

A malformed JSON document is an error with its line and column; so is a JSONL line that is not
an object (with its line).

JSONL files are read line by line by `requests.jsonl`, which parses each line here.
"""

from __future__ import annotations

import json
from typing import Any

from tokopt.requests import images
from tokopt.requests.model import ROLES, Conversation, Dialect, ImagePart, InputFormat, Message, OpaquePart, Part, Request, TextPart, ToolCallPart, ToolDef, ToolResultPart
from tokopt.errors import InputError

MAX_REPORTED_LINE_ERRORS = 200
READ_BUFFER = 1 << 20

# --- JSON documents ---------------------------------------------------------------------------


def loads_document(text: str, label: str) -> Any:
    """Parse one JSON document; a syntax error names the file, line and column."""
    try:
        return json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{label}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg.lower()}",
            hint="fix the JSON, or pass --input-format text to count the file as plain text",
        ) from None
    except RecursionError:
        raise InputError(f"{label}: JSON nested too deeply to read", hint="pass --input-format text to count the file as plain text") from None


def parse_document(data: Any, label: str, forced: InputFormat = InputFormat.auto) -> Request:
    """One request from a parsed JSON document: a request object or a bare list of messages."""
    where = label
    if isinstance(data, list):
        dialect = Dialect.anthropic if forced is InputFormat.anthropic else Dialect.openai
        messages = _messages(data, where, system=None)
        return Request(Conversation(messages=messages, dialect=dialect), source=label)
    if not isinstance(data, dict):
        raise InputError(f"{label}: expected a request object or a list of messages, found {json_kind(data)}")
    if "custom_id" in data and ("body" in data or "params" in data):
        return batch_line(data, label, None)
    return Request(parse_request(data, where, forced), source=label)


def json_kind(value: Any) -> str:
    """How a JSON value is named in messages: "a JSON array", "null", ..."""
    return {
        dict: "a JSON object",
        list: "a JSON array",
        str: "a string",
        bool: "true/false",
        type(None): "null",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def detect_dialect(data: dict[str, Any]) -> Dialect:
    """Anthropic if the request uses anything only Anthropic accepts, else OpenAI."""
    if "system" in data or "anthropic_version" in data:
        return Dialect.anthropic
    model = data.get("model")
    if isinstance(model, str) and "claude" in model.lower():
        return Dialect.anthropic
    tools = data.get("tools")
    if isinstance(tools, list) and any(isinstance(t, dict) and "input_schema" in t for t in tools):
        return Dialect.anthropic
    messages = data.get("messages")
    if isinstance(messages, list):
        for m in messages:
            content = m.get("content") if isinstance(m, dict) else None
            if isinstance(content, list):
                for block in content:
                    if isinstance(block, dict) and (
                        block.get("type") in ("tool_use", "tool_result", "document", "thinking", "redacted_thinking")
                        or (block.get("type") == "image" and "source" in block)
                        or "cache_control" in block
                    ):
                        return Dialect.anthropic
    return Dialect.openai


def parse_request(data: dict[str, Any], where: str, forced: InputFormat = InputFormat.auto) -> Conversation:
    """A Chat Completions, Responses-style or Anthropic Messages request body -> Conversation."""
    if forced is InputFormat.anthropic:
        dialect = Dialect.anthropic
    elif forced is InputFormat.openai:
        dialect = Dialect.openai
    else:
        dialect = detect_dialect(data)

    if "messages" in data:
        raw_messages = data["messages"]
    elif "input" in data:  # the Responses API: a string or a list of message items
        raw_messages = data["input"]
        if isinstance(raw_messages, str):
            raw_messages = [{"role": "user", "content": raw_messages}]
        if isinstance(data.get("instructions"), str):
            raw_messages = [{"role": "system", "content": data["instructions"]}, *raw_messages]
    else:
        raise InputError(f"{where}: no 'messages' in the request", hint="a chat request has a 'messages' list")
    if not isinstance(raw_messages, list):
        raise InputError(f"{where}: 'messages' must be a list, found {json_kind(raw_messages)}")

    system = None
    if "system" in data and data["system"] is not None:
        parts = _content(data["system"], f"{where}: system")
        system = Message(role="system", parts=parts)
    messages = _messages(raw_messages, where, system=system)

    model = data.get("model")
    if model is not None and not isinstance(model, str):
        raise InputError(f"{where}: 'model' must be a string, found {json_kind(model)}")
    max_out = None
    for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"{where}: '{key}' must be a whole number of tokens, found {json.dumps(value)}")
        max_out = value
        break

    response_format = data.get("response_format")
    if response_format is not None and not isinstance(response_format, dict):
        raise InputError(f"{where}: 'response_format' must be an object, found {json_kind(response_format)}")
    text = data.get("text")
    if response_format is None and isinstance(text, dict) and isinstance(text.get("format"), dict):
        response_format = text["format"]  # the Responses API's structured output
    if isinstance(response_format, dict) and response_format.get("type") in (None, "text", "json_object"):
        response_format = None  # no schema to send: nothing the model reads

    choice = data.get("tool_choice", data.get("function_call"))  # function_call: the legacy name
    return Conversation(
        messages=messages,
        dialect=dialect,
        tools=_tools(data, where),
        tool_choice=_tool_choice(choice),
        tool_choice_name=_tool_choice_name(choice),
        tools_api="functions" if "functions" in data and "tools" not in data else "tools",
        response_format=response_format,
        model=model,
        max_output_tokens=max_out,
    )


def _tool_choice(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        kind = value.get("type")
        if kind in ("function", "tool", "custom", "allowed_tools") or (kind is None and "name" in value):
            return "tool"
        return kind if isinstance(kind, str) else None
    return None


def _tool_choice_name(value: Any) -> str | None:
    """The function a named choice forces: {"type": "function", "function": {"name": ...}} (Chat),
    {"type": "function", "name": ...} (Responses, Anthropic), {"name": ...} (function_call)."""
    if not isinstance(value, dict):
        return None
    inner = value.get("function")
    name = inner.get("name") if isinstance(inner, dict) else value.get("name")
    return name if isinstance(name, str) else None


def _tools(data: dict[str, Any], where: str) -> tuple[ToolDef, ...]:
    raw: list[Any] = []
    for key in ("tools", "functions"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            raise InputError(f"{where}: '{key}' must be a list, found {json_kind(value)}")
        raw.extend(value if key == "tools" else [{"type": "function", "function": f} for f in value])
    out = []
    for i, tool in enumerate(raw, 1):
        at = f"{where}: tool {i}"
        if not isinstance(tool, dict):
            raise InputError(f"{at}: expected an object, found {json_kind(tool)}")
        cached = "cache_control" in tool
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            fn = tool["function"]
            out.append(_tool_def(fn, at, "function", fn.get("parameters"), tool, cached))
        elif tool.get("type") == "function" and isinstance(tool.get("name"), str):  # the Responses API's flat shape
            out.append(_tool_def(tool, at, "function", tool.get("parameters"), tool, cached))
        elif "input_schema" in tool or (tool.get("type") in (None, "custom") and "name" in tool and "function" not in tool):
            kind = "function" if "input_schema" in tool or tool.get("type") is None else str(tool.get("type"))
            out.append(_tool_def(tool, at, kind, tool.get("input_schema", tool.get("parameters")), tool, cached))
        else:
            kind = str(tool.get("type") or "unknown")
            name = tool.get("name") if isinstance(tool.get("name"), str) else kind
            out.append(ToolDef(name=name, kind=kind, definition=tool, cache_breakpoint=cached))
    return tuple(out)


def _tool_def(fn: dict[str, Any], at: str, kind: str, params: Any, whole: dict[str, Any], cached: bool) -> ToolDef:
    name = fn.get("name")
    if not isinstance(name, str):
        raise InputError(f"{at}: a tool needs a 'name' string")
    desc = fn.get("description")
    if desc is not None and not isinstance(desc, str):
        raise InputError(f"{at} ({name}): 'description' must be a string")
    if params is not None and not isinstance(params, dict):
        raise InputError(f"{at} ({name}): the parameter schema must be an object, found {json_kind(params)}")
    return ToolDef(name=name, description=desc, parameters=params, kind=kind, definition=whole, cache_breakpoint=cached)


_ROLE_SET = frozenset(ROLES)


def _messages(raw: list[Any], where: str, *, system: Message | None) -> tuple[Message, ...]:
    out = [system] if system is not None else []
    for i, item in enumerate(raw, 1):
        # The common case first, without building a location string: {"role": ..., "content": "..."}
        if type(item) is dict and len(item) == 2:
            role, content = item.get("role"), item.get("content")
            if type(content) is str and type(role) is str and role in _ROLE_SET:
                out.append(Message(role, (TextPart(content),)))
                continue
        out.append(parse_message(item, f"{where}: message {i}"))
    return tuple(out)


def parse_message(item: Any, at: str) -> Message:
    """One message object (OpenAI or Anthropic shape)."""
    if not isinstance(item, dict):
        raise InputError(f"{at}: expected a message object, found {json_kind(item)}")
    if item.get("type") not in (None, "message"):
        # Responses API items such as function_call / function_call_output
        return _response_item(item, at)
    role = item.get("role")
    if not isinstance(role, str):
        raise InputError(f"{at}: a message needs a 'role' string", hint=f"roles: {', '.join(ROLES)}")
    if role not in ROLES:
        raise InputError(f"{at}: unknown role '{role}'", hint=f"roles: {', '.join(ROLES)}")
    parts = list(_content(item.get("content"), at))
    for key in ("tool_calls",):
        calls = item.get(key)
        if calls is None:
            continue
        if not isinstance(calls, list):
            raise InputError(f"{at}: '{key}' must be a list, found {json_kind(calls)}")
        for j, call in enumerate(calls, 1):
            parts.append(_tool_call(call, f"{at}: tool call {j}"))
    if isinstance(item.get("function_call"), dict):
        parts.append(_tool_call({"function": item["function_call"]}, f"{at}: function_call"))
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise InputError(f"{at}: 'name' must be a string, found {json_kind(name)}")
    tool_call_id = item.get("tool_call_id")
    return Message(
        role=role,
        parts=tuple(parts),
        name=name,
        tool_call_id=tool_call_id if isinstance(tool_call_id, str) else None,
    )


def _response_item(item: dict[str, Any], at: str) -> Message:
    kind = item.get("type")
    if kind == "function_call":
        args = item.get("arguments", "")
        call_id = item.get("call_id")
        part = ToolCallPart(str(item.get("name", "")), args if isinstance(args, str) else _compact(args), id=call_id if isinstance(call_id, str) else None)
        return Message(role="assistant", parts=(part,))
    if kind == "function_call_output":
        output = item.get("output", "")
        return Message(role="tool", parts=_content(output, at), tool_call_id=item.get("call_id"))
    text = item.get("text")
    if isinstance(text, str):
        return Message(role="user", parts=(TextPart(text, type=str(kind)),))
    return Message(role="user", parts=(OpaquePart(str(kind), f"{kind} item", "an input item type tokopt does not know"),))


def _tool_call(call: Any, at: str) -> ToolCallPart:
    if not isinstance(call, dict):
        raise InputError(f"{at}: expected an object, found {json_kind(call)}")
    fn = call.get("function") if isinstance(call.get("function"), dict) else call.get("custom")
    if not isinstance(fn, dict):
        raise InputError(f"{at}: a tool call needs a 'function' object with 'name' and 'arguments'")
    args = fn.get("arguments", fn.get("input", ""))
    return ToolCallPart(
        name=str(fn.get("name", "")),
        arguments=args if isinstance(args, str) else _compact(args),
        id=call.get("id") if isinstance(call.get("id"), str) else None,
    )


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _content(content: Any, at: str) -> tuple[Part, ...]:
    if content is None:
        return ()
    if isinstance(content, str):
        return (TextPart(content),)
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        raise InputError(f"{at}: content must be a string or a list of parts, found {json_kind(content)}")
    parts: list[Part] = []
    for j, block in enumerate(content, 1):
        parts.append(_part(block, f"{at}, part {j}"))
    return tuple(parts)


def _part(block: Any, at: str) -> Part:
    if isinstance(block, str):
        return TextPart(block)
    if not isinstance(block, dict):
        raise InputError(f"{at}: expected a content part object, found {json_kind(block)}")
    kind = block.get("type")
    cached = "cache_control" in block
    if not isinstance(kind, str):
        if isinstance(block.get("text"), str):
            return TextPart(block["text"], cache_breakpoint=cached)
        raise InputError(f"{at}: a content part needs a 'type'")

    if kind in ("text", "input_text", "output_text"):
        text = block.get("text")
        if not isinstance(text, str):
            raise InputError(f"{at}: a {kind} part needs a 'text' string")
        return TextPart(text, type=kind, cache_breakpoint=cached)
    if kind == "refusal" and isinstance(block.get("refusal"), str):
        return TextPart(block["refusal"], type=kind)
    if kind in ("image_url", "input_image"):
        return _openai_image(block, at)
    if kind == "image":
        return _anthropic_image(block, at, cached)
    if kind == "tool_use":
        args = block.get("input", {})
        return ToolCallPart(
            name=str(block.get("name", "")),
            arguments=args if isinstance(args, str) else _compact(args),
            id=block.get("id") if isinstance(block.get("id"), str) else None,
            cache_breakpoint=cached,
        )
    if kind == "tool_result":
        inner = _content(block.get("content"), f"{at} (tool_result)")
        return ToolResultPart(
            tool_use_id=block.get("tool_use_id") if isinstance(block.get("tool_use_id"), str) else None,
            parts=inner,
            is_error=bool(block.get("is_error")),
            cache_breakpoint=cached,
        )
    if kind == "document":
        return _document(block, at, cached)
    if kind == "input_audio":
        audio = block.get("input_audio") if isinstance(block.get("input_audio"), dict) else {}
        fmt = audio.get("format", "audio")
        data = audio.get("data")
        size = f", {len(data) * 3 // 4:,} bytes" if isinstance(data, str) else ""
        return OpaquePart(kind, f"input_audio ({fmt}{size})", "audio tokens have no published rule tokopt applies")
    if kind in ("file", "input_file"):
        info = block.get("file") if isinstance(block.get("file"), dict) else block
        name = info.get("filename") or info.get("file_id") or "inline file"
        return OpaquePart(kind, f"file {name}", "files (PDF and others) are read by the provider; their tokens are not known offline")
    if kind in ("thinking", "redacted_thinking"):
        return OpaquePart(kind, kind, "thinking blocks of earlier turns are dropped by the API, not billed as input")
    if isinstance(block.get("text"), str):
        return TextPart(block["text"], type=kind, cache_breakpoint=cached)
    return OpaquePart(kind, f"part of type '{kind}'", "a part type tokopt does not know, and it carries no text")


def _openai_image(block: dict[str, Any], at: str) -> ImagePart:
    ref = block.get("image_url")
    detail = block.get("detail")
    if isinstance(ref, dict):
        detail = ref.get("detail", detail)
        ref = ref.get("url")
    if block.get("type") == "input_image" and ref is None and isinstance(block.get("file_id"), str):
        return ImagePart(source="file", detail=detail, note="an uploaded file: its size is not known offline")
    if not isinstance(ref, str):
        raise InputError(f"{at}: an image_url part needs a 'url' string")
    detail = detail if isinstance(detail, str) else None
    inline = images.from_data_url(ref)
    if inline is None:
        return ImagePart(source="url", detail=detail, note="a URL: its size is not known offline")
    return _inline(inline, detail)


def _inline(inline: images.InlineImage, detail: str | None, cached: bool = False) -> ImagePart:
    size = inline.size
    return ImagePart(
        source="data",
        media_type=inline.media_type,
        width=size.width if size else None,
        height=size.height if size else None,
        detail=detail,
        size_bytes=inline.size_bytes,
        note=inline.note,
        cache_breakpoint=cached,
    )


def _anthropic_image(block: dict[str, Any], at: str, cached: bool) -> ImagePart:
    source = block.get("source")
    if not isinstance(source, dict):
        raise InputError(f"{at}: an image block needs a 'source' object")
    kind = source.get("type")
    if kind == "base64":
        data = source.get("data")
        if not isinstance(data, str):
            raise InputError(f"{at}: a base64 image source needs a 'data' string")
        media_type = source.get("media_type") if isinstance(source.get("media_type"), str) else None
        return _inline(images.from_base64(data, media_type), None, cached)
    if kind == "url":
        return ImagePart(source="url", note="a URL: its size is not known offline", cache_breakpoint=cached)
    if kind == "file":
        return ImagePart(source="file", note="an uploaded file: its size is not known offline", cache_breakpoint=cached)
    raise InputError(f"{at}: unknown image source type {json.dumps(kind)}")


def _document(block: dict[str, Any], at: str, cached: bool) -> Part:
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "text" and isinstance(source.get("data"), str):
        extra = [block[k] for k in ("title", "context") if isinstance(block.get(k), str)]
        return TextPart("\n".join([*extra, source["data"]]), type="document", cache_breakpoint=cached)
    if isinstance(source, dict) and source.get("type") == "content":
        inner = _content(source.get("content"), f"{at} (document)")
        return ToolResultPart(tool_use_id=None, parts=inner, cache_breakpoint=cached)
    media = source.get("media_type", source.get("type", "?")) if isinstance(source, dict) else "?"
    title = block.get("title")
    what = f"document {title!r} ({media})" if isinstance(title, str) else f"document ({media})"
    return OpaquePart("document", what, "PDF and other binary documents are read by the provider; their tokens are not known offline")


# --- batch lines (in a JSONL file, or one as a document) ------------------------------------------

SUPPORTED_ENDPOINTS = ("/v1/chat/completions", "/v1/responses", "/v1/messages")


def batch_line(obj: dict[str, Any], label: str, number: int | None) -> Request:
    where = label if number is None else f"{label}:{number}"
    url = obj.get("url")
    if url is not None and url not in SUPPORTED_ENDPOINTS:
        raise InputError(f"{where}: endpoint {url} is not a chat endpoint (tokopt prices {', '.join(SUPPORTED_ENDPOINTS)})")
    anthropic = "params" in obj and "body" not in obj
    body = obj.get("params") if anthropic else obj.get("body")
    if not isinstance(body, dict):
        key = "params" if anthropic else "body"
        raise InputError(f"{where}: a batch line needs a '{key}' object, found {json_kind(body)}")
    forced = InputFormat.anthropic if anthropic or url == "/v1/messages" else InputFormat.auto
    custom_id = obj.get("custom_id")
    return Request(
        conversation=parse_request(body, where, forced),
        source=label,
        line=number,
        custom_id=str(custom_id) if custom_id is not None else None,
        endpoint=url if isinstance(url, str) else None,
    )
