"""Ledger tests over both backends: a fixture that gives each test a fresh ledger location, an
SQLite file or a database on the private PostgreSQL server (tests/pg.py), one test per backend.

- `ledger_location`: a fresh ledger for this test, once per backend (a Path, or a URL).
- `ledger_env`: the same, set as TOKOPT_LEDGER for commands run in the test.
- `shared_ledger_location`: one per module and backend, for hypothesis tests (a new user per example).

The PostgreSQL server starts only when a postgresql test runs; if it cannot, that test fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

BACKENDS = ["sqlite", "postgresql"]


def _location(request: pytest.FixtureRequest, directory: Path) -> Path | str:
    if request.param == "sqlite":
        return directory / "ledger.sqlite3"
    return str(request.getfixturevalue("pg_database").url)


@pytest.fixture(params=BACKENDS)
def ledger_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A fresh ledger for this test: an SQLite file, then a PostgreSQL database."""
    return _location(request, tmp_path)


@pytest.fixture(params=BACKENDS)
def ledger_env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path | str:
    """A fresh ledger for this test's commands (TOKOPT_LEDGER), once per backend."""
    location = _location(request, tmp_path)
    monkeypatch.setenv("TOKOPT_LEDGER", str(location))
    return location


@pytest.fixture(scope="module", params=BACKENDS)
def shared_ledger_location(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | str]:
    """One ledger per module and backend, for tests that give each example a user of its own."""
    if request.param == "sqlite":
        yield tmp_path_factory.mktemp("shared") / "ledger.sqlite3"
        return
    server = request.getfixturevalue("pg_server")
    db = server.create_database()
    yield db.url
    server.drop_database(db)
