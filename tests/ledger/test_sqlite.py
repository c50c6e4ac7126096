"""The SQLite ledger: schema and migrations, refusing foreign or damaged files, round-trips, exact sums."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import stat
import uuid
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokopt.errors import LedgerError
from tokopt.ledger import migrations, sqlitefile
from tokopt.ledger.sqlite import SqliteStore as Store
from tokopt.ledger.store import Filters, Run
from tokopt.usage import UsageRecord

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 7, 20, 12, 0, tzinfo=UTC)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def row(**kw) -> UsageRecord:
    base = dict(time=T0, user="alice", model="gpt-5.5", input_tokens=100, output_tokens=10, cost_usd=Decimal("0.0008"))
    return UsageRecord(**{**base, **kw})


# -- schema ---------------------------------------------------------------------------------------


def test_a_new_ledger_is_private_wal_and_at_the_latest_schema(tmp_path):
    path = tmp_path / "sub" / "ledger.sqlite3"
    store = Store.open(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    db = store.db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.version == migrations.SCHEMA_VERSION == len(migrations.MIGRATIONS)
    assert db.execute("PRAGMA application_id").fetchone()[0] == migrations.APPLICATION_ID
    assert [r[0] for r in db.execute("SELECT name FROM migrations ORDER BY version")] == [m.__name__ for m in migrations.MIGRATIONS]
    assert set(columns(db, "usage")) >= {
        "time", "user", "run_id", "provider", "model", "input_tokens", "cached_input_tokens", "cache_write_tokens",
        "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "cost_usd", "cost_picousd", "pricing_as_of",
        "batch", "estimated", "source", "dedupe_key", "prompt_hash",
    }  # fmt: skip
    assert "prompt" not in columns(db, "usage")  # prompt text has no column to go to
    assert columns(db, "runs") == ["id", "user", "name", "labels", "started_at", "ended_at"]
    with store.write():
        store.upsert_usage([row()])
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) == 0o600
    store.close()


def test_reading_a_missing_ledger_creates_nothing(tmp_path):
    path = tmp_path / "none.sqlite3"
    store = Store.open(path, create=False)
    with store.read():
        assert store.count_usage(Filters()) == 0
    assert not path.exists()


def test_an_empty_file_becomes_a_ledger(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    path.touch()
    Store.open(path).close()
    assert path.read_bytes().startswith(sqlitefile.SQLITE_MAGIC)


OPEN_AT = """
import sys
from pathlib import Path
from tokopt.ledger.sqlite import SqliteStore as Store
rounds, directory = int(sys.argv[1]), Path(sys.argv[2])
for round_ in range(rounds):
    print(round_, flush=True)  # at the start line
    sys.stdin.readline()  # go
    Store.open(directory / f"ledger-{round_}.sqlite3").close()
"""


def test_many_processes_creating_one_ledger_at_once_all_succeed(tmp_path):
    # A stress test of the first open: each process checks the file's identity while others
    # create and migrate it (a check read in parts once saw tables without the application id).
    # Eight processes meet at 48 moments, each time opening a new ledger all at once; they are
    # started once (an interpreter start costs more than the opens). Each round starts when all
    # eight say they are at the start line, released together: 6 rounds at guessed times 0.25 s
    # apart took 2.8 s and caught that bug (the identity read in three statements) in 2 runs
    # of 8; 48 rounds take under 1 s and caught it in 19 of 20.
    import subprocess
    import sys

    rounds = 48
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT, str(rounds), str(tmp_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(8)
    ]
    for round_ in range(rounds):
        if [p.stdout.readline() for p in procs] != [f"{round_}\n"] * len(procs):  # type: ignore[union-attr]
            break  # one has failed: its error is below
        for p in procs:
            p.stdin.write("go\n")  # type: ignore[union-attr]
            p.stdin.flush()  # type: ignore[union-attr]
    ended = [p.communicate() for p in procs]  # closes their stdin: after a failure the rest run on
    errors = [stderr for p, (_, stderr) in zip(procs, ended, strict=True) if p.returncode != 0]
    assert errors == [], errors[0]
    for round_ in range(rounds):
        with Store.open(tmp_path / f"ledger-{round_}.sqlite3").read() as store:
            assert store.version == migrations.SCHEMA_VERSION
            assert [r[0] for r in store.db.execute("SELECT version FROM migrations")] == list(range(1, migrations.SCHEMA_VERSION + 1))


# -- foreign and damaged files ----------------------------------------------------------------


def _sqlite_of_another_app(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('keep me')")
    db.commit()
    db.close()


def _damaged_ledger(path: Path) -> None:
    store = Store.open(path)
    with store.write():
        store.upsert_usage([row(dedupe_key=f"k{i}", input_tokens=i) for i in range(3000)])
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page, len(data), page):  # every page but the first (the header) wiped
        data[offset : offset + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_text("name,cost\nalice,3\n"), "not an SQLite database"),
        (lambda p: p.write_bytes(os.urandom(8192)), "not an SQLite database"),
        (lambda p: p.write_bytes(sqlitefile.SQLITE_MAGIC + b"\x10\x00"), "not an SQLite database"),
        (_sqlite_of_another_app, "another application"),
        (_damaged_ledger, "damaged"),
    ],
    ids=["csv", "random", "truncated", "foreign-sqlite", "damaged-ledger"],
)
def test_a_foreign_or_corrupt_file_is_refused_and_left_untouched(tmp_path, make, message):
    path = tmp_path / "ledger.sqlite3"
    make(path)
    before = digest(path)
    with pytest.raises(LedgerError, match=message) as err:
        store = Store.open(path)
        with store.write():  # a damaged file may open; its first real use must fail, not write
            store.upsert_usage([row(dedupe_key="new")])
    assert str(path) in err.value.message and err.value.hint
    assert digest(path) == before
    assert not Path(str(path) + "-wal").exists() or Path(str(path) + "-wal").stat().st_size == 0


def test_a_ledger_from_a_newer_tokopt_is_refused(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    Store.open(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = digest(path)
    with pytest.raises(LedgerError, match="schema version 99"):
        Store.open(path)
    assert digest(path) == before


def test_a_directory_at_the_ledger_path(tmp_path):
    with pytest.raises(LedgerError, match="is a directory"):
        Store.open(tmp_path)


# -- migrations -------------------------------------------------------------------------------


def _ledger_at(path: Path, version: int) -> None:
    """A ledger as an older tokopt left it: the first `version` migrations, and some data."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("BEGIN")
    migrations.migrate(db, upto=version)
    db.execute("INSERT INTO runs VALUES ('r1', 'alice', 'nightly', '{}', '2026-07-01T00:00:00.000000Z', NULL)")
    db.execute(
        "INSERT INTO usage (time, user, run_id, provider, model, input_tokens, cached_input_tokens, cache_write_tokens, "
        "cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd, pricing_as_of, batch, estimated, source, dedupe_key) "
        "VALUES ('2026-07-01T10:00:00.000000Z', 'alice', 'r1', 'openai', 'gpt-5.5', 1000, 0, 0, 0, 100, 0, '0.008', '2026-07-18', 0, 0, 'cli', NULL), "
        "('2026-07-01T11:00:00.000000Z', 'alice', 'r1', 'openai', 'gpt-5.5', 1, 0, 0, 0, 0, 0, '0.0000000000005', '2026-07-18', 0, 0, 'cli', NULL)"
    )
    if version >= 4:  # as a tokopt of that version wrote them: with their integer cost where exact
        db.execute("UPDATE usage SET cost_picousd = 8000000000 WHERE cost_usd = '0.008'")
    if version >= 7:  # with the uid, origin and change number that version gave every record
        db.execute("UPDATE usage SET uid = lower(hex(randomblob(16))), origin = 'laptop', seq = id")
    db.execute("COMMIT")
    db.close()


@pytest.mark.parametrize("version", range(1, migrations.SCHEMA_VERSION))
def test_an_older_schema_is_migrated_in_place_after_a_backup(tmp_path, version):
    path = tmp_path / "ledger.sqlite3"
    _ledger_at(path, version)
    store = Store.open(path)
    assert store.migrated_from == version and store.version == migrations.SCHEMA_VERSION
    backup = store.backup_path
    assert backup is not None and backup.parent == tmp_path and f".v{version}-" in backup.name
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    old = sqlite3.connect(backup)
    assert old.execute("PRAGMA user_version").fetchone()[0] == version
    assert old.execute("SELECT count(*) FROM usage").fetchone()[0] == 2
    old.close()
    with store.read():
        rows = store.usage_rows(Filters(user="alice"))
        total = store.total(Filters(user="alice"))
    assert [r.cost_usd for r in rows] == [Decimal("0.008"), Decimal("0.0000000000005")]
    # the integer cost column (v4) was filled in where exact; the total is still exact
    if version < 4:
        assert store.db.execute("SELECT cost_picousd FROM usage ORDER BY id").fetchall() == [(8_000_000_000,), (None,)]
    # records made before v5 get a uid, an origin and a change number
    assert len({r.uid for r in rows}) == 2 and all(r.origin for r in rows)
    assert store.db.execute("SELECT seq FROM usage ORDER BY id").fetchall() == [(1,), (2,)]
    assert total.cost_usd == Decimal("0.008") + Decimal("0.0000000000005")
    # records priced before v8 keep no price-data version or service tier until repriced
    assert [(r.pricing_version, r.service_tier) for r in rows] == [(None, None), (None, None)]
    store.close()
    # opening again migrates nothing and makes no second backup
    again = Store.open(path)
    assert again.migrated_from is None and len(list(tmp_path.glob("*.bak"))) == 1
    again.close()


# -- round trips ------------------------------------------------------------------------------

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
tokens = st.integers(min_value=0, max_value=2**40)
times = st.datetimes(
    min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=-7)), dt.timezone(dt.timedelta(hours=5, minutes=45))])
)
money = st.decimals(min_value=0, max_value=10**7, allow_nan=False, allow_infinity=False)


@st.composite
def usage_rows(draw):
    # a record's parts fit in their whole (cached and cache writes in input, reasoning in output)
    inp, out = draw(tokens), draw(tokens)
    cached = draw(st.integers(0, inp))
    write = draw(st.integers(0, inp - cached))
    return UsageRecord(
        time=draw(times),
        user=draw(texts.filter(bool)),
        model=draw(texts.filter(bool)),
        run_id=None,
        provider=draw(st.none() | texts),
        input_tokens=inp,
        cached_input_tokens=cached,
        cache_write_tokens=write,
        cache_write_1h_tokens=draw(st.integers(0, inp - cached - write)),
        output_tokens=out,
        reasoning_tokens=draw(st.integers(0, out)),
        cost_usd=draw(st.none() | money),
        pricing_as_of=draw(st.none() | st.dates()),
        pricing_version=draw(st.none() | texts),
        batch=draw(st.booleans()),
        service_tier=draw(st.none() | st.sampled_from(["flex", "priority"])),
        estimated=draw(st.booleans()),
        source=draw(st.sampled_from(["cli", "api", "import:claude-code"])),
        dedupe_key=draw(st.none() | texts),
        prompt_hash=draw(st.none() | st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: "sha256:" + h)),
    )


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    store = Store.open(tmp_path_factory.mktemp("rt") / "ledger.sqlite3")
    yield store
    store.close()


@given(r=usage_rows())
def test_usage_rows_round_trip(shared_store, r):
    if r.dedupe_key is not None:  # keys are per ledger: keep every example's key its own
        r = r.replace(dedupe_key=f"{r.dedupe_key}-{uuid.uuid4()}")
    with shared_store.write():
        new_id = shared_store.insert_usage(r)
        (back,) = shared_store.get_usage([new_id])
        (stored_cost,) = shared_store.db.execute("SELECT cost_usd FROM usage WHERE id = ?", (new_id,)).fetchone()
    assert back == r
    assert back.time.tzinfo == UTC
    assert stored_cost == (None if r.cost_usd is None else sqlitefile.money_text(r.cost_usd))
    assert stored_cost is None or ("E" not in stored_cost and Decimal(stored_cost) == r.cost_usd)


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.decimals(min_value=0, max_value=1000, places=15, allow_nan=False)), max_size=40))
def test_sums_are_exact_decimals(items):
    store = Store.memory()
    with store.write():
        store.upsert_usage([row(user=u, cost_usd=c) for u, c in items])
    with store.read():
        groups = store.sums(["user"], Filters())
    for user in ("a", "b"):
        expected = sum((c for u, c in items if u == user), Decimal(0))
        got = groups.get((user,))
        assert (got.cost_usd if got else Decimal(0)) == expected


@given(run=st.builds(Run, id=st.text("0123456789abcdef", min_size=8, max_size=8), user=texts.filter(bool), name=texts, labels=st.dictionaries(texts, texts, max_size=3), started_at=times, ended_at=st.none() | times))
def test_runs_round_trip(run):
    store = Store.memory()
    with store.write():
        store.insert_run(run)
        back = store.get_run(run.id)
    assert back is not None
    assert (back.id, back.user, back.name, back.labels) == (run.id, run.user, run.name, run.labels)
    assert back.started_at == run.started_at and back.ended_at == run.ended_at


def test_sums_past_nine_million_dollars_fall_back_to_decimal():
    store = Store.memory()
    big = Decimal("5000000.000000000001")
    with store.write():
        store.upsert_usage([row(cost_usd=big), row(cost_usd=big), row(cost_usd=Decimal("0.5"))])
    with store.read():
        assert store.total(Filters()).cost_usd == big * 2 + Decimal("0.5")


# -- dedupe -----------------------------------------------------------------------------------


def test_a_dedupe_key_keeps_the_largest_record_per_user():
    store = Store.memory()
    with store.write():
        first = store.upsert_usage([row(dedupe_key="k", output_tokens=5), row(dedupe_key="k", user="bob", output_tokens=5)])
        smaller = store.upsert_usage([row(dedupe_key="k", output_tokens=1)])
        larger = store.upsert_usage([row(dedupe_key="k", output_tokens=50, cost_usd=Decimal("0.002"))])
        plain = store.upsert_usage([row(), row()])  # no key: always new
    assert (first.added, smaller.unchanged, larger.updated, plain.added) == (2, 1, 1, 2)
    with store.read():
        rows = store.usage_rows(Filters(user="alice"))
    assert sorted(r.output_tokens for r in rows) == [10, 10, 50]
    assert next(r for r in rows if r.dedupe_key == "k").cost_usd == Decimal("0.002")


def test_filters_by_user_run_and_time():
    store = Store.memory()
    with store.write():
        for run_id, user in (("r1", "alice"), ("r2", "alice"), ("r3", "bob")):
            store.insert_run(Run(id=run_id, user=user, name=run_id, labels={}, started_at=T0))
        store.upsert_usage(
            [
                row(run_id="r1", time=T0),
                row(run_id="r2", time=T0 + dt.timedelta(hours=1)),
                row(run_id="r3", user="bob", time=T0 + dt.timedelta(hours=2)),
                row(run_id=None, time=T0 + dt.timedelta(hours=3)),
            ]
        )
    with store.read():
        assert store.count_usage(Filters(user="alice")) == 3
        assert store.count_usage(Filters(run_ids=("r1", "r3"))) == 2
        assert store.count_usage(Filters(run_ids=())) == 0
        assert store.count_usage(Filters(since=T0 + dt.timedelta(hours=1), until=T0 + dt.timedelta(hours=3))) == 2
        assert set(store.sums(["run"], Filters(user="alice"))) == {("r1",), ("r2",), (None,)}
    with store.write():
        assert store.delete_run("r1") == 1
    with store.read():
        assert store.count_usage(Filters()) == 3 and store.get_run("r1") is None


def test_money_and_time_text():
    assert sqlitefile.money_text(Decimal("5E-7")) == "0.0000005"
    assert sqlitefile.money_text(Decimal("1E+2")) == "100"
    assert sqlitefile.money_text(Decimal("-0.0")) == "0"
    assert sqlitefile.picousd(Decimal("0.000000000001")) == 1
    assert sqlitefile.picousd(Decimal("1E-13")) is None
    assert sqlitefile.picousd(Decimal(10) ** 8) is None  # past 2^63 pico-dollars
    t = dt.datetime(2026, 7, 20, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    assert sqlitefile.time_text(t) == "2026-07-21T01:30:00.000000Z"
    assert sqlitefile.parse_time_text(sqlitefile.time_text(t)) == t
    with pytest.raises(ValueError):
        sqlitefile.time_text(dt.datetime(2026, 1, 1))


@given(
    when=st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 30), timezones=st.sampled_from(
        [dt.timezone.utc, dt.timezone(dt.timedelta(hours=-2)), dt.timezone(dt.timedelta(hours=5, minutes=30, seconds=7)), zoneinfo.ZoneInfo("Europe/Berlin")]
    ))
)
def test_time_text_is_the_stored_form_of_every_time(when):
    # the stored form, as strftime writes it (years before 1000 without leading zeros included)
    assert sqlitefile.time_text(when) == when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_token_kind_the_ledger_lacks_gets_its_column_after_a_backup(tmp_path):
    # What happens when a new token kind is added to usage.Usage: ledgers made before it have
    # no column for it, and get one (zero for the old records) the first time they are opened.
    path = tmp_path / "ledger.sqlite3"
    _ledger_at(path, migrations.SCHEMA_VERSION)
    db = sqlite3.connect(path)
    db.execute("DROP INDEX usage_report")  # it names every kind: a ledger made before the new one has it without
    db.execute("ALTER TABLE usage DROP COLUMN reasoning_tokens")
    db.commit()
    db.close()
    store = Store.open(path)
    assert store.migrated_from == migrations.SCHEMA_VERSION and store.backup_path is not None
    assert "reasoning_tokens" in columns(store.db, "usage")
    with store.read():
        assert [r.reasoning_tokens for r in store.usage_rows(Filters())] == [0, 0]
    store.close()
    again = Store.open(path)
    assert again.migrated_from is None and len(list(tmp_path.glob("*.bak"))) == 1
    again.close()


def test_every_period_reads_the_report_index_and_sorts_nothing(tmp_path):
    """Sums by hour, day, week, month (in UTC and in a zone) and the 5-hour blocks' sums all
    read the report index alone, per UTC hour in its order: no row of the table, no temporary
    b-tree; the hours are given to their periods after."""
    store = Store.open(tmp_path / "ledger.sqlite3")
    when = dt.datetime(2026, 7, 20, 9, tzinfo=dt.timezone.utc)
    records = [
        UsageRecord(model=m, provider="anthropic", time=when + dt.timedelta(days=40 * i), user="alice", input_tokens=10, output_tokens=1, cost_usd=Decimal("0.01"), dedupe_key=f"k{i}{m}")
        for i in range(3)
        for m in ("claude-opus-4-1", "claude-sonnet-4-5")
    ]
    with store.write():
        store.upsert_usage(records)
    # statistics as a big one-user ledger analyzed before m011 has them (the benchmark's): its
    # user matches every record, its times are distinct; of the report index SQLite knows nothing
    store.db.execute("ANALYZE")
    store.db.execute("DELETE FROM sqlite_stat1 WHERE idx = 'usage_report'")
    store.db.execute("UPDATE sqlite_stat1 SET stat = '1000000 1000000 1' WHERE idx = 'usage_user_time'")
    store.db.execute("ANALYZE sqlite_schema")  # reload them
    seen: list[str] = []
    store.db.set_trace_callback(seen.append)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    with store.read():
        sums = {period: store.sums([period, "model"], Filters(user="alice")) for period in ("hour", "day", "week", "month", "utc_hour")}
        zoned = store.sums(["month", "model"], Filters(user="alice"), tz=berlin)
        today = store.total(Filters(user="alice", since=when, until=when + dt.timedelta(days=1)))
    store.db.set_trace_callback(None)
    assert [len(s) for s in sums.values()] == [6] * 5 and len(zoned) == 6 and today.records == 2
    assert {k[0] for k in sums["month"]} == {"2026-07", "2026-08", "2026-10"} and {k[0] for k in sums["week"]} == {"2026-07-20", "2026-08-24", "2026-10-05"}
    assert {k[0] for k in sums["day"]} == {"2026-07-20", "2026-08-29", "2026-10-08"} and {k[0] for k in sums["hour"]} == {"2026-07-20T09", "2026-08-29T09", "2026-10-08T09"}
    plans = {sql: [row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}")] for sql in seen if "GROUP BY" in sql}
    periods = [plan for sql, plan in plans.items() if "time >=" not in sql]
    assert periods and all(plan == ["SEARCH usage USING COVERING INDEX usage_report (user=?)"] for plan in periods), plans
    # a time range (a day, for budgets and the status line) is read by time, not all the user's records
    ranged = [plan for sql, plan in plans.items() if "time >=" in sql] + [
        [row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}")] for sql in seen if "time >=" in sql and "GROUP BY" not in sql
    ]
    assert ranged and all(plan == ["SEARCH usage USING INDEX usage_user_time (user=? AND time>? AND time<?)"] for plan in ranged), ranged
    store.close()
