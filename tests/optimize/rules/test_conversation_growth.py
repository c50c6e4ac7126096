"""Rule 6, conversation growth: one run of the agent loop with and without a history window."""

from __future__ import annotations

from pathlib import Path

from tokopt.optimize.rules.conversation_growth import HISTORY_KEEP

from ..support import by_id, check_invariants, run, usd, write_conversation


def test_conversation_growth(tmp_path: Path, catalog, reference) -> None:
    path, calls = write_conversation(tmp_path, reference["o200k_base"])
    report = run([path], catalog)
    check_invariants(report)
    assert report.model == "gpt-5.4" and report.model_from == "request" and report.output_from == "request"
    m = catalog.get("gpt-5.4")
    growth = by_id(report)["history.window"]
    plain = sum(usd(i, m.input) + usd(o, m.output) for i, _, o in calls)
    short = sum(usd(k, m.input) + usd(o, m.output) for _, k, o in calls)
    assert growth.cost_saved_per_call == plain - short
    assert growth.tokens_saved == sum(i - k for i, k, _ in calls)
    assert f"last {HISTORY_KEEP} messages" in growth.title
    assert growth.scope == "run" and growth.run_calls == len(calls)
    assert all(s.scope == "call" for s in report.suggestions if s.id not in ("history.window", "cache.turns"))
