"""A ledger location opens with the backend its scheme names; the SQLite store is a `Store`."""

from __future__ import annotations

import inspect

import pytest

from tokopt.errors import LedgerError
from tokopt.ledger import store
from tokopt.ledger.sqlite import SqliteStore


def test_the_sqlite_store_has_every_operation_of_the_protocol():
    wanted = {name for name, value in vars(store.Store).items() if not name.startswith("_") and (callable(value) or isinstance(value, property))}
    assert wanted >= {"write", "read", "upsert_usage", "sums", "list_runs", "unpriced_models"}
    for name in wanted:
        assert hasattr(SqliteStore, name), name
        mine, theirs = getattr(SqliteStore, name), getattr(store.Store, name)
        if callable(theirs) and not isinstance(theirs, property):
            assert list(inspect.signature(mine).parameters) == list(inspect.signature(theirs).parameters), name


def test_a_path_and_an_sqlite_url_open_the_same_file(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    assert not store.store_exists(str(path))
    with store.open_store(str(path)).write() as opened:
        assert opened.location == str(path)
    assert store.store_exists(f"sqlite://{path}")
    reopened = store.open_store(f"sqlite://{path}")
    assert reopened.version == opened.version
    reopened.close()
    opened.close()


def test_reading_a_missing_location_creates_nothing(tmp_path):
    path = tmp_path / "none.sqlite3"
    empty = store.open_store(str(path), create=False)
    with empty.read():
        assert empty.total(store.Filters()).records == 0
    assert not path.exists()


def test_an_unknown_scheme_is_a_clear_error():
    with pytest.raises(LedgerError, match=r"unknown kind of ledger: mysql://") as err:
        store.open_store("mysql://bob@db/tokopt")
    assert "sqlite://" in (err.value.hint or "")
