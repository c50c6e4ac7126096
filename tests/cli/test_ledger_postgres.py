"""A PostgreSQL ledger as users meet it when something is wrong: a wrong password, an unreachable
server, a database of another application, a newer schema, psycopg not installed, an import
killed while it writes; and no password in any output. (What works is tested on both backends
by the ledger's own tests.)"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from urllib.parse import quote

import psycopg
import pytest

from tests.conftest import REPO
from tests.helpers import one_error_line
from tokopt.ledger import pgschema, store
from tokopt.ledger.postgres import PostgresStore

COMMANDS = [
    ["session", "record", "-m", "gpt-5.5", "-i", "1000", "-o", "10"],
    ["session", "report"],
    ["session", "list"],
    ["session", "start", "--run", "x"],
]


@pytest.fixture(autouse=True)
def alice(monkeypatch):
    monkeypatch.setenv("TOKOPT_USER", "alice")


def secrets_of(db) -> list[str]:
    return [db.password, quote(db.password, safe="")]


def assert_no_secret(result, secrets):
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr, (secret, result.output)


def test_the_postgres_store_has_every_operation_of_the_protocol():
    wanted = {name for name, value in vars(store.Store).items() if not name.startswith("_") and (callable(value) or isinstance(value, property))}
    for name in wanted:
        assert hasattr(PostgresStore, name), name
        mine, theirs = getattr(PostgresStore, name), getattr(store.Store, name)
        if callable(theirs) and not isinstance(theirs, property):
            assert list(inspect.signature(mine).parameters) == list(inspect.signature(theirs).parameters), name


def test_a_wrong_password_is_one_error_line_and_shows_no_password(run, pg_database):
    url = pg_database.url_with_password("hunter2-wrong")
    for args in COMMANDS:
        r = run(*args, "--ledger", url)
        assert r.exit_code == 2, r.output
        line = one_error_line(r.stderr)
        assert "refused the login" in line and "password authentication failed" in line
        assert f"postgresql://{pg_database.user}:***@{pg_database.host}:{pg_database.port}/{pg_database.name}" in line
        assert_no_secret(r, ["hunter2-wrong", *secrets_of(pg_database)])


def test_an_unreachable_server_is_one_error_line(run, pg_unreachable_url, monkeypatch):
    monkeypatch.setenv("TOKOPT_LEDGER", pg_unreachable_url)
    for args in COMMANDS:
        r = run(*args)
        assert r.exit_code == 2, r.output
        line = one_error_line(r.stderr)
        assert line.startswith("error: cannot connect to ledger postgresql://tokopt_test:***@127.0.0.1:") and "refused" in line
        assert "secret" not in r.stderr


def test_a_database_of_another_application_is_refused_and_left_untouched(run, pg_database):
    with pg_database.connect() as conn:
        conn.execute("CREATE TABLE invoices (id int PRIMARY KEY, total numeric)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.99)")
    for args in COMMANDS:
        r = run(*args, "--ledger", pg_database.url)
        assert r.exit_code == 2, r.output
        assert "is not a tokopt ledger" in one_error_line(r.stderr) and "left untouched" in r.stderr
        assert_no_secret(r, secrets_of(pg_database))
    with pg_database.connect() as conn:
        tables = [t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        assert tables == ["invoices"] and conn.execute("SELECT total::text FROM invoices").fetchall() == [("9.99",)]


def test_a_ledger_from_a_newer_tokopt_is_refused(run, pg_database):
    assert run("session", "record", "-m", "gpt-5.5", "-i", "1", "--ledger", pg_database.url).exit_code == 0
    with pg_database.connect() as conn:
        conn.execute("INSERT INTO tokopt_migrations VALUES (%s, 'm999_future', now())", (pgschema.SCHEMA_VERSION + 1,))
    r = run("session", "report", "--ledger", pg_database.url)
    assert r.exit_code == 2 and "this tokopt knows up to" in one_error_line(r.stderr) and "pip install -U tokopt" in r.stderr


def test_a_new_database_gets_the_schema_once_with_its_version(run, pg_database):
    assert run("session", "record", "-m", "gpt-5.5", "-i", "1", "--ledger", pg_database.url).exit_code == 0
    assert run("session", "record", "-m", "gpt-5.5", "-i", "2", "--ledger", pg_database.url).exit_code == 0
    with pg_database.connect() as conn:
        versions = conn.execute("SELECT version, name FROM tokopt_migrations ORDER BY version").fetchall()
        assert [v for v, _ in versions] == list(range(1, pgschema.SCHEMA_VERSION + 1))
        (columns,) = conn.execute("SELECT array_agg(column_name::text) FROM information_schema.columns WHERE table_name = 'usage'").fetchone()
        assert {"uid", "origin", "seq", "cost_usd", "reasoning_tokens"} <= set(columns)
        assert conn.execute("SELECT pg_typeof(cost_usd)::text, count(*) FROM usage GROUP BY 1").fetchall() == [("numeric", 2)]


def test_every_output_of_a_session_is_free_of_the_password(run, pg_database, tmp_path):
    url = pg_database.url
    outputs = [
        run("session", "start", "--run", "nightly", "--ledger", url),
        run("session", "record", "-m", "gpt-5.5", "-i", "1000", "-o", "10", "--ledger", url, "-f", "json"),
        run("session", "list", "--ledger", url, "-f", "json"),
        run("session", "report", "--by", "day", "--ledger", url, "-f", "csv"),
        run("session", "end", "--ledger", url),
        run("session", "delete", "nightly", "--yes", "--ledger", url),
        run("session", "report", "--ledger", url.replace(f":{pg_database.port}/", ":notaport/")),  # a bad URL
    ]
    assert [r.exit_code for r in outputs] == [0, 0, 0, 0, 0, 0, 2]
    assert "not a PostgreSQL URL" in one_error_line(outputs[-1].stderr) or "cannot connect" in outputs[-1].stderr
    for r in outputs:
        assert_no_secret(r, secrets_of(pg_database))


def test_without_psycopg_the_error_names_the_extra(pg_url, tmp_path):
    code = "import sys; sys.modules['psycopg'] = None; from tokopt.cli import main; sys.argv = ['tokopt', 'session', 'report']; main()"
    env = {**os.environ, "TOKOPT_LEDGER": pg_url, "TOKOPT_USER": "alice", "PYTHONPATH": str(REPO / "src")}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert r.returncode == 2, r.stderr
    assert one_error_line(r.stderr) == "error: a postgresql:// ledger needs psycopg 3, which is not installed"
    assert "hint: pip install 'tokopt[postgres]'" in r.stderr


def test_psycopg_is_imported_only_for_a_postgresql_ledger(tmp_path):
    code = (
        "import sys; from tokopt.ledger import Ledger; "
        f"Ledger({str(tmp_path / 'l.sqlite3')!r}, user='a').report(); print('psycopg' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr


@pytest.mark.parametrize(
    "location, shown",
    [
        ("postgresql://bob:s3cret@db.example:5432/tokopt", "postgresql://bob:***@db.example:5432/tokopt"),
        ("postgresql://bob@db/tokopt?sslmode=require", "postgresql://bob@db/tokopt?sslmode=require"),
        ("postgresql://db/tokopt?user=bob&password=s3cret", "postgresql://db/tokopt?user=bob&password=***"),
        ("postgresql://bob:p%40ss@db/tokopt", "postgresql://bob:***@db/tokopt"),
        ("postgresql://bob:p@ss@db/tokopt", "postgresql://bob:***@db/tokopt"),
        ("/home/bob/ledger.sqlite3", "/home/bob/ledger.sqlite3"),
    ],
)
def test_redact(location, shown):
    assert store.redact(location) == shown
    assert "s3cret" not in pgschema.scrub(f"could not connect to {location}", location)


def test_the_json_of_a_report_on_postgres_matches_sqlite(run, pg_url, tmp_path):
    records = "\n".join(
        json.dumps(r)
        for r in [
            {"model": "gpt-5.5", "input": 12000, "cached": 8000, "output": 900, "reasoning": 400, "time": "2026-07-20T10:00:00Z"},
            {"model": "claude-sonnet-4-6", "input": 50000, "cached": 40000, "cache_write": 5000, "output": 2000, "time": "2026-07-20T23:30:00Z"},
            {"model": "acme-7", "input": 100, "output": 10, "time": "2026-07-21T08:00:00Z"},
        ]
    )
    file = str(tmp_path / "l.sqlite3")
    for location in (file, pg_url):
        assert run("session", "record", "--stdin", "--ledger", location, input=records).exit_code == 0
    for by in ("model", "day", "user", "provider", "run"):
        for fmt in ("json", "csv", "table", "markdown"):
            args = ["session", "report", "--by", by, "--tz", "Asia/Kolkata", "-f", fmt]
            a, b = run(*args, "--ledger", file), run(*args, "--ledger", pg_url)
            assert a.exit_code == b.exit_code == 0
            assert a.stdout == b.stdout, (by, fmt)


def test_an_import_killed_while_writing_leaves_the_postgres_ledger_as_it_was(pg_url, tmp_path):
    import signal
    import time

    from tests.conftest import PRICING_DIR
    from tests.ledger_files import claude_code_big, openai_chat, stop, write_jsonl
    from tokopt.ledger import Ledger, postgres
    from tokopt.pricing import load_catalog

    catalog = load_catalog(PRICING_DIR)

    def totals():
        with Ledger(pg_url, user="alice", catalog=catalog) as book:
            report = book.report(by="model")
        return report.total, sorted((tuple(v or "" for v in r.key.values()), r.sums.records, r.sums.cost_usd) for r in report.rows)

    small = write_jsonl(tmp_path / "earlier.jsonl", [openai_chat("c-earlier", prompt=500, completion=20)])
    # 5,000 records (over postgres.COPY_FROM: the COPY path) keep the import's transaction open
    # for ~0.1 s, polled every 2 ms (20,000 took 3.5 s for nothing more)
    big, expected = claude_code_big(tmp_path / "big.jsonl", 5_000, lines_per_response=2)
    assert expected["records"] > postgres.COPY_FROM
    with Ledger(pg_url, user="alice", catalog=catalog) as book:
        book.import_paths([str(small)])
    before = totals()
    env = {**os.environ, "TOKOPT_LEDGER": pg_url, "TOKOPT_USER": "alice", "PYTHONPATH": str(REPO / "src")}
    code = "import sys; from tokopt.cli import main; sys.argv = ['tokopt', 'session', 'import', sys.argv[1]]; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, str(big)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # (has its transaction written?, is its server waiting to read from or write to the import?)
    query = "SELECT backend_xid IS NOT NULL, wait_event IN ('ClientRead', 'ClientWrite') FROM pg_stat_activity WHERE application_name = 'tokopt'"
    writing = False
    with psycopg.connect(pg_url, autocommit=True) as watch:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            # the import's transaction has written something (it has a transaction id) and not committed
            if any(xid for xid, _ in watch.execute(query).fetchall()):
                # stopped, the import sends nothing more; once its server waits on it, the
                # transaction is either still open (and cannot commit) or committed already
                stop(proc)
                rows = watch.execute(query).fetchall()
                while not any(waits for _, waits in rows) and proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.001)
                    rows = watch.execute(query).fetchall()
                writing = any(xid and waits for xid, waits in rows)
                break
            time.sleep(0.002)
    if not writing:
        proc.send_signal(signal.SIGCONT)
    assert writing and proc.poll() is None, "the import committed before it could be killed: " + proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert totals() == before
    rerun = subprocess.run([sys.executable, "-c", code, str(big)], env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    total, _ = totals()
    assert total.records == expected["records"] + 1 and total.output_tokens == expected["output"] + 20
