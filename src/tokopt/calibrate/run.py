"""The calibration of every model the observed requests were sent to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tokopt.calibrate.fit import Calibration, Sample, calibrate
from tokopt.calibrate.sources import Pairs
from tokopt.errors import InputError
from tokopt.pricing.model import ModelPrice
from tokopt.tokens import billing
from tokopt.tokens.billing import uses_openai_rules


@dataclass
class Result:
    calibrations: list[Calibration]
    kind: str  # the source format
    source: str
    skipped: list[str] = field(default_factory=list)


def run(pairs: Pairs, catalog: object, source: str, *, model: ModelPrice | None = None, today: dt.date | None = None) -> Result:
    """Count each observed request on its model (or `model`) and calibrate each model."""
    today = today or dt.date.today()
    skipped = list(pairs.skipped)
    chosen: list[tuple[ModelPrice, int]] = []  # (model, index into pairs.observed)
    unknown: dict[str, int] = {}
    for i, o in enumerate(pairs.observed):
        m = model
        if m is None:
            if o.model is None:
                unknown["(no model named)"] = unknown.get("(no model named)", 0) + 1
                continue
            m = catalog.find(o.model)  # type: ignore[attr-defined]
            if m is None:
                unknown[o.model] = unknown.get(o.model, 0) + 1
                continue
        chosen.append((m, i))
    for name, n in unknown.items():
        skipped.append(f"{n} request(s) for {name}: not a model tokopt prices (pass -m MODEL to calibrate them as one)")
    if not chosen:
        raise InputError(f"{source}: no request to calibrate on", hint="; ".join(skipped[:3]) or None)
    encodings = sorted({m.tokenizer.encoding for m, _ in chosen})
    counted = billing.count_requests([pairs.observed[i].request for _, i in chosen], encodings)
    by_model: dict[str, tuple[ModelPrice, list[Sample]]] = {}
    for (m, i), c in zip(chosen, counted):
        o = pairs.observed[i]
        mi = c.model_input(m)
        if mi.uncounted or c.not_counted():
            # a part counted as nothing (an image of unknown size, audio) would bias the fit
            skipped.append(f"{o.where}: parts tokopt cannot count offline (images of unknown size, audio, files): left out")
            continue
        if m.tokenizer.exact or uses_openai_rules(m):
            sample = Sample(mi.tokens, None, 0, o.input_tokens)
        else:
            text, rest = c.approx_split(m)
            sample = Sample(text, c.content(), rest, o.input_tokens)
        by_model.setdefault(m.id, (m, []))[1].append(sample)
    if not by_model:
        raise InputError(f"{source}: no request to calibrate on", hint="; ".join(skipped[:3]) or None)
    calibrations = [calibrate(m, samples, source, today) for m, samples in by_model.values()]
    return Result(calibrations, pairs.kind, source, skipped)
