"""Views of a CheckResult for CI: a Markdown report (a PR comment), GitHub workflow
annotations and a JUnit XML report. Standard library only."""

from __future__ import annotations

from collections.abc import Sequence

from tokopt.budgets.results import CheckResult, CheckRow, PromptLine
from tokopt.render import check_headline as headline, fmt
from tokopt.render.check import budget_notes, checked_rows, describe, describe_spend, describe_total, file_label, grids, spend_period, spend_scope, verdict
from tokopt.render.escape import Markup, markdown as _md_text, md_code, visible, workflow_data, workflow_property, xml
from tokopt.render.grid import Grid, text_of
from tokopt.render.machine import to_markdown as md_table


# --- Markdown --------------------------------------------------------------------------------


def _md(grid: Grid, notes: Sequence[str]) -> str:
    right = [i for i, c in enumerate(grid.columns) if c.justify == "right"]
    rows = [[text_of(c) for c in row] for row in grid.rows]
    return md_table(
        [c.header for c in grid.columns],
        rows,
        align_right=right,
        title=f"#### {_md_text(grid.title)}" if grid.title else None,
        footer=notes,
    )


def _prompts_md(result: CheckResult, lines: Sequence[PromptLine], *, warn_only: bool, more: int, more_text: str) -> str:
    grid = headline.prompts_grid(result, lines, warn_only=warn_only)
    rows: list[list[str]] = [[text_of(c) for c in row] for row in grid.rows]
    for row in rows:
        row[0] = md_code(row[0])
    notes = list(grid.notes)
    if more:
        notes.insert(0, Markup(f"{more:,} more {'prompt' if more == 1 else 'prompts'} not listed here: {more_text}"))
    right = [i for i, c in enumerate(grid.columns) if c.justify == "right"]
    return md_table([c.header for c in grid.columns], rows, align_right=right, footer=notes)


def _broken_md(rows: Sequence[tuple[str, str, str]], more: int, more_text: str) -> str:
    body = [[budget, prompt if prompt in ("", headline.ALL_PROMPTS) else md_code(prompt), what] for budget, prompt, what in rows]
    body = [[b, p or "–", w] for b, p, w in body]
    footer = [Markup(f"{more:,} more not listed here: {more_text}")] if more else []
    return md_table(["Budget", "Prompt", "Over"], body, title="#### Over budget", footer=footer)


def markdown(
    result: CheckResult,
    *,
    warn_only: bool,
    details: bool = False,
    max_chars: int | None = None,
    more_text: str = "tokopt check --details lists them all",
) -> str:
    """A PR-review report: the monthly cost before → after and the difference, the prompts that
    changed (one row each, models collapsed), what is over budget, then (with `details`) every
    check. With `max_chars` (a PR comment's limit), the lists are cut to fit, longest first,
    and say how many are left out and where they are (`more_text`, Markdown: it may be a link)."""
    lines = headline.prompt_lines(result, details=False)
    broken = headline.broken(result)
    text = _markdown(result, warn_only, details, lines, broken, more_text)
    if max_chars is None or len(text) <= max_chars:
        return text
    if details:
        text = _markdown(result, warn_only, False, lines, broken, more_text)
        if len(text) <= max_chars:
            return text
    # the most rows of each list that fit: each list keeps its first (largest) rows
    low, high = 0, max(len(lines), len(broken))
    while low < high:
        mid = (low + high + 1) // 2
        if len(_markdown(result, warn_only, False, lines[:mid], broken[:mid], more_text, len(lines), len(broken))) <= max_chars:
            low = mid
        else:
            high = mid - 1
    return _markdown(result, warn_only, False, lines[:low], broken[:low], more_text, len(lines), len(broken))


def _markdown(
    result: CheckResult,
    warn_only: bool,
    details: bool,
    lines: Sequence[PromptLine],
    broken: Sequence[tuple[str, str, str]],
    more_text: str,
    all_lines: int | None = None,
    all_broken: int | None = None,
) -> str:
    parts = []
    if result.budgets:
        parts += [f"### tokopt: {_md_text(headline.title(result))}", "", f"**{_md_text(headline.summary(result))}**  ", _md_text(verdict(result, warn_only=warn_only)), ""]
        if lines or all_lines:
            parts.append(_prompts_md(result, lines, warn_only=warn_only, more=(all_lines or len(lines)) - len(lines), more_text=more_text))
    else:
        parts += [f"**tokopt check {_md_text(verdict(result, warn_only=warn_only))}**", ""]
    if broken or all_broken:
        parts.append(_broken_md(broken, (all_broken or len(broken)) - len(broken), more_text))
    for line in result.warnings:
        parts.append(f"> warning: {_md_text(line)}\n")
    if details:
        parts += [f"<details><summary>Every check ({len(checked_rows(result)) + len(result.totals) + len(result.spend):,})</summary>", ""]
        for grid in grids(result, warn_only=warn_only):
            notes = [n for n in grid.notes if not n.startswith("✗ ")]
            parts.append(_md(grid, notes))
        parts += ["</details>", ""]
    elif result.spend:
        spend = grids(result, warn_only=warn_only)[-1]
        parts.append(_md(spend, [n for n in spend.notes if not n.startswith("✗ ")]))
    for line in result.notes:
        parts.append(f"note: {_md_text(line)}  ")
    return "\n".join(parts).rstrip("\n") + "\n"


# --- GitHub workflow commands ----------------------------------------------------------------


def command(kind: str, message: str, **properties: str) -> str:
    """One workflow command. Control characters are shown visibly (a log viewer would act on
    an escape sequence); the message's own line breaks are kept, then everything is escaped
    as @actions/core escapes it, so a name can neither end the command nor start another."""
    props = ",".join(f"{k}={workflow_property(visible(v))}" for k, v in properties.items())
    return f"::{kind}{' ' + props if props else ''}::{workflow_data(visible(message, keep=chr(10)))}"


def github(result: CheckResult, *, warn_only: bool) -> str:
    """`::error file=...,title=...::message` per file over budget (one annotation per file and
    budget, listing its models: GitHub shows at most 10 errors per step), `::warning` lines
    for warnings, then the verdict."""
    kind = "warning" if warn_only else "error"
    names = {b.index: b.name for b in result.budgets}
    lines = []
    groups: dict[tuple[int, str], list[CheckRow]] = {}
    for row in result.failed_rows:
        groups.setdefault((row.budget, row.file), []).append(row)
    for (index, file), rows in groups.items():
        detail = [visible(f"{r.model}{' › ' + r.request if r.request else ''}: ") + "; ".join(describe(c) for c in r.failures) for r in rows]
        message = f"over budget {names[index]!r} on {len(rows)} model{'s' if len(rows) != 1 else ''}:\n" + "\n".join(detail)
        lines.append(command(kind, message, file=result.repo_prefix + file, title=f"tokopt: {names[index]} over budget"))
    for budget, total in result.failed_totals:
        message = f"all the prompts of {budget.name!r} on {total.model}: {describe_total(total)}"
        lines.append(command(kind, message, file=result.repo_prefix + _config_name(result), title=f"tokopt: {budget.name} over budget"))
    for sp in result.failed_spend:
        # not about a file: the annotation goes on the config that sets the budget
        lines.append(command(kind, describe_spend(sp), file=result.repo_prefix + _config_name(result), title=f"tokopt: {sp.name} over budget"))
    for warning in result.warnings:
        lines.append(command("warning", warning, title="tokopt"))
    if result.budgets:
        lines.append(command("notice", f"{headline.title(result)}: {headline.summary(result)}", title="tokopt"))
    lines.append(visible(verdict(result, warn_only=warn_only)))
    return "\n".join(lines) + "\n"


def _config_name(result: CheckResult) -> str:
    from pathlib import Path

    try:
        return Path(result.config).relative_to(result.root).as_posix()
    except ValueError:
        return Path(result.config).name


# --- JUnit XML -------------------------------------------------------------------------------


def junit(result: CheckResult, *, warn_only: bool) -> str:
    """One testsuite per budget and one testcase per file and model; a broken limit is a
    <failure> (also with --warn-only, which only changes the exit code)."""
    import xml.etree.ElementTree as ET

    checked = checked_rows(result)
    top = ET.Element(
        "testsuites",
        name="tokopt check",
        tests=str(len(result.rows) + len(result.totals) + len(result.spend)),
        failures=str(len(result.failed_rows) + len(result.failed_totals) + len(result.failed_spend)),
        errors="0",
        skipped=str(len(result.rows) - len(checked)),
        time="0",
    )
    for budget in result.budgets:
        rows = [r for r in result.rows if r.budget == budget.index]
        suite = ET.SubElement(
            top,
            "testsuite",
            name=budget.name,
            tests=str(len(rows) + len(budget.totals)),
            failures=str(sum(1 for r in rows if not r.ok) + len(budget.failed_totals)),
            errors="0",
            skipped=str(sum(1 for r in rows if r.current is None)),
            time="0",
        )
        props = ET.SubElement(suite, "properties")
        for name, value in [
            ("key", budget.key),
            ("headline", f"{headline.title(result)}: {headline.summary(result)}"),
            ("paths", ", ".join(budget.paths)),
            ("models", ", ".join(budget.models)),
            *((k, str(v)) for k, v in budget.limits.items()),
        ]:
            ET.SubElement(props, "property", name=name, value=value)
        for row in rows:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=budget.name,
                name=f"{file_label(row)} [{row.model}]",
                file=result.repo_prefix + row.file,
                time="0",
            )
            if row.current is None:
                ET.SubElement(case, "skipped", message=f"deleted since {result.base}")
                continue
            for c in row.failures:
                failure = ET.SubElement(case, "failure", message=describe(c), type=c.name)
                failure.text = f"{file_label(row)} on {row.model}: {describe(c)}"
            summary = f"input tokens {row.current.input_tokens:,}, per call {fmt.usd(row.current.per_call_usd)}"
            ET.SubElement(case, "system-out").text = summary
        for total in budget.totals:
            case = ET.SubElement(suite, "testcase", classname=budget.name, name=f"all its prompts [{total.model}]", time="0")
            if not total.ok:
                failure = ET.SubElement(case, "failure", message=describe_total(total), type="max_total_monthly_cost")
                failure.text = f"all the prompts of {budget.name} on {total.model}: {describe_total(total)}"
        extra = budget_notes(result, budget, rows)[1:]
        if extra:
            ET.SubElement(suite, "system-out").text = "\n".join(extra)
    if result.spend:
        suite = ET.SubElement(
            top,
            "testsuite",
            name="spend",
            tests=str(len(result.spend)),
            failures=str(len(result.failed_spend)),
            errors="0",
            skipped="0",
            time="0",
        )
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="ledger", value=str(result.ledger))
        for sp in result.spend:
            case = ET.SubElement(suite, "testcase", classname="spend", name=f"{sp.name} [{spend_scope(sp)}]", time="0")
            if not sp.ok:
                failure = ET.SubElement(case, "failure", message=describe_spend(sp), type="max_spend")
                failure.text = f"{sp.name}: {describe_spend(sp)}"
            ET.SubElement(case, "system-out").text = f"{sp.records:,} calls, {sp.unpriced_records:,} unpriced; {spend_period(sp)}"
    for element in top.iter():  # every name from outside, in one pass: valid XML 1.0
        element.attrib = {k: xml(v) for k, v in element.attrib.items()}
        if element.text:
            element.text = xml(element.text)
    ET.indent(top)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="unicode") + "\n"
