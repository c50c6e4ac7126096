"""Test isolation: no test touches the real home, the network or the terminal's settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tokopt import tokens

# Fixtures for tests against a private PostgreSQL server: pg_database, pg_url, make_pg_database, ...;
# and ledger tests over both backends: ledger_location, ledger_env, shared_ledger_location
pytest_plugins = ("tests.pg", "tests.ledger_backends")

REPO = Path(__file__).resolve().parents[1]
PRICING_DIR = REPO / "pricing"
PRICES_AT = "2026-11-30T12:00:00Z"

# Tokenizing is slower than hypothesis expects of a test; a shared machine is slower still.
settings.register_profile("tokopt", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tokopt")


@pytest.fixture(scope="session", autouse=True)
def _click_tree_built_once() -> Iterator[None]:
    """typer's CliRunner.invoke builds the whole click command tree from the Typer app on every
    call: about 0.1 s, more than most commands take, paid by each of the suite's thousands of
    in-process runs. The tree depends only on the app, so it is built once per app object (the
    app is kept alive with it, so its id cannot be reused). Production builds it once per
    process, as here."""
    import typer.testing

    build = typer.testing._get_command
    built: dict[int, tuple[object, object]] = {}

    def once(app):  # type: ignore[no-untyped-def]
        hit = built.get(id(app))
        if hit is None:
            hit = built[id(app)] = (app, build(app))
        return hit[1]

    typer.testing._get_command = once
    yield
    typer.testing._get_command = build


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session", autouse=True)
def _offline_tiktoken(session_dir: Path) -> Iterator[None]:
    # tiktoken's own download cache, filled from the bundled rank files, so that the reference
    # `tiktoken.get_encoding(...)` in tests works offline exactly as tiktoken does.
    cache = tokens.export_tiktoken_cache(session_dir / "tiktoken-cache")
    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    yield
    if old is None:
        os.environ.pop("TIKTOKEN_CACHE_DIR", None)
    else:
        os.environ["TIKTOKEN_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, session_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "tokopt-home"
    monkeypatch.setenv("TOKOPT_HOME", str(home))
    # Parsed tokenizer ranks are shared by the tests of one session (a cache, not state).
    monkeypatch.setenv("TOKOPT_CACHE_DIR", str(session_dir / "tokopt-cache"))
    # ... and so is the key that signs it (tokopt.cachekey), or every test would rebuild the price cache
    monkeypatch.setenv("TOKOPT_CACHE_KEY", str(session_dir / "cache.key"))
    monkeypatch.setenv("TOKOPT_PRICING_DIR", str(PRICING_DIR))
    # Counts are made, not read from the count cache, unless a test turns it on.
    monkeypatch.setenv("TOKOPT_COUNT_CACHE", "0")
    # prices at a fixed moment: some vary by the hour (off-peak) and all by the date
    monkeypatch.setenv("TOKOPT_PRICES_AT", PRICES_AT)
    monkeypatch.delenv("TOKOPT_OFFLINE", raising=False)
    for name in ("TOKOPT_PRICING", "TOKOPT_CONFIG", "TOKOPT_LEDGER", "TOKOPT_USER", "TOKOPT_RUN", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    # coding agents' logs: `session import` with no paths and `session sources` look in the
    # home directory and these variables; a test's home is its own (and empty)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TERM", "dumb")


@pytest.fixture(scope="session")
def reference(_offline_tiktoken: None):
    """tiktoken's own encodings (offline through its cache), the ground truth for counts."""
    import tiktoken

    return {name: tiktoken.get_encoding(name) for name in ("cl100k_base", "o200k_base")}
