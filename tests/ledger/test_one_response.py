"""One provider response, one cost: the same response imported by several users (the same log
on two machines, a shared transcript) counts once in every sum over all users (reports, spend,
budgets over "*", blocks, export), attributed to one copy by a rule that reads only the copies,
so push and pull give every ledger the same totals. Per-user sums keep each user's copies.
Each test runs on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PRICING_DIR
from tests.ledger_files import claude_code_assistant, write_jsonl
from tokopt.ledger import ALL_USERS, Ledger
from tokopt.ledger.export import export
from tokopt.ledger.reports import scope
from tokopt.ledger.store import open_store
from tokopt.ledger.sync import merge_locations
from tokopt.pricing import load_catalog

CATALOG = load_catalog(PRICING_DIR)
UTC = dt.timezone.utc


def book(location, user):
    return Ledger(location, user=user, catalog=CATALOG)


def log(path: Path, ids: range, *, output=lambda i: 10 + i) -> Path:
    """A Claude Code transcript with one response per id (message and request ids from it)."""
    items = [
        claude_code_assistant(
            message_id=f"msg_{i:04d}", request_id=f"req_{i:04d}", output_tokens=output(i), cache_read=500 + i,
            timestamp=(dt.datetime(2026, 7, 1, 9, tzinfo=UTC) + dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        )
        for i in ids
    ]  # fmt: skip
    return write_jsonl(path, items)


def by_user(location) -> dict[str, tuple[int, Decimal | None]]:
    with book(location, "alice") as b:
        report = b.report(by="user", user=ALL_USERS)
    return {r.key["user"]: (r.sums.records, r.sums.cost_usd) for r in report.rows}


def total(location, user=ALL_USERS):
    with book(location, "alice") as b:
        return b.report(by="model", user=user).total


def test_a_log_two_users_imported_counts_once_over_all_users_and_twice_per_user(tmp_path, ledger_location):
    shared = log(tmp_path / "shared.jsonl", range(0, 10))
    with book(ledger_location, "bob") as bob:
        bob.import_paths([str(shared)])
        bob.import_paths([str(log(tmp_path / "bob.jsonl", range(100, 103)))])  # bob's own responses
        bob.record_many([{"model": "gpt-5.5", "input": 100, "output": 10, "id": "call-1"}])  # a caller's key
    with book(ledger_location, "alice") as alice:
        alice.import_paths([str(shared)])
        alice.record_many([{"model": "gpt-5.5", "input": 100, "output": 10, "id": "call-1"}])  # another call
        mine = alice.report(by="model").total
        everyone = alice.report(by="model", user=ALL_USERS).total
        spent = alice.spend(user=ALL_USERS)
        call = next(r.cost_usd for r in alice.usage() if r.dedupe_key == "call-1")
    with book(ledger_location, "bob") as bob:
        bobs = bob.report(by="model").total

    # per user: each keeps every record it imported
    assert (mine.records, bobs.records) == (11, 14)
    # all users: the 10 shared responses once, bob's 3, and both callers' own "call-1"
    assert everyone.records == 10 + 3 + 2
    # bob's records, and alice's own "call-1": her copy of the shared log is left out
    assert everyone.cost_usd == bobs.cost_usd + call
    assert spent.cost_usd == everyone.cost_usd and spent.records == everyone.records
    # equal copies go to the user whose name sorts first
    users = by_user(ledger_location)
    assert users["alice"][0] == 11 and users["bob"][0] == 4
    assert sum(n for n, _ in users.values()) == everyone.records
    assert sum(c for _, c in users.values()) == everyone.cost_usd


def test_the_most_complete_copy_counts_and_deleting_it_gives_the_count_to_the_other(tmp_path, ledger_location):
    # alice imported while the responses were streaming (partials), bob the finished log
    with book(ledger_location, "alice") as alice:
        alice.import_paths([str(log(tmp_path / "partial.jsonl", range(5), output=lambda i: 1))])
        early = alice.report(by="model").total
    with book(ledger_location, "bob") as bob:
        bob.import_paths([str(log(tmp_path / "final.jsonl", range(5), output=lambda i: 100 + i))], run="final")
        final = bob.report(by="model").total
    everyone = total(ledger_location)
    assert everyone.records == 5 and everyone.output_tokens == final.output_tokens == sum(100 + i for i in range(5))
    assert by_user(ledger_location) == {"bob": (5, final.cost_usd)}
    # the sums read the copies there are now: with bob's gone, alice's count
    with book(ledger_location, "bob") as bob:
        bob.delete_run("final")
    assert by_user(ledger_location) == {"alice": (5, early.cost_usd)}
    assert total(ledger_location).output_tokens == 5


def test_blocks_export_and_unpriced_over_all_users_count_each_response_once(tmp_path, ledger_location):
    shared = log(tmp_path / "shared.jsonl", range(8))
    for user in ("carol", "alice", "bob"):
        with book(ledger_location, user) as b:
            b.import_paths([str(shared)])
    everyone = total(ledger_location)
    assert everyone.records == 8
    with book(ledger_location, "alice") as b:
        blocks = b.blocks(user=ALL_USERS, timezone="UTC", now=dt.datetime(2026, 7, 2, tzinfo=UTC))
        rows = b.usage(user=ALL_USERS)  # the raw records: every copy
    assert sum(block.sums.records for block in blocks.blocks) == 8
    assert sum(block.sums.cost_usd for block in blocks.blocks) == everyone.cost_usd
    assert len(rows) == 24
    store = open_store(str(ledger_location), create=False)
    try:
        for fmt in ("csv", "focus"):
            out = io.StringIO()
            with store.read():
                filters, _ = scope(store, user=ALL_USERS, me="alice", run=None, since=None, until=None)
            summary = export(store, fmt, filters, None, out)
            exported = list(csv.DictReader(io.StringIO(out.getvalue())))
            assert summary.records == len(exported) == 8
            assert summary.cost_usd == everyone.cost_usd
            if fmt == "csv":
                assert {r["user"] for r in exported} == {"alice"}
                assert sum(Decimal(r["cost_usd"]) for r in exported) == everyone.cost_usd
    finally:
        store.close()


def test_unknown_models_are_named_once_over_all_users(tmp_path, ledger_location):
    items = [claude_code_assistant(message_id=f"m{i}", request_id=f"r{i}", model="acme-coder-1") for i in range(3)]
    shared = write_jsonl(tmp_path / "acme.jsonl", items)
    for user in ("alice", "bob"):
        with book(ledger_location, user) as b:
            b.import_paths([str(shared)])
    with book(ledger_location, "alice") as b:
        report = b.report(by="model", user=ALL_USERS)
    assert report.total.records == 3 and report.total.unpriced_records == 3
    assert [(u.model, u.records) for u in report.unpriced] == [("acme-coder-1", 3)]


def test_push_and_pull_keep_each_response_once_whatever_the_order(tmp_path, pg_url):
    """Two machines import the same log (and one more response each), push to the team's
    PostgreSQL ledger in either order, and pull it back: every ledger sums the same."""
    shared = log(tmp_path / "shared.jsonl", range(20))
    laptops = []
    for user, extra in (("bob", 200), ("alice", 300)):
        local = tmp_path / f"{user}.sqlite3"
        with book(local, user) as b:
            b.import_paths([str(shared), str(log(tmp_path / f"{user}-own.jsonl", range(extra, extra + 1)))])
        laptops.append(local)
    expected = None
    for first, second in (laptops, laptops[::-1]):
        team = tmp_path / f"team-{first.stem}.sqlite3"  # an SQLite team ledger, in each order
        merge_locations(str(first), str(team), user=None)
        merge_locations(str(second), str(team), user=None)
        got = (total(team).records, total(team).cost_usd, by_user(team))
        expected = expected or got
        assert got == expected
    merge_locations(str(laptops[0]), pg_url, user=None)
    merge_locations(str(laptops[1]), pg_url, user=None)
    merge_locations(pg_url, str(laptops[0]), user=None)  # bob pulls alice's copies
    for location in (pg_url, laptops[0]):
        assert (total(location).records, total(location).cost_usd, by_user(location)) == expected
    assert expected[0] == 22
    # each user's own report still holds every record that user imported
    assert total(pg_url, "bob").records == total(laptops[0], "bob").records == 21
