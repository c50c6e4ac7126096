"""The store keeps what agent logs say about each call (agent, session, project, branch,
sidechain), filters and groups by it, sums periods in any zone, and keeps import states."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt.ledger import migrations
from tokopt.ledger.sqlite import SqliteStore
from tokopt.ledger.store import FileState, Filters, open_store
from tokopt.ledger.timezones import zone
from tokopt.usage import UsageRecord

UTC = dt.timezone.utc


def rec(key: str, *, time: dt.datetime, model: str = "claude-sonnet-4-5", user: str = "alice", inp: int = 100, out: int = 10, cost: str | None = "0.001", **attr) -> UsageRecord:
    return UsageRecord(
        model=model,
        provider="anthropic",
        time=time,
        user=user,
        input_tokens=inp,
        output_tokens=out,
        cost_usd=None if cost is None else Decimal(cost),
        source="import:claude-code",
        dedupe_key=key,
        **attr,
    )


@pytest.fixture
def store(ledger_location):
    """A fresh store: each test runs once on an SQLite file and once on PostgreSQL."""
    opened = open_store(str(ledger_location))
    yield opened
    opened.close()


T0 = dt.datetime(2026, 7, 20, 9, 0, tzinfo=UTC)


def test_attribution_is_stored_and_read_back(store):
    one = rec("a", time=T0, agent="claude-code", session_id="s1", project="/home/dev/app", git_branch="main", sidechain=True)
    with store.write():
        store.upsert_usage([one, rec("b", time=T0)])
    with store.read():
        rows = {r.dedupe_key: r for r in store.usage_rows(Filters(user="alice"))}
    assert (rows["a"].agent, rows["a"].session_id, rows["a"].project, rows["a"].git_branch, rows["a"].sidechain) == (
        "claude-code", "s1", "/home/dev/app", "main", True,
    )
    assert (rows["b"].agent, rows["b"].session_id, rows["b"].sidechain) == (None, None, False)


def test_a_stored_record_without_attribution_gets_it_when_seen_again(store):
    with store.write():
        store.upsert_usage([rec("a", time=T0, out=50)])
    with store.write():
        # the same call, read again by a tokopt that keeps attribution: its counts are not larger
        outcome = store.upsert_usage([rec("a", time=T0, out=50, agent="claude-code", session_id="s1", project="/p")])
    assert (outcome.added, outcome.updated, outcome.unchanged) == (0, 1, 0)
    with store.write():
        # once attributed, a smaller reading changes nothing, and a larger one keeps the attribution
        assert store.upsert_usage([rec("a", time=T0, out=10, session_id="s2")]).unchanged == 1
        assert store.upsert_usage([rec("a", time=T0, out=90, session_id="s3", project=None)]).updated == 1
    with store.read():
        (row,) = store.usage_rows(Filters())
    assert (row.output_tokens, row.session_id, row.project, row.agent) == (90, "s1", "/p", "claude-code")


def test_filters_match_patterns_and_never_a_missing_value(store):
    with store.write():
        store.upsert_usage(
            [
                rec("a", time=T0, model="claude-opus-4-8", agent="claude-code", project="/w/app", git_branch="main", session_id="s1"),
                rec("b", time=T0, model="claude-sonnet-4-5", agent="claude-code", project="/w/lib", git_branch="feat/x", session_id="s2"),
                rec("c", time=T0, model="gpt-5.5", agent="codex", project="/w/app", session_id="s3"),
                rec("d", time=T0, model="gpt-5.5"),
            ]
        )

    def keys(**filters) -> set[str]:
        with store.read():
            return {r.dedupe_key or "" for r in store.usage_rows(Filters(**filters))}

    assert keys(models=("claude-*",)) == {"a", "b"}
    assert keys(models=("gpt-5.5", "claude-opus-4-8")) == {"a", "c", "d"}
    assert keys(agents=("codex",)) == {"c"}
    assert keys(projects=("*/app",)) == {"a", "c"}
    assert keys(branches=("feat/*",)) == {"b"}
    assert keys(branches=("*",)) == {"a", "b"}  # no branch in the log: matches nothing
    assert keys(sessions=("s[12]",)) == {"a", "b"}
    assert keys(agents=("claude-code",), projects=("/w/app",)) == {"a"}
    assert keys(models=()) == set()
    with store.read():
        assert store.total(Filters(agents=("claude-code",))).records == 2


def test_groups_by_attribution(store):
    with store.write():
        store.upsert_usage(
            [
                rec("a", time=T0, agent="claude-code", session_id="s1", project="/w/app", git_branch="main"),
                rec("b", time=T0 + dt.timedelta(hours=2), agent="claude-code", session_id="s1", project="/w/app", git_branch="main"),
                rec("c", time=T0, agent="codex", session_id="s2", project="/w/lib"),
            ]
        )
    with store.read():
        by_session = store.sums(["session"], Filters())
        by_agent_branch = store.sums(["agent", "branch"], Filters())
    assert by_session[("s1",)].records == 2 and by_session[("s2",)].records == 1
    assert (by_session[("s1",)].first, by_session[("s1",)].last) == (T0, T0 + dt.timedelta(hours=2))
    assert set(by_agent_branch) == {("claude-code", "main"), ("codex", None)}


def _python_period(when: dt.datetime, period: str, tz: dt.tzinfo) -> str:
    local = when.astimezone(tz)
    if period == "hour":
        return local.strftime("%Y-%m-%dT%H")
    if period == "day":
        return local.date().isoformat()
    if period == "week":
        return (local.date() - dt.timedelta(days=local.weekday())).isoformat()
    if period == "month":
        return local.strftime("%Y-%m")
    return when.strftime("%Y-%m-%dT%H")  # utc_hour


@settings(max_examples=60, deadline=None)
@given(
    stamps=st.lists(st.integers(min_value=1_700_000_000, max_value=1_830_000_000), min_size=1, max_size=30),
    tz_name=st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"]),
    period=st.sampled_from(["hour", "day", "week", "month", "utc_hour"]),
    with_model=st.booleans(),
)
def test_periods_match_python_for_any_times_and_zone(shared_ledger_location, stamps, tz_name, period, with_model):
    path = str(shared_ledger_location)
    user = f"u{os.urandom(6).hex()}"
    tz = zone(tz_name)
    models = ["claude-opus-4-8", "gpt-5.5"]
    records = [
        rec(f"k{i}", time=dt.datetime.fromtimestamp(s, UTC), model=models[i % 2], user=user, inp=i + 1) for i, s in enumerate(stamps)
    ]
    store = open_store(path)
    try:
        with store.write():
            store.upsert_usage(records)
        group = [period, "model"] if with_model else ["model", period] if len(stamps) % 2 else [period]
        with store.read():
            got = {key: (s.records, s.input_tokens) for key, s in store.sums(group, Filters(user=user), tz=tz).items()}
    finally:
        store.close()
    expected: dict[tuple[object, ...], tuple[int, int]] = {}
    for r in records:
        assert r.time is not None
        value = _python_period(r.time, period, tz)
        key: tuple[object, ...] = {
            (period, "model"): (value, "anthropic", r.model),
            ("model", period): ("anthropic", r.model, value),
            (period,): (value,),
        }[tuple(group)]  # type: ignore[index]
        n, tokens = expected.get(key, (0, 0))
        expected[key] = (n + 1, tokens + r.input_tokens)
    assert got == expected


def test_two_periods_at_once_are_refused(store):
    with store.read(), pytest.raises(ValueError, match="day and month"):
        store.sums(["day", "month"], Filters())


def test_latest_time(store):
    with store.write():
        store.upsert_usage([rec("a", time=T0), rec("b", time=T0 + dt.timedelta(hours=3)), rec("c", time=T0, user="bob")])
    with store.read():
        assert store.latest_time(Filters(user="alice")) == T0 + dt.timedelta(hours=3)
        assert store.latest_time(Filters(user="alice", until=T0 + dt.timedelta(hours=3))) == T0
        assert store.latest_time(Filters(user="alice", until=T0)) is None


def test_import_states_round_trip_per_user(store):
    state = FileState(
        path="/logs/a.jsonl",
        size=1200,
        mtime_ns=1_784_000_000_123_456_789,
        offset=1190,
        lines=12,
        tail_len=98,
        tail_hash="ab" * 32,
        state={"codex": {"model": "gpt-5-codex", "previous": [1, 2, 3, 4]}},
        imported_at=T0,
    )
    with store.write():
        store.save_import_states("alice", [state])
    with store.read():
        assert store.import_states("alice", ["/logs/a.jsonl", "/logs/b.jsonl"]) == {"/logs/a.jsonl": state}
        assert store.import_states("bob", ["/logs/a.jsonl"]) == {}
    grown = FileState(**{**state.__dict__, "size": 2400, "offset": 2400, "lines": 24})
    with store.write():
        store.save_import_states("alice", [grown])
    with store.read():
        assert store.import_states("alice", ["/logs/a.jsonl"])["/logs/a.jsonl"].offset == 2400
        many = [f"/logs/{i}.jsonl" for i in range(1200)]
        assert store.import_states("alice", many) == {}  # more paths than SQLite takes parameters


def test_migration_5_names_the_agent_of_records_imported_before(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    migrations.migrate(db, upto=4)
    for n, source in enumerate(["import:claude-code", "import:codex", "import:anthropic", "cli"]):
        db.execute(
            "INSERT INTO usage (time, user, model, input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, "
            "output_tokens, reasoning_tokens, source, dedupe_key) VALUES ('2026-07-01T10:00:00.000000Z', 'alice', 'm', 1, 0, 0, 0, 1, 0, ?, ?)",
            (source, f"k{n}"),
        )
    db.execute("COMMIT")
    db.close()
    store = SqliteStore.open(path)
    try:
        with store.read():
            agents = {r.source: r.agent for r in store.usage_rows(Filters())}
        assert agents == {"import:claude-code": "claude-code", "import:codex": "codex", "import:anthropic": None, "cli": None}
        columns = {row[1] for row in store.db.execute("PRAGMA table_info(import_files)")}
        assert columns >= {"user", "path", "size", "mtime_ns", "offset", "lines", "tail_len", "tail_hash", "state"}
    finally:
        store.close()
