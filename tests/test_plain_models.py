"""The price catalog's plain classes (tokopt.plain, tokopt.pricing.model) and their pydantic
schemas (tokopt.pricing.schema): the same fields, the same values or the same errors; and an
estimate that never needs the schemas does not import pydantic at all (issue 13, start-up)."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tokopt import config
from tokopt.plain import from_schema
from tokopt.pricing import model, schema
from tests.conftest import REPO

PAIRS = [(getattr(model, name), getattr(schema, name)) for name in ("ClassFactor", "Tokenizer", "LongContext", "Rates", "ModelPrice")]


@pytest.mark.parametrize(("plain", "mirror"), PAIRS, ids=lambda c: getattr(c, "__name__", ""))
def test_each_schema_has_its_class_s_fields_in_order_with_the_same_defaults(plain, mirror):
    fields = dataclasses.fields(plain)
    assert [f.name for f in fields] == list(mirror.model_fields)
    for f in fields:
        info = mirror.model_fields[f.name]
        if f.default is dataclasses.MISSING:
            assert info.is_required(), f.name
        else:
            assert not info.is_required() and info.default == f.default, f.name


# values a pricing file (TOML with floats as Decimal) or a caller could give a price field
prices = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=3),
    st.integers(min_value=-3, max_value=10**12),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["1.5", "x", None]),
)
rate_tables = st.fixed_dictionaries(
    {"input": prices},
    optional={
        "output": prices,
        "cached_input": prices,
        "cache_write": prices,
        "tiers": st.lists(st.fixed_dictionaries({"threshold": st.one_of(st.integers(-1, 10**6), st.booleans()), "input": prices, "output": prices}), max_size=2),
        "unknown": st.just(1),
    },
)


def outcome(validate, data):
    try:
        return validate(data)
    except ValidationError as exc:
        return ("error", [(e["loc"], e["type"]) for e in exc.errors()])


@settings(max_examples=300, deadline=None)
@given(rate_tables)
def test_a_table_gets_the_schema_s_values_or_the_schema_s_errors(data):
    ours = outcome(model.Rates.model_validate, data)
    pydantics = outcome(lambda d: from_schema(schema.Rates.model_validate(d)), data)
    assert ours == pydantics
    if not isinstance(ours, tuple):
        assert type(ours) is model.Rates and all(type(t) is model.LongContext for t in ours.tiers)


MODEL = {
    "id": "acme-1",
    "provider": "acme",
    "as_of": dt.date(2026, 1, 2),
    "source": "https://acme.example/pricing",
    "tier": "strong",
    "tokenizer": {"encoding": "o200k_base", "factor": Decimal("1.2"), "low": 1, "source": "measured", "classes": {"code": {"factor": Decimal("1.3"), "source": "m"}}},
    "input": 3,
    "output": Decimal("15.00"),
    "batch": {"input": Decimal("1.5"), "output": Decimal("7.5")},
    "batch_input": Decimal("1.5"),
    "batch_output": Decimal("7.5"),
    "service_tiers": (("flex", {"input": 1}),),
    "context_window": 1000,
    "aliases": ["acme"],
}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"input": Decimal("-1")},
        {"tier": "genius"},
        {"batch_output": None},
        {"max_input": 2000},
        {"context_window": True},
        {"as_of": "2026-01-02"},
        {"tokenizer": {**MODEL["tokenizer"], "source": ""}},
        {"tokenizer": {**MODEL["tokenizer"], "low": Decimal("1.3")}},
        {"tokenizer": {**MODEL["tokenizer"], "classes": {"poetry": {"factor": 1, "source": "x"}}}},
        {"tokenizer": {"encoding": "o200k_base", "exact": True}},
        {"long_context": {"threshold": 0, "input": 1, "output": 1}},
        {"colour": "blue"},
    ],
)
def test_a_model_gets_the_schema_s_values_or_errors(change):
    data = {**MODEL, **change}
    ours = outcome(model.ModelPrice.model_validate, data)
    assert ours == outcome(lambda d: from_schema(schema.ModelPrice.model_validate(d)), data)
    if change == {}:
        assert ours.input == Decimal(3) and ours.tier is model.Tier.strong and ours.tokenizer.classes[0][1].factor == Decimal("1.3")
        assert hash(ours) == hash(model.ModelPrice.model_validate(data))


def test_constructing_checks_as_pydantic_did():
    assert model.Tokenizer(encoding="o200k_base", factor=2, source="x").factor == Decimal(2)
    with pytest.raises(ValueError, match="an approximate tokenizer needs a `source`"):
        model.Tokenizer(encoding="o200k_base", factor=Decimal(2))
    lc = model.LongContext(threshold=10, input=Decimal(1), output=Decimal(2))
    assert lc.model_copy(update={"input": Decimal(-1)}).input == Decimal(-1)  # a copy is not checked, as in pydantic


def test_a_config_file_s_values_are_checked_by_the_schema():
    assert config.UserConfig.model_validate({"defaults": {"output_tokens": 5}}) == config.UserConfig(defaults=config.Defaults(output_tokens=5))
    with pytest.raises(ValidationError):
        config.UserConfig.model_validate({"defaults": {"calls": 0}})


def test_an_estimate_imports_no_pydantic(tmp_path):
    """The default estimate (table and JSON) runs on the plain classes: neither pydantic nor
    the schemas, nor importlib.metadata (which pydantic's plugin loader scans), are loaded once
    the price data is compiled."""
    prompt = tmp_path / "p.txt"
    prompt.write_text("Summarise this text in one line, please. naïve café\n" * 20, encoding="utf-8")
    heavy = ("pydantic", "pydantic_core", "annotated_types", "importlib.metadata", "tokopt.pricing.schema", "genai_prices")
    code = (
        "import sys, runpy\n"
        "out = []\n"
        "for args in (['estimate', sys.argv[1]], ['estimate', sys.argv[1], '-f', 'json', '--per-file']):\n"
        "    sys.argv = ['tokopt', *args]\n"
        "    try: runpy.run_module('tokopt', run_name='__main__')\n"
        "    except SystemExit as e: assert not e.code, e.code\n"
        "    out.append([m for m in %r if m in sys.modules])\n"
        "print(out, file=sys.stderr)\n"
    ) % (heavy,)
    env = {**os.environ, "COLUMNS": "120"}
    # the first run of a session compiles genai-prices' data into the user's cache (with pydantic)
    warm = subprocess.run([sys.executable, "-m", "tokopt", "estimate", str(prompt)], capture_output=True, text=True, cwd=REPO, env=env)
    assert warm.returncode == 0, warm.stderr
    r = subprocess.run([sys.executable, "-c", code, str(prompt)], capture_output=True, text=True, cwd=REPO, env=env)
    assert r.returncode == 0, r.stderr
    assert ast.literal_eval(r.stderr.strip().splitlines()[-1]) == [[], []]
    doc = json.loads(r.stdout[r.stdout.index("{") :])
    assert len(doc["models"]) >= 9 and doc["inputs"][0]["tokens"]["o200k_base"] > 100
