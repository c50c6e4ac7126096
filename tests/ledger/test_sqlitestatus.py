"""The status line's own reading of an SQLite ledger (`sqlitestatus`) against the ledger's
(`Ledger.status`): the same figures and the same line on the same real ledger, and the full
path left to answer whatever is not a current SQLite file."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokopt.ledger import Ledger
from tokopt.ledger.sqlite import SqliteStore
from tokopt.ledger.sqlitestatus import quick_status
from tokopt.render.statusline import status_line
from tokopt.usage import UsageRecord

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 28, 6, 0, tzinfo=UTC)  # the night Europe/Berlin moves its clocks is in range
# whole pico-dollars, more digits than that (summed as Decimal), and no price
COSTS = [Decimal("0.01"), Decimal("1.5"), Decimal("0.0000001234567891234"), None]


def _figures(status):
    def fig(s):
        return None if s is None else (s.records, s.cost_usd, s.unpriced_records)

    block = None if status.block is None else (status.block.start, fig(status.block.sums))
    return fig(status.today), block, fig(status.session), status.block_left


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    path = tmp_path_factory.mktemp("status") / "ledger.sqlite3"
    SqliteStore.open(path).close()
    return path


record = st.tuples(st.integers(0, 60 * 40), st.sampled_from(COSTS), st.sampled_from(["s1", "s2", "s*", None]), st.sampled_from(["me", "other"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(record, max_size=25),
    now_minutes=st.integers(0, 60 * 44),
    tz=st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata", "local"]),
    session=st.sampled_from(["s1", "s*", "nobody", None]),
)
def test_it_reads_what_the_ledger_reads(shared, records, now_minutes, tz, session):
    me = f"u{os.urandom(6).hex()}"  # each example its own user in one ledger file
    rows = [
        UsageRecord(
            model="claude-sonnet-4-5",
            provider="anthropic",
            time=T0 + dt.timedelta(minutes=minute),
            user=me if who == "me" else f"{me}-other",
            input_tokens=1000,
            output_tokens=100,
            cost_usd=cost,
            dedupe_key=f"k{i}",
            session_id=sid,
        )
        for i, (minute, cost, sid, who) in enumerate(records)
    ]
    store = SqliteStore.open(shared)
    with store.write():
        store.upsert_usage(rows)
    store.close()
    now = T0 + dt.timedelta(minutes=now_minutes, seconds=30)
    with Ledger(shared, user=me) as book:
        full = book.status(session=session, timezone=tz, now=now)
    quick = quick_status(str(shared), me, tz, session, now=now)
    assert quick is not None
    assert _figures(quick) == _figures(full)
    assert status_line(quick, model="claude-opus-4-8") == status_line(full, model="claude-opus-4-8")


def test_an_empty_ledger_reads_as_nothing_spent(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    SqliteStore.open(path).close()
    quick = quick_status(str(path), "alice", "UTC", "s1")
    assert quick is not None and status_line(quick) == "today $0 · no block · session $0"


def test_anything_but_a_current_sqlite_file_is_left_to_the_ledger(tmp_path):
    assert quick_status(str(tmp_path / "missing.sqlite3"), "alice", "UTC", None) is None  # read as empty, nothing created
    assert not (tmp_path / "missing.sqlite3").exists()
    assert quick_status("postgresql://localhost/ledger", "alice", "UTC", None) is None
    old = tmp_path / "old.sqlite3"
    SqliteStore.open(old).close()
    db = sqlite3.connect(old)
    db.execute("PRAGMA user_version = 1")  # an older schema: the ledger migrates it first
    db.close()
    assert quick_status(str(old), "alice", "UTC", None) is None
    rollback = tmp_path / "journal.sqlite3"
    SqliteStore.open(rollback).close()
    db = sqlite3.connect(rollback)
    db.execute("PRAGMA journal_mode = DELETE")  # the ledger switches it to WAL, a write
    db.close()
    assert quick_status(str(rollback), "alice", "UTC", None) is None
    ok = tmp_path / "ok.sqlite3"
    SqliteStore.open(ok).close()
    assert quick_status(f"sqlite://{ok}", "alice", "UTC", None) is not None


def test_a_ledger_made_before_a_newer_token_kind_reads_the_same(tmp_path):
    # A ledger whose usage table lacks a token kind's column, as one made by an older tokopt
    # lacks a kind added since. The status line reads no token counts: it answers from the
    # file as it is, adding nothing, and says what the full path says once it has added it.
    path = tmp_path / "ledger.sqlite3"
    now = T0 + dt.timedelta(minutes=30)
    row = UsageRecord(model="gpt-4o", provider="openai", time=T0, user="alice", input_tokens=1000, output_tokens=100, reasoning_tokens=40, cost_usd=Decimal("0.0035"), session_id="s1")
    store = SqliteStore.open(path)
    with store.write():
        store.upsert_usage([row])
    store.close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX usage_report")  # it covers every token column
    db.execute("ALTER TABLE usage DROP COLUMN reasoning_tokens")
    db.commit()
    db.close()
    quick = quick_status(str(path), "alice", "UTC", "s1", now=now)
    assert quick is not None and (quick.today.records, quick.today.cost_usd) == (1, Decimal("0.0035"))
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(usage)")]
    assert "reasoning_tokens" not in columns
    with Ledger(path, user="alice") as book:
        full = book.status(session="s1", timezone="UTC", now=now)
    assert "reasoning_tokens" in [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(usage)")]
    assert _figures(quick) == _figures(full)
