"""`tokopt session export`: CSV with a stable header, Parquet read back by DuckDB and pandas, FOCUS;
exported totals equal `session report`'s exactly. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import os
import subprocess
import sys
from decimal import Decimal

import duckdb
import pandas
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO
from tests.helpers import one_error_line
from tokopt.ledger import export
from tokopt.usage import TOKEN_FIELDS

RECORDS = [
    {"model": "gpt-5.5", "input": 12000, "cached": 8000, "output": 900, "reasoning": 400, "time": "2026-07-20T10:00:00Z"},
    {"model": "claude-sonnet-4-6", "input": 50000, "cached": 40000, "cache_write": 5000, "output": 2000, "time": "2026-07-20T23:30:00Z", "id": "k1"},
    {"model": "acme-7", "input": 100, "output": 10, "time": "2026-07-21T08:00:00Z"},
    {"model": "gpt-5.4-mini", "input": 3333, "output": 77, "batch": True, "time": "2026-08-02T08:00:00Z"},
]


@pytest.fixture(autouse=True)
def ledger(monkeypatch, ledger_env, run):
    monkeypatch.setenv("TOKOPT_USER", "alice")
    lines = "\n".join(json.dumps(r) for r in RECORDS)
    assert run("session", "start", "--run", "nightly", "--label", "project=acme").exit_code == 0
    r = run("session", "record", "--stdin", input=lines)
    assert r.exit_code == 0, r.output
    assert run("session", "record", "-m", "gpt-5.5", "-i", "999", "-o", "1", "--user", "bob").exit_code == 0
    return ledger_env


def report(run, *args):
    r = run("session", "report", "-f", "json", "--tz", "UTC", *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["total"]


def test_csv_has_the_stable_header_and_adds_up_to_the_report(run):
    r = run("session", "export", "--tz", "UTC")
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert tuple(rows[0]) == export.CSV_COLUMNS
    assert rows[0][:6] == ["time", "user", "run_id", "run", "provider", "model"] and rows[0][-5:] == ["source", "origin", "record_id", "pricing_version", "service_tier"]
    records = [dict(zip(rows[0], row)) for row in rows[1:]]
    total = report(run)
    assert len(records) == total["records"] == len(RECORDS) and {r["user"] for r in records} == {"alice"}
    assert sum(Decimal(r["cost_usd"]) for r in records if r["cost_usd"]) == Decimal(total["cost_usd"])
    for name in TOKEN_FIELDS:
        assert sum(int(r[name]) for r in records) == total[name]
    assert [r["cost_usd"] for r in records if r["model"] == "acme-7"] == [""]  # unknown, never 0
    assert {r["run"] for r in records} == {"nightly"} and all(len(r["record_id"]) == 32 for r in records)
    # each priced record names the price data that priced it; the unpriced one has none
    assert all(re.fullmatch(r"gp:[0-9a-f]{16}", r["pricing_version"]) for r in records if r["cost_usd"])
    assert [r["pricing_version"] for r in records if r["model"] == "acme-7"] == [""]
    assert "exported 4 records (csv)" in r.stderr and "1 records have no known price" in r.stderr


def test_since_until_and_all_users_scope_the_export_as_they_scope_the_report(run):
    scopes = [["--since", "2026-07-21"], ["--until", "2026-07-20"], ["--since", "2026-07-20", "--until", "2026-07-31"], ["--all-users"], ["--run", "nightly"]]
    for scope in scopes:
        r = run("session", "export", "--tz", "UTC", *scope)
        assert r.exit_code == 0, (scope, r.output)
        records = list(csv.DictReader(io.StringIO(r.stdout)))
        total = report(run, *scope)
        assert len(records) == total["records"], scope
        assert sum((Decimal(x["cost_usd"]) for x in records if x["cost_usd"]), Decimal(0)) == Decimal(total["cost_usd"] or 0), scope
    r = run("session", "export", "--since", "2026-08-01", "--until", "2026-07-01")
    assert r.exit_code == 2 and "--since is not before --until" in one_error_line(r.stderr)


def test_parquet_is_read_back_by_duckdb_pandas_and_pyarrow_with_exact_totals(run, tmp_path):
    out = tmp_path / "usage.parquet"
    r = run("session", "export", "-f", "parquet", "-o", str(out), "--all-users")
    assert r.exit_code == 0, r.output
    total = report(run, "--all-users")
    table = pq.read_table(out)
    assert table.schema.field("cost_usd").type.scale == export.MONEY_SCALE and str(table.schema.field("time").type) == "timestamp[us, tz=UTC]"
    db = duckdb.connect()
    count, cost, output, users = db.execute(
        f"SELECT count(*), sum(cost_usd), sum(output_tokens), count(DISTINCT \"user\") FROM read_parquet('{out}')"
    ).fetchone()
    assert (count, output, users) == (total["records"], total["output_tokens"], 2)
    assert Decimal(cost) == Decimal(total["cost_usd"])  # DuckDB's decimal sum, exact
    by_day = db.execute(f"SELECT CAST(time AS DATE) AS day, count(*) FROM read_parquet('{out}') GROUP BY 1 ORDER BY 1").fetchall()
    assert sum(n for _, n in by_day) == total["records"]
    frame = pandas.read_parquet(out)
    assert len(frame) == total["records"] and sum(c for c in frame["cost_usd"] if c is not None) == Decimal(total["cost_usd"])
    assert frame["cost_usd"].isna().sum() == 1  # the unknown model's cost is missing, not 0
    assert not list(tmp_path.glob(".usage.parquet.*"))  # no temporary file left


def test_parquet_needs_a_file_and_names_its_extra_when_pyarrow_is_missing(run, ledger):
    r = run("session", "export", "-f", "parquet")
    assert r.exit_code == 2 and "--output" in one_error_line(r.stderr)
    code = "import sys; sys.modules['pyarrow'] = None; from tokopt.cli import main; sys.argv = ['tokopt', 'session', 'export', '-f', 'parquet', '-o', 'x.parquet']; main()"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert p.returncode == 2, p.stderr
    assert one_error_line(p.stderr) == "error: --format parquet needs pyarrow, which is not installed"
    assert "hint: pip install 'tokopt[parquet]'" in p.stderr


def test_focus_has_the_columns_for_llm_usage_and_adds_up_to_the_report(run, tmp_path):
    out = tmp_path / "focus.csv"
    r = run("session", "export", "-f", "focus", "-o", str(out), "--tz", "UTC")
    assert r.exit_code == 0, r.output
    assert "1 records have no known price: left out of it" in r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    total = report(run)
    assert len(rows) == total["records"] - total["unpriced_records"]
    for column in ("BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "ServiceProviderName", "SkuId", "ResourceId", "ConsumedQuantity", "ConsumedUnit", "Tags", "BillingCurrency"):
        assert column in rows[0], column
    assert sum(Decimal(x["BilledCost"]) for x in rows) == sum(Decimal(x["EffectiveCost"]) for x in rows) == Decimal(total["cost_usd"])
    assert sum(int(x["ConsumedQuantity"]) for x in rows) == total["input_tokens"] + total["output_tokens"] - 110  # the unpriced call's tokens are out
    gpt = next(x for x in rows if x["SkuId"] == "gpt-5.5")
    assert (gpt["ServiceProviderName"], gpt["ConsumedUnit"], gpt["ChargeCategory"], gpt["BillingCurrency"]) == ("openai", "Tokens", "Usage", "USD")
    assert (gpt["ChargePeriodStart"], gpt["ChargePeriodEnd"]) == ("2026-07-20T10:00:00Z", "2026-07-20T11:00:00Z")
    tags = json.loads(gpt["Tags"])
    assert tags["user"] == "alice" and tags["run"] == "nightly" and tags["project"] == "acme"
    assert all(c.startswith("x_") or c[0].isupper() for c in rows[0])


def test_the_documented_duckdb_queries_run_on_a_real_export(run, tmp_path, monkeypatch):
    # README.md and docs/team.md show how to read an export in DuckDB: those very queries run here
    from tests.test_docs import blocks

    monkeypatch.chdir(tmp_path)
    assert run("session", "export", "-f", "parquet", "-o", "usage.parquet", "--all-users").exit_code == 0
    total = report(run, "--all-users")
    queries = [("\n".join(b.lines), b.where) for page in (REPO / "README.md", REPO / "docs" / "team.md") for b in blocks(page) if b.lang == "sql"]
    assert len(queries) == 2
    db = duckdb.connect()
    for sql, where in queries:
        rows = db.execute(sql).fetchall()
        assert rows, where
        usd = [r for r in rows[0] if isinstance(r, Decimal)]
        assert usd, where
        assert sum((r[-1] for r in rows if r[-1] is not None), Decimal(0)) == Decimal(total["cost_usd"]), where
