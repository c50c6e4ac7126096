"""The README and docs/ as a reader uses them: every command they show runs as written.

Each page's ```bash and ```console blocks are run in document order, as a reader would type
them, in a fresh workspace (`build_workspace`): a git project with prompts, chat requests, a
batch file, agent logs under a fake home directory, and a branch `origin/main` to compare with.

- A command's expected exit code is 0, unless its comment says otherwise: the first
  `exit N` / `exits N` in the comment (`tokopt check --base origin/main   # exits 1: ...`).
- A ```console block is commands (`$ ...`) and what they print (stdout and stderr, as a
  terminal 120 columns wide shows them). The output must be what tokopt prints today;
  `TOKOPT_UPDATE_DOCS=1 python -m pytest tests/test_docs.py` rewrites it (read the diff).
- Invisible directives, an HTML comment on the line before a block:
  `<!-- docs-test: write PATH -->` writes the block's text to PATH in the workspace (so the
  config a page shows is the config its commands use); `<!-- docs-test: cwd DIR -->` runs the
  block's commands in DIR.
- tokopt runs in-process (typer's CliRunner), also behind the bits of shell the pages use
  (`VAR=value`, `$VAR`, `cat FILE |`, `< FILE`, `> /dev/null`, `| python -m json.tool`; see
  `run_in_process`); any other shell syntax runs in bash, with this Python's bin directory
  first on PATH. Reports name the user `alice` (TOKOPT_USER), so outputs match on any machine.
- What a test cannot run for real is checked another way, and only these: install steps
  (`python3 -m venv`, `pip install` of the project: the extras named must exist; the test line
  itself is what `.ci/run` runs) and the benchmarks (the script exists and defines every
  option used; a run takes minutes).

Also: every long option a page names exists, relative links and their #anchors resolve, TOML
examples load with tokopt's own loaders, the Python example runs, and the version pinned in
CI examples is tokopt's own.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import pytest
import typer.main
from typer.testing import CliRunner

from tests import chatdata, ledger_files
from tests.budget_fixtures import GIT_ENV, git, write
from tests.conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PAGE_IDS = [str(p.relative_to(REPO)) for p in PAGES]
UPDATE = os.environ.get("TOKOPT_UPDATE_DOCS") == "1"
CONSOLE_COLUMNS = "120"
# what CI systems set, for the examples that use them
CI_ENV = {"BUILD_ID": "1234", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
SHELL_SYNTAX = re.compile(r"[|<>;&$`]|^\w+=")
EXIT_IN_COMMENT = re.compile(r"\bexits? ([0-3])\b")
DIRECTIVE = re.compile(r"^<!-- docs-test: (write|cwd) (\S+) -->$")
FENCE = re.compile(r"^(\s*)(`{3,})(.*)$")


# --- reading the pages -------------------------------------------------------------------------


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    lines: list[str]  # without the fence's indentation
    directives: dict[str, str] = field(default_factory=dict)
    indent: str = ""  # a block inside a list item is indented

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    directives: dict[str, str] = {}
    while i < len(lines):
        line = lines[i]
        m = DIRECTIVE.match(line.strip())
        if m:
            directives[m.group(1)] = m.group(2)
        elif FENCE.match(line):
            indent, fence, lang = FENCE.match(line).groups()  # type: ignore[union-attr]
            start = i
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != fence:
                body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            found.append(Block(page, start + 1, lang.strip(), body, directives, indent))
            directives = {}
        elif line.strip():
            directives = {}
        i += 1
    return found


def split_comment(line: str) -> tuple[str, str]:
    """A shell line's command and its trailing `# comment` (a # outside quotes, after a space)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


@dataclass
class Command:
    block: Block
    text: str
    expected_exit: int
    output: list[str] | None = None  # a console block's shown output
    output_span: tuple[int, int] | None = None  # its lines in the block

    @property
    def where(self) -> str:
        return self.block.where


def commands(block: Block) -> list[Command]:
    found: list[Command] = []
    if block.lang == "bash":
        logical: list[str] = []
        pending = ""
        for raw in block.lines:
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            logical.append(pending + raw)
            pending = ""
        for line in logical:
            text, comment = split_comment(line)
            if text.strip():
                m = EXIT_IN_COMMENT.search(comment)
                found.append(Command(block, text.strip(), int(m.group(1)) if m else 0))
    elif block.lang == "console":
        starts = [i for i, raw in enumerate(block.lines) if raw.startswith("$ ")]
        assert starts and starts[0] == 0, f"{block.where}: a console block starts with a `$ ` command"
        for n, i in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(block.lines)
            text, comment = split_comment(block.lines[i][2:])
            m = EXIT_IN_COMMENT.search(comment)
            found.append(Command(block, text.strip(), int(m.group(1)) if m else 0, block.lines[i + 1 : end], (i + 1, end)))
    return found


# --- the workspace -----------------------------------------------------------------------------

ANSWER = """\
You are the support assistant of Acme Tools, a shop for hand tools and garden equipment.

Answer the customer's question in at most three sentences. Be friendly and specific. When the
customer gives an order number, use it; never invent one. If the question is about a refund, a
replacement or a delivery that is late, say what happens next and how long it takes:

- refunds reach the original payment method within 5 working days;
- replacements ship within 2 working days, and the customer keeps the damaged item;
- a delivery more than 3 days late is refunded in full on request.

Do not promise anything else. If you do not know the answer, say so and offer to hand the
conversation to a person.
"""
ANSWER_GROWN = ANSWER + """
Before you answer, check whether the customer is a business customer (their order number starts
with B-). Business customers get a named contact, invoices with VAT, and delivery to a loading
dock on request; mention these only when they matter to the question.
"""
TRIAGE = """\
Read the support ticket below and answer with one word: refund, replacement, delivery, account
or other. Answer other when you are not sure.
"""
DRAFT = "Try a warmer tone: thank the customer first, then answer.\n"
SUMMARIZE = "Summarize the conversation below for the next agent in five bullet points.\n"

SYSTEM = (
    "You are a coding agent working in a Python repository. Read files before you change them, "
    "keep changes small, run the tests after every change, and explain what you did in one short "
    "paragraph. Never commit secrets, never rewrite history, and ask before deleting files.\n"
)


def _chat_request() -> dict:
    return {
        "model": "gpt-5.4-mini",
        "max_tokens": 400,
        "messages": [
            {"role": "system", "content": ANSWER},
            {"role": "user", "content": "My order #4471 arrived with a cracked handle. Can I get a replacement?"},
        ],
    }


def _repository_map() -> str:
    """What a coding agent puts in its system prompt: the files of the repository, one a line."""
    lines = ["Files in this repository:"]
    for package in ("orders", "payments", "shipping", "catalog", "accounts", "reports"):
        for module in ("models", "views", "forms", "services", "tasks", "admin", "urls", "serializers"):
            lines.append(f"- src/shop/{package}/{module}.py: the {module} of {package}")
            lines.append(f"- tests/{package}/test_{module}.py: tests for src/shop/{package}/{module}.py")
    return "\n".join(lines) + "\n"


def _agent_run() -> dict:
    turns = [
        ("user", "The test test_parse_dates fails on 2024-02-29. Find out why."),
        ("assistant", "parse_dates builds the date with day + 365 days, which skips leap days. I will use the calendar instead."),
        ("user", "Fix it and add a test for 2028-02-29 too."),
        ("assistant", "Done: parse_dates now uses date.replace(year=...), and test_leap_years covers 2024 and 2028. All 112 tests pass."),
        ("user", "Now write the changelog entry."),
    ]
    return {"model": "gpt-5.4", "max_tokens": 800, "messages": [{"role": "system", "content": SYSTEM + _repository_map()}, *({"role": r, "content": c} for r, c in turns)]}


def build_workspace(ws: Path) -> None:
    """What the pages' commands read: the same bytes on every run."""
    ws.mkdir(parents=True, exist_ok=True)
    for target in ("examples/prompt.txt", "prompt.txt"):
        (ws / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "examples" / "prompt.txt", ws / target)
    write(ws / "prompts" / "support" / "answer.md", ANSWER)
    write(ws / "prompts" / "support" / "triage.md", TRIAGE)
    write(ws / "prompts" / "support" / "drafts" / "tone.md", DRAFT)
    write(ws / "prompts" / "summarize.md", SUMMARIZE)
    chatdata.write_json(ws / "chat.json", _chat_request())
    chatdata.write_json(ws / "agent-run.json", _agent_run())
    tickets = ["my parcel is late", "the saw blade is blunt", "I was charged twice", "how do I change my address", "the mower will not start"]
    chatdata.write_jsonl(
        ws / "batch.jsonl",
        [
            {
                "custom_id": f"ticket-{i}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "gpt-5.4-mini", "max_tokens": 5, "messages": [{"role": "system", "content": TRIAGE}, {"role": "user", "content": t}]},
            }
            for i, t in enumerate(tickets, 1)
        ],
    )
    requests = [{"model": "gpt-5.4-mini", "messages": [{"role": "system", "content": TRIAGE}, {"role": "user", "content": t}]} for t in tickets[:3]]
    lines = [json.dumps(r) for r in requests]
    lines.insert(2, '["not", "a", "request"]')
    (ws / "requests.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _agent_logs(ws / "home")
    write(ws / ".gitignore", "home/\n")
    env = {**GIT_ENV, "GIT_AUTHOR_DATE": "2026-07-01T12:00:00Z", "GIT_COMMITTER_DATE": "2026-07-01T12:00:00Z"}
    _git(ws, env, "init", "-q", "-b", "main")
    _git(ws, env, "add", "-A")
    _git(ws, env, "commit", "-q", "-m", "prompts")
    _git(ws, env, "update-ref", "refs/remotes/origin/main", "HEAD")
    # an uncommitted change, as in a pull request: the support answer prompt grows
    write(ws / "prompts" / "support" / "answer.md", ANSWER_GROWN)
    # a project without budgets yet, for `tokopt init`
    fresh = ws / "new-project"
    write(fresh / "prompts" / "answer.md", ANSWER)
    write(fresh / "prompts" / "triage.md", TRIAGE)


def _git(cwd: Path, env: dict[str, str], *args: str) -> None:
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **env})
    assert r.returncode == 0, r.stderr


def _agent_logs(home: Path) -> None:
    """A day of Claude Code and Codex use, where those tools keep their logs."""
    session = "7f3c2a90-1d2e-4b7a-9c4e-2b1f0a9d8e71"
    claude = home / ".claude" / "projects" / "-home-dev-shop" / f"{session}.jsonl"
    claude.parent.mkdir(parents=True)
    ledger_files.write_jsonl(
        claude,
        [
            ledger_files.claude_code_user(),
            # one response streamed as two lines: counted once, with its final counts
            ledger_files.claude_code_assistant(message_id="msg_01", request_id="req_01", input_tokens=12, cache_write=3000, output_tokens=40),
            ledger_files.claude_code_assistant(message_id="msg_01", request_id="req_01", input_tokens=12, cache_write=3000, output_tokens=410),
            ledger_files.claude_code_assistant(
                message_id="msg_02", request_id="req_02", input_tokens=8, cache_read=3000, output_tokens=120, timestamp="2026-07-21T14:02:00.000Z"
            ),
        ],
    )
    codex = home / ".codex" / "sessions" / "2026" / "07" / "21" / "rollout-2026-07-21T10-00-00-0199a1b2.jsonl"
    codex.parent.mkdir(parents=True)
    ledger_files.write_jsonl(
        codex,
        [
            ledger_files.codex_session_meta(),
            ledger_files.codex_turn_context(),
            ledger_files.codex_token_count((1000, 200, 300, 50), None, "2026-07-21T11:00:00.000Z"),
            ledger_files.codex_token_count((2500, 1200, 700, 90), (1500, 1000, 400, 40), "2026-07-21T11:05:00.000Z"),
        ],
    )


# --- running commands --------------------------------------------------------------------------


@dataclass
class Result:
    exit_code: int
    output: str  # what a terminal shows: stdout and stderr as they came


def run_tokopt(argv: list[str], stdin: bytes | None = None, *, quiet_stdout: bool = False) -> Result:
    from tokopt.cli import app

    r = CliRunner().invoke(app, argv, input=stdin, catch_exceptions=False)
    return Result(r.exit_code, r.stderr if quiet_stdout else r.output), r.stdout  # type: ignore[return-value]


# The shell a reader types, as far as the pages use it: `VAR=value` prefixes and `$VAR`,
# `cat FILE | tokopt ...`, `tokopt ... < FILE`, `tokopt ... > /dev/null` and
# `tokopt ... | python -m json.tool`. These run in-process (the same bytes reach tokopt's stdin,
# and json.tool's check is json.loads); anything else runs in bash.
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def run_in_process(step: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Result | None:
    if "'" in step and "$" in step:
        return None  # $ inside single quotes: leave quoting to bash
    lexer = shlex.shlex(step, posix=True, punctuation_chars="|<>")
    lexer.whitespace_split = True
    tokens = list(lexer)
    while tokens and ASSIGNMENT.match(tokens[0]):
        name, _, value = tokens.pop(0).partition("=")
        monkeypatch.setenv(name, os.path.expandvars(value))
    stdin: bytes | None = None
    if tokens[:1] == ["cat"] and tokens[2:3] == ["|"]:
        stdin = (cwd / tokens[1]).read_bytes()
        tokens = tokens[3:]
    json_tool = tokens[-4:] == ["|", "python", "-m", "json.tool"]
    if json_tool:
        tokens = tokens[:-4]
    quiet = tokens[-2:] == [">", "/dev/null"]
    if quiet:
        tokens = tokens[:-2]
    if len(tokens) > 2 and tokens[-2] == "<":
        stdin = (cwd / tokens[-1]).read_bytes()
        tokens = tokens[:-2]
    if not tokens or tokens[0] not in ("tokopt", ".venv/bin/tokopt") or {"|", "<", ">"} & set(tokens):
        return None
    argv = [os.path.expanduser(os.path.expandvars(t)) for t in tokens[1:]]
    result, stdout = run_tokopt(argv, stdin, quiet_stdout=quiet)  # type: ignore[misc]
    if json_tool and result.exit_code == 0:
        try:
            json.loads(stdout)
        except ValueError as exc:
            return Result(1, f"python -m json.tool: {exc}")
    return result


def run_shell(text: str, cwd: Path) -> Result:
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    r = subprocess.run(["bash", "-c", "set -o pipefail; " + text], cwd=cwd, capture_output=True, text=True, env=env)
    return Result(r.returncode, r.stdout + r.stderr)


INSTALL = re.compile(r"^(python3? -m venv \.venv|(\.venv/bin/)?(python -m )?pip install (-e )?(?P<target>\S+))$")
BENCHMARK = re.compile(r"^python (?P<script>benchmarks/bench_\w+\.py)(?P<args>( --[\w-]+( \S+)?)*)$")


def ci_lines() -> set[str]:
    return {line.strip() for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()}


def check_install_step(step: str, where: str) -> None:
    m = INSTALL.match(step)
    assert m, f"{where}: no way to run `{step}` in a test; add it to tests/test_docs.py"
    target = m.group("target")
    if target:
        spec = shlex.split(target)[0]
        assert spec.startswith("."), f"{where}: installs {spec!r}, not this project"
        extras = re.findall(r"\[([^\]]*)\]", spec)
        declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
        for extra in (e.strip() for group in extras for e in group.split(",")):
            assert extra in declared, f"{where}: pip extra [{extra}] is not declared in pyproject.toml"


def check_benchmark(step: str, where: str) -> None:
    """A benchmark takes minutes: check that the script exists and defines the options used."""
    m = BENCHMARK.match(step)
    assert m, step
    script = REPO / m.group("script")
    assert script.is_file(), f"{where}: no such script {m.group('script')}"
    source = script.read_text(encoding="utf-8")
    for option in re.findall(r"--[\w-]+", m.group("args")):
        assert re.search(rf"add_argument\(\s*[\"']{option}[\"']", source), f"{where}: {m.group('script')} has no option {option}"


def run_command(cmd: Command, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Result | None:
    """Run one documented command; None when it was checked without running (see the module doc)."""
    if cmd.text in ci_lines():
        return None  # the README's test line: .ci/run runs exactly this (tests/test_project.py)
    result: Result | None = None
    for step in (s.strip() for s in cmd.text.split("&&")):
        if INSTALL.match(step):
            check_install_step(step, cmd.where)
            continue
        if BENCHMARK.match(step):
            check_benchmark(step, cmd.where)
            continue
        words = shlex.split(step) if "'" not in step or "$" not in step else step.split()
        if "tokopt" not in " ".join(words) and not re.fullmatch(r"cat [\w./-]+", step):
            raise AssertionError(f"{cmd.where}: no way to run `{step}` in a test; add it to tests/test_docs.py")
        result = run_in_process(step, cwd, monkeypatch) or run_shell(step, cwd)
        if result.exit_code != 0:
            break
    return result


def shown(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_command_on_the_page_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ws = tmp_path / "ws"
    build_workspace(ws)
    home = ws / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("COLUMNS", CONSOLE_COLUMNS)
    monkeypatch.setenv("TOKOPT_USER", "alice")  # reports name the user: the same on every machine
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("CODEX_HOME", raising=False)
    for name, value in CI_ENV.items():
        monkeypatch.setenv(name, value)
    ran = 0
    updates: dict[int, tuple[int, list[str]]] = {}  # console output to rewrite: its lines in the page -> new lines
    for block in blocks(page):
        if "write" in block.directives:
            write(ws / block.directives["write"], "\n".join(block.lines) + "\n")
        cwd = ws / block.directives.get("cwd", ".")
        for cmd in commands(block):
            monkeypatch.chdir(cwd)
            result = run_command(cmd, cwd, monkeypatch)
            ran += 1
            if result is None:
                continue
            assert result.exit_code == cmd.expected_exit, (
                f"{cmd.where}: `{cmd.text}` exited {result.exit_code}, the page says {cmd.expected_exit}\n{result.output}"
            )
            if cmd.output is not None:
                got = shown(result.output)
                if UPDATE:
                    first, end = (cmd.block.line + n for n in cmd.output_span)  # type: ignore[union-attr]
                    updates[first] = (end, [(cmd.block.indent + g).rstrip() for g in got])
                    continue
                assert got == shown("\n".join(cmd.output)), (
                    f"{cmd.where}: `{cmd.text}` prints something else now "
                    f"(TOKOPT_UPDATE_DOCS=1 python -m pytest {__file__} rewrites it):\n" + "\n".join(got)
                )
    if updates:
        _rewrite(page, updates)
    assert ran == sum(len(commands(b)) for b in blocks(page))


def _rewrite(page: Path, updates: dict[int, tuple[int, list[str]]]) -> None:
    """Replace console commands' outputs (page lines first..end) with what they print now."""
    lines = page.read_text(encoding="utf-8").splitlines()
    for first in sorted(updates, reverse=True):
        end, new = updates[first]
        lines[first:end] = new
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- options, links, examples --------------------------------------------------------------------

# long options of other programs that the pages mention
FOREIGN_OPTIONS = {"--depth": "git fetch --depth=1", "--quick": "the benchmarks (checked by check_benchmark)"}


def tokopt_options() -> set[str]:
    from tokopt.cli import app

    found: set[str] = set()

    def walk(command) -> None:  # type: ignore[no-untyped-def]
        for param in command.params:
            found.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return found | {"--help"}


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_option_the_page_names_exists(page: Path):
    known = tokopt_options() | set(FOREIGN_OPTIONS)
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]", page.read_text(encoding="utf-8")))
    assert not named - known, f"{page.name} names options tokopt does not have: {sorted(named - known)}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = re.match(r"#{1,6} (.*)", line)
        if m and not in_code:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_links_point_at_pages_and_headings_that_exist(page: Path):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)  # code, not links
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


def test_docs_pages_are_linked_from_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in PAGES[1:] if f"(docs/{p.name}" not in readme]
    assert not missing, f"README.md does not link {missing}"


def _toml_blocks() -> list[Block]:
    return [b for page in PAGES for b in blocks(page) if b.lang == "toml"]


@pytest.mark.parametrize("block", _toml_blocks(), ids=lambda b: b.where)
def test_toml_examples_load(block: Block, tmp_path: Path):
    """Every TOML example parses; one whose first line names its file loads with tokopt's loader."""
    from tokopt import config
    from tokopt.budgets.config import load_project
    from tokopt.pricing import load_catalog

    text = "\n".join(block.lines) + "\n"
    data = tomllib.loads(text)
    m = re.match(r"# (\S+\.toml)\b", block.lines[0])
    if not m:
        return
    name = m.group(1)
    path = tmp_path / Path(name).name
    path.write_text(text, encoding="utf-8")
    if path.name in ("tokopt.toml", "pyproject.toml"):
        for extra in data.get("pricing", []) or data.get("tool", {}).get("tokopt", {}).get("pricing", []):
            write(tmp_path / extra, "")
        load_project(path)
    elif path.name == "config.toml":
        config.load_user_config(path, required=True, catalog=load_catalog())
    else:
        assert "models" in data, f"{block.where}: a TOML example named {name} is a pricing file, so it has [models.*]"
        load_catalog(extra_files=[path])


def test_python_example_records_a_response(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """docs/session.md's Python example, with a stand-in for the OpenAI SDK client."""
    page = REPO / "docs" / "session.md"
    (block,) = [b for b in blocks(page) if b.lang == "python"]

    class Responses:
        def create(self, *args: object, **kwargs: object) -> dict:
            return ledger_files.openai_response("resp_docs", inp=4000, out=600, cached=1024, reasoning=200)

    class Client:
        responses = Responses()

    monkeypatch.setenv("TOKOPT_LEDGER", str(tmp_path / "ledger.sqlite3"))
    printed: list[object] = []
    exec("\n".join(block.lines), {"client": Client(), "print": printed.append})
    from tokopt import Ledger

    spend = Ledger().spend()
    assert spend.records == 2 and spend.unpriced_records == 0
    assert printed == [spend.cost_usd] and isinstance(printed[0], Decimal) and printed[0] > 0


def test_ci_examples_pin_the_version_tokopt_has():
    from tokopt import __version__

    text = "\n".join(p.read_text(encoding="utf-8") for p in PAGES)
    pins = re.findall(r"your-org/tokopt@v([\w.]+)", text) + re.findall(r"rev: v([\w.]+)", text)
    assert pins, "no CI example pins a version"
    assert set(pins) == {__version__}
    assert "OWNER/" not in text
