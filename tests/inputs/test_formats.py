"""What an input is from its first bytes: plain text, one JSON document, or JSON Lines."""

from __future__ import annotations

import json

import pytest

from tokopt.inputs import Source, formats
from tokopt.inputs.formats import InputFormat


def source(path) -> Source:
    return Source(path.name, path, path.stat().st_size)


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
        # a prose file (by its name) is a request only if it reads as one; else it is a prompt
        ('{"messages": [{"role": "user", "content": "hi"}]}\n\nExplain the request above.\n', "p.md", "text"),
        ('{"messages": [{"role": "user", "content": "hi"}]}\n', "q.md", "json"),
        ('{"role": "user", "content": "a"}\n{"role": "assistant", "content": "b"}\n', "t.txt", "jsonl"),
        ('{"role": "user", "content": "a"}\n[1]\n', "t.txt", "text"),
        ('{"model": "gpt-4o", "messages": [', "cut.prompt", "text"),
        ('{"model": "gpt-4o", "messages": [', "cut", "json"),  # no prose name: the reader says where it breaks
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


def test_a_long_prose_file_that_opens_with_json_lines_is_judged_on_its_first_megabyte(tmp_path):
    line = json.dumps({"role": "user", "content": "x" * 100, "messages": []}) + "\n"
    path = tmp_path / "notes.md"
    path.write_text(line * 20_000 + "and then prose\n", encoding="utf-8")  # 2.5 MB
    assert formats.sniff(source(path)) == "jsonl"  # its first megabyte is JSON Lines throughout
    path.write_text(line + "prose on the second line\n" + line * 20_000, encoding="utf-8")
    assert formats.sniff(source(path)) == "text"
