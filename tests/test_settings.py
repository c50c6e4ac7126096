"""settings: the one precedence resolver, flag > env > project config > user config > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokopt import settings
from tokopt.config import UserConfig
from tokopt.errors import ConfigError


def user(**defaults) -> UserConfig:
    return UserConfig.model_validate({"defaults": defaults})


def test_flag_then_project_then_user_then_default():
    mine = user(models=["gpt-5.5"], output_tokens=800, calls=50)
    project = settings.ProjectValues(output_tokens=300)
    s = settings.resolve(mine, project)
    assert (s.models.value, s.models.source) == (["gpt-5.5"], "config")
    assert (s.output_tokens.value, s.output_tokens.source) == (300, "project")
    assert (s.calls.value, s.calls.source) == (50, "config")
    s = settings.resolve(mine, project, models=["claude-*"], output_tokens=10, calls=7)
    assert (s.models.value, s.output_tokens.value, s.calls.value) == (["claude-*"], 10, 7)
    assert {s.models.source, s.output_tokens.source, s.calls.source} == {"option"}
    s = settings.resolve(UserConfig(), settings.ProjectValues())
    assert (s.models.value, s.output_tokens.value, s.calls.value) == ([], 500, 1000)
    assert {s.models.source, s.output_tokens.source, s.calls.source} == {"default"}


def test_nothing_but_the_defaults():
    s = settings.resolve()
    assert (s.output_tokens.value, s.calls.value) == (settings.DEFAULT_OUTPUT_TOKENS, settings.DEFAULT_CALLS)


def test_an_empty_models_flag_is_not_given_but_zero_output_tokens_is():
    s = settings.resolve(user(models=["gpt-5.5"], output_tokens=800), models=[], output_tokens=0)
    assert (s.models.value, s.models.source) == (["gpt-5.5"], "config")
    assert (s.output_tokens.value, s.output_tokens.source) == (0, "option")


def test_a_project_that_names_no_models_still_wins_over_the_user():
    # `models = []` in [defaults] is the project's choice: the catalog's defaults, not the user's
    s = settings.resolve(user(models=["gpt-5.5"]), settings.ProjectValues(models=[]))
    assert (s.models.value, s.models.source) == ([], "project")


def test_user_config_named_by_the_env_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKOPT_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError):
        settings.user_config()
    (tmp_path / "nope.toml").write_text("[defaults]\ncalls = 9\n")
    assert settings.resolve(settings.user_config()).calls.value == 9


def test_user_config_in_the_home_may_be_absent(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKOPT_HOME", str(tmp_path))
    assert settings.user_config() == UserConfig()
    (tmp_path / "config.toml").write_text("[defaults]\noutput_tokens = 12\n")
    assert settings.resolve(settings.user_config()).output_tokens == settings.Setting(12, "config")


def test_pricing_files_a_flag_replaces_the_env_and_the_users_file(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "pricing.toml").write_text("")
    monkeypatch.setenv("TOKOPT_HOME", str(home))
    flag = tmp_path / "flag.toml"
    assert settings.pricing_files() == [home / "pricing.toml"]
    assert settings.pricing_files([flag]) == [flag]
    env = tmp_path / "env.toml"
    monkeypatch.setenv("TOKOPT_PRICING", str(env))
    assert settings.pricing_files() == [env]
    assert settings.pricing_files([flag]) == [flag]


def test_pricing_files_with_a_project_lay_every_layer(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "pricing.toml").write_text("")
    monkeypatch.setenv("TOKOPT_HOME", str(home))
    ours, flag, env = Path("ours.toml"), Path("flag.toml"), tmp_path / "env.toml"
    assert settings.pricing_files([flag], [ours]) == [home / "pricing.toml", ours, flag]
    monkeypatch.setenv("TOKOPT_PRICING", str(env))
    assert settings.pricing_files([flag], [ours]) == [ours, env, flag]
