"""Rule 1, cheaper model: every saving recomputed from both models' prices and counts."""

from __future__ import annotations

from pathlib import Path

from tokopt.optimize.rules import cheaper_model

from ..support import check_invariants, run, scaled, usd


def test_cheaper_models_figures(tmp_path: Path, catalog, reference) -> None:
    path = tmp_path / "p.txt"
    text = "Summarise the following report in three bullet points.\n" * 40
    path.write_text(text, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.5", output_tokens=800, calls=10)
    check_invariants(report)
    target = catalog.get("gpt-5.5")
    raw = len(reference["o200k_base"].encode_ordinary(text))
    base = usd(raw, target.input) + usd(800, target.output)
    assert report.cost_per_call == base
    models = [s for s in report.suggestions if s.rule == "cheaper-model"]
    assert models
    for s in models:
        m = catalog.get(s.target)
        assert s.model == "gpt-5.5" and s.target != "gpt-5.5"
        assert m.tier.rank >= target.tier.rank - 1
        assert s.trade_off == (m.tier.rank < target.tier.rank)
        tokens = scaled(m, raw)
        assert tokens + 800 <= m.context_window and 800 <= m.max_output
        assert s.cost_saved_per_call == base - (usd(tokens, m.input) + usd(800, m.output))
        assert s.confidence == ("exact" if m.tokenizer.exact else "estimated")
    same = [s for s in models if not s.trade_off]
    lower = [s for s in models if s.trade_off]
    assert len(same) <= cheaper_model.MAX_SAME_TIER and len(lower) <= cheaper_model.MAX_LOWER_TIER
    # cheapest first within each group: the same order as by saving
    assert [s.cost_saved_per_call for s in same] == sorted((s.cost_saved_per_call for s in same), reverse=True)
