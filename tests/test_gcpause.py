"""The collector pause around imports and estimates (tokopt/gcpause.py): off inside, then back
as it was, after an error too; an estimate and an import leave it as they found it."""

from __future__ import annotations

import gc

import pytest

from tests.conftest import PRICING_DIR
from tokopt import pricing
from tokopt.costing import pipeline
from tokopt.gcpause import no_cyclic_gc
from tokopt.inputs import Source


@pytest.fixture
def restore_gc():
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_off_inside_and_as_it_was_after(restore_gc, enabled):
    (gc.enable if enabled else gc.disable)()
    with no_cyclic_gc():
        assert not gc.isenabled()
    assert gc.isenabled() is enabled
    with pytest.raises(ValueError), no_cyclic_gc():
        raise ValueError("boom")
    assert gc.isenabled() is enabled


@pytest.mark.parametrize("enabled", [True, False])
def test_an_estimate_leaves_the_collector_as_it_found_it(restore_gc, tmp_path, enabled):
    catalog = pricing.load_catalog(PRICING_DIR)
    path = tmp_path / "p.txt"
    path.write_text("Summarise this text.\n", encoding="utf-8")
    options = pipeline.Options(
        selected=None, defaults=catalog.select(["gpt-4o"]), output_tokens=None, default_output=500, default_output_from="default", calls=1
    )
    (gc.enable if enabled else gc.disable)()
    report = pipeline.estimate([Source(path.name, path, path.stat().st_size)], catalog, options)
    assert gc.isenabled() is enabled
    assert report.models[0].input_tokens > 0
