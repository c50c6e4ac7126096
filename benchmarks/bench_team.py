"""Team ledger benchmark (issue 16): PostgreSQL, push, export. Ratios from one run, against
baselines timed in the same run on the same data; the data is generated here.

    pip install -e '.[postgres,parquet]' && python benchmarks/bench_team.py [--quick]

It starts its own private PostgreSQL server (tests/pg.py's, in a temporary directory, on a
loopback port; Debian's postgresql package or TOKOPT_TEST_PG_BINDIR) and stops it at the end.

1. `session push` of 1,000,000 records from an SQLite ledger into an empty PostgreSQL ledger:
   records per second, and the time as a ratio against the least any such copy pays: reading
   the same rows out of SQLite and COPYing them into a table of the same columns, no index.
2. `session report --by day` over 10,000,000 records in PostgreSQL (made server-side with
   generate_series, 1% of them unpriced), against a raw `SELECT date_trunc('day', time), ...
   GROUP BY 1` with the same sums on the same table and its indexes. Target: within 1.5x.
3. `session export --format parquet` of 1,000,000 records (the ledger of 1.), records per
   second, as a ratio against `COPY (SELECT the same columns) TO STDOUT`: reading them out.

Each timing is the median of interleaved runs (the first of each thrown away as a warm-up).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "team"
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent))

from tests.pg import PgServer  # noqa: E402
from tokopt.ledger import Ledger  # noqa: E402
from tokopt.ledger import export as exporting  # noqa: E402
from tokopt.ledger.sqlite import SqliteStore  # noqa: E402
from tokopt.ledger.store import Filters, open_store  # noqa: E402
from tokopt.ledger.sync import merge_locations  # noqa: E402
from tokopt.usage import TOKEN_FIELDS, UsageRecord  # noqa: E402

USER = "bench"
MODELS = [("anthropic", "claude-sonnet-4-6"), ("anthropic", "claude-opus-4-8"), ("openai", "gpt-5.5"), ("openai", "gpt-5.4-mini"), ("google", "gemini-2.5-flash")]


def median_of(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def local_ledger(n: int) -> Path:
    """An SQLite ledger of `n` priced records of one user over a year (kept in benchmarks/.work)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"local-{n}.sqlite3"
    if path.exists():
        return path
    rnd = random.Random(16)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    store = SqliteStore.open(path.with_suffix(".part"))
    batch: list[UsageRecord] = []
    for i in range(n):
        provider, model = MODELS[i % len(MODELS)]
        inp = rnd.randint(100, 200_000)
        cached = rnd.randint(0, inp // 2)
        out = rnd.randint(1, 8000)
        batch.append(
            UsageRecord(
                model=model, provider=provider, user=USER, time=start + dt.timedelta(seconds=i * 31),
                input_tokens=inp, cached_input_tokens=cached, output_tokens=out,
                cost_usd=(Decimal(inp) * 3 + Decimal(out) * 15).scaleb(-6), pricing_as_of=dt.date(2026, 11, 10),
                source="import:claude-code", dedupe_key=f"msg_{i:09d}", origin="bench-laptop",
            )
        )  # fmt: skip
        if len(batch) == 50_000:
            with store.write():
                store.upsert_usage(batch)
            batch = []
    if batch:
        with store.write():
            store.upsert_usage(batch)
    store.close()
    path.with_suffix(".part").rename(path)
    return path


# -- 1. push --------------------------------------------------------------------------------------


def bench_push(server: PgServer, source: Path, n: int) -> str:
    import psycopg

    target = server.create_database()
    start = time.perf_counter()
    result, _ = merge_locations(str(source), target.url, user=USER)
    push_s = time.perf_counter() - start
    assert result.records == result.added == n, result
    # baseline: the same rows out of SQLite, COPYed into a table of the same columns (no index)
    columns = ["time", "user", "run_id", "provider", "model", *TOKEN_FIELDS, "cost_usd", "pricing_as_of", "batch", "estimated", "source", "dedupe_key", "uid", "origin"]
    raw = server.create_database()
    with psycopg.connect(raw.url, autocommit=True) as conn:
        conn.execute(
            'CREATE TABLE usage (time timestamptz, "user" text, run_id text, provider text, model text, '
            + ", ".join(f"{c} bigint" for c in TOKEN_FIELDS)
            + ", cost_usd numeric, pricing_as_of date, batch boolean, estimated boolean, source text, dedupe_key text, uid text, origin text)"
        )
        import sqlite3

        start = time.perf_counter()
        db = sqlite3.connect(source)
        quoted = ", ".join('"user"' if c == "user" else c for c in columns)
        with conn.cursor() as cur, cur.copy(f"COPY usage ({quoted}) FROM STDIN") as copy:
            for row in db.execute(f"SELECT {', '.join(columns)} FROM usage ORDER BY seq"):
                copy.write_row(row)
        db.close()
        copy_s = time.perf_counter() - start
    server.drop_database(raw)
    bench_push.target = target  # type: ignore[attr-defined]
    return (
        f"1. push of {n:,} records, SQLite -> PostgreSQL: {push_s:.1f} s = {n / push_s:,.0f} records/s "
        f"({result.batches} batches, each one transaction with its position); "
        f"raw read + COPY of the same rows: {copy_s:.1f} s = {n / copy_s:,.0f} rows/s; ratio {push_s / copy_s:.2f}x"
    )


# -- 2. report over 10M ---------------------------------------------------------------------------


def fill_server_side(url: str, n: int) -> None:
    """`n` records of USER over a year, made by PostgreSQL itself (generate_series), 1% unpriced;
    the ledger's own indexes are dropped for the load and made again after, then ANALYZE."""
    import psycopg

    store = open_store(url)  # the ledger's schema, migrations and indexes
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        indexes = [d for (d,) in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'usage' AND indexname <> 'usage_pkey'")]
        for (name,) in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'usage' AND indexname <> 'usage_pkey'").fetchall():
            conn.execute(f"DROP INDEX {name}")
        models = "ARRAY[" + ", ".join(f"'{m}'" for _, m in MODELS) + "]"
        providers = "ARRAY[" + ", ".join(f"'{p}'" for p, _ in MODELS) + "]"
        conn.execute(
            f"""INSERT INTO usage (time, "user", provider, model, input_tokens, cached_input_tokens, output_tokens,
                    cost_usd, pricing_as_of, source, dedupe_key, uid, origin)
                SELECT timestamptz '2026-01-01 00:00:00+00' + i * interval '3 seconds', '{USER}',
                       ({providers})[1 + i % 5], CASE WHEN i % 100 = 0 THEN 'acme-internal-7' ELSE ({models})[1 + i % 5] END,
                       100 + (i * 7919) % 200000, (i * 7919) % 50000, 1 + (i * 104729) % 8000,
                       CASE WHEN i % 100 = 0 THEN NULL ELSE ((100 + (i * 7919) % 200000) * 3 + (1 + (i * 104729) % 8000) * 15) / 1000000.0 END,
                       date '2026-11-10', 'import:claude-code', 'msg_' || i, md5(i::text), 'bench'
                FROM generate_series(1::bigint, {n}) AS i"""
        )
        for ddl in indexes:
            conn.execute(ddl)
        conn.execute("VACUUM ANALYZE usage")


def bench_report(server: PgServer, n: int, runs: int) -> str:
    import psycopg

    db = server.create_database()
    start = time.perf_counter()
    fill_server_side(db.url, n)
    fill_s = time.perf_counter() - start
    tokens = ", ".join(f"sum({c})" for c in TOKEN_FIELDS)
    raw_sql = (
        f"SELECT date_trunc('day', time), count(*), {tokens}, count(cost_usd), sum(cost_usd) "
        'FROM usage WHERE "user" = %s GROUP BY 1'
    )
    conn = psycopg.connect(db.url, autocommit=True)
    conn.execute("SET TIME ZONE 'UTC'")
    reports: list[object] = []

    def report() -> None:
        with Ledger(db.url, user=USER) as book:
            reports.append(book.report(by="day", timezone="UTC"))

    def raw() -> None:
        conn.execute(raw_sql, (USER,)).fetchall()

    timings: dict[str, list[float]] = {"report": [], "raw": []}
    for i in range(runs + 1):  # interleaved; the first round warms the caches
        for name, fn in (("raw", raw), ("report", report)):
            t = time.perf_counter()
            fn()
            if i:
                timings[name].append(time.perf_counter() - t)
    conn.close()
    got = reports[-1]
    assert got.total.records == n, got.total.records  # type: ignore[attr-defined]
    report_s, raw_s = statistics.median(timings["report"]), statistics.median(timings["raw"])
    verdict = "within" if report_s / raw_s <= 1.5 else "OVER"
    server.drop_database(db)
    return (
        f"2. session report --by day over {n:,} PostgreSQL records ({len(got.rows)} days; made in {fill_s:.0f} s): "  # type: ignore[attr-defined]
        f"{report_s:.2f} s; raw GROUP BY with the same sums: {raw_s:.2f} s; ratio {report_s / raw_s:.2f}x ({verdict} the 1.5x target)"
    )


# -- 3. export ------------------------------------------------------------------------------------


def bench_export(server: PgServer, n: int, runs: int) -> str:
    import psycopg

    target = bench_push.target  # type: ignore[attr-defined]
    out = Path(tempfile.mkdtemp(prefix="tokopt-bench-")) / "usage.parquet"
    store = open_store(target.url)
    summaries = []

    def export() -> None:
        summaries.append(exporting.export(store, "parquet", Filters(user=USER), out, io.StringIO()))

    conn = psycopg.connect(target.url, autocommit=True)
    columns = ', '.join(["time", '"user"', "run_id", "provider", "model", *TOKEN_FIELDS, "cost_usd", "pricing_as_of", "batch", "estimated", "source", "origin", "uid"])

    def raw() -> None:
        with conn.cursor() as cur, cur.copy(f"COPY (SELECT {columns} FROM usage WHERE \"user\" = '{USER}' ORDER BY time, id) TO STDOUT") as copy:
            for _ in copy:
                pass

    timings: dict[str, list[float]] = {"export": [], "raw": []}
    for i in range(runs + 1):
        for name, fn in (("raw", raw), ("export", export)):
            t = time.perf_counter()
            fn()
            if i:
                timings[name].append(time.perf_counter() - t)
    conn.close()
    store.close()
    assert summaries[-1].records == n
    export_s, raw_s = statistics.median(timings["export"]), statistics.median(timings["raw"])
    size = out.stat().st_size
    out.unlink()
    return (
        f"3. export of {n:,} records to Parquet: {export_s:.1f} s = {n / export_s:,.0f} records/s ({size / 1e6:.0f} MB, zstd); "
        f"COPY of the same rows out: {raw_s:.1f} s; ratio {export_s / raw_s:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 pushed and exported records, 200,000 in the report (a smoke test)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the report and the export (after one warm-up)")
    parser.add_argument("--parts", default="push,export,report", help="which of push, export, report to run (export needs push)")
    args = parser.parse_args()
    pushed, reported = (20_000, 200_000) if args.quick else (1_000_000, 10_000_000)
    runs = 2 if args.quick else args.runs
    source = local_ledger(pushed)
    server = PgServer(label="-bench")
    server.start()
    try:
        parts = set(args.parts.split(","))
        if parts & {"push", "export"}:
            print(bench_push(server, source, pushed), flush=True)
        if "export" in parts:
            print(bench_export(server, pushed, max(1, runs // 2)), flush=True)
        if "report" in parts:
            print(bench_report(server, reported, runs), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
