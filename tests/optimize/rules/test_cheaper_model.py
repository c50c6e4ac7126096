"""Rule 1, cheaper model: every saving recomputed from both models' prices and counts."""

from __future__ import annotations

from pathlib import Path

from tokopt.optimize.rules import cheaper_model

from ..support import check_invariants, run, scaled, usd


def test_cheaper_models_figures(tmp_path: Path, catalog, reference) -> None:
    path = tmp_path / "p.txt"
    text = "Summarise the following report in three bullet points.\n" * 40
    path.write_text(text, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.5", output_tokens=800, calls=10, any_provider=True)
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
        assert tokens + 800 <= m.context_window and (m.max_output is None or 800 <= m.max_output)
        assert s.cost_saved_per_call == base - (usd(tokens, m.input) + usd(800, m.output))
        assert s.confidence == ("exact" if m.tokenizer.exact else "estimated")
    same = [s for s in models if not s.trade_off]
    lower = [s for s in models if s.trade_off]
    assert len(same) <= cheaper_model.MAX_SAME_TIER and len(lower) <= cheaper_model.MAX_LOWER_TIER
    # cheapest first within each group: the same order as by saving
    assert [s.cost_saved_per_call for s in same] == sorted((s.cost_saved_per_call for s in same), reverse=True)


def _switches(report) -> dict[str, object]:
    return {s.target: s for s in report.suggestions if s.rule == "cheaper-model"}


def test_switches_stay_with_the_provider_and_tier(tmp_path: Path, catalog) -> None:
    path = tmp_path / "classify.txt"
    path.write_text("Classify the sentiment of this review as positive, negative or neutral.\n" * 30, encoding="utf-8")
    model = catalog.get("gpt-5.4")
    report = run([path], catalog, target="gpt-5.4", output_tokens=5)
    switches = _switches(report)
    assert switches, "a cheaper model of the same provider and tier exists in the catalog"
    for target in switches:
        m = catalog.get(target)
        assert (m.provider, m.tier) == (model.provider, model.tier)
    wide = _switches(run([path], catalog, target="gpt-5.4", output_tokens=5, any_provider=True))
    assert {catalog.get(t).provider for t in wide} - {"openai"}, "--any-provider looks at other providers"


def test_a_smaller_approximation_factor_alone_is_no_reason_to_switch(tmp_path: Path, catalog) -> None:
    # claude-opus-4-5 has the same prices as claude-opus-4-8 but an older tokenizer, whose
    # approximation factor is smaller: it counts fewer tokens for the same text
    new, old = catalog.get("claude-opus-4-8"), catalog.get("claude-opus-4-5")
    assert (new.input, new.output) == (old.input, old.output) and old.tokenizer.factor < new.tokenizer.factor
    path = tmp_path / "p.txt"
    path.write_text("Summarise the report below in three bullet points.\n" * 50, encoding="utf-8")
    for opts in ({}, {"any_provider": True}, {"candidates": ["claude-opus-*"]}):
        report = run([path], catalog, target="claude-opus-4-8", **opts)
        assert "claude-opus-4-5" not in _switches(report)
        for target, s in _switches(report).items():
            m = catalog.get(target)
            # each one is cheaper per token, not only by its count
            assert m.input < new.input or m.output < new.output


def test_fixes_come_before_switches(tmp_path: Path, catalog) -> None:
    from ..support import REDUNDANT

    path = tmp_path / "p.txt"
    path.write_text(REDUNDANT * 3, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.5", output_tokens=2000, any_provider=True)
    check_invariants(report)
    kinds = [s.kind for s in report.suggestions]
    assert "model" in kinds and "prompt" in kinds
    first_switch = kinds.index("model")
    assert all(k == "model" for k in kinds[first_switch:])
    # a switch saves more than the prompt fixes here, and still comes after them
    assert report.suggestions[first_switch].cost_saved_per_call > report.suggestions[0].cost_saved_per_call
