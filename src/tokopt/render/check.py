"""Views of a CheckResult for people and programs: the verdict, grids (tables) and a JSON
document. The CI views (Markdown, GitHub annotations, JUnit XML) are in `check_ci`."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tokopt import __version__
from tokopt.budgets.results import BudgetResult, CheckResult, CheckRow, LimitCheck, Span, SpendResult, TotalCheck
from tokopt.render import fmt
from tokopt.render.grid import Cell, Column, Grid
from tokopt.usage import quantize

APPROX_NOTE = "≈ approximate count: the provider publishes no local tokenizer (see tokopt models)"
LIMIT_WORDS = {
    "max_tokens": "input tokens",
    "max_cost_per_call": "cost per call",
    "max_monthly_cost": "monthly cost",
    "max_total_monthly_cost": "monthly cost of all its prompts",
    "max_context_share": "context share",
    "max_increase_pct": "increase",
}


# --- values ----------------------------------------------------------------------------------


def _pct(value: Decimal, sign: bool = False) -> str:
    text = f"{quantize(value, '0.1'):f}".removesuffix(".0")
    return ("+" if sign and value > 0 else "") + text + "%"


def _value(name: str, value: Decimal) -> str:
    if name == "max_tokens":
        return f"{int(value):,}"
    if name in ("max_cost_per_call", "max_monthly_cost", "max_total_monthly_cost"):
        return fmt.usd(value)
    if name == "max_context_share":
        return _pct(value * 100)
    return _pct(value, sign=True)


def limit_text(name: str, limit: Decimal) -> str:
    """A limit as people read it: `≤ $0.01/call`, `≤ 3,000 tokens`."""
    value = _value(name, limit)
    return {
        "max_tokens": f"≤ {value} tokens",
        "max_cost_per_call": f"≤ {value}/call",
        "max_monthly_cost": f"≤ {value}/month",
        "max_total_monthly_cost": f"≤ {value}/month in all",
        "max_context_share": f"≤ {value} of window",
        "max_increase_pct": f"≤ +{_pct(limit)} vs base",
    }[name]


def describe(check: LimitCheck) -> str:
    """`cost per call $0.0125 > $0.01 (max_cost_per_call)`, with the exact figure when
    display rounding would make both sides look the same."""
    actual, limit = _value(check.name, check.actual), _value(check.name, check.limit)
    if actual == limit and check.actual != check.limit:
        actual = format(check.actual.normalize(), "f")
    op = "≤" if check.ok else ">"
    return f"{LIMIT_WORDS[check.name]} {actual} {op} {limit} ({check.name})"


def _ratio(check: LimitCheck) -> Decimal:
    if check.limit == 0:
        return Decimal(0) if check.actual <= 0 else Decimal("Infinity")
    return check.actual / check.limit


def binding(row: CheckRow) -> LimitCheck | None:
    """The limit a row is closest to (or furthest over)."""
    if not row.checks:
        return None
    return max(row.checks, key=_ratio)


def file_label(row: CheckRow) -> str:
    return row.file if row.request is None else f"{row.file} › {row.request}"


# --- verdict ---------------------------------------------------------------------------------


def checked_rows(result: CheckResult) -> list[CheckRow]:
    """The rows of files that exist now (not the ones deleted since the base)."""
    return [r for r in result.rows if r.current is not None]


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def verdict(result: CheckResult, *, warn_only: bool) -> str:
    """The one-line outcome."""
    checked = checked_rows(result)
    files = len({(r.budget, r.file) for r in checked})
    n_budgets = len(result.budgets) + len(result.spend)
    total = len(checked) + len(result.totals) + len(result.spend)
    against = f" against {result.base}" if result.base else ""
    what = []
    if checked or not result.spend:
        what.append(f"{_n(len(checked) + len(result.totals), 'check')} of {_n(files, 'file')}")
    if result.spend:
        what.append(_n(len(result.spend), "spend check"))
    scope = f"{' and '.join(what)} in {_n(n_budgets, 'budget')}"
    if result.ok:
        if not total:
            return f"✓ within budget: no files to check{against}"
        return f"✓ within budget: {scope}{against}"
    failed = len(result.failed_rows) + len(result.failed_totals) + len(result.failed_spend)
    broken = [b.name for b in result.budgets if not b.ok] + [s.name for s in result.failed_spend]
    mark, tail = ("!", " (warn only)") if warn_only else ("✗", "")
    where = f"in budget {broken[0]!r}" if n_budgets == 1 else f"in {len(broken)} of {n_budgets} budgets ({', '.join(broken)})"
    checks = _n(total, "check")
    return f"{mark} over budget{tail}: {failed:,} of {checks} {where}{against}"


# --- grids -----------------------------------------------------------------------------------


def _status(row: CheckRow, warn_only: bool) -> Cell:
    if row.current is None:
        return ("deleted", "dim")
    b = binding(row)
    if b is None:
        return ("–", "dim")
    ratio = _ratio(b)
    used = "" if ratio.is_infinite() else f" {_pct(ratio * 100)}"
    if row.ok:
        return (f"✓{used}", "green" if ratio <= Decimal("0.9") else "yellow")
    return (f"!{used}", "bold yellow") if warn_only else (f"✗{used}", "bold red")


def _delta_tokens(row: CheckRow) -> Cell:
    if row.change == "new":
        return ("new", "cyan")
    if row.delta_tokens is None:
        return "–"
    text = f"{row.delta_tokens:+,}" if row.delta_tokens else "0"
    if row.increase_pct is not None and row.delta_tokens:
        text += f" ({_pct(row.increase_pct, sign=True)})"
    return (text, "red" if row.delta_tokens > 0 else "green") if row.delta_tokens else text


def _delta_usd(row: CheckRow) -> Cell:
    if row.change == "new":
        return ("new", "cyan")
    if row.delta_usd is None:
        return "–"
    if row.delta_usd == 0:
        return "$0"
    sign = "+" if row.delta_usd > 0 else ""
    return (sign + fmt.usd(row.delta_usd), "red" if row.delta_usd > 0 else "green")


def _budget_grid(result: CheckResult, budget: BudgetResult, rows: Sequence[CheckRow], warn_only: bool) -> Grid:
    with_base = result.base is not None
    columns = [Column("File", min_width=8), Column("Model", min_width=8), Column("Tokens", justify="right")]
    if with_base:
        columns.append(Column("Δ tokens", justify="right"))
    columns.append(Column("Per call", justify="right", style="bold"))
    if with_base:
        columns.append(Column("Δ per call", justify="right", drop_priority=1))
    columns += [
        Column(f"Monthly ({budget.calls_per_month:,})", justify="right", drop_priority=2),
        Column("Limit", justify="right", drop_priority=3),
        Column("Status (% of limit)", justify="right"),
    ]
    grid = Grid(columns=columns, title=f"{budget.name} — {budget.key}")
    for row in rows:
        shown = row.current or row.base
        assert shown is not None
        b = binding(row)
        cells: list[Cell] = [file_label(row), row.model]
        cells.append(fmt.count(shown.input_tokens, row.approximate) if row.current else ("–", "dim"))
        if with_base:
            cells.append(_delta_tokens(row))
        cells.append(fmt.usd(shown.per_call_usd) if row.current else ("–", "dim"))
        if with_base:
            cells.append(_delta_usd(row))
        cells += [
            fmt.usd(shown.monthly_usd) if row.current else ("–", "dim"),
            limit_text(b.name, b.limit) if b is not None else "–",
            _status(row, warn_only),
        ]
        grid.add(*cells)
    grid.notes = budget_notes(result, budget, rows)
    return grid


def budget_notes(result: CheckResult, budget: BudgetResult, rows: Sequence[CheckRow]) -> list[str]:
    limits = [limit_text(k, v) for k, v in budget.limits.items()]
    lines = [
        f"limits: {', '.join(limits)} · output {budget.output_tokens:,} tokens per call · "
        f"{budget.calls_per_month:,} calls per month"
    ]
    if not rows:
        lines.append("no files match " + ", ".join(budget.paths))
    if any(r.approximate for r in rows):
        lines.append(APPROX_NOTE)
    if any(r.request is not None for r in rows):
        lines.append(
            "file › request: each request of a request or batch file is one call; "
            "its own max_tokens is its output unless the budget sets output_tokens"
        )
    if any(r.batch for r in rows):
        lines.append("batch files are priced at the models' batch rates")
    for row in rows:
        if not row.ok:
            lines.append(f"✗ {file_label(row)} on {row.model}: " + "; ".join(describe(c) for c in row.failures))
    for total in budget.totals:
        lines.append(f"{'✓' if total.ok else '✗'} all its prompts on {total.model}: {describe_total(total)}")
    return lines


def describe_total(total: TotalCheck) -> str:
    op = "≤" if total.ok else ">"
    return f"{fmt.usd(total.monthly_usd)} a month {op} {fmt.usd(total.limit)} (max_total_monthly_cost)"


def spend_scope(s: SpendResult) -> str:
    """`alice`, `everyone`, `alice › run nightly`."""
    who = s.user if s.user is not None else "everyone"
    return f"{who} › run {s.run}" if s.run else who


def spend_period(s: SpendResult) -> str:
    """`2026-11-01 – now (UTC)`, `all time`."""
    if s.since is None and s.until is None:
        return "all time"
    start = s.since.isoformat() if s.since else "start"
    end = s.until.isoformat() if s.until else "now"
    name = "" if s.period == "custom" else f"this {s.period}: "
    return f"{name}{start} – {end} ({s.timezone})"


def spend_ratio(s: SpendResult) -> Decimal:
    if s.max_spend == 0:
        return Decimal(0) if s.spent_usd <= 0 else Decimal("Infinity")
    return s.spent_usd / s.max_spend


def describe_spend(s: SpendResult) -> str:
    op = "≤" if s.ok else ">"
    return f"spent {fmt.usd(s.spent_usd)} {op} {fmt.usd(s.max_spend)} (max_spend) by {spend_scope(s)}, {spend_period(s)}"


def _spend_status(s: SpendResult, warn_only: bool) -> Cell:
    ratio = spend_ratio(s)
    used = "" if ratio.is_infinite() else f" {_pct(ratio * 100)}"
    if s.ok:
        return (f"✓{used}", "green" if ratio <= Decimal("0.9") else "yellow")
    return (f"!{used}", "bold yellow") if warn_only else (f"✗{used}", "bold red")


def spend_grid(result: CheckResult, warn_only: bool) -> Grid:
    columns = [
        Column("Budget", min_width=8),
        Column("Whose", min_width=6),
        Column("Period", min_width=8, drop_priority=2),
        Column("Calls", justify="right", drop_priority=1),
        Column("Spent", justify="right", style="bold"),
        Column("Limit", justify="right"),
        Column("Status (% of limit)", justify="right"),
    ]
    grid = Grid(columns=columns, title=f"Spend — ledger {result.ledger}")
    for s in result.spend:
        calls = f"{s.records:,}" + (f" ({s.unpriced_records:,} unpriced)" if s.unpriced_records else "")
        grid.add(s.name, spend_scope(s), spend_period(s), calls, fmt.usd(s.spent_usd), f"≤ {fmt.usd(s.max_spend)}", _spend_status(s, warn_only))
    notes = ["spent: the priced calls the ledger recorded in the period (estimates included); unpriced calls are not in it"]
    if any(s.estimated_records for s in result.spend):
        notes.append("some recorded calls are estimates (session record --from-file), not provider-reported usage")
    notes += [f"✗ {s.name}: {describe_spend(s)}" for s in result.failed_spend]
    grid.notes = notes
    return grid


def grids(result: CheckResult, *, warn_only: bool) -> list[Grid]:
    out = []
    for budget in result.budgets:
        rows = [r for r in result.rows if r.budget == budget.index]
        out.append(_budget_grid(result, budget, rows, warn_only))
    if result.spend:
        out.append(spend_grid(result, warn_only))
    return out


# --- JSON ------------------------------------------------------------------------------------


def _measure(m: Any) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "input_tokens": m.input_tokens,
        "output_tokens": m.output_tokens,
        "per_call_usd": m.per_call_usd,
        "monthly_usd": m.monthly_usd,
        "context_share": m.context_share,
    }


def _number(name: str, value: Decimal) -> int | Decimal:
    # token counts are ints in JSON; money, shares and percentages decimal strings
    return int(value) if name == "max_tokens" else value


def _span(span: Span | None) -> dict[str, Decimal] | None:
    return None if span is None else {"cheapest": span.cheapest, "dearest": span.dearest}


def _headline(result: CheckResult, names: dict[int, str], keys: dict[int, str]) -> dict[str, Any]:
    h = result.headline
    return {
        "prompts": h.prompts,
        "prompts_changed": h.prompts_changed,
        "base_monthly_usd": _span(h.base_monthly_usd),
        "head_monthly_usd": _span(h.head_monthly_usd),
        "delta_monthly_usd": _span(h.delta_monthly_usd),
        "delta_pct": _span(h.delta_pct),
        "changed": [
            {
                "budget": names[p.budget],
                "budget_key": keys[p.budget],
                "file": p.file,
                "request": p.request,
                "models": p.models,
                "approximate": p.approximate,
                "calls_per_month": p.calls_per_month,
                "cached_share": p.cached_share,
                "change": p.change,
                "base_monthly_usd": _span(p.base_monthly_usd),
                "head_monthly_usd": _span(p.head_monthly_usd),
                "delta_monthly_usd": _span(p.delta_monthly_usd),
                "delta_pct": _span(p.delta_pct),
                "ok": p.ok,
            }
            for p in h.changed
        ],
    }


def document(result: CheckResult, *, warn_only: bool) -> dict[str, Any]:
    checked = checked_rows(result)
    names = {b.index: b.name for b in result.budgets}
    keys = {b.index: b.key for b in result.budgets}
    return {
        "tokopt_version": __version__,
        "ok": result.ok,
        "warn_only": warn_only,
        "verdict": verdict(result, warn_only=warn_only),
        "config": result.config,
        "base": result.base,
        "base_commit": result.base_commit,
        "summary": {
            "budgets": len(result.budgets) + len(result.spend),
            "files": len({(r.budget, r.file) for r in checked}),
            "checks": len(checked) + len(result.totals) + len(result.spend),
            "failed": len(result.failed_rows) + len(result.failed_totals) + len(result.failed_spend),
        },
        "headline": _headline(result, names, keys),
        "budgets": [
            {
                "name": b.name,
                "key": b.key,
                "ok": b.ok,
                "paths": b.paths,
                "exclude": b.exclude,
                "models": b.models,
                "output_tokens": b.output_tokens,
                "calls_per_month": b.calls_per_month,
                "limits": {k: _number(k, v) for k, v in b.limits.items()},
                "files": b.files,
                "totals": [{"model": t.model, "monthly_usd": t.monthly_usd, "limit": t.limit, "ok": t.ok} for t in b.totals],
            }
            for b in result.budgets
        ],
        "rows": [
            {
                "budget": names[r.budget],
                "budget_key": keys[r.budget],
                "file": r.file,
                "request": r.request,
                "model": r.model,
                "provider": r.provider,
                "approximate": r.approximate,
                "batch": r.batch,
                "ok": r.ok,
                "change": r.change,
                "current": _measure(r.current),
                "base": _measure(r.base),
                "delta_tokens": r.delta_tokens,
                "delta_usd": r.delta_usd,
                "increase_pct": r.increase_pct,
                "calls_per_month": r.calls_per_month,
                "cached_share": r.cached_share,
                "traffic": r.traffic,
                "checks": [
                    {"name": c.name, "limit": _number(c.name, c.limit), "actual": _number(c.name, c.actual), "ok": c.ok}
                    for c in r.checks
                ],
            }
            for r in result.rows
        ],
        "spend": [
            {
                "budget": sp.name,
                "budget_key": sp.key,
                "ok": sp.ok,
                "max_spend": sp.max_spend,
                "spent_usd": sp.spent_usd,
                "user": sp.user,
                "run": sp.run,
                "period": sp.period,
                "since": sp.since.isoformat() if sp.since else None,
                "until": sp.until.isoformat() if sp.until else None,
                "timezone": sp.timezone,
                "records": sp.records,
                "unpriced_records": sp.unpriced_records,
                "estimated_records": sp.estimated_records,
            }
            for sp in result.spend
        ],
        "ledger": result.ledger,
        "warnings": result.warnings,
        "notes": result.notes,
    }
