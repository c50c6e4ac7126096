"""Merging ledgers (`session push` / `pull`): idempotent across machines, resumable after kill -9,
traceable to the machine each record came from, bounded by --since; two machines pushing at
once lose nothing. Real SQLite files and real PostgreSQL databases."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import psycopg
import pytest

from tests.conftest import PRICING_DIR, REPO
from tests.helpers import ACME_PRICING as ACME
from tests.ledger_files import claude_code_assistant, stop, write_jsonl
from tokopt.errors import LedgerError
from tokopt.ledger import ALL_USERS, Ledger
from tokopt.ledger.sync import merge_locations
from tokopt.pricing import load_catalog

CATALOG = load_catalog(PRICING_DIR)
UTC = dt.timezone.utc


def book(location, user="alice"):
    return Ledger(location, user=user, catalog=CATALOG)


def totals(location, user=ALL_USERS):
    """The report's grand total and rows by model and by user: what must match exactly."""
    with book(location) as b:
        by_model = b.report(by="model", user=user)
        by_user = b.report(by="user", user=user)
    key = lambda r: tuple(v or "" for v in r.key.values())  # noqa: E731
    return by_model.total, sorted(((key(r), r.sums.records, r.sums.cost_usd) for r in by_model.rows), key=lambda t: t[0]), sorted((key(r), r.sums.records) for r in by_user.rows)


def machine_log(path, n, *, start=0, output=lambda i: 5 + i % 50):
    """A Claude Code transcript with `n` responses (message ids start..start+n-1)."""
    items = [
        claude_code_assistant(
            message_id=f"msg_{i:06d}", request_id=f"req_{i:06d}", output_tokens=output(i), cache_read=1000 + i,
            timestamp=(dt.datetime(2026, 7, 1, tzinfo=UTC) + dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        )
        for i in range(start, start + n)
    ]  # fmt: skip
    return write_jsonl(path, items)


def test_push_to_postgres_then_again_adds_nothing_and_records_keep_their_machine(tmp_path, pg_url, monkeypatch):
    local = tmp_path / "laptop.sqlite3"
    monkeypatch.setenv("TOKOPT_MACHINE", "laptop-7")
    with book(local) as b:
        b.import_paths([str(machine_log(tmp_path / "cc.jsonl", 40))], run="refactor")
        b.record(model="gpt-5.5", input_tokens=1000, output_tokens=50)  # no dedupe key
        b.record(model="acme-1", input_tokens=10, output_tokens=1)  # no price
    monkeypatch.setenv("TOKOPT_MACHINE", "the-pusher")
    first, _ = merge_locations(str(local), pg_url, user="alice")
    assert (first.records, first.added, first.updated, first.unchanged, first.runs_added) == (42, 42, 0, 0, 1)
    assert totals(pg_url) == totals(local)
    again, _ = merge_locations(str(local), pg_url, user="alice")
    assert (again.records, again.resumed_after) == (0, first.position)
    full, _ = merge_locations(str(local), pg_url, user="alice", full=True)
    assert (full.records, full.added, full.unchanged) == (42, 0, 42)
    assert totals(pg_url) == totals(local)
    with book(pg_url) as team:
        rows = team.usage()
        assert {r.origin for r in rows} == {"laptop-7"}  # where they were recorded, not who pushed
        assert [item.run.name for item in team.runs()] == ["refactor"]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT uid) FROM usage").fetchone() == (42, 42)


def test_a_record_that_grows_at_the_source_is_sent_again_larger(tmp_path, ledger_location):
    local = tmp_path / "laptop.sqlite3"
    log = tmp_path / "live.jsonl"
    write_jsonl(log, [claude_code_assistant(message_id="m1", request_id="r1", output_tokens=3)])
    with book(local) as b:
        b.import_paths([str(log)])
    merge_locations(str(local), str(ledger_location), user="alice")
    write_jsonl(log, [claude_code_assistant(message_id="m1", request_id="r1", output_tokens=300)])  # the streamed response, complete
    with book(local) as b:
        b.import_paths([str(log)])
    second, _ = merge_locations(str(local), str(ledger_location), user="alice")
    assert (second.records, second.updated) == (1, 1)
    with book(ledger_location) as team:
        assert [r.output_tokens for r in team.usage()] == [300]
    assert totals(ledger_location) == totals(local)


def test_pull_from_a_team_ledger_and_file_to_file(tmp_path, pg_url):
    with book(pg_url, "bob") as team:
        team.record(model="gpt-5.5", input_tokens=500, output_tokens=5, dedupe_key="call-1")
    with book(pg_url, "alice") as team:
        team.record(model="gpt-5.5", input_tokens=700, output_tokens=7, dedupe_key="call-1")
    mine = tmp_path / "mine.sqlite3"
    pulled, _ = merge_locations(pg_url, str(mine), user="alice")
    assert pulled.added == 1 and totals(mine) == totals(pg_url, user="alice")
    everyone = tmp_path / "all.sqlite3"
    merge_locations(pg_url, str(everyone), user=None)
    assert totals(everyone) == totals(pg_url)
    copy = tmp_path / "copy.sqlite3"
    merge_locations(str(everyone), str(copy), user=None)
    assert totals(copy) == totals(pg_url)
    with pytest.raises(LedgerError, match="are the same ledger"):
        merge_locations(str(copy), str(copy), user=None)


def test_since_bounds_what_is_sent(tmp_path, pg_url):
    local = tmp_path / "l.sqlite3"
    with book(local) as b:
        for day in (1, 10, 20):
            b.record(model="gpt-5.5", input_tokens=day, output_tokens=1, time=dt.datetime(2026, 7, day, 12, tzinfo=UTC))
    result, _ = merge_locations(str(local), pg_url, user="alice", since=dt.datetime(2026, 7, 10, tzinfo=UTC))
    assert result.records == 2
    with book(pg_url) as team:
        assert sorted(r.input_tokens for r in team.usage()) == [10, 20]
    # a later push without --since is another scope: it sends the older record too
    result, _ = merge_locations(str(local), pg_url, user="alice")
    assert (result.records, result.added, result.unchanged) == (3, 1, 2)


def test_change_numbers_of_deleted_records_are_never_given_again(tmp_path):
    local, team = tmp_path / "l.sqlite3", tmp_path / "team.sqlite3"
    with book(local) as b:
        b.record(model="gpt-5.5", input_tokens=1, output_tokens=1)
        b.record(model="gpt-5.5", input_tokens=2, output_tokens=1, run="scratch")
    merge_locations(str(local), str(team), user="alice")
    with book(local) as b:
        b.delete_run("scratch")  # the record with the highest change number goes
        b.record(model="gpt-5.5", input_tokens=3, output_tokens=1)
    result, _ = merge_locations(str(local), str(team), user="alice")
    assert result.records == 1
    with book(team) as t:
        assert sorted(r.input_tokens for r in t.usage()) == [1, 2, 3]  # deleting does not travel


def _push_process(source, target, *, machine, batch=200, env_extra=None):
    code = (
        "import sys; from tokopt.ledger.sync import merge_locations; "
        f"merge_locations(sys.argv[1], sys.argv[2], user=None, batch={batch})"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TOKOPT_MACHINE": machine, **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-c", code, str(source), str(target)], env=env, stderr=subprocess.PIPE)


def test_a_push_killed_with_sigkill_then_pushed_again_gives_exact_totals(tmp_path, pg_url):
    # 4,000 records are 20 batches of 200 (~0.4 s of pushing): the push is stopped once its first
    # batch has committed, so the kill lands mid-push however slow the machine (20,000 took 2.4 s)
    n = 4_000
    local = tmp_path / "big.sqlite3"
    with book(local) as b:
        b.import_paths([str(machine_log(tmp_path / "cc.jsonl", n))])
        b.record(model="acme-1", input_tokens=10, output_tokens=1)
    proc = _push_process(local, pg_url, machine="m")
    deadline = time.monotonic() + 120
    position = 0
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with psycopg.connect(pg_url) as conn:
                found = conn.execute("SELECT max(position) FROM sync_state").fetchone()
                position = found[0] or 0 if found else 0
        except psycopg.Error:
            pass  # the schema is being made
        if position > 0:
            stop(proc)
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the push ended before it could be killed: " + proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    with psycopg.connect(pg_url) as conn:
        stored, committed = conn.execute("SELECT count(*), (SELECT max(position) FROM sync_state) FROM usage").fetchone()
    assert 0 < stored < n + 1 and committed >= position  # whole batches, and how far they got
    result, _ = merge_locations(str(local), pg_url, user=None)
    assert result.resumed_after == committed and result.records == n + 1 - stored
    assert totals(pg_url) == totals(local)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT uid) FROM usage").fetchone() == (n + 1, n + 1)


def test_two_machines_pushing_overlapping_records_at_once_lose_nothing(tmp_path, pg_url, monkeypatch):
    # Both machines imported messages 2,000..3,999 (say, a transcript synced between them); the
    # second saw longer versions of some of them. Each pushes its ledger at the same moment.
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    monkeypatch.setenv("TOKOPT_MACHINE", "a")
    with book(a) as la:
        la.import_paths([str(machine_log(tmp_path / "a.jsonl", 4000))])
    monkeypatch.setenv("TOKOPT_MACHINE", "b")
    with book(b) as lb:
        lb.import_paths([str(machine_log(tmp_path / "b.jsonl", 4000, start=2000, output=lambda i: 5 + i % 50 + (7 if i % 3 == 0 else 0)))])
    procs = [_push_process(a, pg_url, machine="a", batch=300), _push_process(b, pg_url, machine="b", batch=300)]
    assert [p.wait(300) for p in procs] == [0, 0], [p.stderr.read().decode() for p in procs]
    # what one ledger holds when it imports both transcripts: each message once, at its largest
    union = tmp_path / "union.sqlite3"
    with book(union) as u:
        u.import_paths([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    assert totals(pg_url) == totals(union)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT uid) FROM usage").fetchone() == (6000, 6000)
        by_origin = dict(conn.execute("SELECT origin, count(*) FROM usage GROUP BY 1").fetchall())
    # 2,000 messages only a has, 2,000 only b has; of the 2,000 both have, b's 667 longer ones won
    assert sum(by_origin.values()) == 6000 and by_origin["a"] >= 2000 and by_origin["b"] >= 2667


def test_push_and_pull_through_the_command(tmp_path, pg_database, monkeypatch):
    from tests.cli.conftest import Runner

    run_cli = Runner()
    monkeypatch.setenv("TOKOPT_USER", "alice")
    url = pg_database.url
    local = str(tmp_path / "mine.sqlite3")
    assert run_cli("session", "record", "-m", "gpt-5.5", "-i", "1000", "-o", "10", "--ledger", local).exit_code == 0
    r = run_cli("session", "push", "--to", url, "--ledger", local, "-f", "json")
    assert r.exit_code == 0, r.output
    import json

    doc = json.loads(r.stdout)
    assert (doc["records"], doc["added"], doc["user"]) == (1, 1, "alice")
    assert pg_database.password not in r.stdout + r.stderr and doc["target"].startswith("postgresql://tokopt_test:***@")
    table = run_cli("session", "push", "--to", url, "--ledger", local)
    assert table.exit_code == 0 and "nothing changed since the last push" in table.stderr  # a note: stderr when stdout is not a terminal
    back = str(tmp_path / "back.sqlite3")
    assert run_cli("session", "pull", "--from", url, "--ledger", back).exit_code == 0
    assert totals(back) == totals(local)
    r = run_cli("session", "push", "--to", pg_database.url_with_password("wrong-one"), "--ledger", local)
    assert r.exit_code == 2 and r.stderr.startswith("error: ledger postgresql://tokopt_test:***@") and "wrong-one" not in r.stderr




def test_a_record_repriced_then_pushed_is_repriced_there_and_order_does_not_matter(tmp_path, ledger_location):
    acme = tmp_path / "acme.toml"
    acme.write_text(ACME, encoding="utf-8")
    priced_catalog = load_catalog(PRICING_DIR, [acme])
    laptop, desktop = tmp_path / "laptop.sqlite3", tmp_path / "desktop.sqlite3"
    for local in (laptop, desktop):  # one call, recorded on two machines before acme-7 had a price
        with book(local) as b:
            b.record(model="acme-7", input_tokens=1_000, output_tokens=100, dedupe_key="call-1", time=dt.datetime(2026, 11, 20, tzinfo=UTC))
    merge_locations(str(laptop), str(ledger_location), user="alice")
    with Ledger(laptop, user="alice", catalog=priced_catalog) as b:
        assert b.reprice().changed == 1
    result, _ = merge_locations(str(laptop), str(ledger_location), user="alice")
    assert (result.records, result.updated) == (1, 1)

    def costs(location):
        with book(location) as b:
            return [(r.model, r.cost_usd, r.pricing_as_of) for r in b.usage()]

    priced = [("acme-7", Decimal("0.0024"), dt.date(2026, 11, 1))]  # 1,000 × $2/M + 100 × $4/M
    assert costs(ledger_location) == costs(laptop) == priced
    # the desktop's copy, still unpriced, pushed later does not take the price away...
    result, _ = merge_locations(str(desktop), str(ledger_location), user="alice")
    assert costs(ledger_location) == priced and result.updated == 0
    # ...and pulled, the price reaches the desktop
    merge_locations(str(ledger_location), str(desktop), user="alice")
    assert costs(desktop) == priced
    assert totals(ledger_location) == totals(laptop) == totals(desktop)
