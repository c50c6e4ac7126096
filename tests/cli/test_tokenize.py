"""`tokopt tokenize`: counts per encoding, boundaries, ids."""

from __future__ import annotations

import json

from tests.helpers import one_error_line
from tokopt import tokens

TEXT = "Hello, world! <|endoftext|> is plain text here.\r\nnaïve café 日本語 👍\n"


def test_counts_per_encoding_json(run, tmp_path, reference):
    path = tmp_path / "t.txt"
    path.write_bytes(TEXT.encode())
    r = run("tokenize", str(path), "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (item,) = doc["inputs"]
    assert item["chars"] == len(TEXT) and item["bytes"] == len(TEXT.encode())
    for name in ("o200k_base", "cl100k_base"):
        assert item[f"{name}_tokens"] == len(reference[name].encode(TEXT, disallowed_special=()))
    assert doc["total"]["o200k_base_tokens"] == item["o200k_base_tokens"]


def test_model_option_adds_the_approximate_count(run, tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(TEXT)
    doc = json.loads(run("tokenize", str(path), "-m", "claude-opus-4-8", "-f", "json").stdout)
    item = doc["inputs"][0]
    assert doc["model"]["approximate"] is True
    assert item["claude-opus-4-8_tokens_approx"] > item["o200k_base_tokens"]
    assert "cl100k_base_tokens" not in item


def test_ids_are_tiktokens_and_special_text_is_ordinary(run, tmp_path, reference):
    path = tmp_path / "t.txt"
    path.write_text(TEXT)
    r = run("tokenize", str(path), "--ids", "-e", "cl100k_base")
    assert r.exit_code == 0, r.output
    (item,) = json.loads(r.stdout)
    assert item["ids"] == reference["cl100k_base"].encode(TEXT, disallowed_special=())
    assert 100257 not in item["ids"] and item["count"] == len(item["ids"])


def test_show_marks_boundaries_in_plain_output(run, tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Hello world\nbye")
    r = run("tokenize", str(path), "--show")
    assert r.exit_code == 0, r.output
    assert "Hello| world|↵\nbye" in r.stdout
    n = tokens.count("Hello world\nbye", "o200k_base")
    assert f"{n} tokens" in r.stdout


def test_several_files_have_a_total(run, tmp_path):
    for name, text in [("a.txt", "one two"), ("b.txt", "three four five")]:
        (tmp_path / name).write_text(text)
    r = run("tokenize", str(tmp_path))
    assert r.exit_code == 0 and "total (2 inputs)" in r.stdout


def test_show_and_ids_together_is_an_error(run, tmp_path):
    (tmp_path / "t.txt").write_text("x")
    r = run("tokenize", str(tmp_path / "t.txt"), "--show", "--ids")
    assert r.exit_code == 2 and "cannot be combined" in one_error_line(r.stderr)
