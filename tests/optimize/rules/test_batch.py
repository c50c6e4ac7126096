"""Rule 3, batch API: the saving is the difference between the model's interactive and batch prices."""

from __future__ import annotations

from pathlib import Path

from ..support import ESSAY as TEXT
from ..support import by_id, check_invariants, run, usd


def test_batch_figures(tmp_path: Path, catalog, reference) -> None:
    path = tmp_path / "p.txt"
    path.write_text(TEXT, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.4", output_tokens=3001, calls=7)
    check_invariants(report)
    found = by_id(report)
    m = catalog.get("gpt-5.4")
    raw = len(reference["o200k_base"].encode_ordinary(TEXT))
    base = usd(raw, m.input) + usd(3001, m.output)
    batch = usd(raw, m.batch_input) + usd(3001, m.batch_output)
    assert found["batch"].cost_saved_per_call == base - batch
    assert found["batch"].confidence == "estimated" and "not interactive" in found["batch"].assumption
