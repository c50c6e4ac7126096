"""`tokopt tokenize`'s lean path (tokopt.fastpath): the plain count without typer, the same
output, errors and exit codes as the typer command, and everything else handed to typer."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest
import typer.main

from tests.conftest import REPO
from tokopt import cli, fastpath
from tokopt.cli._streams import hint_if_taken

LEAN = [sys.executable, "-m", "tokopt", "tokenize"]
TYPER = [sys.executable, "-c", "import sys; from tokopt.cli import main; sys.argv[0] = 'tokopt'; main()", "tokenize"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["a.txt"], (["a.txt"], [], "table")),
        (["a.txt", "-", "b"], (["a.txt", "-", "b"], [], "table")),
        (["-e", "cl100k_base", "a", "--format=json", "-f", "csv"], (["a"], ["cl100k_base"], "csv")),
        (["--encoding=o200k_base", "-e", "cl100k_base", "-e", "o200k_base"], ([], ["o200k_base", "cl100k_base", "o200k_base"], "table")),
        ([], ([], [], "table")),
    ],
)
def test_the_plain_count_s_arguments_are_read_as_click_reads_them(argv, expected):
    args = fastpath.parse_tokenize(argv)
    assert args is not None and (args.paths, args.encodings, args.output_format) == expected


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["-h"], ["a", "--show"], ["-e", "p50k_base"], ["-f", "JSON"], ["-e"], ["--", "-a"], ["-ecl100k_base"], ["-e=cl100k_base"], ["--model", "gpt-4o"], ["--text", "hi"]],
)
def test_anything_else_goes_to_typer(argv):
    assert fastpath.parse_tokenize(argv) is None


def test_a_hint_is_kept_only_when_tokenize_takes_the_options_it_names():
    command = typer.main.get_command(cli.build_app("tokenize")).commands["tokenize"]  # type: ignore[attr-defined]
    options = {"--help", "-h", *(o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-"))}
    assert options == fastpath.TOKENIZE_OPTIONS
    assert hint_if_taken("use --keep-going or --encoding-errors replace", fastpath.TOKENIZE_OPTIONS) is not None
    assert hint_if_taken("use --per-file", fastpath.TOKENIZE_OPTIONS) is None


def _both(argv: list[str], cwd, stdin: bytes = b"") -> list[tuple[int, str, str]]:
    env = {**os.environ, "COLUMNS": "100"}
    out = []
    for cmd in (LEAN, TYPER):
        r = subprocess.run([*cmd, *argv], input=stdin, capture_output=True, cwd=cwd, env=env)
        out.append((r.returncode, r.stdout.decode(), r.stderr.decode()))
    return out


CASES = {
    "json, one encoding": (["-e", "cl100k_base", "-f", "json", "a.txt", "b.txt"], b""),
    "table, both encodings": (["a.txt"], b""),
    "csv and markdown of a directory with a binary file": (["-f", "csv", "-f", "markdown", "."], b""),
    "stdin": (["-f", "json", "-"], "naïve café ☕ <|endoftext|>\n".encode()),
    "a missing file": (["a.txt", "missing.txt"], b""),
    "invalid UTF-8 (its hint names tokenize's --encoding-errors)": (["bad.txt"], b""),
}


@pytest.mark.parametrize("case", CASES)
def test_the_lean_path_says_what_the_typer_command_says(case, tmp_path):
    (tmp_path / "a.txt").write_text("Summarise this text in one line, please. naïve café\n" * 30, encoding="utf-8")
    (tmp_path / "b.txt").write_text("def f(x):\n    return x * 2\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01binary")
    argv, stdin = CASES[case]
    lean, typers = _both(argv, tmp_path, stdin)
    assert lean == typers
    assert lean[0] in (0, 2) and (lean[1] or lean[2])


def test_the_lean_path_loads_no_typer(tmp_path):
    prompt = tmp_path / "p.txt"
    prompt.write_text("hello world\n", encoding="utf-8")
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in ('typer', 'click', 'rich', 'pydantic', 'tokopt.cli._common') if m in sys.modules), file=sys.stderr))\n"
        "sys.argv = ['tokopt', 'tokenize', '-f', 'json', sys.argv[1]]\n"
        "from tokopt.fastpath import main\n"
        "main()\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(prompt)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total"]["o200k_base_tokens"] == 3
    assert ast.literal_eval(r.stderr.strip().splitlines()[-1]) == []
