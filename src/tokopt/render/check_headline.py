"""The headline of a check, the way a PR review reads it: the monthly cost before → after at the
configured traffic, the difference, the prompts that changed (one row each, models collapsed),
then what is over budget. Shared by the table and the Markdown report; `check` has the details.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from tokopt.budgets.results import BudgetResult, CheckResult, CheckRow, LimitCheck, PromptLine, Span
from tokopt.render import fmt
from tokopt.render.check import LIMIT_WORDS, describe_spend, limit_text
from tokopt.render.grid import Cell, Column, Grid


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# --- values ----------------------------------------------------------------------------------


def _ends(span: Span) -> tuple[Decimal, Decimal]:
    return min(span.cheapest, span.dearest), max(span.cheapest, span.dearest)


def money(span: Span | None) -> str:
    """`$12.40`, or `$3.10–$12.40` over a budget's models."""
    if span is None:
        return "–"
    low, high = _ends(span)
    return fmt.usd(low) if low == high else f"{fmt.usd(low)}–{fmt.usd(high)}"


def _signed(amount: Decimal) -> str:
    if amount == 0:
        return "$0"
    return ("+" if amount > 0 else "") + fmt.usd(amount)


def signed_money(span: Span | None) -> str:
    """`+$1.20`, `-$0.40`, `+$0.30–$1.20` over a budget's models; `-$0.30 to -$1.20`, and
    `-$0.40 to +$1.20` across 0."""
    if span is None:
        return "–"
    low, high = _ends(span)
    if low == high:
        return _signed(low)
    if low < 0 < high:
        return f"{_signed(low)} to {_signed(high)}"
    small, large = sorted((abs(low), abs(high)))
    if high > 0:
        return f"+{fmt.usd(small)}–{fmt.usd(large)}"
    return f"{_signed(-small)} to -{fmt.usd(large)}"  # `-$1–$3` would read as -$1 to +$3


def _pct(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}".removesuffix(".0")
    return ("+" if value > 0 else "") + text + "%"


def percent(span: Span | None) -> str:
    """`+8.3%`, `+0.3–0.6%`, `-0.3% to -0.6%`, `-2% to +4%`."""
    if span is None:
        return ""
    low, high = _ends(span)
    a, b = _pct(low), _pct(high)
    if a == b:
        return a
    if low < 0 < high:
        return f"{a} to {b}"
    small, large = sorted((_pct(abs(low)), _pct(abs(high))), key=lambda t: Decimal(t.strip("+%")))
    if high > 0:
        return "+" + small.strip("+").removesuffix("%") + "–" + large.strip("+")
    return f"{_pct(-Decimal(small.strip('+%')))} to -{large.strip('+')}"


def models_text(line: PromptLine, budget: BudgetResult) -> str:
    """The budget's own model, or how many it prices on; ≈ when a count behind the row's
    costs is approximate."""
    text = line.models[0] if len(line.models) == 1 else f"{len(budget.models)} models"
    return f"{text} ≈" if line.approximate else text


def prompt_label(line: PromptLine) -> str:
    return line.file if line.request is None else f"{line.file} › {line.request}"


def calls_text(line: PromptLine) -> str:
    text = f"{line.calls_per_month:,}"
    if line.cached_share:
        text += f" ({_pct(line.cached_share * 100).lstrip('+')} cached)"
    return text


def delta_text(line: PromptLine) -> str:
    if line.change == "new":
        return "new"
    text = signed_money(line.delta_monthly_usd)
    pct = percent(line.delta_pct)
    return f"{text} ({pct})" if pct and text != "$0" else text


# --- the headline ----------------------------------------------------------------------------


def title(result: CheckResult) -> str:
    """One line: what the change does to the monthly cost."""
    h = result.headline
    if h.delta_monthly_usd is None:
        return f"monthly cost {money(h.head_monthly_usd)} at the configured traffic"
    d = h.delta_monthly_usd
    if d.cheapest == 0 and d.dearest == 0:
        return f"monthly cost unchanged at {money(h.head_monthly_usd)}"
    pct = f" ({percent(h.delta_pct)})" if h.delta_pct is not None else ""
    low, high = _ends(d)
    if low < 0 < high:
        return f"monthly cost changes by {signed_money(d)}{pct}"
    return f"monthly cost {'up' if high > 0 else 'down'} {money(Span(cheapest=abs(low), dearest=abs(high)))}{pct}"


def summary(result: CheckResult) -> str:
    """`$8.18 → $12.33 a month at the configured traffic · 3 of 4 prompts changed`; without a
    base, how many prompts in how many budgets."""
    h = result.headline
    if h.base_monthly_usd is None:
        return f"{_n(h.prompts, 'prompt')} in {_n(len(result.budgets), 'budget')}, not compared with a base (--base REF)"
    return (
        f"{money(h.base_monthly_usd)} → {money(h.head_monthly_usd)} a month at the configured traffic · "
        f"{h.prompts_changed:,} of {_n(h.prompts, 'prompt')} changed"
    )


def prompt_lines(result: CheckResult, *, details: bool) -> list[PromptLine]:
    """The prompts a report lists: those that changed; without a base (or with --details), all."""
    if result.headline.base_monthly_usd is not None and not details:
        return result.headline.changed
    return result.headline.lines


def prompts_grid(result: CheckResult, lines: Sequence[PromptLine], *, warn_only: bool, title: str | None = None) -> Grid:
    compared = result.headline.base_monthly_usd is not None
    budgets = {b.index: b for b in result.budgets}
    columns = [Column("Prompt", min_width=8), Column("Model", min_width=5), Column("Calls/month", justify="right", drop_priority=1)]
    if compared:
        columns.append(Column("Before", justify="right", drop_priority=2))
    columns.append(Column("Monthly" if not compared else "After", justify="right", style="bold"))
    if compared:
        columns.append(Column("Δ monthly", justify="right"))
    columns.append(Column("Status"))
    grid = Grid(columns=columns, title=title)
    for line in lines:
        cells: list[Cell] = [prompt_label(line), models_text(line, budgets[line.budget]), calls_text(line)]
        if compared:
            cells.append(money(line.base_monthly_usd))
        cells.append(money(line.head_monthly_usd))
        if compared:
            cells.append(_delta_cell(line))
        cells.append(_status(line, warn_only))
        grid.add(*cells)
    notes = []
    if any(len(line.models) > 1 for line in lines):
        notes.append("a budget of several models: each cost runs from the model where it is least to the one where it is most")
    if any(line.approximate for line in lines):
        notes.append("≈ some counts are approximate: the provider publishes no local tokenizer (see tokopt models)")
    grid.notes = notes
    return grid


def _delta_cell(line: PromptLine) -> Cell:
    text = delta_text(line)
    d = line.delta_monthly_usd
    if line.change == "new":
        return (text, "cyan")
    if d is None or (d.cheapest == 0 and d.dearest == 0):
        return text
    return (text, "red" if max(d.cheapest, d.dearest) > 0 else "green")


def _status(line: PromptLine, warn_only: bool) -> Cell:
    if line.head_monthly_usd is None:
        return ("deleted", "dim")
    if line.ok:
        return ("✓", "green")
    return ("! over", "bold yellow") if warn_only else ("✗ over", "bold red")


# --- what is over budget ---------------------------------------------------------------------


def _range(name: str, values: Sequence[Decimal]) -> str:
    from tokopt.render.check import _value

    low, high = _value(name, min(values)), _value(name, max(values))
    if low == high:
        return low
    if name == "max_increase_pct" and low[0] == high[0] == "+":
        return f"{low.removesuffix('%')}–{high[1:]}"
    return f"{low}–{high}"


ALL_PROMPTS = "all its prompts"  # a budget's max_total_monthly_cost, in the Prompt column


def broken(result: CheckResult) -> list[tuple[str, str, str]]:
    """(budget, prompt, what is over) per prompt and limit, its models collapsed, in order."""
    names = {b.index: b.name for b in result.budgets}
    groups: dict[tuple[int, str, str | None, str], list[tuple[CheckRow, LimitCheck]]] = {}
    for row in result.failed_rows:
        for check in row.failures:
            groups.setdefault((row.budget, row.file, row.request, check.name), []).append((row, check))
    out = []
    for (index, file, request, name), found in groups.items():
        label = file if request is None else f"{file} › {request}"
        limit = found[0][1].limit
        actual = _range(name, [c.actual for _, c in found])
        models = ", ".join(r.model for r, _ in found)
        what = f"{LIMIT_WORDS[name]} {actual}, limit {limit_text(name, limit)} ({name}) on {models}"
        out.append((names[index], label, what))
    for budget, total in result.failed_totals:
        what = f"monthly cost {fmt.usd(total.monthly_usd)}, limit {limit_text('max_total_monthly_cost', total.limit)} (max_total_monthly_cost) on {total.model}"
        out.append((budget.name, ALL_PROMPTS, what))
    for sp in result.failed_spend:
        out.append((sp.name, "", describe_spend(sp)))
    return out



def broken_grid(result: CheckResult) -> Grid:
    grid = Grid(columns=[Column("Budget", min_width=6), Column("Prompt", min_width=8), Column("Over", no_wrap=False, min_width=20)], title="Over budget")
    for budget, prompt, what in broken(result):
        grid.add(budget, prompt or "–", what)
    return grid


Block = Grid | tuple[str, str]  # a table, or a line of text and its style


def blocks(result: CheckResult, *, warn_only: bool, details: bool) -> list[Block]:
    """The report for people, top to bottom: the headline, the prompts (those that changed; all
    of them without a base; every model's row with --details), what is over budget, the verdict."""
    from tokopt.render.check import grids, spend_grid, verdict

    out: list[Block] = []
    if result.budgets:
        out += [("tokopt check: " + title(result), "bold"), (summary(result), "")]
        if details:
            out += [g for g in grids(result, warn_only=warn_only) if g.title is None or not g.title.startswith("Spend")]
        else:
            lines = prompt_lines(result, details=False)
            if lines:
                out.append(prompts_grid(result, lines, warn_only=warn_only))
    if result.spend:
        out.append(spend_grid(result, warn_only))
    if not result.ok:
        out.append(broken_grid(result))
    style = "bold green" if result.ok else ("bold yellow" if warn_only else "bold red")
    out.append((verdict(result, warn_only=warn_only), style))
    return out
