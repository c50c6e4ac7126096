"""Names from outside, through every command and every format: never markup, never control.

A file name, a model name read from a log, a user, run, label or budget name can hold escape
sequences, HTML, Markdown, workflow-command syntax, newlines, bidirectional overrides and bytes
that are not UTF-8. Whatever a command prints them in, they are escaped for that place
(render/escape.py): shown visibly in tables and messages, HTML- and markup-escaped in Markdown,
workflow-command escaped in GitHub output, valid XML in JUnit, exact in JSON, quoted in CSV.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from tests.ledger_files import openai_chat, write_jsonl
from tokopt.render.escape import csv_cell, visible

# ESC/OSC (retitles a terminal), BEL, HTML, a Markdown link, a table pipe, a backtick, a
# bidirectional override, a workflow-command escape, a property separator, CR LF.
EVIL = "e\x1b]0;pwned\x07<img src=x onerror=alert(1)><details open>[l](www.e.example)|`@team\u202e%0A,:\r\nz"
NAME = EVIL + "</details>https://e.example/x"  # a name that is not a file name may hold a '/'
BAD_BYTES = b"bad\xff\xfe.txt"  # a file name that is not UTF-8
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def assert_no_raw_controls(text: str, where: str) -> None:
    """Nothing a terminal or a log viewer would act on: only line breaks and tabs remain."""
    found = UNSAFE.search(text)
    assert found is None, f"raw {found.group()!r} in {where}: ...{text[max(0, found.start() - 40) : found.start() + 40]!r}..."


def strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in [*doc.keys(), *doc.values()] for s in strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return []


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose prompt files, budget, ledger names and logged model are hostile."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COLUMNS")  # natural width: a name is never wrapped across lines
    monkeypatch.setenv("TOKOPT_USER", NAME)
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / f"{EVIL}.txt").write_text("You are a helpful assistant. Answer briefly.\n", encoding="utf-8")
    (prompts / os.fsdecode(BAD_BYTES)).write_bytes(b"Summarise the text below.\n")
    (tmp_path / "tokopt.toml").write_text(
        "[[budgets]]\n"
        f"name = {json.dumps(NAME)}\n"
        'paths = ["prompts/*"]\nmodels = ["gpt-5.5"]\nmax_tokens = 3\n\n'
        f"[[budgets]]\nname = {json.dumps(NAME)}\nmax_spend = 0.000001\nuser = {json.dumps(NAME)}\n",
        encoding="utf-8",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    write_jsonl(logs / f"{EVIL}.jsonl", [openai_chat("c1", model=NAME, prompt=100, completion=5), openai_chat("c2", prompt=50, completion=5)])
    return tmp_path


def ledger_with_hostile_names(run) -> None:  # type: ignore[no-untyped-def]
    r = run("session", "start", "--run", NAME, "--label", f"k={NAME}")
    assert r.exit_code == 0, r.stderr
    r = run("session", "record", "-m", "gpt-5.5", "-i", "100", "-o", "10", "--run", NAME)
    assert r.exit_code == 0, r.stderr
    r = run("session", "import", f"logs/{EVIL}.jsonl", "--run", NAME)
    assert r.exit_code == 0, r.stderr


TABULAR = ["table", "json", "csv", "markdown"]
COMMANDS: dict[str, tuple[list[str], list[str], int]] = {
    # name: (args, formats, exit code)
    "estimate": (["estimate", "prompts", "-m", "gpt-5.5", "--per-file"], TABULAR, 0),
    "tokenize": (["tokenize", "prompts"], TABULAR, 0),
    "suggest": (["suggest", f"prompts/{EVIL}.txt", "-t", "gpt-5.5"], TABULAR, 0),
    "check": (["check"], ["table", "json", "markdown", "github", "junit"], 1),
    "session report by model": (["session", "report", "--by", "model"], TABULAR, 0),
    "session report by run": (["session", "report", "--by", "run"], TABULAR, 0),
    "session report by user": (["session", "report", "--by", "user", "--all-users"], TABULAR, 0),
    "session list": (["session", "list"], TABULAR, 0),
    "session import": (["session", "import", f"logs/{EVIL}.jsonl"], TABULAR, 0),
    "session record": (["session", "record", "-m", "gpt-5.5", "-i", "7", "--run", NAME], TABULAR, 0),
}
CASES = [(name, fmt) for name, (_, formats, _) in COMMANDS.items() for fmt in formats]
# views whose data holds no name (the record table names the run by its id; suggest's CSV rows
# are suggestions): checked for safety, not for the name
NAMELESS = {("session record", fmt) for fmt in TABULAR} | {("suggest", "csv")}


@pytest.mark.parametrize(("command", "fmt"), CASES, ids=[f"{c}-{f}" for c, f in CASES])
def test_hostile_names_are_escaped_for_where_they_are_printed(run, ws, command, fmt):
    ledger_with_hostile_names(run)
    args, _, code = COMMANDS[command]
    r = run(*args, "--format", fmt)
    assert r.exit_code == code, (r.exit_code, r.stderr)
    assert "Traceback" not in r.stderr
    assert_no_raw_controls(r.stderr, "stderr")
    check_format(fmt, r.stdout, named=(command, fmt) not in NAMELESS)
    if fmt == "table" and (command, fmt) not in NAMELESS:
        # the name is there, visibly: on stdout (a cell, a title) or stderr (a note)
        assert visible(EVIL) in r.stdout + r.stderr or visible(EVIL).replace("\\r\\n", " ") in r.stdout + r.stderr


def check_format(fmt: str, out: str, *, named: bool = True) -> None:
    check = {"table": check_table, "json": check_json, "csv": check_csv, "markdown": check_markdown, "github": check_github, "junit": check_junit}
    check[fmt](out) if fmt in ("table", "github", "junit") else check[fmt](out, named=named)


def check_table(out: str) -> None:
    assert_no_raw_controls(out, "table")
    assert all(line == line.rstrip(" ") for line in out.splitlines()), "trailing spaces"


def check_json(out: str, *, named: bool = True) -> None:
    doc = json.loads(out)  # JSON escapes what it must itself; the name comes back exactly
    assert not named or any(EVIL in s for s in strings(doc)), "the exact name is in the JSON"
    assert_no_raw_controls(out, "JSON text")


def check_csv(out: str, *, named: bool = True) -> None:
    cells = [c for row in csv.reader(io.StringIO(out)) for c in row]
    # the name exactly, but for what a terminal would act on; the CliRunner reads CR LF as LF
    assert not named or any(csv_cell(EVIL).replace("\r\n", "\n") in c for c in cells)
    assert_no_raw_controls(out.replace("\r", ""), "CSV")


ALLOWED_TAGS = {"p", "table", "thead", "tbody", "tr", "th", "td", "code", "strong", "em", "h3", "h4", "ul", "li", "br", "details", "summary", "blockquote"}


def check_markdown(out: str, *, named: bool = True) -> None:
    assert_no_raw_controls(out, "Markdown")
    html = MarkdownIt("commonmark").enable("table").render(out)
    tags = set(re.findall(r"<(?:/)?([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= ALLOWED_TAGS, f"markup from a name: {tags - ALLOWED_TAGS}"
    assert html.count("<details>") == html.count("</details>") <= 1
    assert "<a " not in html and "<img" not in html
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert not named or visible(EVIL) in text, "the name reads as itself once rendered"


def check_github(out: str) -> None:
    lines = out.splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == len(lines) - 1  # every line a command, then the verdict
    for line in commands:
        m = re.fullmatch(r"::(error|warning|notice)(?: ([^:]*))?::(.*)", line)
        assert m is not None, line
        for prop in (m.group(2) or "").split(","):
            assert not prop or re.fullmatch(r"(file|title|line|col)=[^,]*", prop), prop
    assert_no_raw_controls(out, "GitHub commands")
    files = [re.search(r"file=([^,:]*)", line).group(1) for line in commands if "file=" in line]
    decoded = [re.sub("%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), f) for f in files]
    assert f"prompts/{visible(EVIL)}.txt" in decoded


def check_junit(out: str) -> None:
    root = ET.fromstring(out.encode("utf-8"))  # expat: fails on anything XML 1.0 forbids
    names = [el.get("name", "") for el in root.iter("testcase")]
    assert any(visible(EVIL, keep="\n\t") in n for n in names)
    assert_no_raw_controls(out.replace("\t", ""), "JUnit")


def test_the_name_that_is_not_utf8_is_exact_in_json_and_visible_elsewhere(run, ws):
    name = f"prompts/{os.fsdecode(BAD_BYTES)}"
    doc = json.loads(run("estimate", "prompts", "-m", "gpt-5.5", "--per-file", "-f", "json").stdout)
    assert name in strings(doc)
    assert os.fsencode(name) == b"prompts/" + BAD_BYTES  # the bytes, back from the JSON
    table = run("tokenize", "prompts")
    assert table.exit_code == 0
    assert "prompts/bad\\xff\\xfe.txt" in table.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", f"{EVIL}.txt"],
        ["tokenize", f"prompts/{EVIL}.txt", "-m", NAME],
        ["session", "report", "--run", NAME],
        ["check", "--config", f"{EVIL}.toml"],
        ["models", NAME],
    ],
    ids=["missing file", "unknown model", "unknown run", "missing config", "models"],
)
def test_error_lines_show_names_visibly(run, ws, args):
    r = run(*args)
    assert r.exit_code == 2, r.stderr
    assert r.stderr.startswith("error: ") and r.stdout == ""
    assert_no_raw_controls(r.stderr, "error line")
    assert visible(EVIL) in r.stderr
    assert len(r.stderr.splitlines()) <= 2  # the error, maybe a hint: a name never adds a line


def test_warning_and_note_lines_show_names_visibly(run, ws):
    r = run("session", "record", "-m", NAME, "-i", "5", *(["--allow-unknown"] if "--allow-unknown" in run("session", "record", "--help").stdout else []))
    assert r.exit_code == 0, r.stderr
    assert_no_raw_controls(r.stderr, "warning line")
    assert visible(EVIL) in r.stderr
    r = run("session", "start", "--run", NAME)
    assert r.exit_code == 0 and visible(EVIL) in r.stderr
    assert_no_raw_controls(r.stdout + r.stderr, "session start")


def test_show_tokens_shows_control_characters_in_the_text_visibly(run, ws):
    (ws / "esc.txt").write_text("before \x1b[2J\x1b]0;title\x07 after\n", encoding="utf-8")
    r = run("tokenize", "esc.txt", "--show")
    assert r.exit_code == 0, r.stderr
    assert_no_raw_controls(r.stdout, "--show")
    assert "\\x1b" in r.stdout and "\\x07" in r.stdout


def test_a_model_name_from_a_pricing_file_is_escaped_in_every_format(run, ws):
    pricing = ws / "evil.toml"
    pricing.write_text(
        f'provider = "acme"\nas_of = 2026-01-01\nsource = "test"\n[models.{json.dumps("acme" + EVIL)}]\ntier = "mini"\n'
        'context_window = 1000\nmax_output = 100\ninput = 1\noutput = 2\naliases = ["acme-\\u001b[31mred"]\n'
        'tokenizer = { encoding = "o200k_base", exact = true }\n',
        encoding="utf-8",
    )
    for fmt in TABULAR:
        r = run("models", "acme*", "--pricing", str(pricing), "--format", fmt)
        assert r.exit_code == 0, r.stderr
        check = check_table if fmt == "table" else check_markdown if fmt == "markdown" else None
        if check is not None:
            check(r.stdout) if fmt == "table" else assert_no_raw_controls(r.stdout, "models markdown")
        if fmt == "json":
            assert any(EVIL in s for s in strings(json.loads(r.stdout)))


# --- the escapers themselves, over any text ---------------------------------------------------

from hypothesis import given, strategies as st  # noqa: E402

from tokopt.render.escape import markdown, workflow_data, workflow_property, xml  # noqa: E402


@given(st.text())
def test_any_text_reads_as_itself_in_a_rendered_markdown_cell(text):
    html = MarkdownIt("commonmark").enable("table").render(f"| x |\n|---|\n| {markdown(text)} |\n")
    cell = re.search(r"<td>(.*?)</td>", html, re.S)
    body = cell.group(1) if cell else ""
    assert "<" not in body.replace("&lt;", ""), f"a tag from {text!r}: {body!r}"
    assert unescape(body).strip() == visible(text).strip()


@given(st.text())
def test_any_text_is_visible_without_a_control_character(text):
    assert_no_raw_controls(visible(text), "visible()")
    assert_no_raw_controls(xml(text).replace("\t", ""), "xml()")
    element = ET.Element("a", b=xml(text))
    element.text = xml(text)
    parsed = ET.fromstring(ET.tostring(element, encoding="utf-8"))  # expat: XML 1.0, strictly
    assert parsed.text == xml(text) or (parsed.text or "") == xml(text).replace("\r", "\n")


@given(st.text())
def test_a_workflow_command_never_ends_early_or_starts_another(text):
    line = f"::error file={workflow_property(text)},title={workflow_property(text)}::{workflow_data(text)}"
    assert "\n" not in line and "\r" not in line
    assert re.fullmatch(r"::error file=[^,:]*,title=[^,:]*::.*", line, re.S)
