"""Every command x every kind of bad input: exactly one `error:` line (maybe `hint:` lines),
exit 2, no traceback, nothing written. The message names what the user must fix.

Driven through the real app (the `run` fixture: catch_exceptions=False, so a traceback fails
the test) on real files in tmp_path, plus a few subprocess runs of `python -m tokopt`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import typer.core
import typer.main

from tests.helpers import one_error_line
from tests.ledger_files import openai_chat, write_jsonl
from tokopt.cli import app

LATE_BAD_OFFSET = 3 * 5000  # "ok\n" * 5000, then a bad byte: past every 8 KB sniff
DEEP = '{"messages": ' + "[" * 50_000 + "]" * 50_000 + "}"  # deeper than Python's json can recurse


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """A working directory with one file of every kind of bad (and one good) input."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKOPT_USER", "alice")
    (tmp_path / "prompt.txt").write_text("You are a helpful assistant. Summarise the text below.\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "binary.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "latin1.txt").write_bytes("café au lait\n".encode("latin-1"))
    (tmp_path / "late.txt").write_bytes(b"ok\n" * 5000 + b"\xff\n")
    (tmp_path / "bad.json").write_text('{"messages": [\n  {"role": "user", "content": "hi"}\n  "x"]}\n', encoding="utf-8")
    good_line = json.dumps({"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]})
    (tmp_path / "bad.jsonl").write_text(f'{good_line}\n{{"messages": [\n{good_line}\n', encoding="utf-8")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone.txt")
    (tmp_path / "deep.json").write_text(DEEP, encoding="utf-8")
    (tmp_path / "deep.jsonl").write_text(f"{good_line}\n{DEEP}\n", encoding="utf-8")
    return tmp_path


@functools.cache
def _tree() -> typer.core.TyperCommand:
    return typer.main.get_command(app)  # built once: 0.06 s, for each of some 400 error cases


def command_of(args: list[str]) -> typer.core.TyperCommand:
    """The click command `args` runs (following groups such as `session`)."""
    command = _tree()
    for token in args:
        sub = getattr(command, "commands", {}).get(token)
        if sub is None:
            break
        command = sub
    return command


def assert_error(result, args: list[str], *expected: str) -> str:
    """Exit 2, one error line naming every `expected` text, stdout empty, and every option a hint
    names is one this command has (a hint must be something the user can do)."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    line = one_error_line(result.stderr)
    for text in expected:
        assert text in line, (text, line)
    assert result.stdout == ""
    options = {"--help", *(opt for p in command_of(args).params for opt in (*p.opts, *p.secondary_opts))}
    for hint in (h for h in result.stderr.splitlines() if h.startswith("hint: ")):
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", hint):
            assert flag in options, f"{' '.join(args[:2])} has no {flag}, yet the hint names it: {hint}"
    return line


# --- inputs: every command that reads prompts ---------------------------------------------------

READERS = {
    "estimate": ["estimate", "-m", "gpt-5.5"],
    "tokenize": ["tokenize"],
    "suggest": ["suggest", "-t", "gpt-5.5"],
}

INPUT_CASES = {
    "missing file": (["missing.txt"], None, ["file not found: missing.txt"]),
    "directory without text": (["empty_dir"], None, ["no text files in directory: empty_dir"]),
    "glob matching nothing": (["nomatch-*.txt"], None, ["no files match: nomatch-*.txt"]),
    "broken symlink": (["dangling"], None, ["dangling"]),
    "binary file": (["binary.bin"], None, ["binary file", "binary.bin"]),
    "invalid UTF-8": (["latin1.txt"], None, ["latin1.txt", "invalid UTF-8 at byte 3"]),
    "invalid UTF-8 past the sniff": (["late.txt"], None, ["late.txt", f"invalid UTF-8 at byte {LATE_BAD_OFFSET}"]),
    "malformed JSON": (["bad.json"], None, ["bad.json:3:3", "malformed JSON"]),
    "malformed JSONL": (["bad.jsonl"], None, ["bad.jsonl:2", "malformed JSON at column 15"]),
    "JSON nested too deeply": (["deep.json"], None, ["deep.json", "nested too deeply"]),
    "a JSONL line nested too deeply": (["deep.jsonl"], None, ["deep.jsonl:2", "nested too deeply"]),
    "a good file, then a bad one": (["prompt.txt", "binary.bin"], None, ["binary.bin"]),
    "binary stdin": (["-"], b"\x00\x01\x02binary", ["binary file", "<stdin>"]),
    "invalid UTF-8 on stdin": (["-"], "café".encode("latin-1"), ["<stdin>", "invalid UTF-8 at byte 3"]),
    "malformed JSON on stdin": (["-"], b'{"messages": [', ["<stdin>:1:15", "malformed JSON"]),
}


@pytest.mark.parametrize("case", list(INPUT_CASES))
@pytest.mark.parametrize("command", list(READERS))
def test_bad_prompt_input(run, ws, command, case):
    paths, stdin, expected = INPUT_CASES[case]
    args = [*READERS[command], *paths]
    assert_error(run(*args, input=stdin), args, *expected)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
@pytest.mark.parametrize("command", list(READERS))
def test_unreadable_file(run, ws, command):
    (ws / "prompt.txt").chmod(0)
    args = [*READERS[command], "prompt.txt"]
    assert_error(run(*args), args, "permission denied", "prompt.txt")


@pytest.mark.parametrize("stdin", [None, b"", b"\n\n"], ids=["empty file", "empty stdin", "blank stdin"])
@pytest.mark.parametrize("command", list(READERS))
def test_empty_input_is_zero_tokens_not_an_error(run, ws, command, stdin):
    args = [*READERS[command], "empty.txt" if stdin is None else "-", "-f", "json"]
    r = run(*args, input=stdin)
    assert r.exit_code == 0, r.stderr
    json.loads(r.stdout)


def test_empty_file_counts_zero_tokens(run, ws):
    doc = json.loads(run("tokenize", "empty.txt", "-f", "json").stdout)
    assert (doc["total"]["o200k_base_tokens"], doc["total"]["cl100k_base_tokens"]) == (0, 0)


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["missing.txt"], ["file not found: missing.txt"]),
        (["empty_dir"], ["no text files in directory: empty_dir"]),
        ([__file__], ["not inside the project directory"]),
    ],
)
def test_init_bad_prompt_input(run, ws, paths, expected):
    args = ["init", "--stdout", *paths]
    assert_error(run(*args), args, *expected)
    assert not (ws / "tokopt.toml").exists()


@pytest.mark.parametrize(("source", "name"), [("binary.bin", "binary.txt"), ("latin1.txt", "latin1.txt")])
def test_init_leaves_out_and_names_what_check_would_not_check(run, ws, source, name):
    (ws / "prompts").mkdir()
    (ws / "prompts" / "system_prompt.txt").write_text("You are terse.\n", encoding="utf-8")
    (ws / source).rename(ws / "prompts" / name)
    for args in (["init", "--stdout"], ["init", "--stdout", f"prompts/{name}", "prompts/system_prompt.txt"]):
        r = run(*args)
        assert r.exit_code == 0, r.stderr
        assert f"warning: prompts/{name}: not UTF-8 text" in r.stderr
        assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["session", "record", "-m", "gpt-5.5", "--from-file", "missing.txt"], ["missing.txt", "does not exist"]),
        (["session", "record", "-m", "gpt-5.5", "--from-file", "empty_dir"], ["empty_dir", "is a directory"]),
        (["session", "record", "-m", "gpt-5.5", "--from-file", "binary.bin"], ["binary file", "binary.bin"]),
        (["session", "record", "-m", "gpt-5.5", "--from-file", "latin1.txt"], ["latin1.txt", "invalid UTF-8 at byte 3"]),
        (["session", "import", "missing.jsonl"], ["file not found: missing.jsonl"]),
        (["session", "import", "empty_dir"], ["no usage logs", "empty_dir"]),
        (["session", "import", "binary.bin"], ["nothing could be read from binary.bin"]),
        (["session", "import", "latin1.txt"], ["nothing could be read from latin1.txt", "line 1"]),
        (["session", "import", "prompt.txt"], ["nothing could be read from prompt.txt", "line 1: not JSON"]),
    ],
)
def test_session_bad_input_files(run, ws, args, expected):
    assert_error(run(*args), args, *expected)
    assert not (ws / "tokopt-home" / "ledger.sqlite3").exists()


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["session", "import", "-"], b"\x00\x01binary", ["nothing could be read from <stdin>"]),
        (["session", "import", "-"], "café".encode("latin-1"), ["<stdin>", "invalid UTF-8"]),
        (["session", "record", "--stdin"], b"\x00\x01binary\n", ["stdin line 1", "not JSON"]),
        (["session", "record", "--stdin"], "café\n".encode("latin-1"), ["stdin line 1", "not JSON"]),
        (["session", "record", "--stdin"], b"", ["no usage records on stdin"]),
        (["session", "record", "--stdin"], b'{"model": "gpt-5.5", "input": 3}\n{"model": "gpt-5.5", "input": 3,\n', ["stdin line 2"]),
        (["session", "record", "--stdin"], b'{"model": "gpt-5.5", "input": 3}\n{"model": "gpt-5.5", "input": 3, "cached": 5}\n', ["stdin line 2", "exceed"]),
        (["session", "record", "--stdin"], b'{"model": "gpt-5.5", "inptu": 3}\n', ["stdin line 1", "inptu: unknown key"]),
        (["session", "record", "--stdin"], b'[{"model": "gpt-5.5", "input": 3}]\n', ["stdin line 1", "expected a JSON object"]),
        (["session", "record", "--stdin"], DEEP.encode(), ["stdin line 1", "nested too deeply"]),
        (["session", "record", "--stdin"], b'{"model": "gpt-5.5", "input": 3}\n{"model": "gpt-5.5", "output": 1e23}\n', ["stdin line 2", "output"]),
        (["session", "record", "--stdin"], b'{"model": "gpt-5.5", "input": 100000000000000000000000}\n', ["stdin line 1", "more than"]),
        (["session", "import", "-"], json.dumps(openai_chat("c1", prompt=10**23, completion=1)).encode(), ["<stdin>", "more than"]),
        (["session", "import", "-"], ("[" * 50_000 + "]" * 50_000).encode(), ["nothing could be read from <stdin>"]),
    ],
)
def test_session_bad_stdin(run, ws, args, stdin, expected):
    assert_error(run(*args, input=stdin), args, *expected)


@pytest.mark.parametrize("stdin", [b"", b"\n\n"], ids=["empty", "blank"])
def test_importing_an_empty_log_adds_nothing_and_is_not_an_error(run, ws, stdin):
    (ws / "empty.jsonl").write_bytes(stdin)
    for args in (["session", "import", "-", "-f", "json"], ["session", "import", "empty.jsonl", "-f", "json"]):
        r = run(*args, input=stdin)
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout)["added"] == 0


# --- pricing files: --pricing FILE and TOKOPT_PRICING -----------------------------------------

NEW_MODEL = (
    '[models."acme-1"]\nprovider = "openai"\nsource = "ours"\ntier = "fast"\nas_of = 2026-11-01\n'
    'tokenizer = { encoding = "o200k_base", exact = true }\nmax_output = 1000\ninput = 1\noutput = 2\n'
)
PRICING_CASES = {
    "negative price": ('[models."gpt-5.5"]\ninput = -1\n', ["model 'gpt-5.5'", "input", "greater than or equal to 0"]),
    "unknown key": ('[models."gpt-5.5"]\ninptu = 1\n', ["model 'gpt-5.5'", "inptu: unknown key"]),
    "missing output price": (NEW_MODEL.replace("output = 2\n", ""), ["model 'acme-1'", "output: missing"]),
    "TOML syntax error": ('[models."gpt-5.5"\ninput = 1\n', ["invalid TOML", "line 1"]),
    "unknown top-level key": ("currency = 'EUR'\n", ["unknown top-level key 'currency'"]),
    "model not a table": ('[models]\n"gpt-5.5" = 3\n', ["model 'gpt-5.5'", "expected a table"]),
    "not UTF-8": (b"\xff\xfe[models]\n", ["not UTF-8"]),
    "missing file": (None, ["pricing file not found"]),
}
CATALOG_USERS = {
    "models": ["models"],
    "estimate": ["estimate", "prompt.txt"],
    "tokenize -m": ["tokenize", "prompt.txt", "-m", "gpt-5.5"],
    "suggest": ["suggest", "prompt.txt"],
    "init": ["init", "--stdout", "prompt.txt"],
    "session record": ["session", "record", "-m", "gpt-5.5", "-i", "10"],
    "session import": ["session", "import", "log.jsonl"],
    "check": ["check"],
}


def write_pricing(ws: Path, content: str | bytes | None) -> Path:
    path = ws / "ours.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    return path


def small_project(ws: Path) -> None:
    (ws / "prompts").mkdir(exist_ok=True)
    (ws / "prompts" / "a.txt").write_text("You are terse.\n", encoding="utf-8")
    (ws / "tokopt.toml").write_text('[[budgets]]\nname = "p"\npaths = ["prompts/*"]\nmax_tokens = 1000\n', encoding="utf-8")


@pytest.mark.parametrize("via", ["--pricing", "TOKOPT_PRICING"])
@pytest.mark.parametrize("case", list(PRICING_CASES))
@pytest.mark.parametrize("command", list(CATALOG_USERS))
def test_broken_pricing_file(run, ws, monkeypatch, command, case, via):
    content, expected = PRICING_CASES[case]
    path = write_pricing(ws, content)
    write_jsonl(ws / "log.jsonl", [openai_chat("c1", prompt=10, completion=2)])
    small_project(ws)
    args = list(CATALOG_USERS[command])
    if via == "--pricing":
        args += ["--pricing", "ours.toml"]
    else:
        monkeypatch.setenv("TOKOPT_PRICING", str(path))
    assert_error(run(*args), args, "ours.toml", *expected)
    assert not (ws / "tokopt-home" / "ledger.sqlite3").exists()


def test_an_alias_that_takes_a_bundled_models_name_blames_the_users_file(run, ws):
    write_pricing(ws, '[models."gpt-5.5"]\naliases = ["gpt-5.4"]\n')
    args = ["models", "--pricing", "ours.toml"]
    assert_error(run(*args), args, "ours.toml: model 'gpt-5.5': name 'gpt-5.4' is already used by 'gpt-5.4'")


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "prompt.txt", "-m", "gpt-5.5", "-n", str(10**30)],
        ["suggest", "prompt.txt", "-t", "gpt-5.5", "-n", str(10**30)],
        ["estimate", "prompt.txt", "-m", "gpt-5.5", "--pricing", "huge.toml"],
        ["models", "gpt-5.5", "--pricing", "huge.toml"],
    ],
    ids=lambda a: " ".join(a[:1] + a[-2:]),
)
def test_absurd_but_valid_numbers_are_shown_not_crashed_on(run, ws, args):
    (ws / "huge.toml").write_text('[models."gpt-5.5"]\ninput = 1e400\n', encoding="utf-8")
    r = run(*args)
    assert r.exit_code == 0, r.stderr


def test_pricing_path_that_is_a_directory(run, ws):
    args = ["models", "--pricing", "empty_dir"]
    assert_error(run(*args), args, "is a directory", "empty_dir")


def test_a_broken_pricing_directory(run, ws, monkeypatch):
    for value, expected in [("nowhere", "pricing directory not found"), ("empty_dir", "no pricing files (*.toml) in empty_dir")]:
        monkeypatch.setenv("TOKOPT_PRICING_DIR", value)
        assert_error(run("models"), ["models"], expected)
    (ws / "empty_dir" / "acme.toml").write_text('provider = "acme"\n[models."x"]\ninput = -1\n', encoding="utf-8")
    assert_error(run("estimate", "prompt.txt"), ["estimate"], "acme.toml", "model 'x'")


def test_project_config_pricing_entry_that_is_broken(run, ws):
    small_project(ws)
    write_pricing(ws, '[models."gpt-5.5"]\ninput = -1\n')
    (ws / "tokopt.toml").write_text('pricing = ["ours.toml"]\n' + (ws / "tokopt.toml").read_text())
    assert_error(run("check"), ["check"], "ours.toml", "model 'gpt-5.5'", "input")
    (ws / "tokopt.toml").write_text((ws / "tokopt.toml").read_text().replace("ours.toml", "nope.toml"))
    assert_error(run("check"), ["check"], "tokopt.toml", "pricing[0]", "nope.toml")


@pytest.mark.parametrize("where", ["parent", "absolute", "symlink", "subdir then parent"])
def test_a_project_config_cannot_name_pricing_files_outside_the_project(run, ws, where):
    # a config arrives with a repository: it may not make tokopt read /etc/... or ../../x
    project = ws / "repo"
    project.mkdir()
    small_project(project)
    outside = ws / "outside.toml"
    outside.write_text(
        'provider = "acme"\nas_of = 2026-01-01\nsource = "test"\n[models.acme-1]\ntier = "mini"\ncontext_window = 1000\n'
        'max_output = 100\ninput = 1\noutput = 2\ntokenizer = { encoding = "o200k_base", exact = true }\n',
        encoding="utf-8",
    )
    name = {"parent": "../outside.toml", "absolute": str(outside), "symlink": "link.toml", "subdir then parent": "prompts/../../outside.toml"}[where]
    if where == "symlink":
        (project / "link.toml").symlink_to(outside)
    config = project / "tokopt.toml"
    config.write_text(f"pricing = [{json.dumps(name)}]\n" + config.read_text(), encoding="utf-8")
    os.chdir(project)
    assert_error(run("check"), ["check"], "tokopt.toml", "pricing[0]", "outside the project")
    # the user may name it: on the command line it is theirs to choose
    config.write_text(config.read_text().split("\n", 1)[1], encoding="utf-8")
    r = run("check", "--pricing", str(outside))
    assert r.exit_code == 0, r.stderr


# --- the user's config: TOKOPT_CONFIG -----------------------------------------------------------

CONFIG_CASES = {
    "TOML syntax error": ("[defaults\n", ["invalid TOML", "line 1"]),
    "unknown key": ('[defaults]\nmodles = ["gpt-5.5"]\n', ["defaults.modles: unknown key"]),
    "unknown table": ("[default]\ncalls = 5\n", ["default: unknown key"]),
    "negative value": ("[defaults]\noutput_tokens = -3\n", ["defaults.output_tokens", "greater than or equal to 0"]),
    "wrong type": ('[defaults]\ncalls = "many"\n', ["defaults.calls"]),
    "defaults not a table": ("defaults = 3\n", ["defaults: expected a table"]),
    "unknown model": ('[defaults]\nmodels = ["gpt-5.55"]\n', ["defaults.models", "unknown model: gpt-5.55"]),
    "missing file": (None, ["config file not found"]),
    "a directory": ("DIR", ["is a directory"]),
}
CONFIG_USERS = {
    "estimate": ["estimate", "prompt.txt"],
    "suggest": ["suggest", "prompt.txt"],
    "init": ["init", "--stdout", "prompt.txt"],
    "check": ["check"],
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
@pytest.mark.parametrize("command", list(CONFIG_USERS))
def test_broken_user_config(run, ws, monkeypatch, command, case):
    content, expected = CONFIG_CASES[case]
    path = ws / "config.toml"
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("TOKOPT_CONFIG", str(path))
    small_project(ws)
    args = CONFIG_USERS[command]
    assert_error(run(*args), args, "config.toml", *expected)


def test_unknown_model_in_the_user_config_is_hinted(run, ws, monkeypatch):
    (ws / "config.toml").write_text('[defaults]\nmodels = ["gpt-5.55"]\n', encoding="utf-8")
    monkeypatch.setenv("TOKOPT_CONFIG", str(ws / "config.toml"))
    r = run("estimate", "prompt.txt")
    assert "hint: did you mean gpt-5.5" in r.stderr


# --- the project config: tokopt.toml and [tool.tokopt] --------------------------------------------

BUDGET = '[[budgets]]\nname = "p"\npaths = ["prompts/*"]\n'
PROJECT_CASES = {
    "TOML syntax error": ("[[budgets]\n", ["invalid TOML", "(at line"]),
    "unknown key": (BUDGET + "max_tokns = 10\n", ["budgets[0].max_tokns: unknown key"]),
    "negative limit": (BUDGET + "max_tokens = -1\n", ["budgets[0].max_tokens", "greater than or equal to 0"]),
    "no limit": (BUDGET, ["budgets[0]", "no limit"]),
    "unknown model": (BUDGET + 'max_tokens = 10\nmodels = ["gpt-5.55"]\n', ["budgets[0].models", "unknown model: gpt-5.55"]),
    "unknown default model": ('[defaults]\nmodels = ["gpt-5.55"]\n' + BUDGET + "max_tokens = 10\n", ["defaults.models", "gpt-5.55"]),
    "bad glob": ('[[budgets]]\nname = "p"\npaths = ["prompts/[*"]\nmax_tokens = 10\n', ["budgets[0].paths[0]", "bad glob"]),
    "budgets not a list": ("budgets = 3\n", ["budgets"]),
    "no budgets": ("", ["no budgets"]),
    "not UTF-8": (b"\xff\xfe\n", ["not UTF-8"]),
}


@pytest.mark.parametrize("where", ["tokopt.toml", "pyproject.toml"])
@pytest.mark.parametrize("case", list(PROJECT_CASES))
def test_broken_project_config(run, ws, case, where):
    content, expected = PROJECT_CASES[case]
    (ws / "prompts").mkdir()
    (ws / "prompts" / "a.txt").write_text("You are terse.\n", encoding="utf-8")
    if where == "pyproject.toml":
        if isinstance(content, bytes):
            content = b"[tool.tokopt]\n" + content
        else:
            # every table of the project file moves under [tool.tokopt]
            content = "[tool.tokopt]\n" + content.replace("[[budgets]", "[[tool.tokopt.budgets]").replace("[defaults]", "[tool.tokopt.defaults]")
            expected = [e.replace("budgets[0]", "tool.tokopt.budgets[0]").replace("defaults.models", "tool.tokopt.defaults.models") for e in expected]
    path = ws / where
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    assert_error(run("check"), ["check"], where, *expected)


def test_pyproject_tool_tokopt_that_is_not_a_table(run, ws):
    (ws / "pyproject.toml").write_text("[tool]\ntokopt = 3\n", encoding="utf-8")
    assert_error(run("check"), ["check"], "pyproject.toml", "tool.tokopt: expected a table")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check"], ["no project config"]),
        (["check", "--config", "nope.toml"], ["project config not found: nope.toml"]),
        (["check", "--config", "empty_dir"], ["is a directory", "empty_dir"]),
        (["check", "--config", "prompt.txt"], ["prompt.txt", "invalid TOML"]),
    ],
)
def test_missing_or_wrong_project_config(run, ws, args, expected):
    assert_error(run(*args), args, *expected)


def test_check_named_files_that_do_not_exist(run, ws):
    small_project(ws)
    args = ["check", "prompts/a.txt", "prompts/typo.txt"]
    assert_error(run(*args), args, "file not found: prompts/typo.txt")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.json", '{"messages": [\n  "x"\n', ["prompts/bad.json:3:1", "malformed JSON"]),
        ("bad.jsonl", '{"messages": [{"role": "user", "content": "a"}]}\n{"messages": [\n', ["prompts/bad.jsonl:2", "malformed JSON"]),
        ("deep.json", DEEP, ["prompts/deep.json", "nested too deeply"]),
    ],
)
def test_check_malformed_request_files(run, ws, name, content, expected):
    small_project(ws)
    (ws / "prompts" / name).write_text(content, encoding="utf-8")
    assert_error(run("check"), ["check"], *expected)


def test_check_skips_binary_files_with_a_warning(run, ws):
    small_project(ws)
    (ws / "binary.bin").rename(ws / "prompts" / "binary.bin")
    r = run("check")
    assert r.exit_code == 0, r.stderr
    assert "warning: prompts/binary.bin: not UTF-8 text, not checked" in r.stderr


# --- models and option values ---------------------------------------------------------------------

UNKNOWN_MODEL = {
    "models": ["models", "gpt-5.55"],
    "models glob": ["models", "gpt-5.55*"],
    "estimate": ["estimate", "prompt.txt", "-m", "gpt-5.55"],
    "estimate --suggest": ["estimate", "prompt.txt", "-m", "gpt-5.55", "--suggest"],
    "tokenize": ["tokenize", "prompt.txt", "-m", "gpt-5.55"],
    "suggest target": ["suggest", "prompt.txt", "-t", "gpt-5.55"],
    "suggest candidates": ["suggest", "prompt.txt", "-t", "gpt-5.5", "-m", "gpt-5.55"],
    "init": ["init", "--stdout", "prompt.txt", "-m", "gpt-5.55"],
    "check": ["check", "-m", "gpt-5.55"],
    "session record --from-file": ["session", "record", "-m", "gpt-5.55", "--from-file", "prompt.txt"],
}


@pytest.mark.parametrize("command", list(UNKNOWN_MODEL))
def test_unknown_model_suggests_near_names(run, ws, command):
    small_project(ws)
    args = UNKNOWN_MODEL[command]
    assert_error(run(*args), args, "unknown model: gpt-5.55")
    r = run(*args)
    assert "hint: did you mean gpt-5.5" in r.stderr, r.stderr


@pytest.mark.parametrize("args", [["models", "-p", "acme"], ["estimate", "prompt.txt", "-p", "acme"]])
def test_unknown_provider(run, ws, args):
    assert_error(run(*args), args, "unknown provider: acme")


FORMAT_USERS = [
    ["estimate", "prompt.txt"],
    ["tokenize", "prompt.txt"],
    ["models"],
    ["suggest", "prompt.txt"],
    ["check"],
    ["session", "list"],
    ["session", "record", "-m", "gpt-5.5", "-i", "1"],
    ["session", "import", "log.jsonl"],
    ["session", "report"],
]


@pytest.mark.parametrize("args", FORMAT_USERS, ids=lambda a: " ".join(a[:2]))
def test_unknown_format(run, ws, args):
    small_project(ws)
    write_jsonl(ws / "log.jsonl", [openai_chat("c1", prompt=10, completion=2)])
    line = assert_error(run(*args, "--format", "xml"), args, "invalid value for '--format'", "'xml'")
    assert not line.endswith(".") and "Value error" not in line
    assert not (ws / "tokopt-home" / "ledger.sqlite3").exists()


BAD_VALUES = [
    (["estimate", "prompt.txt", "--sort", "size"], "--sort"),
    (["estimate", "prompt.txt", "--input-format", "yaml"], "--input-format"),
    (["estimate", "prompt.txt", "--encoding-errors", "ignore"], "--encoding-errors"),
    (["estimate", "prompt.txt", "--output-tokens", "-5"], "--output-tokens"),
    (["estimate", "prompt.txt", "--calls", "0"], "--calls"),
    (["estimate", "prompt.txt", "--cached-tokens", "lots"], "--cached-tokens"),
    (["tokenize", "prompt.txt", "--encoding", "p50k_base"], "--encoding"),
    (["suggest", "prompt.txt", "--calls", "0"], "--calls"),
    (["check", "--format", "html"], "--format"),
    (["init", "--stdout", "--headroom", "-1"], "--headroom"),
    (["session", "report", "--by", "fortnight"], "--by"),
    (["session", "record", "-m", "gpt-5.5", "-i", "-1"], "--input"),
    (["estimate", "prompt.txt", "--frobnicate"], "no such option: --frobnicate"),
    (["frobnicate"], "no such command"),
]


@pytest.mark.parametrize(("args", "expected"), BAD_VALUES, ids=lambda a: " ".join(a) if isinstance(a, list) else None)
def test_bad_option_values(run, ws, args, expected):
    assert_error(run(*args), args, expected)


def test_usage_errors_inside_session(run, ws):
    for args, expected in [
        (["session", "record", "-m", "gpt-5.5", "-i", "10", "--cached", "11"], "exceed the input tokens"),
        (["session", "record", "-i", "10"], "--model is required"),
        (["session", "record", "-m", "gpt-5.5"], "exactly one of"),
        (["session", "end", "nope"], "no run nope for alice"),
        (["session", "delete", "nope", "--yes"], "no run nope for alice"),
        (["session", "report", "--tz", "Mars/Base"], "unknown time zone: Mars/Base"),
        (["session", "report", "--since", "2026-13-01"], "'--since': not a date: 2026-13-01"),
        (["session", "report", "--since", "yesterday"], "'--since': not a date or time: yesterday"),
        (["session", "report", "--until", "2026-1-1"], "'--until': not a date or time: 2026-1-1"),
        (["session", "blocks", "--since", "nope"], "'--since': not a date or time: nope"),
        (["session", "export", "--until", "nope"], "'--until': not a date or time: nope"),
        (["session", "reprice", "--since", "nope"], "'--since': not a date or time: nope"),
        (["session", "push", "--to", "x.sqlite3", "--since", "nope"], "'--since': not a date or time: nope"),
        (["session", "start", "--label", "novalue"], "key=value"),
        (["session", "record", "-m", "gpt-5.5", "-i", str(10**23)], "input_tokens is more than"),
    ]:
        assert_error(run(*args), args, expected)


def test_suggest_write_errors(run, ws):
    for args, expected in [
        (["suggest", "-t", "gpt-5.5", "prompt.txt", "--write", "prompt.txt"], "overwrite the input itself"),
        (["suggest", "-t", "gpt-5.5", "prompt.txt", "empty.txt", "--write", "out.txt"], "one plain-text prompt"),
        (["suggest", "-t", "gpt-5.5", "prompt.txt", "--write", "empty_dir"], "empty_dir"),
        (["suggest", "-t", "gpt-5.5", "prompt.txt", "--write", "no/such/dir/out.txt"], "no/such/dir/out.txt"),
    ]:
        assert_error(run(*args), args, expected)
    assert (ws / "prompt.txt").read_text().startswith("You are")


# --- the ledger: a directory, a foreign SQLite file, garbage, damage; never written -----------------

LEDGER_USERS = [
    ["session", "start"],
    ["session", "end"],
    ["session", "list"],
    ["session", "delete", "r1", "--yes"],
    ["session", "record", "-m", "gpt-5.5", "-i", "10"],
    ["session", "import", "log.jsonl"],
    ["session", "report"],
    ["check"],
]


def make_ledger_path(run, ws: Path, kind: str) -> Path:
    path = ws / "ledger.sqlite3"
    if kind == "directory":
        path.mkdir()
    elif kind == "garbage":
        path.write_text("this is my shopping list\n")
    elif kind == "foreign SQLite":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE notes (body TEXT)")
        db.execute("INSERT INTO notes VALUES ('mine')")
        db.commit()
        db.close()
    elif kind == "truncated ledger":
        assert run("session", "record", "-m", "gpt-5.5", "-i", "10", "--ledger", str(path)).exit_code == 0
        path.write_bytes(path.read_bytes()[:5000])
    return path


def digest(path: Path) -> str:
    return "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()


LEDGER_EXPECTED = {
    "directory": ["ledger.sqlite3", "is a directory"],
    "garbage": ["ledger.sqlite3 is not a tokopt ledger", "not an SQLite database", "left untouched"],
    "foreign SQLite": ["ledger.sqlite3 is not a tokopt ledger", "another application", "left untouched"],
    "truncated ledger": ["ledger.sqlite3", "damaged", "left untouched"],
}


@pytest.mark.parametrize("via", ["--ledger", "TOKOPT_LEDGER", "TOKOPT_HOME"])
@pytest.mark.parametrize("kind", list(LEDGER_EXPECTED))
@pytest.mark.parametrize("args", LEDGER_USERS, ids=lambda a: " ".join(a[:2]))
def test_a_ledger_path_that_is_not_a_ledger(run, ws, monkeypatch, args, kind, via):
    if via == "TOKOPT_HOME":
        monkeypatch.setenv("TOKOPT_HOME", str(ws))
    path = make_ledger_path(run, ws, kind)
    before = digest(path)
    write_jsonl(ws / "log.jsonl", [openai_chat("c1", prompt=10, completion=2)])
    if args == ["check"]:
        (ws / "tokopt.toml").write_text('[[budgets]]\nname = "spend"\nmax_spend = 5\n', encoding="utf-8")
    full = [*args, "--ledger", str(path)] if via == "--ledger" else list(args)
    if via == "TOKOPT_LEDGER":
        monkeypatch.setenv("TOKOPT_LEDGER", str(path))
    assert_error(run(*full), full, *LEDGER_EXPECTED[kind])
    assert digest(path) == before
    assert sorted(p.name for p in ws.iterdir() if p.name.startswith("ledger")) == ["ledger.sqlite3"]


# --- all or nothing: a bad line in the middle leaves the ledger as it was ---------------------------


def ledger_state(run) -> tuple[dict, dict]:
    report = run("session", "report", "--all-users", "-f", "json")
    runs = run("session", "list", "--all-users", "-f", "json")
    assert report.exit_code == 0 and runs.exit_code == 0
    return json.loads(report.stdout), json.loads(runs.stdout)


def test_record_stdin_with_a_bad_line_in_the_middle_keeps_nothing(run, ws):
    assert run("session", "record", "-m", "gpt-5.5", "-i", "100", "-o", "10").exit_code == 0
    before = ledger_state(run)
    good = [json.dumps({"model": "gpt-5.5", "input": 10 * i, "output": i, "run": "batch-7"}) for i in range(1, 6)]
    for bad in ['{"model": "gpt-5.5", "input": -4}', "not json", '{"model": "gpt-5.5", "input": 5, "cached": 9}', "[1, 2]"]:
        lines = [*good[:3], bad, *good[3:]]
        args = ["session", "record", "--stdin"]
        assert_error(run(*args, input="\n".join(lines) + "\n"), args, "stdin line 4")
        assert ledger_state(run) == before  # no records, and no run "batch-7" either


def test_a_failed_import_keeps_nothing(run, ws):
    assert run("session", "record", "-m", "gpt-5.5", "-i", "100", "-o", "10").exit_code == 0
    before = ledger_state(run)
    write_jsonl(ws / "a.jsonl", [openai_chat(f"a{i}", prompt=100, completion=10) for i in range(3)])
    for args, expected in [
        (["session", "import", "missing.jsonl", "empty_dir", "--run", "imp"], "nothing to import: file not found: missing.jsonl; no usage logs"),
        (["session", "import", "a.jsonl", "--run", "imp", "--user", ""], "user name is empty"),
    ]:
        assert_error(run(*args), args, expected)
        assert ledger_state(run) == before


def test_a_missing_or_empty_path_beside_logs_is_a_warning(run, ws):
    write_jsonl(ws / "a.jsonl", [openai_chat(f"a{i}", prompt=100, completion=10) for i in range(3)])
    assert (ws / "empty_dir").is_dir() and not any((ws / "empty_dir").iterdir())  # the workspace's own empty directory
    r = run("session", "import", "a.jsonl", "missing.jsonl", "empty_dir", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["added"] == 3
    assert r.stderr.splitlines() == ["warning: file not found: missing.jsonl", "warning: no usage logs (*.jsonl, *.json) in directory: empty_dir"]


def test_an_import_with_garbage_in_the_middle_keeps_the_good_lines_and_says_so(run, ws):
    log = write_jsonl(ws / "a.jsonl", [openai_chat(f"a{i}", prompt=100, completion=10) for i in range(4)], garbage={2: "{not json"})
    r = run("session", "import", str(log), "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["added"] == 4
    assert "a.jsonl: skipped 1 unreadable line (line 3: not JSON" in r.stderr


# --- a real terminal: python -m tokopt never shows a traceback for bad input ------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "missing.txt"],
        ["tokenize", "binary.bin"],
        ["suggest", "latin1.txt"],
        ["estimate", "bad.json"],
        ["models", "--pricing", "broken.toml"],
        ["session", "report", "--ledger", "binary.bin"],
        ["check", "--format", "xml"],
    ],
    ids=lambda a: " ".join(a),
)
def test_no_traceback_reaches_a_real_terminal(ws, args):
    (ws / "broken.toml").write_text("[models\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "tokopt", *args], capture_output=True, text=True, cwd=ws, stdin=subprocess.DEVNULL)
    assert r.returncode == 2, r.stderr
    one_error_line(r.stderr)
    assert r.stdout == ""


def test_empty_stdin_through_a_real_pipe_is_zero_tokens(ws):
    r = subprocess.run([sys.executable, "-m", "tokopt", "tokenize", "-", "-f", "json"], input=b"", capture_output=True, cwd=ws)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total"]["o200k_base_tokens"] == 0
