"""Loading pricing TOML: Decimal all the way, errors that name the file, model and field."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt.errors import PricingError, UnknownModelError
from tokopt.pricing import load_catalog
from tokopt.tomlio import read_toml

BASE = """\
provider = "acme"
as_of = 2026-07-18
source = "https://acme.example/pricing"

[defaults]
tokenizer = { encoding = "o200k_base", factor = 1.10, source = "measured" }

[models."acme-large"]
aliases = ["acme-large-2026-01-01"]
tier = "frontier"
default = true
context_window = 200000
max_output = 32000
input = 3.00
cached_input = 0.30
output = 15.00

[models."acme-small"]
tier = "fast"
context_window = 128000
max_output = 8192
input = 0.10
output = 0.40
batch_input = 0.05
batch_output = 0.20
"""


def write(directory, name, text):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def pricing_dir(tmp_path):
    write(tmp_path / "pricing", "acme.toml", BASE)
    return tmp_path / "pricing"


def test_loads_prices_as_exact_decimals(pricing_dir):
    catalog = load_catalog(pricing_dir)
    large = catalog.get("acme-large")
    assert large.input == Decimal("3.00") and isinstance(large.input, Decimal)
    assert large.tokenizer.factor == Decimal("1.10") and large.approximate
    assert catalog.get("ACME-LARGE-2026-01-01") is large
    assert catalog.get("acme/acme-large") is large
    assert [m.id for m in catalog.defaults()] == ["acme-large"]


def test_select_by_glob_alias_and_provider(pricing_dir):
    catalog = load_catalog(pricing_dir)
    assert [m.id for m in catalog.select(["acme-*"])] == ["acme-large", "acme-small"]
    assert [m.id for m in catalog.select(["acme-large-2026-01-01", "acme-large"])] == ["acme-large"]
    assert [m.id for m in catalog.select([], ["acme"])] == ["acme-large", "acme-small"]
    with pytest.raises(PricingError, match="unknown provider: acne"):
        catalog.select([], ["acne"])


def test_unknown_model_suggests_near_names(pricing_dir):
    catalog = load_catalog(pricing_dir)
    with pytest.raises(UnknownModelError) as info:
        catalog.get("acme-larg")
    assert info.value.suggestions[0] == "acme-large"
    assert "did you mean acme-large" in info.value.hint
    with pytest.raises(UnknownModelError):
        catalog.select(["zeta-*"])


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("input = 3.00", "input = -3.00"), "model 'acme-large': input: Input should be greater than or equal to 0"),
        (("cached_input = 0.30", "cached_inptu = 0.30"), "model 'acme-large': cached_inptu: unknown key"),
        (("output = 15.00\n", ""), "model 'acme-large': output: missing"),
        (('tier = "frontier"', 'tier = "genius"'), "model 'acme-large': tier: Input should be"),
        (("batch_output = 0.20\n", ""), "model 'acme-small': batch_input and batch_output go together"),
        (('source = "measured"', 'source = ""'), "tokenizer: an approximate tokenizer needs a `source`"),
        (("input = 3.00", "input = 3.00 oops"), "invalid TOML"),
    ],
)
def test_broken_file_names_file_model_and_field(tmp_path, edit, expected):
    old, new = edit
    assert old in BASE
    path = write(tmp_path / "pricing", "acme.toml", BASE.replace(old, new, 1))
    with pytest.raises(PricingError) as info:
        load_catalog(path.parent)
    assert str(path) in info.value.message
    assert expected in info.value.message


def test_duplicate_names_across_files_are_refused(pricing_dir):
    write(pricing_dir, "other.toml", BASE.replace('provider = "acme"', 'provider = "other"'))
    with pytest.raises(PricingError, match="also defined"):
        load_catalog(pricing_dir)
    write(pricing_dir, "other.toml", 'provider = "other"\nas_of = 2026-01-01\nsource = "x"\n[models."x"]\naliases = ["acme-small"]\n'
          'tier = "mini"\ncontext_window = 10\nmax_output = 5\ninput = 1\noutput = 1\n'
          'tokenizer = { encoding = "o200k_base", exact = true }\n')
    with pytest.raises(PricingError, match="name 'acme-small' is already used"):
        load_catalog(pricing_dir)


def test_user_file_overrides_fields_and_adds_models(pricing_dir, tmp_path):
    user = write(
        tmp_path,
        "mine.toml",
        """\
        as_of = 2026-11-01

        [models."acme-large-2026-01-01"]   # an alias names the model it overrides
        input = 2.40

        [models."house-model"]
        provider = "house"
        source = "our contract"
        tier = "strong"
        context_window = 32000
        max_output = 4000
        input = 1.00
        output = 2.00
        tokenizer = { encoding = "cl100k_base", exact = true }
        """,
    )
    catalog = load_catalog(pricing_dir, [user])
    large = catalog.get("acme-large")
    assert large.input == Decimal("2.40") and large.output == Decimal("15.00")
    assert large.as_of.isoformat() == "2026-11-01" and large.source == f"https://acme.example/pricing; overridden by {user}"
    house = catalog.get("house-model")
    assert house.provider == "house" and house.tokenizer.exact


def test_user_file_new_model_missing_fields_is_an_error(pricing_dir, tmp_path):
    user = write(tmp_path, "mine.toml", '[models."half"]\ninput = 1.0\n')
    with pytest.raises(PricingError) as info:
        load_catalog(pricing_dir, [user])
    assert str(user) in info.value.message and "model 'half'" in info.value.message


def test_missing_pricing_file_is_an_error(pricing_dir, tmp_path):
    with pytest.raises(PricingError, match="pricing file not found"):
        load_catalog(pricing_dir, [tmp_path / "nope.toml"])


prices = st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False)


@settings(max_examples=60)
@given(input_price=prices, output_price=prices, window=st.integers(1, 10_000_000))
def test_prices_round_trip_through_tomli_w(tmp_path_factory, input_price, output_price, window):
    directory = tmp_path_factory.mktemp("rt")
    data = {
        "provider": "rt",
        "as_of": __import__("datetime").date(2026, 7, 18),
        "source": "test",
        "models": {
            "m": {
                "tier": "mini",
                "context_window": window,
                "max_output": 1,
                "input": input_price,
                "output": output_price,
                "tokenizer": {"encoding": "o200k_base", "exact": True},
            }
        },
    }
    # tomli-w writes Decimal as a TOML float in its exact decimal form
    (directory / "rt.toml").write_text(tomli_w.dumps(data))
    assert read_toml(directory / "rt.toml", what="pricing file", error=PricingError)["models"]["m"]["input"] == input_price
    model = load_catalog(directory).get("m")
    assert (model.input, model.output, model.context_window) == (input_price, output_price, window)


# --- names across layers and files ---------------------------------------------------------------

from tests.conftest import PRICING_DIR  # noqa: E402

HOUSE = """\
provider = "house"
as_of = 2026-11-01
source = "our contract"

[models."house-model"]
tier = "strong"
context_window = 32000
max_output = 4000
input = 1.00
output = 2.00
tokenizer = { encoding = "cl100k_base", exact = true }
"""


def test_an_alias_that_takes_another_models_name_is_an_error_naming_both_files(tmp_path):
    user = write(tmp_path, "mine.toml", HOUSE.replace('input = 1.00', 'aliases = ["claude-opus-5-5"]\ninput = 1.00'))
    with pytest.raises(PricingError) as info:
        load_catalog(PRICING_DIR, [user])
    assert str(user) in info.value.message and "claude-opus-5-5" in info.value.message
    assert "genai-prices" in info.value.message
    # and against a model of tokopt's own layer, named by its file
    user.write_text(HOUSE.replace('input = 1.00', 'aliases = ["mistral-medium-3-1-2508"]\ninput = 1.00'))
    with pytest.raises(PricingError) as info:
        load_catalog(PRICING_DIR, [user])
    assert str(user) in info.value.message and "mistral.toml" in info.value.message


def test_the_same_alias_in_two_user_files_names_both(tmp_path):
    one = write(tmp_path, "one.toml", '[aliases]\n"fast" = "gpt-5.4-mini"\n')
    two = write(tmp_path, "two.toml", '[aliases]\n"fast" = "claude-haiku-4-5"\n')
    with pytest.raises(PricingError) as info:
        load_catalog(PRICING_DIR, [one, two])
    assert str(one) in info.value.message and str(two) in info.value.message


def test_an_alias_cycle_is_an_error_naming_the_files(tmp_path):
    one = write(tmp_path, "one.toml", '[aliases]\n"a" = "b"\n')
    two = write(tmp_path, "two.toml", '[aliases]\n"b" = "a"\n')
    with pytest.raises(PricingError, match="alias cycle") as info:
        load_catalog(PRICING_DIR, [one, two])
    assert str(one) in info.value.message and str(two) in info.value.message


def test_an_alias_table_names_a_model_through_other_aliases(tmp_path):
    user = write(tmp_path, "mine.toml", '[aliases]\n"work" = "fast"\n"fast" = "bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"\n')
    catalog = load_catalog(PRICING_DIR, [user])
    assert catalog.get("work").provider == "bedrock"


def test_a_user_price_overrides_a_genai_prices_model(tmp_path):
    user = write(tmp_path, "mine.toml", 'as_of = 2026-11-20\n[models."gpt-4o-2024-08-06"]\ninput = 2.00\n')
    catalog = load_catalog(PRICING_DIR, [user])
    model = catalog.get("gpt-4o")
    assert model.input == Decimal("2.00") and model.output == Decimal("10")
    assert model.as_of.isoformat() == "2026-11-20" and str(user) in model.source
