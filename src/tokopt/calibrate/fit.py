"""Fit an approximate model's factors to what its provider reported, and measure the error.

Each request's reported input tokens `o` are `rest + Σ_c x_c f_c`: `rest` is what the factors do
not scale (message overhead, tool prompts, images: `Counted.approx_split`), `x_c` the part of
its o200k_base text count that content class `c` makes up, `f_c` the class's factor. The
overall factor is Σ(o - rest) / Σ base. The class factors minimise the squared error plus a
small pull towards the overall factor (ridge), so that a class the data says little about stays
near it; only classes that make up at least MIN_SHARE of the text are written. A class's band
is the spread of the factors its requests imply (requests at least half that class), else the
spread of the requests' overall ratios around the overall factor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tokopt.pricing.model import CONTENT_CLASSES, ClassFactor, ModelPrice, Tokenizer
from tokopt.tokens import approx

MIN_SHARE = Decimal("0.05")  # of the model's text, for a class's factor to be written
RIDGE = 1e-4  # the pull towards the overall factor, relative to the data's scale
QUANTUM = Decimal("0.001")


@dataclass(frozen=True)
class Sample:
    """One request on one model: what the factors scale and what they do not, and the truth."""

    base: int  # o200k_base tokens of the text the factors scale
    mix: approx.Mix | None
    rest: int
    observed: int  # the provider's count


@dataclass(frozen=True)
class Error:
    """How far a tokenizer's counts are from the provider's on a set of requests."""

    predicted: int
    observed: int
    mean_abs_pct: Decimal  # mean of |predicted - observed| / observed, in percent
    max_abs_pct: Decimal

    @property
    def total_pct(self) -> Decimal:
        if not self.observed:
            return Decimal(0)
        return (Decimal(self.predicted - self.observed) * 100 / self.observed).quantize(Decimal("0.1"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "predicted_tokens": self.predicted,
            "observed_tokens": self.observed,
            "total_error_pct": self.total_pct,
            "mean_abs_error_pct": self.mean_abs_pct,
            "max_abs_error_pct": self.max_abs_pct,
        }


@dataclass
class Calibration:
    """One model's calibration: its samples, the error before and after, and the new tokenizer."""

    model: ModelPrice
    samples: list[Sample]
    before: Error
    after: Error | None = None  # None: exact, nothing to calibrate
    tokenizer: Tokenizer | None = None  # what --write writes
    fitted: tuple[str, ...] = ()  # the classes the data measured
    notes: list[str] = field(default_factory=list)


def predict(tokenizer: Tokenizer, sample: Sample) -> int:
    return approx.estimate(tokenizer, sample.base, sample.mix).tokens + sample.rest


def error(predicted: Sequence[int], observed: Sequence[int]) -> Error:
    pcts = [Decimal(abs(p - o)) * 100 / o if o else Decimal(0) for p, o in zip(predicted, observed)]
    q = Decimal("0.1")
    mean = (sum(pcts, Decimal(0)) / len(pcts)).quantize(q) if pcts else Decimal(0)
    return Error(sum(predicted), sum(observed), mean, max(pcts, default=Decimal(0)).quantize(q))


def calibrate(model: ModelPrice, samples: list[Sample], source: str, today: dt.date) -> Calibration:
    """Fit `model`'s factors on `samples` (an exact model is only measured)."""
    observed = [s.observed for s in samples]
    if model.tokenizer.exact:
        before = error([s.base + s.rest for s in samples], observed)
        return Calibration(model, samples, before, notes=[f"{model.id}: counts are exact (its own encoding): nothing to calibrate"])
    before = error([predict(model.tokenizer, s) for s in samples], observed)
    base_total = sum(s.base for s in samples)
    if base_total <= 0:
        return Calibration(model, samples, before, notes=[f"{model.id}: the requests have no text to calibrate on"])
    tokenizer, fitted = fit(model.tokenizer, samples, source, today)
    after = error([predict(tokenizer, s) for s in samples], observed)
    return Calibration(model, samples, before, after, tokenizer, fitted)


def _shares(sample: Sample) -> list[float]:
    if sample.mix is None or not sample.mix:
        return [0.0] * len(CONTENT_CLASSES)
    return [float(s) for s in sample.mix.shares()]


def fit(old: Tokenizer, samples: Sequence[Sample], source: str, today: dt.date) -> tuple[Tokenizer, tuple[str, ...]]:
    """The tokenizer with factors fitted to `samples`; the classes it measured."""
    k = len(CONTENT_CLASSES)
    ys = [s.observed - s.rest for s in samples]
    bases = [s.base for s in samples]
    overall = sum(ys) / sum(bases)
    rows = [[b * sh for sh in _shares(s)] for s, b in zip(samples, bases)]
    weight = [sum(r[c] for r in rows) for c in range(k)]
    known = sum(weight)
    classes = [c for c in range(k) if known and weight[c] >= float(MIN_SHARE) * known]
    factors: dict[int, float] = {}
    if classes:
        factors = _ridge(rows, ys, classes, overall)
    ratios = [y / b for y, b in zip(ys, bases) if b > 0]
    spread_lo = min(ratios) / overall if overall > 0 else 1.0
    spread_hi = max(ratios) / overall if overall > 0 else 1.0
    stamp = f"tokopt calibrate on {len(samples)} request(s) of {source}, {today.isoformat()}"

    overall_d = _q(overall)
    lo = min(_q(min(ratios)), overall_d)
    hi = max(_q(max(ratios)), overall_d)
    new_classes: dict[str, ClassFactor] = {name: cf for name, cf in old.classes}
    fitted = []
    for c in classes:
        f = factors[c]
        implied = []
        for row, y, s in zip(rows, ys, samples):
            share = row[c] / s.base if s.base else 0.0
            if share >= 0.5:
                others = sum(row[j] * factors.get(j, overall) for j in range(k) if j != c)
                implied.append((y - others) / row[c])
        if implied:
            c_lo, c_hi = min(implied + [f]), max(implied + [f])
        else:
            c_lo, c_hi = f * spread_lo, f * spread_hi
        fd = _q(f)
        if fd <= 0:
            continue
        name = CONTENT_CLASSES[c]
        new_classes[name] = ClassFactor(
            factor=fd, low=min(_q(max(c_lo, 1e-3)), fd), high=max(_q(c_hi), fd), source=stamp, as_of=today
        )
        fitted.append(name)
    tokenizer = Tokenizer(
        encoding=old.encoding,
        factor=overall_d,
        low=lo,
        high=hi,
        source=stamp,
        as_of=today,
        classes={name: new_classes[name] for name in CONTENT_CLASSES if name in new_classes},  # type: ignore[arg-type]
    )
    return tokenizer, tuple(fitted)


def _q(value: float) -> Decimal:
    return max(Decimal(repr(value)).quantize(QUANTUM), QUANTUM)


def _ridge(rows: list[list[float]], ys: list[int], classes: list[int], prior: float) -> dict[int, float]:
    """min Σ(y - Σ x_c f_c)² + λ Σ(f_c - prior)² over `classes` (the others at `prior`)."""
    n = len(classes)
    others = [c for c in range(len(rows[0])) if c not in classes]
    a = [[0.0] * n for _ in range(n)]
    b = [0.0] * n
    for row, y in zip(rows, ys):
        target = y - sum(row[c] * prior for c in others)
        for i, ci in enumerate(classes):
            b[i] += row[ci] * target
            for j, cj in enumerate(classes):
                a[i][j] += row[ci] * row[cj]
    scale = sum(a[i][i] for i in range(n)) / n
    lam = RIDGE * scale
    for i in range(n):
        a[i][i] += lam
        b[i] += lam * prior
    solved = _solve(a, b)
    return {c: f for c, f in zip(classes, solved)}


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a is symmetric positive definite here)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        p = m[col][col]
        for r in range(col + 1, n):
            f = m[r][col] / p
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x
