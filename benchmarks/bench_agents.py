"""Coding-agent benchmark (issue 14). Prints times and ratios from one run; the data is generated here.

    pip install -e . && python benchmarks/bench_agents.py [--quick]

1. Import of a 200,000-line corpus of Claude Code and Codex logs (many sessions over many
   projects, found the way `tokopt session import` with no paths finds them) into a fresh
   ledger. Target: at least 50,000 lines/s. The time of `json.loads` of every line of the same
   files is shown beside it (the least any importer of JSON lines pays).
2. Importing the same, unchanged corpus again. Target: at most 0.1x the fresh import.
3. `session report --by month` over a ledger of 1,000,000 agent records, against a plain
   `SELECT substr(time, 1, 7), count(*), sum(...) ... GROUP BY 1` on the same SQLite file.
   Target: at most 1.5x.
4. `session blocks` over the same ledger, against a plain GROUP BY per hour. Target: at most 2x.
   Both measured in-process (the command's work: open, check, query, exact Decimal totals,
   result models), and as the whole command in a new process for reference.
5. `tokopt statusline` as Claude Code's status-line hook runs it: a new process, the hook's JSON
   on stdin, on the 1,000,000-record ledger. Target: under 0.15 s for the whole process.
   Python's own start-up (`python -c pass`) is shown beside it.

Each timing is the median of interleaved runs; only the ratios are meant to be compared
between machines (and the status line's 0.15 s, which is about what a person notices). The
corpus is written outside the repository (a walk honours its .gitignore), in the temporary
directory's tokopt-bench/agents/; the 1M-record ledger is built once and kept in
benchmarks/.work/agents/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import _bench  # noqa: E402

WORK = _bench.WORK / "agents"
# the corpus is found by walking directories, and a walk honours the repository's .gitignore
# (which leaves out benchmarks/.work/): it lives outside the repository
OUTSIDE = _bench.OUTSIDE / "agents"

from tokopt import paths  # noqa: E402
from tokopt.ledger import Ledger, Pricer, importers  # noqa: E402
from tokopt.ledger.sqlite import SqliteStore  # noqa: E402
from tokopt.pricing import load_catalog  # noqa: E402
from tokopt.usage import UsageRecord  # noqa: E402

USER = "bench"
UTC = dt.timezone.utc
START = dt.datetime(2026, 6, 1, tzinfo=UTC)
DAYS = 28
CLAUDE_MODELS = ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"]
CODEX_MODELS = ["gpt-5-codex", "gpt-5"]
PROJECTS = [f"/home/dev/{name}" for name in ("app", "api", "infra", "site", "mobile", "data-pipeline", "docs", "cli")]
BRANCHES = ["main", "main", "feature/login", "fix/flaky-test", "release/2.4"]


# -- the corpus ---------------------------------------------------------------------------------


@dataclass
class Corpus:
    """Log files as Claude Code and Codex keep them, and what they hold, counted as they were written."""

    claude: Path  # a CLAUDE_CONFIG_DIR
    codex: Path  # a CODEX_HOME
    lines: int = 0
    files: int = 0
    # (UTC day, agent) -> tokens of each response, counted once: input (without cache reads and
    # writes), cache_read, cache_write, output (reasoning included), reasoning, records
    truth: dict[tuple[str, str], dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def env(self) -> dict[str, str]:
        return {"CLAUDE_CONFIG_DIR": str(self.claude), "CODEX_HOME": str(self.codex)}

    def count(self, when: dt.datetime, agent: str, **tokens: int) -> None:
        day = self.truth[(when.strftime("%Y-%m-%d"), agent)]
        for name, value in tokens.items():
            day[name] += value
        day["records"] += 1


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _lines(path: Path, objects: list[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for obj in objects:
            f.write(json.dumps(obj, separators=(",", ":")) + "\n")
    return len(objects)


def _tool_output(rnd: random.Random) -> str:
    return "".join(rnd.choice("abcdefghij(){}:; \n") for _ in range(rnd.choice([40, 200, 1500])))


def claude_session(rnd: random.Random, corpus: Corpus, budget: int, earlier: list[list[dict]]) -> int:
    """One Claude Code session file of about `budget` lines: user turns, tool results, responses
    written as several lines (streaming partials first), some by subagents (sidechain). One
    session in 30 is resumed: its file starts with a copy of an earlier session's lines, which
    must be counted once."""
    session = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    project, branch = rnd.choice(PROJECTS), rnd.choice(BRANCHES)
    when = START + dt.timedelta(days=rnd.randrange(DAYS), hours=rnd.choice([2, 7, 8, 9, 10, 13, 14, 15, 16, 20, 23]), minutes=rnd.randrange(60))
    model = rnd.choice(CLAUDE_MODELS)
    out: list[dict] = []
    if earlier and rnd.randrange(30) == 0:
        out.extend(rnd.choice(earlier)[: rnd.randint(4, 60)])  # resumed: the earlier lines again, same ids
    base = {"userType": "external", "cwd": project, "sessionId": session, "version": "2.0.14", "gitBranch": branch}
    parent = None
    n = 0
    while len(out) < budget:
        n += 1
        when += dt.timedelta(seconds=rnd.randint(3, 90))
        user_id = f"{session[:8]}-u{n}"
        content = [{"type": "tool_result", "tool_use_id": f"toolu_{session[:8]}_{n}", "content": _tool_output(rnd)}] if n > 1 else "Why does the build fail on CI?"
        out.append({"parentUuid": parent, "isSidechain": False, **base, "type": "user", "message": {"role": "user", "content": content}, "uuid": user_id, "timestamp": stamp(when)})
        sidechain = rnd.randrange(8) == 0
        inp, write, read, output = rnd.randint(1, 40), rnd.choice([0, 0, rnd.randint(100, 6000)]), rnd.randint(0, 150_000), rnd.randint(5, 3000)
        message_id, request_id = f"msg_01{rnd.getrandbits(64):016x}", f"req_011C{rnd.getrandbits(64):016x}"
        parts = rnd.choice([1, 2, 2, 3, 4])
        when += dt.timedelta(seconds=rnd.randint(1, 40))
        for part in range(parts):
            shown = output if part == parts - 1 else rnd.randint(1, output)  # partials first, then the final counts
            block = {"type": "tool_use", "id": f"toolu_{session[:8]}_{n + 1}", "name": "Bash", "input": {"command": "pytest -x"}} if part else {"type": "text", "text": "Looking at it. " * rnd.randint(1, 10)}
            out.append(
                {
                    "parentUuid": user_id,
                    "isSidechain": sidechain,
                    **base,
                    "message": {
                        "id": message_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [block],
                        "stop_reason": None if part < parts - 1 else "tool_use",
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
                    "requestId": request_id,
                    "type": "assistant",
                    "uuid": f"{session[:8]}-a{n}-{part}",
                    "timestamp": stamp(when),
                }
            )
        corpus.count(when, "claude-code", input=inp, cache_read=read, cache_write=write, output=output)
        parent = f"{session[:8]}-a{n}-{parts - 1}"
        if rnd.randrange(40) == 0:
            model = rnd.choice(CLAUDE_MODELS)  # /model mid-session
    earlier.append(out)
    folder = corpus.claude / "projects" / project.replace("/", "-")
    return _lines(folder / f"{session}.jsonl", out)


def codex_session(rnd: random.Random, corpus: Corpus, budget: int) -> int:
    """One Codex rollout of about `budget` lines: session meta, turn contexts, response items, and
    token_count events carrying running totals (sometimes the same totals twice)."""
    session = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    project, branch = rnd.choice(PROJECTS), rnd.choice(BRANCHES)
    when = START + dt.timedelta(days=rnd.randrange(DAYS), hours=rnd.randrange(24), minutes=rnd.randrange(60))
    model = rnd.choice(CODEX_MODELS)
    meta = {"id": session, "timestamp": stamp(when), "cwd": project, "originator": "codex_cli_rs", "cli_version": "0.46.0", "instructions": None}
    meta["git"] = {"commit_hash": f"{rnd.getrandbits(28):07x}", "branch": branch, "repository_url": "git@example.com:dev/app.git"}
    context = {"cwd": project, "approval_policy": "on-request", "sandbox_policy": {"mode": "workspace-write"}, "model": model, "effort": "medium", "summary": "auto"}
    out: list[dict] = [{"timestamp": stamp(when), "type": "session_meta", "payload": meta}, {"timestamp": stamp(when), "type": "turn_context", "payload": context}]
    total = [0, 0, 0, 0]  # input (cached included), cached, output (reasoning included), reasoning

    def usage(t: list[int]) -> dict[str, int]:
        return {"input_tokens": t[0], "cached_input_tokens": t[1], "output_tokens": t[2], "reasoning_output_tokens": t[3], "total_tokens": t[0] + t[2]}

    start_day = when.date()
    while len(out) < budget:
        when += dt.timedelta(seconds=rnd.randint(5, 120))
        if when.date() != start_day and rnd.randrange(3) == 0:
            break
        if rnd.randrange(25) == 0:
            model = rnd.choice(CODEX_MODELS)
            out.append({"timestamp": stamp(when), "type": "turn_context", "payload": {**context, "model": model}})
        out.append({"timestamp": stamp(when), "type": "response_item", "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run the tests"}]}})
        out.append({"timestamp": stamp(when), "type": "response_item", "payload": {"type": "function_call_output", "call_id": f"call_{rnd.getrandbits(32):08x}", "output": _tool_output(rnd)}})
        cached = rnd.randint(0, 60_000)
        last = [cached + rnd.randint(50, 8000), cached, 0, rnd.randint(0, 800)]
        last[2] = last[3] + rnd.randint(5, 1500)
        total = [a + b for a, b in zip(total, last)]
        info = {"total_token_usage": usage(total), "last_token_usage": usage(last), "model_context_window": 272000}
        event = {"timestamp": stamp(when), "type": "event_msg", "payload": {"type": "token_count", "info": info, "rate_limits": {"primary": {"used_percent": 3.0, "window_minutes": 300}}}}
        out.append(event)
        if rnd.randrange(6) == 0:
            out.append(event)  # Codex repeats a token_count with unchanged totals: no new usage
        corpus.count(when, "codex", input=last[0] - last[1], cache_read=last[1], output=last[2], reasoning=last[3])
        out.append({"timestamp": stamp(when), "type": "response_item", "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}]}})
    first = dt.datetime.fromisoformat(out[0]["timestamp"].replace("Z", "+00:00"))
    name = f"rollout-{first.strftime('%Y-%m-%dT%H-%M-%S')}-{session}.jsonl"
    return _lines(corpus.codex / "sessions" / first.strftime("%Y/%m/%d") / name, out)


def build_corpus(root: Path, lines: int, seed: int = 2026) -> Corpus:
    """About `lines` lines: four in five Claude Code's, the rest Codex's."""
    if root.exists():
        shutil.rmtree(root)
    corpus = Corpus(claude=root / "claude", codex=root / "codex")
    rnd = random.Random(seed)
    earlier: list[list[dict]] = []
    while corpus.lines < lines:
        budget = min(rnd.choice([30, 120, 400, 1500]), max(lines - corpus.lines, 8))
        if rnd.randrange(5):
            corpus.lines += claude_session(rnd, corpus, budget, earlier)
        else:
            corpus.lines += codex_session(rnd, corpus, budget)
        corpus.files += 1
        earlier[:] = earlier[-50:]
    return corpus


def found_logs(corpus: Corpus) -> list:
    """The logs `tokopt session import` (no paths) finds with this corpus's CLAUDE_CONFIG_DIR and CODEX_HOME."""
    home = corpus.claude.parent / "home"  # empty: no other agent's logs are found
    found = importers.discover(env=corpus.env(), home=home)
    return importers.found_sources(found, home=home)


# -- 1 and 2: import, fresh and again ------------------------------------------------------------


def timed(fn):
    """Wall and CPU seconds of fn() in this process (SQLite runs in it too), and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def json_floor(corpus: Corpus) -> int:
    n = 0
    for source in found_logs(corpus):
        with source.path.open("rb") as f:
            for line in f:
                json.loads(line)
                n += 1
    return n


def bench_import(corpus: Corpus, runs: int, catalog) -> dict[str, list]:
    """Per run: a fresh import, the same import again, and json.loads of every line."""
    out: dict[str, list] = {"fresh": [], "again": [], "floor": [], "added": []}
    for n in range(runs):
        db = WORK / f"import-{n}.sqlite3"
        for old in WORK.glob(f"import-{n}.sqlite3*"):
            old.unlink()
        with Ledger(db, user=USER, catalog=catalog) as book:
            *t, summary = timed(lambda: book.import_sources(found_logs(corpus)))
            out["fresh"].append(t)
            out["added"].append(summary.added)
            *t, second = timed(lambda: book.import_sources(found_logs(corpus)))
            out["again"].append(t)
            assert second.added == second.updated == 0 and {f.status for f in second.files} == {"unchanged"}, second
        *t, lines = timed(lambda: json_floor(corpus))
        assert lines == corpus.lines, (lines, corpus.lines)
        out["floor"].append(t)
        for old in WORK.glob(f"import-{n}.sqlite3*"):
            old.unlink()
    return out


def med(pairs: list, i: int) -> float:
    return statistics.median(p[i] for p in pairs)


# -- 3, 4 and 5: a ledger of 1M agent records --------------------------------------------------


def agent_record(i: int, n: int, first_day: dt.datetime, rnd: random.Random) -> UsageRecord:
    """Record i of n over the 365 days from `first_day`, in working hours (08:00 to 22:00 UTC, so
    that nights are gaps, as one person's usage has): sessions of 50 calls, each in one project."""
    day, within = divmod(i * 365, n)
    session = i // 50
    srnd = random.Random(session)
    agent = srnd.choice(["claude-code", "claude-code", "claude-code", "codex", "gemini-cli", "opencode"])
    model = {"claude-code": srnd.choice(CLAUDE_MODELS), "codex": srnd.choice(CODEX_MODELS), "gemini-cli": "gemini-2.5-pro", "opencode": "claude-sonnet-4-5"}[agent]
    inp = rnd.randint(100, 200_000)
    cached = rnd.randint(0, inp // 2)
    write = rnd.randint(0, (inp - cached) // 4) if agent == "claude-code" else 0
    out = rnd.randint(10, 8000)
    return UsageRecord(
        time=first_day + dt.timedelta(days=day, hours=8 + 14 * within / n),
        user=USER,
        model=model,
        input_tokens=inp,
        cached_input_tokens=cached,
        cache_write_tokens=write,
        output_tokens=out,
        reasoning_tokens=out // 3 if agent == "codex" else 0,
        source=f"import:{agent}",
        dedupe_key=f"k{i}",
        agent=agent,
        session_id=f"{uuid.UUID(int=srnd.getrandbits(128), version=4)}",
        project=srnd.choice(PROJECTS),
        git_branch=srnd.choice(BRANCHES),
        sidechain=rnd.randrange(10) == 0,
    )


def big_ledger(path: Path, n: int, catalog) -> Path:
    marker = path.with_suffix(".done")
    if path.exists() and marker.exists() and marker.read_text() == str(n):
        return path
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    rnd = random.Random(4)
    pricer = Pricer(catalog)
    first_day = dt.datetime.combine(dt.date.today() - dt.timedelta(days=365), dt.time(), UTC)  # up to yesterday
    store = SqliteStore.open(path)
    batch = []
    for i in range(n):
        batch.append(pricer.price(agent_record(i, n, first_day, rnd)))
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


def top_up(path: Path, session: str, catalog) -> None:
    """Calls in the last hour, in one session, so that the kept ledger has a today, an open block
    and a session to show whenever the benchmark runs (replaced on every run)."""
    now = dt.datetime.now(UTC)
    pricer = Pricer(catalog)
    records = [
        pricer.price(
            UsageRecord(
                time=now - dt.timedelta(minutes=50 - i),
                user=USER,
                model="claude-sonnet-4-5-20250929",
                input_tokens=40_000 + i,
                cached_input_tokens=30_000,
                output_tokens=900,
                source="import:claude-code",
                dedupe_key=f"top-up-{i}",
                agent="claude-code",
                session_id=session,
                project="/home/dev/app",
                git_branch="main",
            )
        )
        for i in range(20)
    ]
    store = SqliteStore.open(path)
    with store.write():
        # the last run's (an upsert would keep them: same keys, no more tokens, older times)
        store.db.execute("DELETE FROM usage WHERE user = ? AND dedupe_key LIKE 'top-up-%'", (USER,))
        store.upsert_usage(records)
    store.close()


SUMS = (
    "count(*), sum(input_tokens), sum(cached_input_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens), "
    "sum(output_tokens), sum(reasoning_tokens), sum(cost_picousd), min(time), max(time)"
)
PLAIN_MONTHS = f"SELECT substr(time, 1, 7) AS month, {SUMS} FROM usage GROUP BY month"
PLAIN_HOURS = f"SELECT substr(time, 1, 13) AS hour, {SUMS} FROM usage GROUP BY hour"
# the same, by model too: what a report's per-row model lists need (shown to explain the ratio)
PLAIN_MONTH_MODELS = f"SELECT substr(time, 1, 7) AS month, provider, model, {SUMS} FROM usage GROUP BY month, provider, model"


def plain(path: Path, query: str) -> int:
    db = sqlite3.connect(path)
    rows = db.execute(query).fetchall()
    db.close()
    return len(rows)


def core(path: Path, what: str, tz: str) -> int:
    with Ledger(path, user=USER) as book:
        return len(book.report(by="month", timezone=tz).rows) if what == "month" else len(book.blocks(timezone=tz).blocks)


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
    print(f"tokopt coding-agent benchmark (issue 14) — SQLite {sqlite3.sqlite_version}")
    print(_bench.machine_line())

    corpus = build_corpus(OUTSIDE / f"corpus-{n_lines}", n_lines)
    size = sum(p.stat().st_size for p in corpus.claude.rglob("*.jsonl")) + sum(p.stat().st_size for p in corpus.codex.rglob("*.jsonl"))
    t = bench_import(corpus, runs, catalog)
    fresh, cpu, floor = med(t["fresh"], 0), med(t["fresh"], 1), med(t["floor"], 0)
    rate = corpus.lines / fresh
    print(f"\n1. import {corpus.lines:,} lines in {corpus.files:,} Claude Code and Codex files ({size / 2**20:.0f} MB, {t['added'][0]:,} records), found as `session import` finds them")
    print(f"   fresh ledger: {fresh:.2f}s = {rate:,.0f} lines/s (target >= 50,000) {'PASS' if rate >= 50_000 else 'MISS'}; {corpus.lines / cpu:,.0f} lines per CPU second")
    print(f"   json.loads of every line alone: {floor:.2f}s; ratio import/json.loads = {_bench.spread([a[0] / b[0] for a, b in zip(t['fresh'], t['floor'])])}x")
    ratios = [a[0] / b[0] for a, b in zip(t["again"], t["fresh"])]
    again = statistics.median(ratios)
    print(f"\n2. the same corpus again, unchanged: {med(t['again'], 0):.3f}s; ratio again/fresh = {_bench.spread(ratios)}x (target <= 0.10x) {'PASS' if again <= 0.1 else 'MISS'}")

    db = big_ledger(WORK / f"ledger-{n_records}.sqlite3", n_records, catalog)
    session = "5e1f0c2a-8b3d-4e6f-9a7b-1c2d3e4f5a6b"
    top_up(db, session, catalog)
    mb = db.stat().st_size / 2**20
    for number, what, query, target in ((3, "month", PLAIN_MONTHS, 1.5), (4, "blocks", PLAIN_HOURS, 2.0)):
        rows: list[tuple[float, ...]] = []
        for i in range(runs + 1):  # the first round warms the page cache and is not counted
            a = timed(lambda: plain(db, query))
            b = timed(lambda: core(db, what, "UTC"))
            c = timed(lambda: core(db, what, "Europe/Berlin"))
            d = timed(lambda: plain(db, PLAIN_MONTH_MODELS)) if what == "month" else (0.0, 0.0)
            if i:
                rows.append((a[0], a[1], b[0], b[1], c[0], d[0]))
        wall = [r[2] / r[0] for r in rows]
        cpu = [r[3] / r[1] for r in rows]
        zoned = [r[4] / r[0] for r in rows]
        ratio = statistics.median(wall)
        name = "session report --by month" if what == "month" else "session blocks"
        print(f"\n{number}. `{name}` over {n_records:,} agent records ({mb:.0f} MB): plain SELECT ... GROUP BY {what if what == 'month' else 'hour'} {med(rows, 0):.3f}s")
        print(f"   in-process (UTC) {med(rows, 2):.3f}s, wall ratio {_bench.spread(wall)}x (target <= {target:.2f}x) {'PASS' if ratio <= target else 'MISS'}; cpu ratio {_bench.spread(cpu)}x")
        print(f"   in-process (Europe/Berlin) {med(rows, 4):.3f}s, wall ratio {_bench.spread(zoned)}x")
        if what == "month":
            by_model = [r[5] / r[0] for r in rows]
            print(f"   the plain GROUP BY month, provider, model (each row's models, as the report lists them) {med(rows, 5):.3f}s: {_bench.spread(by_model)}x the plain query")
        env = {**os.environ, paths.ENV_LEDGER: str(db), paths.ENV_USER: USER}
        argv = [_bench.script("tokopt"), "session", *(["report", "--by", "month"] if what == "month" else ["blocks"]), "--timezone", "UTC", "-f", "json"]
        whole = statistics.median(_bench.run(argv, env).wall for _ in range(runs))
        print(f"   whole command `tokopt {' '.join(argv[1:])}` in a new process: {whole:.3f}s")

    env = {**os.environ, paths.ENV_LEDGER: str(db), paths.ENV_USER: USER}
    hook = WORK / "hook.json"
    hook.write_text(json.dumps({"session_id": session, "transcript_path": "/nonexistent.jsonl", "cwd": "/home/dev/app", "model": {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"}}))
    pairs = _bench.paired(
        lambda: _bench.run([_bench.script("tokopt"), "statusline"], env, stdin=hook),
        lambda: _bench.run([sys.executable, "-c", "pass"], env),
        max(runs, 7) + 4,
    )
    s = pairs.median("ours")
    print(f"\n5. `tokopt statusline` with the hook's JSON on stdin, {n_records:,}-record ledger, whole process: {s:.3f}s wall (target < 0.15s) {'PASS' if s < 0.15 else 'MISS'}; {pairs.median('ours', 'cpu'):.3f}s CPU")
    print(f"   Python start-up alone (`python -c pass`): {pairs.median('base'):.3f}s wall, {pairs.median('base', 'cpu'):.3f}s CPU; the line: {pairs.ours[-1].stdout.strip()}")
    print(f"\n{_bench.machine_line()}")


if __name__ == "__main__":
    main()
