"""`tokopt session report --by day` says which zone its days are in."""

from __future__ import annotations


def test_a_report_by_day_in_local_time_names_the_zone(run, monkeypatch, tmp_path):
    monkeypatch.setenv("TZ", "Europe/Lisbon")
    monkeypatch.setenv("TOKOPT_LEDGER", str(tmp_path / "l.sqlite3"))
    assert run("session", "record", "-m", "gpt-5.5", "-i", "10", "-o", "1").exit_code == 0
    r = run("session", "report", "--by", "day")
    assert r.exit_code == 0, r.output
    # a table's notes go to stderr when stdout is not a terminal (as in this test)
    assert "days in local (Europe/Lisbon)" in r.stderr
