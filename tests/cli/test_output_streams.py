"""Output that never lies or crashes: widths, character sets, pipes and closed streams, and
numbers too big for Decimal's default precision.

- Widths: at any COLUMNS (0, 20, 80) or piped, a table never cuts a number; the columns left
  out are the ones named; no line ends in spaces; notes go to stderr when stdout is not a terminal.
- Character sets: with PYTHONIOENCODING=ascii or latin-1, every command prints (≈ ✓ ✗ × and
  the rules fall back to ASCII) and JSON still decodes to the same document.
- Pipes: a reader that leaves ends tokopt quietly with the code it would have had; a full disk
  or a closed stdout is one error line and exit 2; a closed stderr never sends anything to stdout.
- Big valid numbers render, in every format.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import one_error_line
from tests.ledger_files import openai_chat, write_jsonl
from tokopt.cli import app

PROMPT = "You are a careful assistant. Summarise the document below in three bullet points.\n" * 3


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKOPT_USER", "alice")
    (tmp_path / "prompt.txt").write_text(PROMPT, encoding="utf-8")
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "a.txt").write_text(PROMPT, encoding="utf-8")
    (tmp_path / "tokopt.toml").write_text(
        '[[budgets]]\nname = "prompts"\npaths = ["prompts/*"]\nmodels = ["gpt-5.5", "claude-opus-4-8"]\nmax_tokens = 10\n', encoding="utf-8"
    )
    write_jsonl(tmp_path / "log.jsonl", [openai_chat(f"c{i}", prompt=10**6 * i, completion=10**5) for i in range(1, 4)])
    assert run("session", "import", "log.jsonl").exit_code == 0
    return tmp_path


TABLES = {
    "estimate": (["estimate", "prompt.txt", "-n", str(10**15)], 0),
    "models": (["models"], 0),
    "check": (["check", "--calls-per-month", str(10**12)], 1),
    "session report": (["session", "report", "--by", "model"], 0),
    "tokenize": (["tokenize", "prompt.txt", "-m", "claude-opus-4-8"], 0),
    "suggest": (["suggest", "prompt.txt", "-t", "gpt-5.5", "-n", str(10**15)], 0),
}
NUMBER = re.compile(r"[$≈+-]?\d[\d,.]*[KMB]?%?")
ABBREVIATED = re.compile(r"\d[KMB]$")  # 1.2M: a count shortened on purpose (issue 14), said so in a note


def numbers(text: str, *, abbreviated: bool = False) -> set[str]:
    """The numbers in `text`; counts abbreviated to fit left out when the notes say they are."""
    return {n for n in NUMBER.findall(text) if not (abbreviated and ABBREVIATED.search(n))}


def hidden(stderr: str) -> list[str]:
    m = re.search(r"not shown at this width: (.*) \(wider terminal", stderr)
    return m.group(1).split(", ") if m else []


def first_row_cells(stdout: str) -> int:
    """How many cells the first row under the header rule has (columns are 3+ spaces apart)."""
    lines = stdout.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.strip().startswith("─"))
    return len(re.split(r" {3,}", lines[rule + 1].strip()))


@pytest.mark.parametrize("columns", ["0", "20", "80"])
@pytest.mark.parametrize("command", list(TABLES))
def test_a_table_never_cuts_a_number_and_names_what_it_leaves_out(run, ws, monkeypatch, command, columns):
    args, code = TABLES[command]
    monkeypatch.delenv("COLUMNS")
    natural = run(*args)
    monkeypatch.setenv("COLUMNS", columns)
    narrow = run(*args)
    assert (natural.exit_code, narrow.exit_code) == (code, code), narrow.stderr
    assert narrow.stdout.strip(), "something is printed"
    shortened = "token counts abbreviated to fit" in narrow.stderr
    assert numbers(narrow.stdout, abbreviated=shortened) <= numbers(natural.stdout), f"cut: {numbers(narrow.stdout, abbreviated=shortened) - numbers(natural.stdout)}"
    for out in (narrow.stdout, narrow.stderr, natural.stdout, natural.stderr):
        assert all(line == line.rstrip(" ") for line in out.splitlines()), "a line ends in spaces"
    if columns == "0":
        assert narrow.stdout == natural.stdout  # COLUMNS=0 is no width at all, not zero
    if "─" in narrow.stdout:
        assert first_row_cells(narrow.stdout) + len(hidden(narrow.stderr)) == first_row_cells(natural.stdout)


def test_piped_output_is_at_natural_width_with_notes_on_stderr(run, ws, monkeypatch):
    monkeypatch.delenv("COLUMNS")
    r = run("estimate", "prompt.txt", "--all")
    assert r.exit_code == 0
    assert "not shown at this width" not in r.stderr
    assert "prices as of" in r.stderr and "prices as of" not in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) > 80  # every column, however wide


def test_a_real_pipe_gets_the_natural_width(ws):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    r = subprocess.run([sys.executable, "-m", "tokopt", "estimate", "prompt.txt", "-n", str(10**15)], capture_output=True, text=True, cwd=ws, env=env)
    assert r.returncode == 0, r.stderr
    assert "$" in r.stdout and "not shown" not in r.stderr
    assert all(line == line.rstrip() for line in r.stdout.splitlines())


# --- character sets -------------------------------------------------------------------------

CHARSET_COMMANDS = [
    (["estimate", "prompt.txt", "-m", "claude-opus-4-8", "-m", "gpt-5.5"], 0),
    (["estimate", "prompt.txt", "-m", "claude-opus-4-8", "-f", "json"], 0),
    (["estimate", "prompt.txt", "-m", "claude-opus-4-8", "-f", "markdown"], 0),
    (["check"], 1),
    (["check", "-f", "json"], 1),
    (["models", "claude-opus-4-8"], 0),
    (["tokenize", "prompt.txt", "--show"], 0),
    (["session", "report", "-f", "csv"], 0),
]


def tokopt(ws: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, "COLUMNS": "120", **env}
    return subprocess.run([sys.executable, "-m", "tokopt", *args], capture_output=True, cwd=ws, env=full)


@pytest.mark.parametrize("charset", ["ascii", "latin-1"])
def test_a_terminal_that_cannot_show_unicode_gets_ascii_fallbacks(ws, charset):
    narrow = CliRunner(charset=charset)  # stdout and stderr in this charset, as a terminal's
    for args, code in CHARSET_COMMANDS:
        r = narrow.invoke(app, args, catch_exceptions=False)
        assert r.exit_code == code, (args, r.stderr)
        assert r.stdout and "Traceback" not in r.stderr
        r.stdout_bytes.decode(charset)  # strict: every byte is the charset's
        assert "≈" not in r.stdout and "✗" not in r.stdout and "─" not in r.stdout
        if "json" in args:
            assert json.loads(r.stdout) == json.loads(CliRunner().invoke(app, args).stdout)  # the same data
    table = narrow.invoke(app, CHARSET_COMMANDS[0][0]).stdout
    assert "~" in table and " ---" in table  # ≈ and the rule under the header


def test_pythonioencoding_ascii_in_a_real_process(ws):
    r = tokopt(ws, ["estimate", "prompt.txt", "-m", "claude-opus-4-8"], PYTHONIOENCODING="ascii")
    assert r.returncode == 0, r.stderr
    assert "~" in r.stdout.decode("ascii") and "approximate" in r.stderr.decode("ascii")


# --- pipes and closed streams ------------------------------------------------------------------


def with_reader_gone(ws: Path, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    read, write = os.pipe()
    os.close(read)  # the reader left before the first byte: every write is a broken pipe
    try:
        return subprocess.run([sys.executable, "-m", "tokopt", *args], stdout=write, stderr=subprocess.PIPE, cwd=ws)
    finally:
        os.close(write)


@pytest.mark.parametrize(
    ("args", "code"),
    [(["models"], 0), (["estimate", "prompt.txt", "-f", "json"], 0), (["check"], 1), (["check", "--warn-only"], 0), (["check", "-f", "github"], 1)],
    ids=lambda a: " ".join(a) if isinstance(a, list) else str(a),
)
def test_a_reader_that_leaves_ends_tokopt_quietly_with_its_own_code(ws, args, code):
    r = with_reader_gone(ws, args)
    assert r.returncode == code, r.stderr
    assert r.stderr == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("args", [["models"], ["estimate", "prompt.txt", "-f", "json"], ["check"]], ids=" ".join)
def test_a_full_disk_is_one_error_and_exit_2(ws, args):
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "tokopt", *args], stdout=full, stderr=subprocess.PIPE, cwd=ws, text=True)
    assert r.returncode == 2, r.stderr
    assert one_error_line(r.stderr) == "error: cannot write output: no space left on device"


def test_a_closed_stdout_is_one_error_and_exit_2(ws):
    r = subprocess.run([sys.executable, "-m", "tokopt", "models"], stderr=subprocess.PIPE, cwd=ws, text=True, preexec_fn=lambda: os.close(1))
    assert r.returncode == 2, r.stderr
    assert one_error_line(r.stderr) == "error: cannot write output: stdout is closed"


def test_a_closed_stderr_sends_nothing_to_stdout_and_no_message_into_a_file(ws):
    def closed_stderr() -> None:
        os.close(2)

    r = subprocess.run([sys.executable, "-m", "tokopt", "estimate", "missing.txt"], capture_output=False, stdout=subprocess.PIPE, cwd=ws, preexec_fn=closed_stderr)
    assert (r.returncode, r.stdout) == (2, b"")
    # a ledger opened while fd 2 is closed must not become fd 2, where messages would land
    ledger = ws / "closed.sqlite3"
    args = ["session", "record", "-m", "gpt-5.5", "-i", "10", "--run", "x", "--ledger", str(ledger)]
    r = subprocess.run([sys.executable, "-m", "tokopt", *args], stdout=subprocess.PIPE, cwd=ws, preexec_fn=closed_stderr)
    assert r.returncode == 0
    report = tokopt(ws, ["session", "report", "--ledger", str(ledger), "-f", "json"])
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["total"]["records"] == 1


# --- big valid numbers ---------------------------------------------------------------------------

BIG_LIMITS = ["max_tokens = 1234567890123456789012345678", "max_cost_per_call = 1e30", "max_cost_per_call = 1e-28", "max_context_share = 1e-30", "max_monthly_cost = 1e30\ncalls_per_month = 1000000000000"]


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "github", "junit"])
@pytest.mark.parametrize("limit", BIG_LIMITS)
def test_any_limit_that_validates_renders(run, ws, limit, fmt):
    (ws / "prompts" / "huge.json").write_text(
        json.dumps({"model": "gpt-5.5", "max_tokens": 10**30, "messages": [{"role": "user", "content": "hi"}]}), encoding="utf-8"
    )
    (ws / "tokopt.toml").write_text(f'[[budgets]]\nname = "p"\npaths = ["prompts/*"]\nmodels = ["gpt-5.5"]\n{limit}\n', encoding="utf-8")
    r = run("check", "--format", fmt)
    assert r.exit_code in (0, 1), r.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
@pytest.mark.parametrize("command", ["estimate", "tokenize", "suggest"])
def test_a_request_with_a_huge_max_tokens_renders(run, ws, command, fmt):
    (ws / "huge.json").write_text(json.dumps({"model": "gpt-5.5", "max_tokens": 10**30, "messages": [{"role": "user", "content": "hi"}]}), encoding="utf-8")
    r = run(command, "huge.json", "--format", fmt, *(["-n", str(10**30)] if command != "tokenize" else []))
    assert r.exit_code == 0, r.stderr
    if fmt == "json":
        json.loads(r.stdout)
