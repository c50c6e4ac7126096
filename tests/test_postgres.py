"""The private PostgreSQL test server (tests/pg.py): what every PostgreSQL test stands on."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO
from tests.pg import PgDatabase, PgServer


def tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
    return [name for (name,) in rows]


def test_a_fresh_database_takes_transactions(pg_database: PgDatabase):
    with pg_database.connect() as conn:
        assert tables(conn) == []
        user, superuser = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert (user, superuser) == (pg_database.user, False)
        with conn.transaction():
            conn.execute("CREATE TABLE usage (id integer PRIMARY KEY, cost numeric NOT NULL)")
            conn.execute("INSERT INTO usage VALUES (1, 0.000125), (2, 1.5)")
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            conn.execute("INSERT INTO usage VALUES (3, 7)")
            conn.execute("INSERT INTO usage VALUES (1, 9)")  # the whole transaction is undone
    with psycopg.connect(pg_database.url) as other:  # the URL, password percent-encoded, works as is
        rows = other.execute("SELECT id, cost::text FROM usage ORDER BY id").fetchall()
    assert rows == [(1, "0.000125"), (2, "1.5")]


def test_databases_are_independent(make_pg_database):
    first, second = make_pg_database(), make_pg_database()
    assert first.name != second.name and first.url != second.url
    with first.connect() as a, second.connect() as b:
        a.execute("CREATE TABLE only_here (x int)")
        a.commit()
        assert tables(a) == ["only_here"]
        assert tables(b) == []


def test_a_wrong_password_is_refused(pg_database: PgDatabase):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_database.url_with_password("not-the-password"))


def test_an_unreachable_port_is_refused(pg_unreachable_url: str):
    with pytest.raises(psycopg.OperationalError, match="Connection refused"):
        psycopg.connect(pg_unreachable_url, connect_timeout=5)


def run_pytest(tmp_path: Path, test_source: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ("tests.pg",)\n', encoding="utf-8")
    (tmp_path / "test_it.py").write_text(textwrap.dedent(test_source), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:hypothesispytest", "test_it.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )  # fmt: skip


def test_a_server_that_cannot_start_fails_the_tests_and_skips_none(tmp_path: Path):
    r = run_pytest(tmp_path, "def test_needs_postgres(pg_url):\n    pass\n", env={"TOKOPT_TEST_PG_BINDIR": str(tmp_path / "no-such-bin")})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 error" in r.stdout and "skipped" not in r.stdout, r.stdout
    assert "PostgreSQL test server unavailable: PostgreSQL's initdb and postgres not found" in r.stdout
    assert ".ci/ensure-postgresql" in r.stdout


def test_a_server_stops_and_leaves_nothing_behind():
    server = PgServer(label="-stop-test")
    try:
        server.start()
        with psycopg.connect(server.create_database().url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()
    assert not server.dir.exists()
    with pytest.raises(psycopg.OperationalError, match="Connection refused"):
        psycopg.connect(host="127.0.0.1", port=server.port, connect_timeout=5)
