"""Every registered rule on a workload: the registry, what the runner keeps, and how it orders."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import tokopt.optimize
from tests.conftest import PRICING_DIR
from tokopt import inputs, optimize, pricing
from tokopt.optimize import rules
from tokopt.optimize.context import Context
from tokopt.optimize.run import order

from .support import LINE_CHOICES, REDUNDANT, check_invariants, run, write_conversation

LINES = st.sampled_from(LINE_CHOICES)


@settings(max_examples=25)
@given(st.lists(LINES, max_size=60), st.integers(0, 5000), st.sampled_from(["gpt-5.4", "claude-haiku-4-5", "gemini-2.5-flash"]))
def test_never_a_saving_of_zero_or_less(tmp_path_factory, lines: list[str], out: int, target: str) -> None:
    cat = pricing.load_catalog(PRICING_DIR)
    d = tmp_path_factory.mktemp("h")
    a, b = d / "a.txt", d / "b.txt"
    a.write_text("\n".join(lines), encoding="utf-8")
    b.write_text("\n".join(reversed(lines)), encoding="utf-8")
    report = run([a, b], cat, target=target, output_tokens=out, calls=3, input_format="text")
    check_invariants(report)


def test_every_rule_module_is_registered_once() -> None:
    modules = [m.name for m in pkgutil.iter_modules(rules.__path__) if not m.name.startswith("_")]
    registered = [r.name for r in rules.RULES]
    assert len(set(registered)) == len(registered)
    assert sorted(importlib.import_module(f"{rules.__name__}.{m}").RULE.name for m in modules) == sorted(registered)
    for m in modules:
        module = importlib.import_module(f"{rules.__name__}.{m}")
        assert module.RULE in rules.RULES and module.RULE.name == module.NAME


def test_the_report_is_every_rule_that_saves_something(tmp_path: Path, catalog, reference) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text(REDUNDANT * 3, encoding="utf-8")
    conversation, _ = write_conversation(tmp_path, reference["o200k_base"])
    for paths, opts in (([prompt], {"target": "gpt-5.5", "output_tokens": 4000, "any_provider": True}), ([conversation], {})):
        sources = inputs.expand([str(p) for p in paths]).sources
        work, s = optimize.prepare(sources, catalog, optimize.Options(**opts))  # type: ignore[arg-type]
        report = optimize.suggest(work, s, inputs=["x"])
        found = []
        for rule in rules.RULES:
            mine = rule.run(Context(work, s))
            assert all(x.kind == rule.kind for x in mine)
            assert all(x.rule == rule.name for x in mine)
            found += [x for x in mine if x.cost_saved_per_call > 0]
        assert report.suggestions == order(found)
        assert len({x.rule for x in report.suggestions}) >= 4


def test_modules_and_classes_stay_small() -> None:
    root = Path(tokopt.optimize.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        source = path.read_text(encoding="utf-8")
        assert source.count("\n") <= 500, f"{path.relative_to(root)}: over 500 lines"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno - node.lineno + 1 <= 250, f"{path.relative_to(root)}: class {node.name} over 250 lines"
