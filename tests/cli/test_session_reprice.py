"""`tokopt session reprice`: ledger records priced again with the price data in use, each at its
own time; unpriced records get a price once one is known; a dry run changes nothing; a price
from a pricing file not given again is kept. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest

from tests.conftest import PRICING_DIR
from tests.helpers import ACME_PRICING as ACME
from tests.helpers import one_error_line
from tokopt.costing import cost_of
from tokopt.pricing import load_catalog
from tokopt.usage import Usage

CATALOG = load_catalog(PRICING_DIR)
RECORDS = [
    {"model": "acme-7", "input": 100, "output": 10, "time": "2026-07-21T08:00:00Z"},
    # gpt-5.6-luna was cut 80% on 2026-07-30: July keeps July's price, September gets the cut one
    {"model": "gpt-5.6-luna", "input": 1_000_000, "output": 1_000_000, "time": "2026-07-20T08:00:00Z"},
    {"model": "gpt-5.6-luna", "input": 1_000_000, "output": 1_000_000, "time": "2026-09-20T08:00:00Z"},
    {"model": "claude-sonnet-4-6", "input": 50_000, "cached": 40_000, "output": 2_000, "time": "2026-08-02T08:00:00Z"},
]


@pytest.fixture(autouse=True)
def ledger(monkeypatch, ledger_env, run):
    monkeypatch.setenv("TOKOPT_USER", "alice")
    r = run("session", "record", "--stdin", "--allow-unknown", input="\n".join(json.dumps(r) for r in RECORDS))
    assert r.exit_code == 0, r.output
    assert run("session", "record", "--allow-unknown", "-m", "acme-7", "-i", "5", "-o", "5", "--user", "bob").exit_code == 0
    return ledger_env


@pytest.fixture
def acme(tmp_path):
    path = tmp_path / "acme.toml"
    path.write_text(ACME)
    return str(path)


def records(run, *args):
    """The user's records as `session export` gives them (an empty cost: no known price)."""
    r = run("session", "export", "--tz", "UTC", *args)
    assert r.exit_code == 0, r.output
    rows = [{k: v or None for k, v in row.items()} for row in csv.DictReader(io.StringIO(r.stdout))]
    return sorted(rows, key=lambda x: (x["time"], x["model"]))


def reprice(run, *args):
    r = run("session", "reprice", "-f", "json", *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), r.stderr


def by_model(doc):
    return {m["model"]: m for m in doc["models"]}


def test_a_dry_run_says_what_would_change_and_changes_nothing(run, acme):
    before = records(run)
    doc, err = reprice(run, "--dry-run", "--pricing", acme)
    assert doc["dry_run"] is True and (doc["records"], doc["changed"]) == (4, 1)
    row = by_model(doc)["acme-7"]
    assert (row["before_usd"], row["after_usd"]) == (None, "0.00024")  # 100 × $2/M + 10 × $4/M
    assert (row["unpriced_before"], row["unpriced_after"]) == (0 + 1, 0)
    assert "dry run: 1 of 4 records would change; nothing was written" in err
    assert records(run) == before


def test_an_unpriced_record_gets_its_price_once_known_and_others_keep_theirs(run, acme):
    before = {(r["time"], r["model"]): r for r in records(run)}
    doc, err = reprice(run, "--pricing", acme)
    assert doc["dry_run"] is False and (doc["records"], doc["changed"], doc["total"]["kept"]) == (4, 1, 0)
    assert re.fullmatch(r"gp:[0-9a-f]{16}", doc["pricing_version"])
    assert doc["total"]["change_usd"] == "0.00024" and doc["total"]["unpriced_after"] == 0
    assert "repriced 1 of 4 records" in err
    after = records(run)
    for row in after:
        if row["model"] == "acme-7":
            assert Decimal(row["cost_usd"]) == Decimal("0.00024") and row["provider"] == "acme"
            # priced by a pricing file: its version names the file's content too
            assert re.fullmatch(r"(gp:[0-9a-f]{16}\+)?file:[0-9a-f]{8}", row["pricing_version"]), row
        else:
            assert row == before[(row["time"], row["model"])]
    # each record at its own time: July's gpt-5.6-luna before the cut, September's after it
    luna = [r for r in after if r["model"] == "gpt-5.6-luna"]
    for row in luna:
        at = CATALOG.get_at("gpt-5.6-luna", dt.datetime.fromisoformat(row["time"]))
        assert Decimal(row["cost_usd"]) == cost_of(at, Usage(input_tokens=10**6, output_tokens=10**6)).total_usd
    assert Decimal(luna[0]["cost_usd"]) > Decimal(luna[1]["cost_usd"])
    # bob's record is his own
    assert [r["cost_usd"] for r in records(run, "--user", "bob")] == [None]
    # priced again with the same data: nothing changes
    again, err = reprice(run, "--pricing", acme)
    assert again["changed"] == 0 and records(run) == after


def test_a_price_from_a_pricing_file_not_given_again_is_kept(run, acme):
    reprice(run, "--pricing", acme)
    priced = records(run)
    doc, _ = reprice(run)
    assert (doc["changed"], doc["total"]["kept"]) == (0, 1) and by_model(doc)["acme-7"]["kept"] == 1
    assert records(run) == priced
    r = run("session", "reprice")
    assert r.exit_code == 0 and "kept: 1 priced records" in " ".join((r.stdout + r.stderr).split())


def test_a_changed_price_reprices_only_the_records_in_scope(run, tmp_path):
    cheaper = tmp_path / "cheaper.toml"
    cheaper.write_text('[models."claude-sonnet-4-6"]\ninput = 1.00\n')
    before = records(run)
    doc, _ = reprice(run, "--pricing", str(cheaper), "--until", "2026-08-01", "--tz", "UTC")
    assert (doc["records"], doc["changed"]) == (2, 0)  # the July records: Sonnet's is outside the scope
    assert records(run) == before
    doc, _ = reprice(run, "--pricing", str(cheaper), "--since", "2026-08-01", "--tz", "UTC")
    assert (doc["records"], doc["changed"]) == (2, 1)  # Sonnet's and September's gpt-5.6-luna
    row = by_model(doc)["claude-sonnet-4-6"]
    assert Decimal(row["after_usd"]) < Decimal(row["before_usd"]) and Decimal(row["change_usd"]) < 0
    (sonnet,) = [r for r in records(run) if r["model"] == "claude-sonnet-4-6"]
    model = load_catalog(PRICING_DIR, [cheaper]).get_at("claude-sonnet-4-6", dt.datetime(2026, 8, 2, 8, tzinfo=dt.timezone.utc))
    usage = Usage(input_tokens=50_000, cached_input_tokens=40_000, output_tokens=2_000)
    assert Decimal(sonnet["cost_usd"]) == cost_of(model, usage).total_usd == Decimal(row["after_usd"])


def test_all_users_reprices_everyones_records(run, acme):
    doc, _ = reprice(run, "--all-users", "--pricing", acme)
    assert (doc["records"], doc["changed"]) == (5, 2)
    assert [r["cost_usd"] for r in records(run, "--user", "bob")] == ["0.00003"]  # 5 × $2/M + 5 × $4/M


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--all-users", "--user", "bob"], "--user and --all-users do not go together"),
        (["--since", "2026-09-01", "--until", "2026-08-01"], "--since is not before --until"),
        (["--run", "no-such-run"], "no-such-run"),
    ],
)
def test_bad_options_are_one_error_and_change_nothing(run, args, expected):
    before = records(run)
    r = run("session", "reprice", *args)
    assert r.exit_code == 2, r.output
    assert expected in one_error_line(r.stderr) and r.stdout == ""
    assert records(run) == before


def test_all_users_counts_a_shared_response_once_and_prices_every_copy(run, acme, tmp_path):
    # alice and bob imported the same log: two copies of each of its two responses
    from tests.ledger_files import openai_chat, write_jsonl

    log = write_jsonl(tmp_path / "shared.jsonl", [openai_chat(f"chatcmpl-{i}", model="acme-7", prompt=1_000, completion=100) for i in (1, 2)])
    for user in ("alice", "bob"):
        r = run("session", "import", str(log), "--user", user)
        assert r.exit_code == 0, r.output
    doc, err = reprice(run, "--all-users", "--pricing", acme)
    # 5 records of the fixture + 2 responses, not 4 copies; as the all-users report counts them
    assert (doc["records"], doc["changed"], doc["shared_copies"]) == (7, 4, 2)
    assert "2 other users' copies of the same responses" in err
    report = run("session", "report", "--all-users", "--by", "model", "-f", "json")
    assert report.exit_code == 0, report.output
    assert Decimal(doc["total"]["after_usd"]) == Decimal(json.loads(report.stdout)["total"]["cost_usd"])
    for user in ("alice", "bob"):  # and each user's own copies are priced
        shared = [r for r in records(run, "--user", user) if r["model"] == "acme-7" and r["input_tokens"] == "1000"]
        assert [r["cost_usd"] for r in shared] == ["0.0024", "0.0024"]  # 1,000 × $2/M + 100 × $4/M
