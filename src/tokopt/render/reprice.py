"""Views of a RepriceReport (`tokopt session reprice`): each model's cost before and after."""

from __future__ import annotations

from typing import Any

from tokopt import __version__
from tokopt.ledger.reprice import RepricedModel, RepriceReport
from tokopt.render import fmt
from tokopt.render.grid import Cell, Column, Grid

COLUMNS = ["provider", "model", "records", "changed", "kept", "before_usd", "after_usd", "change_usd", "unpriced_before", "unpriced_after"]


def _cost(amount: Any, records: int, unpriced: int) -> Cell:
    """A cost: unknown when none of the records had a price, a lower bound (≥) when some had none."""
    if records and amount is None:
        return ("unknown", "yellow")
    text = fmt.usd(amount or 0)
    return (f"≥ {text}", "yellow") if unpriced else text


def _change(m: RepricedModel) -> Cell:
    if m.change_usd == 0:
        return "—"
    text = fmt.usd(m.change_usd)
    return ("+" + text) if m.change_usd > 0 else text


def _cells(m: RepricedModel) -> list[Cell]:
    return [
        fmt.count(m.records),
        fmt.count(m.changed),
        _cost(m.before_usd, m.records, m.unpriced_before),
        _cost(m.after_usd, m.records, m.unpriced_after),
        _change(m),
        f"{m.unpriced_before:,} → {m.unpriced_after:,}" if m.unpriced_before or m.unpriced_after else "—",
    ]


def grid(report: RepriceReport) -> Grid:
    title = ("Would reprice" if report.dry_run else "Repriced") + f" with {report.data}"
    g = Grid(
        columns=[
            Column("Provider", style="dim", drop_priority=3),
            Column("Model", min_width=10),
            Column("Records", justify="right", drop_priority=2),
            Column("Changed", justify="right", drop_priority=1),
            Column("Before", justify="right"),
            Column("After", justify="right", style="bold"),
            Column("Change", justify="right"),
            Column("Unpriced", justify="right", drop_priority=4),
        ],
        title=title,
    )
    for m in report.models:
        g.add(m.provider or "—", m.model, *_cells(m))
    g.footer = ["Total", "", *_cells(report.total)]
    g.notes = notes(report)
    return g


def notes(report: RepriceReport) -> list[str]:
    out = ["each record priced at the prices in force at its own time; ≥: some records have no price (not in the sum)"]
    if not report.models:
        out.insert(0, "no records in scope")
    if report.kept:
        out.append(f"kept: {report.kept:,} priced records of models the price data in use does not know keep their price (give their pricing file with --pricing to reprice them)")
    return out


def messages(report: RepriceReport) -> list[str]:
    """What happened, for stderr."""
    n, changed = report.records, report.changed
    copies = (
        f" (and {report.copies:,} other users' {'copy' if report.copies == 1 else 'copies'} of the same responses, counted once as in every all-users report)"
        if report.copies
        else ""
    )
    if report.dry_run:
        return [f"dry run: {changed:,} of {n:,} records would change{copies}; nothing was written (run without --dry-run to store the new prices)"]
    return [f"repriced {changed:,} of {n:,} records{copies} with {report.data}"]


def _dict(m: RepricedModel) -> dict[str, Any]:
    return {
        "provider": m.provider,
        "model": m.model,
        "records": m.records,
        "changed": m.changed,
        "kept": m.kept,
        "before_usd": m.before_usd,
        "after_usd": m.after_usd,
        "change_usd": m.change_usd,
        "unpriced_before": m.unpriced_before,
        "unpriced_after": m.unpriced_after,
    }


def document(report: RepriceReport) -> dict[str, Any]:
    return {
        "tokopt_version": __version__,
        "dry_run": report.dry_run,
        "price_data": report.data,
        "pricing_version": report.data_version,
        "records": report.records,
        "changed": report.changed,
        "shared_copies": report.copies,
        "models": [_dict(m) for m in report.models],
        "total": {k: v for k, v in _dict(report.total).items() if k not in ("provider", "model")},
    }


def rows(report: RepriceReport) -> list[dict[str, Any]]:
    """CSV: one row per model, then a `(total)` row."""
    return [*(_dict(m) for m in report.models), {**_dict(report.total), "provider": "(total)", "model": None}]
