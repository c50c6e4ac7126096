"""The rules on requests the estimate pipeline already counted: the same report, nothing read twice."""

from __future__ import annotations

import json
from pathlib import Path

from tests.chatdata import COOKBOOK_MESSAGES, write_json
from tokopt import inputs, optimize
from tokopt.costing import pipeline

from .support import REDUNDANT


def test_the_counted_requests_of_an_estimate_give_the_report_suggest_gives(tmp_path: Path, catalog) -> None:
    (tmp_path / "p.md").write_text(REDUNDANT, encoding="utf-8")
    write_json(tmp_path / "chat.json", {"model": "gpt-5.4", "max_tokens": 200, "messages": COOKBOOK_MESSAGES})
    sources = inputs.expand([str(tmp_path / "p.md"), str(tmp_path / "chat.json")]).sources
    labels = [s.label for s in sources]
    options = optimize.Options(output_tokens=50, calls=300)

    work, settings = optimize.prepare(sources, catalog, options)
    direct = optimize.suggest(work, settings, inputs=labels)

    # estimate priced them on two models (one encoding); the rules take them as they are
    kept: list = []
    models = catalog.select(["gpt-5.4", "claude-sonnet-5"])
    estimate_options = pipeline.Options(selected=models, defaults=models, output_tokens=50, default_output=500, default_output_from="default", calls=300)
    pipeline.estimate(sources, catalog, estimate_options, keep=kept.append)
    for path in (tmp_path / "p.md", tmp_path / "chat.json"):
        path.unlink()  # nothing is read again
    work, settings = optimize.prepare_counted(kept, catalog, options)
    reused = optimize.suggest(work, settings, inputs=labels)

    assert json.loads(reused.model_dump_json()) == json.loads(direct.model_dump_json())
    assert direct.model == "gpt-5.4" and direct.suggestions  # the redundant prompt has fixes to find
