"""Ledger benchmark (issue 4). Prints rates and ratios from one run; the data is generated here.

    pip install -e . && python benchmarks/bench_ledger.py [--quick]

1. Import of a 200,000-line Claude Code transcript (responses written as several lines,
   streaming partials, user turns and tool results), into a fresh ledger: lines and records
   per second, and the time as a ratio against `json.loads` of every line of the same file
   (the least any importer of JSON lines pays).
2. `session report --by day` over a ledger of 1,000,000 priced records, against a plain
   `SELECT day, count(*), sum(...) ... GROUP BY day` on the same SQLite file. Target: within
   2x. Measured in-process (the report's work: open, check, query, exact Decimal totals,
   result models), and as the whole command in a new process for reference.

Each timing is the median of interleaved runs; only the ratios are meant to be compared
between machines. The 1M-record ledger is built once and kept in benchmarks/.work/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "ledger"
sys.path.insert(0, str(HERE.parent / "src"))

from tokopt import paths  # noqa: E402
from tokopt.ledger import Ledger, Pricer  # noqa: E402
from tokopt.pricing import load_catalog  # noqa: E402
from tokopt.ledger.sqlite import SqliteStore  # noqa: E402
from tokopt.ledger.store import Run  # noqa: E402
from tokopt.usage import UsageRecord  # noqa: E402

USER = "bench"
MODELS = ["claude-sonnet-4-6", "claude-opus-4-8", "claude-haiku-4-5", "gpt-5.5", "gpt-5.4-mini", "gemini-2.5-flash", "acme-internal-7"]


# -- 1. import ----------------------------------------------------------------------------------


def transcript(path: Path, lines: int) -> tuple[Path, int]:
    """A Claude Code transcript of exactly `lines` lines; returns it and its number of responses."""
    marker = path.with_suffix(".responses")
    if path.exists() and marker.exists():
        return path, int(marker.read_text())
    rnd = random.Random(2026)
    session = "7f3c2a90-1d2e-4b7a-9c4e-2b1f0a9d8e71"
    start = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    written = responses = 0
    answered: set[str] = set()  # responses with at least one line in the file
    with path.open("w", encoding="utf-8") as f:

        def put(obj: dict) -> None:
            nonlocal written
            if written < lines:
                f.write(json.dumps(obj, separators=(",", ":")) + "\n")
                written += 1
                if obj["type"] == "assistant":
                    answered.add(obj["message"]["id"])

        while written < lines:
            when = (start + dt.timedelta(seconds=responses * 37)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            tool_output = "".join(rnd.choice("abcdefghij \n") for _ in range(rnd.choice([40, 200, 1500])))
            put(
                {
                    "parentUuid": f"p-{responses}",
                    "isSidechain": False,
                    "userType": "external",
                    "cwd": "/home/dev/project",
                    "sessionId": session,
                    "version": "2.0.14",
                    "gitBranch": "main",
                    "type": "user",
                    "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{responses}", "content": tool_output}]},
                    "uuid": f"u-{responses}",
                    "timestamp": when,
                }
            )
            inp, write, read, out = rnd.randint(1, 40), rnd.randint(0, 4000), rnd.randint(0, 120_000), rnd.randint(5, 3000)
            parts = rnd.choice([1, 2, 2, 3, 4])
            for part in range(parts):
                shown = out if part == parts - 1 else rnd.randint(1, out)  # a streaming partial, then the final counts
                put(
                    {
                        "parentUuid": f"u-{responses}",
                        "isSidechain": False,
                        "userType": "external",
                        "cwd": "/home/dev/project",
                        "sessionId": session,
                        "version": "2.0.14",
                        "gitBranch": "main",
                        "message": {
                            "id": f"msg_{responses:08d}",
                            "type": "message",
                            "role": "assistant",
                            "model": rnd.choice(["claude-sonnet-4-5-20250929", "claude-opus-4-7-20260416", "claude-haiku-4-5-20251001"]),
                            "content": [{"type": "text", "text": "Looking at it now. " * rnd.randint(1, 12)}],
                            "stop_reason": None,
                            "stop_sequence": None,
                            "usage": {
                                "input_tokens": inp,
                                "cache_creation_input_tokens": write,
                                "cache_read_input_tokens": read,
                                "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
                                "output_tokens": shown,
                                "service_tier": "standard",
                            },
                        },
                        "requestId": f"req_{responses:08d}",
                        "type": "assistant",
                        "uuid": f"a-{responses}-{part}",
                        "timestamp": when,
                    }
                )
            responses += 1
    marker.write_text(str(len(answered)))
    return path, len(answered)


def bench_import(log: Path, runs: int, catalog) -> tuple[float, float, int, int]:
    ours, floor = [], []
    records = lines = 0
    for n in range(runs):
        db = WORK / f"import-{n}.sqlite3"
        for old in WORK.glob(f"import-{n}.sqlite3*"):
            old.unlink()
        start = time.perf_counter()
        with Ledger(db, user=USER, catalog=catalog) as book:
            summary = book.import_paths([str(log)])
        ours.append(time.perf_counter() - start)
        records, lines = summary.added, summary.files[0].lines
        start = time.perf_counter()
        with log.open("rb") as f:
            for line in f:
                json.loads(line)
        floor.append(time.perf_counter() - start)
        for old in WORK.glob(f"import-{n}.sqlite3*"):
            old.unlink()
    return statistics.median(ours), statistics.median(floor), records, lines


# -- 2. report --------------------------------------------------------------------------------


def big_ledger(path: Path, n: int, catalog) -> Path:
    marker = path.with_suffix(".done")
    if path.exists() and marker.exists() and marker.read_text() == str(n):
        return path
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    rnd = random.Random(4)
    pricer = Pricer(catalog)
    store = SqliteStore.open(path)
    start = dt.datetime(2025, 7, 1, tzinfo=dt.timezone.utc)
    span = 365 * 86400
    run_ids = [f"{i:08x}" for i in range(200)]
    with store.write():
        for i, run_id in enumerate(run_ids):
            store.insert_run(Run(id=run_id, user=USER, name=f"run-{i}", labels={}, started_at=start))
    batch = []
    for i in range(n):
        model = MODELS[rnd.randrange(len(MODELS))]
        inp = rnd.randint(100, 200_000)
        cached = rnd.randint(0, inp // 2)
        out = rnd.randint(10, 8000)
        batch.append(
            pricer.price(
                UsageRecord(
                    time=start + dt.timedelta(seconds=i * span / n),
                    user=USER,
                    run_id=run_ids[i % len(run_ids)],
                    model=model,
                    input_tokens=inp,
                    cached_input_tokens=cached,
                    output_tokens=out,
                    reasoning_tokens=out // 3,
                    source="import:claude-code",
                    dedupe_key=f"k{i}",
                )
            )
        )
        if len(batch) == 50_000:
            with store.write():
                store.upsert_usage(batch)
            batch.clear()
            print(f"   … {i + 1:,} records", file=sys.stderr, end="\r")
    if batch:
        with store.write():
            store.upsert_usage(batch)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.execute("ANALYZE")
    store.close()
    marker.write_text(str(n))
    print(" " * 40, file=sys.stderr, end="\r")
    return path


PLAIN_QUERY = (
    "SELECT substr(time, 1, 10) AS day, count(*), sum(input_tokens), sum(cached_input_tokens), "
    "sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(output_tokens), sum(reasoning_tokens), "
    "sum(cost_picousd) FROM usage GROUP BY day"
)


def plain_group_by(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    db = sqlite3.connect(path)
    rows = db.execute(PLAIN_QUERY).fetchall()
    db.close()
    return time.perf_counter() - start, len(rows)


def core_report(path: Path, tz: str) -> tuple[float, int]:
    start = time.perf_counter()
    with Ledger(path, user=USER) as book:
        report = book.report(by="day", timezone=tz)
    return time.perf_counter() - start, len(report.rows)


def command(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tokopt", *args], env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs, 20,000 lines and 100,000 records (a smoke test)")
    args = parser.parse_args()
    runs = 3 if args.quick else 5
    n_lines = 20_000 if args.quick else 200_000
    n_records = 100_000 if args.quick else 1_000_000
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(paths.ENV_PRICING_DIR, str(HERE.parent / "pricing"))
    catalog = load_catalog(paths.bundled_pricing_dir())
    print(f"tokopt ledger benchmark — Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")

    log, responses = transcript(WORK / f"claude-code-{n_lines}.jsonl", n_lines)
    ours, floor, records, lines = bench_import(log, runs, catalog)
    assert records == responses, (records, responses)
    print(f"\n1. import {lines:,} Claude Code lines ({log.stat().st_size / 2**20:.0f} MB, {records:,} responses) into a new ledger: {ours:.2f}s")
    print(f"   {lines / ours:,.0f} lines/s, {records / ours:,.0f} records/s; json.loads of every line alone: {floor:.2f}s")
    print(f"   ratio import/json.loads = {ours / floor:.2f}x")

    db = big_ledger(WORK / f"ledger-{n_records}.sqlite3", n_records, catalog)
    plain, core_utc, core_zone = [], [], []
    for _ in range(runs):
        t, n_plain = plain_group_by(db)
        plain.append(t)
        t, n_utc = core_report(db, "UTC")
        core_utc.append(t)
        t, _ = core_report(db, "Europe/Berlin")
        core_zone.append(t)
    assert n_plain == n_utc, (n_plain, n_utc)
    base = statistics.median(plain)
    ratio = statistics.median(core_utc) / base
    print(f"\n2. report --by day over {n_records:,} records ({db.stat().st_size / 2**20:.0f} MB): plain SELECT ... GROUP BY {base:.3f}s")
    print(f"   report (UTC days) {statistics.median(core_utc):.3f}s, ratio = {ratio:.2f}x (target <= 2.00x) {'PASS' if ratio <= 2.0 else 'MISS'}")
    print(f"   report (Europe/Berlin days: per UTC hour, then each hour to its local day) {statistics.median(core_zone):.3f}s, ratio = {statistics.median(core_zone) / base:.2f}x")

    env = {**os.environ, paths.ENV_LEDGER: str(db), paths.ENV_USER: USER}
    whole = statistics.median(command(["session", "report", "--by", "day", "--timezone", "UTC", "-f", "json"], env) for _ in range(runs))
    startup = statistics.median(command(["--version"], env) for _ in range(runs))
    print(
        f"   whole command `tokopt session report --by day -f json`: {whole:.3f}s, of which Python start-up "
        f"and `tokopt --version` {startup:.3f}s; ratio to the plain query = {whole / base:.2f}x"
    )


if __name__ == "__main__":
    main()
