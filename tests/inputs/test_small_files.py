"""Thousands of small prompts: a walk reads each file once and keeps small ones' bytes, and
what is read from those bytes is exactly what reading the file again would give."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt import inputs
from tokopt.errors import InputError
from tokopt.inputs import Source, formats


def _blocks(source: Source, errors: str = "strict"):
    seen: list[int] = []
    try:
        return "".join(inputs.read_blocks(source, errors=errors, on_bytes=seen.append)), sum(seen)
    except InputError as exc:
        return ("error", exc.message, exc.hint)


@settings(max_examples=300)
@given(data=st.binary(max_size=300) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_kept_bytes_read_as_the_file_reads(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("f") / "p.txt"
    path.write_bytes(data)
    from_file = Source("p.txt", path, len(data))
    kept = Source("p.txt", path, len(data), data)
    for errors in ("strict", "replace"):
        ours, theirs = _blocks(kept, errors), _blocks(from_file, errors)
        assert ours[:2] == theirs[:2] if ours[0] != "error" else ours == theirs
    for forced in formats.InputFormat:
        assert formats.sniff(kept, forced) == formats.sniff(from_file, forced)


def test_a_walk_keeps_small_files_within_a_budget_and_keys_them_by_real_path(tmp_path, monkeypatch):
    root = tmp_path / "prompts"
    (root / "sub").mkdir(parents=True)
    for i in range(6):
        (root / "sub" / f"p{i}.txt").write_text(f"prompt {i}\n" * 10)
    (root / "big.txt").write_text("x" * (inputs.SNIFF_SIZE + 1))
    os.symlink(root / "sub" / "p0.txt", root / "link.txt")
    monkeypatch.setattr(inputs, "KEEP_SMALL_FILES", 3 * 90)  # room for three of the six
    monkeypatch.chdir(tmp_path)
    got = inputs.expand(["prompts", "prompts/sub/p1.txt"]).sources
    # the symlink comes first (a directory's files before its subdirectories) and is the same
    # file as p0; p1 named again is the same input: both are listed once
    assert [s.label for s in got] == ["prompts/big.txt", "prompts/link.txt", *(f"prompts/sub/p{i}.txt" for i in range(1, 6))]
    kept = [s for s in got if s.content is not None]
    assert 1 <= len(kept) <= 3 and all(s.content == s.path.read_bytes() for s in kept)
    assert got[0].content is None  # larger than what a sniff reads


def test_a_kept_binary_or_invalid_file_fails_as_the_file_would(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 au lait")
    with pytest.raises(InputError, match=r"invalid UTF-8 at byte 3"):
        list(inputs.read_blocks(Source("bad.txt", path, 12, path.read_bytes())))
    path.write_bytes(b"a\x00b")
    with pytest.raises(InputError, match="binary file"):
        list(inputs.read_blocks(Source("bad.txt", path, 3, path.read_bytes())))


@pytest.mark.parametrize("cwd", ["/", "inside", "elsewhere"])
def test_labels_are_relative_to_the_working_directory_when_below_it(tmp_path, cwd):
    (tmp_path / "inside").mkdir()
    (tmp_path / "elsewhere").mkdir()
    here = {"/": os.sep, "inside": str(tmp_path / "inside"), "elsewhere": str(tmp_path / "elsewhere")}[cwd]
    path = tmp_path / "inside" / "a b" / "p.txt"
    expected = os.path.relpath(path, here) if str(path).startswith(here.rstrip(os.sep) + os.sep) else str(path)
    from pathlib import Path

    assert inputs._label(path, Path(here)) == expected
