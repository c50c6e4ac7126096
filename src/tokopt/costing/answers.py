"""Everyday questions of an estimate, answered in the report itself: which models fit
(`--fits`), the N cheapest of them (`--cheapest N`), and what the calls cost a day and a month
(`--per day|month`, a month being 30 days).

Each takes an `EstimateReport` and returns a new one; the rows kept are the rows priced, so
every figure is still the pipeline's own.
"""

from __future__ import annotations

import dataclasses
import decimal
from collections.abc import Sequence
from typing import Literal

from tokopt import costing
from tokopt.costing.report import EstimateReport, ModelEstimate

DAYS_PER_MONTH = 30
Per = Literal["day", "month"]


def narrow(report: EstimateReport, *, fits: bool = False, cheapest: int | None = None) -> EstimateReport:
    """The report with only the models that fit (`fits`), then the `cheapest` N of those; the
    per-input tables keep the same models. Says what it left out in `assumptions`."""
    if not fits and cheapest is None:
        return report
    rows = list(report.models)
    if fits:
        rows = [r for r in rows if r.fits]
    if cheapest is not None:
        keep = {r.model for r in sorted(rows, key=lambda r: (r.total_usd, r.model))[:cheapest]}
        rows = [r for r in rows if r.model in keep]
    kept = {r.model for r in rows}
    a = dataclasses.replace(
        report.assumptions,
        fits=fits,
        cheapest=cheapest,
        left_out=len(report.models) - len(rows),
        not_fitting=sum(1 for r in report.models if not r.fits) if fits else 0,
    )
    per_file = [dataclasses.replace(f, models=[r for r in f.models if r.model in kept]) for f in report.per_file]
    return dataclasses.replace(report, models=rows, per_file=per_file, assumptions=a)


def _project(row: ModelEstimate, per: Per) -> ModelEstimate:
    with decimal.localcontext(costing.MONEY_CONTEXT):
        if per == "day":
            day, month = row.total_usd, row.total_usd * DAYS_PER_MONTH
        else:
            day, month = row.total_usd / DAYS_PER_MONTH, row.total_usd
    return row.model_copy(update={"per_day_usd": day, "per_month_usd": month})


def _rows(rows: Sequence[ModelEstimate], per: Per) -> list[ModelEstimate]:
    return [_project(r, per) for r in rows]


def project(report: EstimateReport, per: Per | None) -> EstimateReport:
    """With `per`, the calls (`-n`) are that many a day (or a month), and each row also says what
    they cost a day and a 30-day month."""
    if per is None:
        return report
    per_file = [dataclasses.replace(f, models=_rows(f.models, per)) for f in report.per_file]
    a = dataclasses.replace(report.assumptions, per=per)
    return dataclasses.replace(report, models=_rows(report.models, per), per_file=per_file, assumptions=a)

