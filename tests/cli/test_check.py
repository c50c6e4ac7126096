"""`tokopt check` as CI runs it: every format, its exit codes, git bases, annotations, JUnit."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from decimal import Decimal

from tests.conftest import PRICING_DIR
from tokopt.pricing import load_catalog
from tokopt.render.fmt import usd

from tests.budget_fixtures import FIVE, TEN, TWELVE, chdir, make_repo, write  # noqa: F401 (fixture)
from tests.helpers import one_error_line

FORMATS = ["table", "json", "markdown", "github", "junit"]


def config(limits: str, *, name: str = "prompts", paths: str = '["prompts/*.md"]', models: str = '["gpt-5.5", "claude-sonnet-5"]') -> str:
    return (
        f"[defaults]\nmodels = {models}\noutput_tokens = 0\ncalls_per_month = 1000\n\n"
        f"[[budgets]]\nname = {json.dumps(name)}\npaths = {paths}\n{limits}\n"
    )


@pytest.fixture
def project(tmp_path, chdir):  # noqa: F811
    """prompts/a.md (10 tokens) and prompts/b.md (12) in a plain directory, as the cwd."""
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "prompts" / "b.md", TWELVE)
    return chdir(tmp_path)


# --- exit codes, for every format -------------------------------------------------------------

# ≈ claude-sonnet-5 counts 10 o200k tokens as 15 and 12 as 18, so 20 passes everything.
SCENARIOS = {
    "pass": ("max_tokens = 20", [], 0),
    "fail": ("max_tokens = 11", [], 1),
    "warn-only": ("max_tokens = 11", ["--warn-only"], 0),
    "config error": ("max_tokens = -1", [], 2),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_exit_codes_for_every_format(run, project, fmt, scenario):
    limits, flags, code = SCENARIOS[scenario]
    write(project / "tokopt.toml", config(limits))
    r = run("check", "--format", fmt, *flags)
    assert r.exit_code == code, (r.stdout, r.stderr)
    if code == 2:
        assert "budgets[0].max_tokens" in one_error_line(r.stderr) and r.stdout == ""
        return
    if fmt == "json":
        doc = json.loads(r.stdout)
        assert doc["ok"] is (scenario == "pass") and doc["warn_only"] is (scenario == "warn-only")
    elif fmt == "junit":
        assert ET.fromstring(r.stdout).tag == "testsuites"
    elif fmt == "markdown":
        assert r.stdout.startswith("### tokopt: monthly cost ")


def test_input_errors_exit_2(run, project):
    write(project / "tokopt.toml", config("max_tokens = 100"))
    (project / "prompts" / "bad.md").write_bytes(b"ok" * 5000 + b"\xc3\x28")
    r = run("check")
    assert r.exit_code == 2
    assert "prompts/bad.md: invalid UTF-8 at byte 10000" in one_error_line(r.stderr)


def test_no_config_exits_2_with_a_hint(run, tmp_path, chdir):  # noqa: F811
    chdir(tmp_path)
    r = run("check")
    assert r.exit_code == 2 and "no project config" in one_error_line(r.stderr)
    assert "hint: run `tokopt init`" in r.stderr


# --- table and JSON --------------------------------------------------------------------------


def test_table_shows_each_prompt_once_then_what_is_over_then_the_verdict(run, project):
    write(project / "tokopt.toml", config("max_tokens = 11\nmax_cost_per_call = 1"))
    r = run("check")
    assert r.exit_code == 1
    lines = r.stdout.rstrip("\n").splitlines()
    doc = json.loads(run("check", "-f", "json").stdout)
    monthly = doc["headline"]["head_monthly_usd"]
    # every prompt on its cheaper model, and on its dearer one: 1,000 calls each, no output
    cat = load_catalog(PRICING_DIR)
    tokens = {"gpt-5.5": (10, 12), "claude-sonnet-5": (15, 18)}  # ≈ o200k × 1.53
    costs = [[n * cat.get(m).input * 1000 / 1_000_000 for n in counts] for m, counts in tokens.items()]
    assert Decimal(monthly["cheapest"]) == sum(min(pair) for pair in zip(*costs))
    assert Decimal(monthly["dearest"]) == sum(max(pair) for pair in zip(*costs))
    span = f"{usd(Decimal(monthly['cheapest']))}–{usd(Decimal(monthly['dearest']))}"
    assert lines[0] == f"tokopt check: monthly cost {span} at the configured traffic"
    assert lines[1] == "2 prompts in 1 budget, not compared with a base (--base REF)"
    # one row per prompt, its two models collapsed into a span
    assert [line.split()[:3] for line in lines if line.lstrip().startswith("prompts/")][:2] == [
        ["prompts/a.md", "2", "models"],
        ["prompts/b.md", "2", "models"],
    ]
    over = r.stdout.split("Over budget", 1)[1]
    assert "prompts/a.md   input tokens 15, limit ≤ 11 tokens (max_tokens) on claude-sonnet-5" in over
    assert "prompts/b.md   input tokens 12–18, limit ≤ 11 tokens (max_tokens) on gpt-5.5," in over
    assert lines[-1] == "✗ over budget: 3 of 4 checks in budget 'prompts'"


def test_details_shows_every_file_and_model(run, project):
    write(project / "tokopt.toml", config("max_tokens = 11\nmax_cost_per_call = 1"))
    r = run("check", "--details")
    assert r.exit_code == 1
    lines = r.stdout.rstrip("\n").splitlines()
    assert lines[-1] == "✗ over budget: 3 of 4 checks in budget 'prompts'"
    for needle in ("prompts — budgets[0]", "File", "Model", "Tokens", "Per call", "Monthly (1,000)", "Limit", "Status"):
        assert needle in r.stdout
    table_rows = [line for line in lines if line.lstrip().startswith("prompts/")]
    assert len(table_rows) == 4
    assert "≈15" in r.stdout and "≈18" in r.stdout and "≤ 11 tokens" in r.stdout
    assert "✗ prompts/b.md on gpt-5.5: input tokens 12 > 11 (max_tokens)" in r.stderr  # notes: stderr


def test_a_budget_exactly_at_its_limit_passes(run, project):
    write(project / "tokopt.toml", config("max_tokens = 12", models='["gpt-5.5"]'))
    r = run("check", "-f", "json")
    assert r.exit_code == 0, r.stdout
    doc = json.loads(r.stdout)
    b = next(row for row in doc["rows"] if row["file"] == "prompts/b.md")
    assert b["checks"] == [{"name": "max_tokens", "limit": 12, "actual": 12, "ok": True}]
    assert doc["verdict"].startswith("✓ within budget")


def test_json_document(run, project):
    write(project / "tokopt.toml", config("max_cost_per_call = 0.00006\nmax_monthly_cost = 0.05", models='["gpt-5.5"]'))
    r = run("check", "-f", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["summary"] == {"budgets": 1, "files": 2, "checks": 2, "failed": 1}
    a, b = doc["rows"]
    assert a["current"] == {
        "input_tokens": 10,
        "output_tokens": 0,
        "per_call_usd": "0.00005",
        "monthly_usd": "0.05",
        "context_share": "0.00001",
    }
    assert a["ok"] is True and a["change"] is None and a["base"] is None
    assert [c["ok"] for c in b["checks"]] == [True, False]  # $0.00006 per call is at the limit
    assert doc["budgets"][0]["limits"] == {"max_cost_per_call": "0.00006", "max_monthly_cost": "0.05"}


def test_warnings_and_notes_go_to_stderr(run, project):
    write(project / "tokopt.toml", config("max_tokens = 100\nmax_increase_pct = 5") + '\n[[budgets]]\npaths = ["none/*"]\nmax_tokens = 1\n')
    r = run("check", "-f", "json")
    assert r.exit_code == 0
    assert "warning: budget 'none/*' (budgets[1]) matches no files" in r.stderr
    assert "note: budget 'prompts': max_increase_pct is checked only against a base" in r.stderr
    json.loads(r.stdout)


def test_env_and_flags_for_the_defaults(run, project, monkeypatch):
    write(project / "tokopt.toml", config("max_cost_per_call = 1", models='["gpt-5.5"]'))
    monkeypatch.setenv("TOKOPT_OUTPUT_TOKENS", "100")
    monkeypatch.setenv("TOKOPT_MODELS", "gpt-5.4-mini")
    doc = json.loads(run("check", "-f", "json").stdout)
    assert {(r["model"], r["current"]["output_tokens"]) for r in doc["rows"]} == {("gpt-5.4-mini", 100)}
    doc = json.loads(run("check", "-f", "json", "--output-tokens", "7", "-m", "gpt-5.5").stdout)
    assert {(r["model"], r["current"]["output_tokens"]) for r in doc["rows"]} == {("gpt-5.5", 7)}


def test_config_option_and_its_env_var(run, project, monkeypatch):
    other = write(project / "ci" / "strict.toml", config("max_tokens = 1", paths='["../prompts/*.md"]'))
    r = run("check", "--config", str(other))
    assert r.exit_code == 2 and "leaves the project" in one_error_line(r.stderr)
    write(other, config("max_tokens = 1", paths='["*.md"]'))
    write(project / "ci" / "x.md", TEN)
    monkeypatch.setenv("TOKOPT_PROJECT_CONFIG", str(other))
    doc = json.loads(run("check", "-f", "json").stdout)
    assert [r["file"] for r in doc["rows"]] == ["x.md", "x.md"]


def test_files_given_narrow_the_check(run, project):
    write(project / "tokopt.toml", config("max_tokens = 15"))
    assert run("check", "prompts/a.md").exit_code == 0
    assert run("check", "prompts/b.md").exit_code == 1


def test_output_file(run, project):
    write(project / "tokopt.toml", config("max_tokens = 11"))
    r = run("check", "-f", "junit", "--output-file", "report.xml")
    assert r.exit_code == 1 and r.stdout == ""
    assert ET.parse(project / "report.xml").getroot().get("failures") == "3"
    r = run("check", "--output-file", "report.txt")
    assert r.exit_code == 1 and "✗ over budget" in (project / "report.txt").read_text(encoding="utf-8")


def test_project_pricing_overrides_apply(run, project):
    write(project / "ours.toml", '[models."gpt-5.5"]\ninput = 1.00\n')
    write(project / "tokopt.toml", 'pricing = ["ours.toml"]\n' + config("max_cost_per_call = 0.00001", models='["gpt-5.5"]'))
    doc = json.loads(run("check", "-f", "json").stdout)
    assert [r["current"]["per_call_usd"] for r in doc["rows"]] == ["0.00001", "0.000012"]


# --- against a base --------------------------------------------------------------------------


def test_base_in_a_real_repository(run, tmp_path, chdir):  # noqa: F811
    repo = make_repo(tmp_path / "repo", config("max_tokens = 100\nmax_increase_pct = 10", models='["gpt-5.5"]'))
    chdir(repo.path)
    before = repo.state()
    r = run("check", "--base", "main", "-f", "json")
    assert r.exit_code == 1, r.stderr
    assert repo.state() == before
    doc = json.loads(r.stdout)
    rows = {row["file"]: row for row in doc["rows"]}
    assert {f: row["change"] for f, row in rows.items()} == {
        "prompts/gone.md": "deleted",
        "prompts/grow.md": "changed",
        "prompts/new.md": "new",
        "prompts/same.md": "unchanged",
    }
    assert rows["prompts/grow.md"]["increase_pct"] == "20"
    assert rows["prompts/grow.md"]["delta_usd"] == "0.00001"
    assert [row["file"] for row in doc["rows"] if not row["ok"]] == ["prompts/grow.md"]
    assert doc["base"] == "main" and len(doc["base_commit"]) == 40

    table = run("check", "--base", "main", "--details").stdout
    assert re.search(r"prompts/gone\.md .* -5 .* deleted", table)
    assert re.search(r"prompts/new\.md .* new ", table)
    assert re.search(r"prompts/grow\.md .* \+2 \(\+20%\)", table)
    assert table.rstrip().endswith("against main")
    # the headline: before → after, and one row per prompt that changed
    head = doc["headline"]
    assert head["prompts"] == 4 and head["prompts_changed"] == 3
    assert [p["file"] for p in head["changed"]] == ["prompts/new.md", "prompts/gone.md", "prompts/grow.md"]
    table = run("check", "--base", "main").stdout
    assert "prompts/same.md" not in table and "3 of 4 prompts changed" in table


def test_base_outside_git_is_a_clear_error(run, project):
    write(project / "tokopt.toml", config("max_tokens = 100"))
    r = run("check", "--base", "main")
    assert r.exit_code == 2
    assert "--base needs a git repository" in one_error_line(r.stderr)


def test_unknown_base_exits_2_with_a_hint(run, tmp_path, chdir):  # noqa: F811
    repo = make_repo(tmp_path / "repo", config("max_tokens = 100"))
    chdir(repo.path)
    r = run("check", "--base", "origin/main")
    assert r.exit_code == 2 and "unknown git revision: origin/main" in one_error_line(r.stderr)


# --- GitHub annotations ----------------------------------------------------------------------

# https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions
# ::error file={name},line={line},endLine={endLine},title={title}::{message}
ANNOTATION = re.compile(r"^::(error|warning|notice)(?: ((?:[a-zA-Z]+=[^,:\r\n]*)(?:,[a-zA-Z]+=[^,:\r\n]*)*))?::([^\r\n]*)$")


def unescape(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def annotations(stdout: str) -> list[tuple[str, dict[str, str], str]]:
    out = []
    lines = stdout.rstrip("\n").splitlines()
    for line in lines[:-1]:
        m = ANNOTATION.match(line)
        assert m, f"not a workflow command: {line!r}"
        props = dict(p.split("=", 1) for p in m.group(2).split(",")) if m.group(2) else {}
        out.append((m.group(1), {k: unescape(v) for k, v in props.items()}, unescape(m.group(3))))
    assert not lines[-1].startswith("::"), "the verdict is the last line"
    return out


def test_github_annotations_follow_the_workflow_command_syntax(run, project):
    odd = "prompts/50%, a:b.md"
    write(project / odd, TWELVE)
    write(project / "tokopt.toml", config("max_tokens = 11", name="ops: 100%, strict") + '\n[[budgets]]\npaths = ["none/*"]\nmax_tokens = 1\n')
    r = run("check", "-f", "github")
    assert r.exit_code == 1
    found = annotations(r.stdout)
    errors = [(props, msg) for kind, props, msg in found if kind == "error"]
    assert {p["file"] for p, _ in errors} == {"prompts/a.md", "prompts/b.md", odd}  # one per file, not per model
    props, message = next((p, m) for p, m in errors if p["file"] == odd)
    assert props["title"] == "tokopt: ops: 100%, strict over budget"
    assert message.splitlines()[0] == "over budget 'ops: 100%, strict' on 2 models:"
    assert "gpt-5.5: input tokens 12 > 11 (max_tokens)" in message
    assert [m for kind, _, m in found if kind == "warning"] == ["budget 'none/*' (budgets[1]) matches no files"]
    assert r.stdout.rstrip().splitlines()[-1].startswith("✗ over budget")
    assert "warning:" not in r.stderr  # warnings are annotations here, not repeated on stderr


def test_github_warn_only_turns_errors_into_warnings(run, project):
    write(project / "tokopt.toml", config("max_tokens = 11"))
    r = run("check", "-f", "github", "--warn-only")
    assert r.exit_code == 0
    kinds = {kind for kind, _, _ in annotations(r.stdout)}
    assert kinds == {"warning", "notice"}  # the notice is the headline
    assert [p["title"] for kind, p, _ in annotations(r.stdout) if kind == "notice"] == ["tokopt"]


def test_github_file_paths_are_relative_to_the_repository(run, tmp_path, chdir):  # noqa: F811
    repo = make_repo(tmp_path / "repo", config("max_tokens = 11", models='["gpt-5.5"]'), subdir="svc")
    chdir(repo.path / "svc")
    r = run("check", "-f", "github")
    assert r.exit_code == 1
    assert [p["file"] for kind, p, _ in annotations(r.stdout) if kind != "notice"] == ["svc/prompts/grow.md"]


def test_escaping_of_data_and_properties():
    from tokopt.render.check_ci import command
    from tokopt.render.escape import workflow_data, workflow_property

    assert workflow_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert workflow_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert command("error", "x: y, z", file="a,b.md", title="t:1") == "::error file=a%2Cb.md,title=t%3A1::x: y, z"
    assert command("warning", "plain") == "::warning::plain"


# --- JUnit -----------------------------------------------------------------------------------


def test_junit_is_xml_with_the_expected_failures(run, tmp_path, chdir):  # noqa: F811
    repo = make_repo(tmp_path / "repo", config("max_tokens = 11\nmax_increase_pct = 10", models='["gpt-5.5"]'))
    chdir(repo.path)
    r = run("check", "--base", "main", "-f", "junit")
    assert r.exit_code == 1
    assert r.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(r.stdout.encode("utf-8"))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "prompts"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {f"prompts/{n}.md [gpt-5.5]" for n in ("gone", "grow", "new", "same")}
    grow = cases["prompts/grow.md [gpt-5.5]"]
    assert sorted(f.get("type") for f in grow.findall("failure")) == ["max_increase_pct", "max_tokens"]
    assert grow.get("file") == "prompts/grow.md" and grow.get("classname") == "prompts"
    assert cases["prompts/gone.md [gpt-5.5]"].find("skipped").get("message") == "deleted since main"
    assert cases["prompts/same.md [gpt-5.5]"].find("failure") is None
    failing = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert suite.get("failures") == root.get("failures") == str(len(failing)) == "1"
    assert suite.get("tests") == "4" and suite.get("skipped") == "1"
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["max_tokens"] == "11" and props["paths"] == "prompts/*.md"


# --- Markdown --------------------------------------------------------------------------------


def test_markdown_starts_with_the_summary_and_lists_what_is_over(run, project):
    write(project / "tokopt.toml", config("max_tokens = 11", models='["gpt-5.5"]'))
    r = run("check", "-f", "markdown")
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    total = usd(22 * load_catalog(PRICING_DIR).get("gpt-5.5").input * 1000 / 1_000_000)  # 10 + 12 tokens, 1,000 calls
    assert lines[0] == f"### tokopt: monthly cost {total} at the configured traffic"
    assert lines[2] == "**2 prompts in 1 budget, not compared with a base (--base REF)**  "
    assert lines[3] == "✗ over budget: 1 of 2 checks in budget 'prompts'"
    assert f"| <code>prompts/a.md</code> | gpt-5.5 | 1,000 | {usd(10 * load_catalog(PRICING_DIR).get('gpt-5.5').input / 1000)} | ✓ |" in lines
    assert "| prompts | <code>prompts/b.md</code> | input tokens 12, limit ≤ 11 tokens (max_tokens) on gpt-5.5 |" in lines
    assert "<details>" not in r.stdout  # the details only with --details
    r = run("check", "-f", "markdown", "--details")
    lines = r.stdout.splitlines()
    assert "<details><summary>Every check (2)</summary>" in lines
    header = next(line for line in lines if line.startswith("| File |"))
    assert header.count("|") == 8


def test_markdown_when_everything_passes(run, project):
    write(project / "tokopt.toml", config("max_tokens = 100", models='["gpt-5.5"]'))
    r = run("check", "-f", "markdown")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[3].startswith("✓ within budget: 2 checks")
    assert "Over budget" not in r.stdout


def test_verdict_names_the_broken_budgets(run, project):
    write(project / "tokopt.toml", config("max_tokens = 11") + '\n[[budgets]]\nname = "loose"\npaths = ["prompts/a.md"]\nmax_tokens = 100\n')
    r = run("check")
    assert r.stdout.rstrip().splitlines()[-1] == "✗ over budget: 3 of 6 checks in 1 of 2 budgets (prompts)"
    write(project / "tokopt.toml", config("max_tokens = 100", models='["gpt-5.5"]', paths='["prompts/a.md"]'))
    assert run("check").stdout.rstrip().splitlines()[-1] == "✓ within budget: 1 check of 1 file in 1 budget"


def test_a_broken_total_in_every_format(run, project):
    write(project / "tokopt.toml", config("max_total_monthly_cost = 0.01", models='["gpt-5.5"]'))
    r = run("check")
    assert r.exit_code == 1
    assert "all its prompts" in r.stdout and "(max_total_monthly_cost) on gpt-5.5" in r.stdout
    assert r.stdout.rstrip().splitlines()[-1] == "✗ over budget: 1 of 3 checks in budget 'prompts'"
    doc = json.loads(run("check", "-f", "json").stdout)
    [total] = doc["budgets"][0]["totals"]
    assert total["model"] == "gpt-5.5" and total["ok"] is False and total["limit"] == "0.01"
    assert doc["summary"]["failed"] == 1 and doc["summary"]["checks"] == 3
    kinds = [(kind, p.get("file")) for kind, p, _ in annotations(run("check", "-f", "github").stdout)]
    assert ("error", "tokopt.toml") in kinds
    suite = ET.fromstring(run("check", "-f", "junit").stdout).find("testsuite")
    case = next(c for c in suite.iter("testcase") if c.get("name") == "all its prompts [gpt-5.5]")
    assert case.find("failure").get("type") == "max_total_monthly_cost"
    md = run("check", "-f", "markdown").stdout
    assert "| prompts | all its prompts | monthly cost " in md
