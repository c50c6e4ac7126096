"""Views of a calibration: per model, the error before and after, and the factors fitted."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokopt import __version__
from tokopt.render import fmt
from tokopt.render.grid import Column, Grid

if TYPE_CHECKING:
    from tokopt.calibrate.fit import Calibration, Error
    from tokopt.calibrate.run import Result


def _model(c: Calibration) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": c.model.id,
        "provider": c.model.provider,
        "exact": c.model.tokenizer.exact,
        "requests": len(c.samples),
        "before": c.before.as_dict(),
        "after": c.after.as_dict() if c.after is not None else None,
        "calibrated_classes": list(c.fitted),
    }
    t = c.tokenizer
    if t is not None:
        out["factor"] = {"factor": t.factor, "low": t.lo, "high": t.hi}
        out["classes"] = {name: {"factor": cf.factor, "low": cf.lo, "high": cf.hi, "source": cf.source} for name, cf in t.classes}
        out["source"] = t.source
    out["notes"] = c.notes
    return out


def document(result: Result, written: Path | None) -> dict[str, Any]:
    return {
        "tokopt_version": __version__,
        "source": result.source,
        "source_kind": result.kind,
        "models": [_model(c) for c in result.calibrations],
        "written_to": str(written) if written is not None else None,
        "skipped": result.skipped,
    }


def rows(result: Result) -> list[dict[str, Any]]:
    out = []
    for c in result.calibrations:
        row: dict[str, Any] = {"model": c.model.id, "requests": len(c.samples), "observed_tokens": c.before.observed}
        for when, e in (("before", c.before), ("after", c.after)):
            row[f"{when}_predicted_tokens"] = e.predicted if e else None
            row[f"{when}_mean_abs_error_pct"] = e.mean_abs_pct if e else None
            row[f"{when}_max_abs_error_pct"] = e.max_abs_pct if e else None
        row["factor"] = c.tokenizer.factor if c.tokenizer else None
        row["classes"] = "; ".join(f"{n} {cf.factor} ({cf.lo}-{cf.hi})" for n, cf in c.tokenizer.classes if n in c.fitted) if c.tokenizer else ""
        out.append(row)
    return out


def _err(e: Error | None) -> str:
    if e is None:
        return "—"
    sign = "+" if e.total_pct > 0 else ""
    return f"{sign}{e.total_pct}% ±{e.mean_abs_pct}%"


def grids(result: Result, written: Path | None) -> list[Grid]:
    g = Grid(
        columns=[
            Column("Model", no_wrap=False, min_width=14),
            Column("Requests", justify="right", drop_priority=2),
            Column("Reported", justify="right", drop_priority=3),
            Column("Error before", justify="right"),
            Column("Error after", justify="right", style="bold"),
            Column("Factors", no_wrap=False, min_width=12, drop_priority=1),
        ]
    )
    notes: list[str] = []
    for c in result.calibrations:
        if c.tokenizer is None:
            factors = "exact" if c.model.tokenizer.exact else "—"
        else:
            parts = [f"{n} ×{cf.factor}" for n, cf in c.tokenizer.classes if n in c.fitted]
            factors = ", ".join(parts) if parts else f"×{c.tokenizer.factor}"
        g.add(c.model.id, fmt.count(len(c.samples)), fmt.count(c.before.observed), _err(c.before), _err(c.after), factors)
        notes += c.notes
    g.notes = [
        f"{result.source}: {result.kind}",
        "error: the input tokens of all the requests against the provider's, ± the mean of each request's (largest: --format json)",
        *notes,
        f"written to {written}" if written is not None else "--write puts the factors in your pricing file (--project: the project's)",
    ]
    return [g]
