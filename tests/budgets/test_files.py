"""budgets.check on real files and a real git repository: limits, base revisions, warnings."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.budget_fixtures import FIVE, TEN, TWELVE, make_repo, write
from tests.conftest import PRICING_DIR
from tokopt import budgets, costing, pricing, settings as settings_mod, tokens
from tokopt.inputs import gitrepo
from tokopt.budgets import config as project_config, counting
from tokopt.config import UserConfig
from tokopt.errors import ConfigError, InputError
from tokopt.usage import Usage


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def run(root: Path, catalog, *, base: str | None = None, only=None, **overrides) -> budgets.CheckResult:
    p = project_config.locate(None, root)
    chosen = settings_mod.resolve(UserConfig(), p.values(), **overrides)
    return budgets.check(p, catalog, chosen, base=base, only=only)


def config(limits: str, *, models: str = '["gpt-5.5"]', paths: str = '["prompts/*.md"]', extra: str = "") -> str:
    return f"[defaults]\nmodels = {models}\noutput_tokens = 0\ncalls_per_month = 1000\n{extra}\n[[budgets]]\nname = \"p\"\npaths = {paths}\n{limits}\n"


def test_ten_hellos_are_ten_tokens():
    assert tokens.count(TEN, "o200k_base") == 10 and tokens.count(TWELVE, "o200k_base") == 12
    assert tokens.count(FIVE, "o200k_base") == 5


# --- limits: exactly at the limit passes ------------------------------------------------------


@pytest.mark.parametrize(("limit", "ok"), [(10, True), (11, True), (9, False)])
def test_max_tokens_at_the_limit_passes(tmp_path, catalog, limit, ok):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "tokopt.toml", config(f"max_tokens = {limit}"))
    result = run(tmp_path, catalog)
    (row,) = result.rows
    assert row.current is not None and row.current.input_tokens == 10
    assert result.ok is ok and row.ok is ok
    assert row.checks[0].name == "max_tokens" and row.checks[0].limit == limit


def exact_cost(catalog, tokens_in: int, out: int) -> Decimal:
    return costing.cost_of(catalog.get("gpt-5.5"), Usage(input_tokens=tokens_in, output_tokens=out)).total_usd


def test_cost_limits_exactly_at_the_limit_pass_and_a_hair_over_fails(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    per_call = exact_cost(catalog, 10, 0)  # 10 x $5 / 1M = $0.00005
    assert per_call == Decimal("0.00005")
    monthly = per_call * 1000
    write(tmp_path / "tokopt.toml", config(f"max_cost_per_call = {per_call}\nmax_monthly_cost = {monthly}"))
    result = run(tmp_path, catalog)
    assert result.ok, result.rows[0].checks
    write(tmp_path / "tokopt.toml", config(f"max_cost_per_call = {per_call - Decimal('0.0000000001')}"))
    result = run(tmp_path, catalog)
    assert not result.ok and result.rows[0].failures[0].name == "max_cost_per_call"
    write(tmp_path / "tokopt.toml", config(f"max_monthly_cost = {monthly - Decimal('0.0000001')}"))
    assert not run(tmp_path, catalog).ok


def test_context_share_at_the_limit_passes(tmp_path, catalog):
    window = catalog.get("gpt-5.5").context_window
    write(tmp_path / "prompts" / "a.md", TEN)
    out = window // 4 - 10  # input + output is exactly a quarter of the window
    write(tmp_path / "tokopt.toml", config("max_context_share = 0.25").replace("output_tokens = 0", f"output_tokens = {out}"))
    result = run(tmp_path, catalog)
    assert result.ok and result.rows[0].current.context_share == Decimal("0.25")
    write(tmp_path / "tokopt.toml", config("max_context_share = 0.25").replace("output_tokens = 0", f"output_tokens = {out + 1}"))
    assert not run(tmp_path, catalog).ok


def test_every_limit_is_checked_on_every_model(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "prompts" / "b.md", TWELVE)
    write(tmp_path / "tokopt.toml", config("max_tokens = 11", models='["gpt-5.5", "claude-sonnet-5"]'))
    result = run(tmp_path, catalog)
    assert [(r.file, r.model) for r in result.rows] == [
        ("prompts/a.md", "gpt-5.5"),
        ("prompts/a.md", "claude-sonnet-5"),
        ("prompts/b.md", "gpt-5.5"),
        ("prompts/b.md", "claude-sonnet-5"),
    ]
    claude = catalog.get("claude-sonnet-5")
    assert result.rows[1].current.input_tokens == costing.model_tokens(claude, {"o200k_base": 10})
    assert result.rows[1].approximate
    failed = {(r.file, r.model) for r in result.failed_rows}
    assert ("prompts/b.md", "gpt-5.5") in failed and ("prompts/a.md", "gpt-5.5") not in failed
    assert result.budgets[0].ok is False


def test_budget_settings_override_the_defaults(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    text = config("max_cost_per_call = 1\noutput_tokens = 100\ncalls_per_month = 7\nmodels = [\"gpt-5.4-mini\"]")
    write(tmp_path / "tokopt.toml", text)
    (row,) = run(tmp_path, catalog, models=["gpt-5.5"], output_tokens=999, calls=3).rows
    assert (row.model, row.current.output_tokens, row.calls_per_month) == ("gpt-5.4-mini", 100, 7)


def test_flags_replace_the_project_defaults(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "tokopt.toml", config("max_tokens = 100"))
    (row,) = run(tmp_path, catalog, models=["gpt-5.4-mini"], output_tokens=42, calls=3).rows
    assert (row.model, row.current.output_tokens, row.calls_per_month) == ("gpt-5.4-mini", 42, 3)


# --- what is and is not checked ---------------------------------------------------------------


def test_a_budget_that_matches_nothing_is_a_warning(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "tokopt.toml", config("max_tokens = 1", paths='["nope/*.md"]'))
    result = run(tmp_path, catalog)
    assert result.ok and result.rows == []
    assert any("matches no files" in w and "budgets[0]" in w for w in result.warnings)


def test_binary_files_are_skipped_with_a_warning(tmp_path, catalog):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "logo.md").write_bytes(b"\x89PNG\x00\x00")
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "tokopt.toml", config("max_tokens = 100"))
    result = run(tmp_path, catalog)
    assert [r.file for r in result.rows] == ["prompts/a.md"]
    assert any("prompts/logo.md" in w for w in result.warnings)


def test_invalid_utf8_is_an_input_error_with_the_offset(tmp_path, catalog):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "a.md").write_bytes(b"x" * 9000 + b"\xff")
    write(tmp_path / "tokopt.toml", config("max_tokens = 100"))
    with pytest.raises(InputError, match="invalid UTF-8 at byte 9000"):
        run(tmp_path, catalog)


def test_outside_git_hidden_directories_are_not_walked_unless_named(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "prompts" / ".cache" / "b.md", TEN)
    write(tmp_path / ".github" / "prompts" / "c.md", TEN)
    write(tmp_path / "tokopt.toml", config("max_tokens = 100", paths='["prompts/**/*.md", ".github/prompts/*.md"]'))
    assert [r.file for r in run(tmp_path, catalog).rows] == [".github/prompts/c.md", "prompts/a.md"]


def test_only_the_files_named(tmp_path, catalog, monkeypatch):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "prompts" / "b.md", TEN)
    write(tmp_path / "tokopt.toml", config("max_tokens = 100"))
    write(tmp_path / "README.md", TEN)
    monkeypatch.chdir(tmp_path / "prompts")
    result = run(tmp_path, catalog, only=["b.md", "../README.md", __file__])  # in no budget; outside the project
    assert [r.file for r in result.rows] == ["prompts/b.md"]
    with pytest.raises(InputError, match="file not found: c.md"):
        run(tmp_path, catalog, only=["b.md", "c.md"])


def test_unknown_model_in_a_budget_names_the_key(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    cfg = write(tmp_path / "tokopt.toml", config("max_tokens = 1\nmodels = [\"gpt-9\"]"))
    with pytest.raises(ConfigError) as err:
        run(tmp_path, catalog)
    assert err.value.message.startswith(f"{cfg}: budgets[0].models: unknown model: gpt-9")


def test_unknown_model_in_defaults_names_the_key(tmp_path, catalog):
    cfg = write(tmp_path / "tokopt.toml", config("max_tokens = 1", models='["nope-1"]'))
    with pytest.raises(ConfigError, match=r"defaults\.models: unknown model: nope-1") as err:
        run(tmp_path, catalog)
    assert str(cfg) in err.value.message


def test_no_budgets_is_a_config_error(tmp_path, catalog):
    write(tmp_path / "tokopt.toml", "[defaults]\noutput_tokens = 5\n")
    with pytest.raises(ConfigError, match="no budgets"):
        run(tmp_path, catalog)


def test_a_plain_file_is_one_request(catalog):
    from tokopt.costing.report import TextCount

    models = catalog.select(["gpt-5.5", "claude-sonnet-5"])
    (req,) = counting.file_requests(TextCount(source="a", chars=3, bytes=3, tokens={"o200k_base": 100}), models, 7)
    assert req.label is None and req.output_tokens == 7
    assert req.input_tokens == {"gpt-5.5": 100, "claude-sonnet-5": costing.model_tokens(models[1], {"o200k_base": 100})}


# --- against a base revision ------------------------------------------------------------------


def test_base_shows_new_changed_unchanged_and_deleted_files(tmp_path, catalog):
    repo = make_repo(tmp_path / "repo", config("max_tokens = 100\nmax_increase_pct = 50"))
    before = repo.state()
    result = run(repo.path, catalog, base="main")
    assert repo.state() == before, "the check changed the checkout"
    rows = {r.file: r for r in result.rows}
    assert {f: r.change for f, r in rows.items()} == {
        "prompts/gone.md": "deleted",
        "prompts/grow.md": "changed",
        "prompts/new.md": "new",
        "prompts/same.md": "unchanged",
    }
    grow = rows["prompts/grow.md"]
    assert (grow.base.input_tokens, grow.current.input_tokens, grow.delta_tokens) == (10, 12, 2)
    assert grow.increase_pct == Decimal(20)
    assert grow.delta_usd == exact_cost(catalog, 12, 0) - exact_cost(catalog, 10, 0)
    gone = rows["prompts/gone.md"]
    assert gone.current is None and gone.checks == [] and gone.ok and gone.delta_tokens == -5
    new = rows["prompts/new.md"]
    assert new.base is None and new.increase_pct is None and [c.name for c in new.checks] == ["max_tokens"]
    assert rows["prompts/same.md"].delta_tokens == 0
    assert result.base == "main" and result.base_commit == repo.git("rev-parse", "main").strip()
    assert result.budgets[0].files == ["prompts/grow.md", "prompts/new.md", "prompts/same.md"]


@pytest.mark.parametrize(("pct", "ok"), [("20", True), ("20.0", True), ("19.99", False), ("0", False)])
def test_max_increase_pct_exactly_at_the_limit_passes(tmp_path, catalog, pct, ok):
    repo = make_repo(tmp_path / "repo", config(f"max_increase_pct = {pct}"))
    result = run(repo.path, catalog, base="main")
    grow = next(r for r in result.rows if r.file == "prompts/grow.md")
    assert grow.ok is ok and result.ok is ok
    assert [r.file for r in result.failed_rows] == ([] if ok else ["prompts/grow.md"])


def test_max_increase_pct_without_a_base_is_noted_not_checked(tmp_path, catalog):
    repo = make_repo(tmp_path / "repo", config("max_increase_pct = 0"))
    result = run(repo.path, catalog)
    assert result.ok and all(r.change is None and r.checks == [] for r in result.rows)
    assert any("--base" in n for n in result.notes)


def test_uncommitted_edits_are_compared_with_the_base(tmp_path, catalog):
    repo = make_repo(tmp_path / "repo", config("max_increase_pct = 0"))
    write(repo.path / "prompts" / "same.md", TEN)  # 5 -> 10 tokens, not committed
    write(repo.path / "prompts" / "draft.md", FIVE)  # untracked
    result = run(repo.path, catalog, base="HEAD")
    rows = {r.file: r for r in result.rows}
    assert rows["prompts/same.md"].change == "changed" and rows["prompts/same.md"].increase_pct == 100
    assert rows["prompts/draft.md"].change == "new"
    assert rows["prompts/grow.md"].change == "unchanged"
    assert [r.file for r in result.failed_rows] == ["prompts/same.md"]


def test_gitignored_files_are_not_checked(tmp_path, catalog):
    repo = make_repo(tmp_path / "repo", config("max_tokens = 100"))
    write(repo.path / ".gitignore", "prompts/scratch.md\n")
    write(repo.path / "prompts" / "scratch.md", TEN)
    assert "prompts/scratch.md" not in {r.file for r in run(repo.path, catalog).rows}


def test_config_in_a_subdirectory_of_the_repository(tmp_path, catalog):
    repo = make_repo(tmp_path / "repo", config("max_increase_pct = 10"), subdir="svc/bot")
    result = run(repo.path / "svc" / "bot", catalog, base="main")
    assert result.repo_prefix == "svc/bot/"
    assert {r.file: r.change for r in result.rows}["prompts/grow.md"] == "changed"
    assert [r.file for r in result.failed_rows] == ["prompts/grow.md"]


def test_unknown_revision_is_an_input_error_with_a_hint(tmp_path, catalog):
    repo = make_repo(tmp_path / "repo", config("max_tokens = 100"))
    with pytest.raises(InputError, match="unknown git revision: origin/nope") as err:
        run(repo.path, catalog, base="origin/nope")
    assert "git fetch" in (err.value.hint or "")
    with pytest.raises(InputError, match="not a git revision"):
        run(repo.path, catalog, base="--all")


def test_base_outside_a_repository_is_a_clear_error(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "tokopt.toml", config("max_tokens = 100"))
    with pytest.raises(InputError, match="--base needs a git repository"):
        run(tmp_path, catalog, base="main")


def test_gitrepo_reads_blobs_exactly(tmp_path):
    repo = make_repo(tmp_path / "repo", config("max_tokens = 1"))
    r = gitrepo.require(repo.path, "test")
    files = gitrepo.tree_files(r, gitrepo.resolve(r, "main"))
    assert set(files) >= {"prompts/grow.md", "prompts/gone.md", "tokopt.toml", "README.md"}
    blobs = gitrepo.read_blobs(r, [files["prompts/grow.md"], files["README.md"]])
    assert blobs[files["prompts/grow.md"]] == TEN.encode() and blobs[files["README.md"]] == b"not a prompt\n"


@pytest.mark.parametrize("in_git", [False, True, "base"])
@pytest.mark.parametrize(
    "name",
    ["a\nb.md", "sub\ndir/c.md", "tab\t.md", "end.md ", "[x].md", "q?.md", "star*.md", "back\\slash.md", "{a,b}.md", "\udcffbad\udcfe.md", "cr\r.md", "\x1b[31mred.md"],
)
def test_every_file_a_glob_matches_is_checked_whatever_its_name(tmp_path, catalog, in_git, name):
    # a newline in a name once hid an over-budget prompt from `prompts/**`
    write(tmp_path / "prompts" / name, TWELVE)
    write(tmp_path / "tokopt.toml", config("max_tokens = 11", paths='["prompts/**"]'))
    if in_git:
        from tests.budget_fixtures import git

        git(tmp_path, "init", "-q", "-b", "main")
    if in_git == "base":  # committed small, then grown: compared with the base, and checked
        write(tmp_path / "prompts" / name, TEN)
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-q", "-m", "base")
        write(tmp_path / "prompts" / name, TWELVE)
    result = run(tmp_path, catalog, base="HEAD" if in_git == "base" else None)
    assert [r.file for r in result.failed_rows] == [f"prompts/{name}"]


def test_outside_git_nested_paths_are_walked_once_and_a_named_hidden_directory_still_is(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "prompts" / "support" / "b.md", TEN)
    write(tmp_path / "prompts" / ".drafts" / "c.md", TEN)
    write(tmp_path / "prompts" / "__pycache__" / "d.md", TEN)
    paths = '["prompts/**/*.md", "prompts/support/*.md", "prompts/.drafts/*.md"]'
    write(tmp_path / "tokopt.toml", config("max_tokens = 100", paths=paths))
    assert [r.file for r in run(tmp_path, catalog).rows] == ["prompts/.drafts/c.md", "prompts/a.md", "prompts/support/b.md"]


def test_outside_git_a_symlink_loop_ends(tmp_path, catalog):
    import os

    write(tmp_path / "prompts" / "a.md", TEN)
    os.symlink(".", tmp_path / "prompts" / "again")
    write(tmp_path / "tokopt.toml", config("max_tokens = 100", paths='["prompts/**/*.md"]'))
    assert [r.file for r in run(tmp_path, catalog).rows] == ["prompts/a.md"]
