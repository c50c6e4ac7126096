"""`session record --stdin` of a batch: the table shows the first records and a total for all
of them (thousands of rows are slow to draw and nobody reads them); json lists every one."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tokopt.render import fmt
from tokopt.render.session import RECORDS_SHOWN


@pytest.fixture(autouse=True)
def _ledger(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKOPT_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("TOKOPT_USER", "alice")


def batch(n: int) -> str:
    return "".join(json.dumps({"model": "gpt-5.5", "input": 100 + i, "output": 7, "id": f"c{i}"}) + "\n" for i in range(n))


def table_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if "gpt-5.5" in line or line.strip().startswith("Total")]


def test_a_large_batch_shows_its_first_records_and_the_total_of_all(run):
    n = RECORDS_SHOWN + 10
    r = run("session", "record", "--stdin", input=batch(n))
    assert r.exit_code == 0, r.output
    lines = table_lines(r.stdout)
    assert len(lines) == RECORDS_SHOWN + 1
    total = lines[-1].split()
    assert total[:3] == ["Total", "of", str(n)]
    assert total[3] == f"{sum(100 + i for i in range(n)):,}" and total[5] == f"{7 * n:,}"
    assert f"{n - RECORDS_SHOWN} more records recorded and not shown here" in r.stderr
    # the total is the ledger's: every record was written, and json lists each
    doc = json.loads(run("session", "report", "-f", "json").stdout)
    assert doc["total"]["records"] == n
    assert total[6] == fmt.usd(Decimal(doc["total"]["cost_usd"]))
    listed = json.loads(run("session", "record", "--stdin", "-f", "json", input=batch(n).replace('"c', '"d')).stdout)
    assert len(listed["records"]) == n


def test_one_record_more_than_shown_is_shown_rather_than_summed(run):
    r = run("session", "record", "--stdin", input=batch(RECORDS_SHOWN + 1))
    assert r.exit_code == 0, r.output
    lines = table_lines(r.stdout)
    assert len(lines) == RECORDS_SHOWN + 1 and not lines[-1].strip().startswith("Total")
    assert "not shown" not in r.stderr
