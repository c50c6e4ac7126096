"""Reading the inputs for the rules: which model the calls use today, and errors that name it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokopt import inputs, optimize
from tokopt.config import Defaults
from tokopt.errors import InputError, UnknownModelError

from .support import run


def test_target_model_errors(tmp_path: Path, catalog) -> None:
    path = tmp_path / "p.txt"
    path.write_text("hi\n", encoding="utf-8")
    with pytest.raises(UnknownModelError) as err:
        run([path], catalog, target="gpt-5.44")
    assert "gpt-5.4" in (err.value.hint or "")
    chat = tmp_path / "c.json"
    chat.write_text(json.dumps({"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}), encoding="utf-8")
    with pytest.raises(InputError, match="has no price"):
        run([chat], catalog)
    # nothing names the model: a plain prompt is not judged against an arbitrary one
    with pytest.raises(InputError, match="which model do these calls use") as err:
        run([path], catalog)
    assert "--target-model" in (err.value.hint or "")
    # unless the caller allows one named assumption (estimate --suggest)
    report = run([path], catalog, assume=True)
    assert report.model == catalog.defaults()[0].id and report.model_from == "assumed"


def test_candidates_stay_with_the_provider_and_tier(catalog) -> None:
    from tokopt.optimize.intake import candidates

    model = catalog.get("gpt-5.4")
    mine = candidates(catalog, optimize.Options(), model)
    assert mine and {(m.provider, m.tier) for m in mine} == {(model.provider, model.tier)}
    assert all(m.deprecated is None for m in mine)
    everyone = candidates(catalog, optimize.Options(any_provider=True), model)
    assert {m.provider for m in everyone} == set(catalog.providers) and set(mine) < set(everyone)
    # models named with -m are looked at as named, whatever their provider
    named = candidates(catalog, optimize.Options(candidates=["claude-*"]), model)
    assert named and {m.provider for m in named} == {"anthropic"}


def test_options_resolve_choices_over_config() -> None:
    none = optimize.Options.resolve(Defaults())
    assert (none.default_output, none.default_output_from, none.calls, list(none.config_models)) == (500, "default", 1000, [])
    config = Defaults(models=["gpt-5.4"], output_tokens=80, calls=20)
    from_config = optimize.Options.resolve(config)
    assert (from_config.default_output, from_config.default_output_from, from_config.calls) == (80, "config", 20)
    assert list(from_config.config_models) == ["gpt-5.4"]
    chosen = optimize.Options.resolve(config, target="gpt-5.5", candidates=["claude-*"], output_tokens=7, calls=3, keep_going=True)
    assert (chosen.target, list(chosen.candidates), chosen.output_tokens, chosen.calls, chosen.keep_going) == ("gpt-5.5", ["claude-*"], 7, 3, True)


def test_config_model_and_output(tmp_path: Path, catalog) -> None:
    path = tmp_path / "p.txt"
    path.write_text("hi\n", encoding="utf-8")
    options = optimize.Options.resolve(Defaults(models=["gpt-5.4-mini"], output_tokens=80, calls=20))
    sources = inputs.expand([str(path)]).sources
    work, settings = optimize.prepare(sources, catalog, options)
    assert settings.model.id == "gpt-5.4-mini" and settings.model_from == "config"
    assert work.outputs == [80] and settings.output_from == "config" and settings.calls == 20

