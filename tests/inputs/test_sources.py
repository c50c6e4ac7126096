"""Paths -> sources: files, directories, globs, stdin; strict decoding that names the byte."""

from __future__ import annotations

import os

import pytest

from tokopt import inputs
from tokopt.errors import InputError


def labels(expansion) -> list[str]:
    return [s.path.name if s.path else s.label for s in expansion.sources]


def test_files_globs_and_stdin_in_order_without_duplicates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("b.txt", "a.md", "c.txt"):
        (tmp_path / name).write_text("x")
    got = inputs.expand(["c.txt", "*.txt", "-", "a.md"])
    assert labels(got) == ["c.txt", "b.txt", "<stdin>", "a.md"]
    assert got.sources[0].label == "c.txt"


def test_directory_walk_skips_hidden_gitignored_and_binary(tmp_path):
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".gitignore").write_text("*.log\nbuild/\n!keep.log\n")
    (root / "prompts" / "drafts").mkdir(parents=True)
    (root / "prompts" / ".gitignore").write_text("drafts/\n")
    (root / "prompts" / "a.txt").write_text("a")
    (root / "prompts" / "drafts" / "wip.txt").write_text("wip")
    (root / "prompts" / "run.log").write_text("log")
    (root / "prompts" / "keep.log").write_text("kept")
    (root / "prompts" / ".secret.txt").write_text("hidden")
    (root / "prompts" / ".cache").mkdir()
    (root / "prompts" / ".cache" / "x.txt").write_text("hidden dir")
    (root / "prompts" / "build").mkdir()
    (root / "prompts" / "build" / "out.txt").write_text("ignored dir")
    (root / "prompts" / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "prompts" / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (root / "prompts" / "sub").mkdir()
    (root / "prompts" / "sub" / "b.md").write_text("b")

    got = inputs.expand([str(root / "prompts")])
    assert labels(got) == ["a.txt", "keep.log", "b.md"]
    assert sorted(s.split(":")[0].rsplit("/", 1)[-1] for s in got.skipped) == ["image.png", "latin1.txt"]


def test_gitignore_above_the_walked_directory_applies(tmp_path):
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".gitignore").write_text("prompts/old/\n")
    (root / "prompts" / "old").mkdir(parents=True)
    (root / "prompts" / "old" / "x.txt").write_text("old")
    (root / "prompts" / "new.txt").write_text("new")
    assert labels(inputs.expand([str(root / "prompts")])) == ["new.txt"]


@pytest.mark.parametrize(
    ("setup", "arg", "message"),
    [
        (lambda p: None, "missing.txt", "file not found: missing.txt"),
        (lambda p: None, "nothing-*.txt", "no files match: nothing-*.txt"),
        (lambda p: (p / "empty").mkdir(), "empty", "no text files in directory: empty"),
        (lambda p: (p / "d").mkdir() or (p / "d" / "x.bin").write_bytes(b"\x00\x01"), "d", "no text files in directory: d"),
    ],
)
def test_bad_paths(tmp_path, monkeypatch, setup, arg, message):
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    with pytest.raises(InputError) as info:
        inputs.expand([arg])
    assert info.value.message == message


def test_binary_file_given_by_name_is_an_error(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc\x00def")
    (source,) = inputs.expand([str(path)]).sources
    with pytest.raises(InputError, match="binary file"):
        inputs.read_text(source)


@pytest.mark.parametrize("block_size", [1, 2, 3, 5, 1 << 20])
def test_invalid_utf8_names_the_byte_offset_across_blocks(tmp_path, block_size):
    path = tmp_path / "bad.txt"
    good = "héllo wörld ".encode()
    path.write_bytes(good + b"\xff" + b"tail")
    (source,) = inputs.expand([str(path)]).sources
    with pytest.raises(InputError) as info:
        "".join(inputs.read_blocks(source, block_size=block_size))
    assert info.value.message.endswith(f"invalid UTF-8 at byte {len(good)}")
    assert "--encoding-errors replace" in info.value.hint
    assert "".join(inputs.read_blocks(source, errors="replace", block_size=block_size)) == "héllo wörld \ufffdtail"


def test_truncated_multibyte_character_at_end_of_file(tmp_path):
    path = tmp_path / "cut.txt"
    path.write_bytes("ok é".encode()[:-1])
    (source,) = inputs.expand([str(path)]).sources
    with pytest.raises(InputError, match="invalid UTF-8 at byte 3"):
        inputs.read_text(source)


def test_crlf_and_bom_are_kept_and_multibyte_characters_survive_block_edges(tmp_path):
    text = "\ufeffline one\r\nlíne twö 日本語\r\n" * 50
    path = tmp_path / "crlf.txt"
    path.write_bytes(text.encode())
    (source,) = inputs.expand([str(path)]).sources
    assert "".join(inputs.read_blocks(source, block_size=7)) == text


def test_empty_file_reads_as_empty_text(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    (source,) = inputs.expand([str(path)]).sources
    assert inputs.read_text(source) == "" and source.size == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_a_subdirectory_it_cannot_read_gets_a_note_as_a_file_does(tmp_path):
    (tmp_path / "prompts" / "locked").mkdir(parents=True)
    (tmp_path / "prompts" / "a.txt").write_text("a")
    (tmp_path / "prompts" / "locked" / "b.txt").write_text("b")
    (tmp_path / "prompts" / "secret.txt").write_text("s")
    (tmp_path / "prompts" / "secret.txt").chmod(0)
    (tmp_path / "prompts" / "locked").chmod(0)
    try:
        got = inputs.expand([str(tmp_path / "prompts")])
    finally:
        (tmp_path / "prompts" / "locked").chmod(0o755)
    assert labels(got) == ["a.txt"]
    assert sorted(s.rsplit("/", 1)[-1] for s in got.skipped) == ["locked: Permission denied", "secret.txt: Permission denied"]


def test_a_broken_symlink_in_a_walked_directory_gets_a_note(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "a.txt").write_text("a")
    os.symlink("gone.txt", tmp_path / "prompts" / "link.txt")
    got = inputs.expand([str(tmp_path / "prompts")])
    assert labels(got) == ["a.txt"]
    assert [s.rsplit("/", 1)[-1] for s in got.skipped] == ["link.txt: No such file or directory"]
