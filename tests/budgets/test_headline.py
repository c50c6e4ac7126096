"""The headline of a check: the monthly cost before → after at the configured traffic, and the
prompts that changed with their models collapsed; and [[traffic]], which sets that traffic."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.budget_fixtures import TEN, TWELVE, make_repo, write
from tests.conftest import PRICING_DIR
from tokopt import budgets, costing, pricing, settings as settings_mod
from tokopt.budgets import config as project_config
from tokopt.budgets.headline import headline
from tokopt.budgets.results import CheckRow, Measure
from tokopt.config import UserConfig
from tokopt.errors import ConfigError
from tokopt.usage import Usage


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def run(root: Path, catalog, *, base: str | None = None) -> budgets.CheckResult:
    p = project_config.locate(None, root)
    return budgets.check(p, catalog, settings_mod.resolve(UserConfig(), p.values()), base=base)


def config(models: str = '["gpt-5.5"]', extra: str = "", budget: str = "") -> str:
    return (
        f'[defaults]\nmodels = {models}\noutput_tokens = 100\ncalls_per_month = 1000\n{extra}\n'
        f'[[budgets]]\nname = "p"\npaths = ["prompts/*.md"]\nmax_tokens = 1000\n{budget}\n'
    )


def monthly(catalog, model: str, tokens_in: int, calls: int, cached: int = 0, out: int = 100) -> Decimal:
    m = catalog.get(model)
    per_call = costing.cost_of(m, Usage(input_tokens=tokens_in, cached_input_tokens=cached, output_tokens=out)).total_usd
    return costing.times(per_call, calls)


def test_before_and_after_on_one_model(tmp_path, catalog):
    repo = make_repo(tmp_path / "repo", config())
    h = run(repo.path, catalog, base="main").headline
    # main: grow 10, gone 5, same 5; feature: grow 12, new 10, same 5
    before = sum(monthly(catalog, "gpt-5.5", n, 1000) for n in (10, 5, 5))
    after = sum(monthly(catalog, "gpt-5.5", n, 1000) for n in (12, 10, 5))
    assert h.base_monthly_usd.cheapest == h.base_monthly_usd.dearest == before
    assert h.head_monthly_usd.cheapest == h.head_monthly_usd.dearest == after
    assert h.delta_monthly_usd.cheapest == after - before
    assert h.delta_pct.cheapest == ((after - before) * 100 / before).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    assert (h.prompts, h.prompts_changed) == (4, 3)
    changed = {p.file: p for p in h.changed}
    assert {f: p.change for f, p in changed.items()} == {"prompts/grow.md": "changed", "prompts/new.md": "new", "prompts/gone.md": "deleted"}
    grow = changed["prompts/grow.md"]
    assert grow.delta_monthly_usd.cheapest == monthly(catalog, "gpt-5.5", 12, 1000) - monthly(catalog, "gpt-5.5", 10, 1000)
    assert changed["prompts/new.md"].delta_pct is None and changed["prompts/gone.md"].head_monthly_usd is None
    # largest difference first
    sizes = [abs(p.delta_monthly_usd.dearest) for p in h.changed]
    assert sizes == sorted(sizes, reverse=True)


def test_several_models_collapse_into_a_span(tmp_path, catalog):
    repo = make_repo(tmp_path / "repo", config(models='["gpt-5.5", "gpt-5.4-mini"]'))
    result = run(repo.path, catalog, base="main")
    h = result.headline
    grow = next(p for p in h.lines if p.file == "prompts/grow.md")
    assert grow.models == ["gpt-5.5", "gpt-5.4-mini"]
    on = {m: monthly(catalog, m, 12, 1000) for m in grow.models}
    assert (grow.head_monthly_usd.cheapest, grow.head_monthly_usd.dearest) == (min(on.values()), max(on.values()))
    # totals: every prompt on its cheapest model, and on its dearest
    assert h.head_monthly_usd.cheapest == sum(p.head_monthly_usd.cheapest for p in h.lines if p.head_monthly_usd)
    assert h.head_monthly_usd.dearest == sum(p.head_monthly_usd.dearest for p in h.lines if p.head_monthly_usd)
    assert len(h.lines) == len({(r.file, r.request) for r in result.rows})


def test_without_a_base_there_is_no_before(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "tokopt.toml", config())
    h = run(tmp_path, catalog).headline
    assert h.base_monthly_usd is None and h.delta_monthly_usd is None and h.changed == []
    assert h.head_monthly_usd.cheapest == monthly(catalog, "gpt-5.5", 10, 1000) and h.prompts == 1


def _row(file: str, model: str, before: Decimal | None, after: Decimal | None) -> CheckRow:
    def m(v: Decimal | None) -> Measure | None:
        return None if v is None else Measure(input_tokens=1, output_tokens=0, per_call_usd=v, monthly_usd=v, context_share=Decimal(0))

    change = "new" if before is None else "deleted" if after is None else "changed"
    return CheckRow(budget=0, file=file, model=model, provider="x", approximate=False, calls_per_month=1, change=change, current=m(after), base=m(before))


money = st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False)


@settings(max_examples=60)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from(["m1", "m2"]), st.one_of(st.none(), money), money), min_size=1, max_size=12))
def test_totals_are_the_sums_of_the_prompts(rows):
    seen = set()
    built = []
    for file, model, before, after in rows:
        if (file, model) not in seen:
            seen.add((file, model))
            built.append(_row(file, model, before, after))
    h = headline(built, compared=True)
    for end in ("cheapest", "dearest"):
        head = sum(getattr(p.head_monthly_usd, end) for p in h.lines if p.head_monthly_usd)
        base = sum(getattr(p.base_monthly_usd, end) for p in h.lines if p.base_monthly_usd)
        assert getattr(h.head_monthly_usd, end) == head and getattr(h.base_monthly_usd, end) == base
        assert getattr(h.delta_monthly_usd, end) == head - base
    for p in h.lines:
        assert p.head_monthly_usd is None or p.head_monthly_usd.cheapest <= p.head_monthly_usd.dearest


# --- [[traffic]] -----------------------------------------------------------------------------


def test_traffic_sets_the_calls_and_the_cached_share(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "prompts" / "b.md", TWELVE)
    write(tmp_path / "prompts" / "c.md", TEN)
    traffic = (
        '[[traffic]]\npaths = ["prompts/a.md"]\ncalls_per_day = 2000\ncached_share = 0.5\n'
        '[[traffic]]\npaths = ["prompts/*.md"]\nexclude = ["prompts/c.md"]\ncalls_per_month = 7\n'
    )
    write(tmp_path / "tokopt.toml", config(extra=traffic, budget="calls_per_month = 99"))
    result = run(tmp_path, catalog)
    rows = {r.file: r for r in result.rows}
    a, b, c = rows["prompts/a.md"], rows["prompts/b.md"], rows["prompts/c.md"]
    # a: the first entry wins; 2,000 a day is 60,000 a month; half its input read from the cache
    assert (a.calls_per_month, a.cached_share, a.traffic) == (60_000, Decimal("0.5"), "traffic[0]")
    assert a.current.monthly_usd == monthly(catalog, "gpt-5.5", 10, 60_000, cached=5)
    assert a.current.per_call_usd == monthly(catalog, "gpt-5.5", 10, 1, cached=5)
    # b: the second entry, no cache; c: no entry, the budget's own calls
    assert (b.calls_per_month, b.cached_share, b.traffic) == (7, None, "traffic[1]")
    assert (c.calls_per_month, c.traffic) == (99, None)
    assert result.headline.head_monthly_usd.cheapest == sum(r.current.monthly_usd for r in result.rows)


def test_a_cached_share_on_a_model_without_cache_prices_is_plain_input(tmp_path, catalog):
    model = next(m for m in catalog if m.cached_input is None and m.deprecated is None)
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "tokopt.toml", config(models=f'["{model.id}"]', extra='[[traffic]]\npaths = ["prompts/*"]\ncached_share = 1\n'))
    (row,) = run(tmp_path, catalog).rows
    assert row.current.per_call_usd == monthly(catalog, model.id, row.current.input_tokens, 1)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('paths = ["a"]\ncalls_per_day = 1\ncalls_per_month = 30\n', "traffic[0]: set calls_per_day or calls_per_month, not both"),
        ('paths = ["a"]\n', "traffic[0]: set calls_per_day, calls_per_month or cached_share"),
        ('paths = ["a"]\ncached_share = 1.5\n', "traffic[0].cached_share"),
        ('paths = ["a"]\ncalls_per_day = 0\n', "traffic[0].calls_per_day"),
        ('paths = ["a"]\ncalls = 5\n', "traffic[0].calls: unknown key"),
        ("calls_per_day = 5\n", "traffic[0].paths: missing"),
    ],
)
def test_traffic_errors_name_the_key(tmp_path, table, message):
    write(tmp_path / "tokopt.toml", config(extra="[[traffic]]\n" + table))
    with pytest.raises(ConfigError) as err:
        project_config.load_project(tmp_path / "tokopt.toml")
    assert message in err.value.message


# --- max_total_monthly_cost ------------------------------------------------------------------


def test_a_total_over_all_prompts_on_each_model(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "prompts" / "b.md", TWELVE)
    both = monthly(catalog, "gpt-5.5", 10, 1000) + monthly(catalog, "gpt-5.5", 12, 1000)
    write(tmp_path / "tokopt.toml", config(budget=f"max_total_monthly_cost = {both}"))
    result = run(tmp_path, catalog)
    [total] = result.budgets[0].totals
    assert (total.model, total.monthly_usd, total.ok) == ("gpt-5.5", both, True)  # exactly at the limit passes
    write(tmp_path / "tokopt.toml", config(budget=f"max_total_monthly_cost = {both - Decimal('0.000001')}"))
    result = run(tmp_path, catalog)
    assert not result.ok and not result.budgets[0].ok and all(r.ok for r in result.rows)
    assert [t.model for _, t in result.failed_totals] == ["gpt-5.5"]


def test_a_total_needs_the_calls_it_assumes(tmp_path):
    write(tmp_path / "tokopt.toml", '[[budgets]]\npaths = ["p/*"]\nmax_total_monthly_cost = 5\n')
    with pytest.raises(ConfigError) as err:
        project_config.load_project(tmp_path / "tokopt.toml")
    assert "budgets[0].calls_per_month: required with max_total_monthly_cost" in err.value.message


def test_a_prompt_under_two_budgets_counts_once(tmp_path, catalog):
    write(tmp_path / "prompts" / "a.md", TEN)
    write(tmp_path / "tokopt.toml", config() + '\n[[budgets]]\nname = "all"\npaths = ["**/*.md"]\nmax_tokens = 5000\n')
    result = run(tmp_path, catalog)
    assert len(result.headline.lines) == 2 and result.headline.prompts == 1
    assert result.headline.head_monthly_usd.cheapest == monthly(catalog, "gpt-5.5", 10, 1000)
