"""Rule 7, output length: when output is most of the cost, capping it at half saves half its price."""

from __future__ import annotations

from pathlib import Path

from ..support import ESSAY as TEXT
from ..support import by_id, check_invariants, run, usd


def test_output_figures(tmp_path: Path, catalog) -> None:
    path = tmp_path / "p.txt"
    path.write_text(TEXT, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.4", output_tokens=3001, calls=7)
    check_invariants(report)
    m = catalog.get("gpt-5.4")
    cap = by_id(report)["output.cap"]
    assert "1,500 tokens" in cap.title
    assert cap.cost_saved_per_call == usd(3001 - 1500, m.output)
    assert cap.cost_saved_total == usd(3001 - 1500, m.output) * 7
