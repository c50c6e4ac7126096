"""Agreement benchmark (issue 14): do tokopt's daily totals of coding-agent logs agree with an
independent count, and with ccusage?

    pip install -e . && python benchmarks/bench_agreement.py [--quick] [--ccusage VERSION|none]

A realistic corpus of Claude Code and Codex logs is generated (bench_agents.build_corpus:
responses written as several lines with streaming partials first, subagent lines, resumed
sessions that repeat earlier lines, Codex running totals with repeated token_count events,
model switches). While writing it, the script counts each response once: that count is the
reference, made without reading the files back and without any of tokopt's code.

tokopt imports the corpus (found as `tokopt session import` finds it, through
CLAUDE_CONFIG_DIR and CODEX_HOME) and its daily totals per agent, in UTC, are compared token
kind by token kind with the reference. Where `npx ccusage@latest daily --json --offline` runs
(the npm registry reachable, node installed), ccusage reads the same directories (with HOME
pointed at an empty directory) and is compared too; otherwise that part is skipped and says why.
ccusage@latest needs a native binary for this platform; when the newest one is not published
yet, the script says so and tries the newest version that has one (--ccusage picks another).

Token kinds are compared as ccusage names them: input (without cache reads and writes), cache
reads, cache writes, output (reasoning included). Costs are shown beside, not compared: the two
tools price with different price lists (tokopt: genai-prices and tokopt's layer; ccusage:
LiteLLM's), so a cost difference says which list, not which count, is right.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _bench  # noqa: E402
import bench_agents  # noqa: E402
from bench_agents import USER, build_corpus, found_logs  # noqa: E402

from tokopt import paths  # noqa: E402
from tokopt.ledger import Ledger  # noqa: E402
from tokopt.pricing import load_catalog  # noqa: E402

WORK = _bench.WORK / "agreement"
KINDS = ("input", "cache_read", "cache_write", "output")
AGENTS = {"claude-code": "claude", "codex": "codex"}  # tokopt's agent name: ccusage's
FALLBACK = "20.0.24"  # the newest ccusage with a published linux-x64 binary when this was written


def tokopt_daily(corpus, catalog) -> tuple[dict[tuple[str, str], dict[str, int]], dict[tuple[str, str], Decimal | None]]:
    db = WORK / "ledger.sqlite3"
    for old in WORK.glob("ledger.sqlite3*"):
        old.unlink()
    tokens: dict[tuple[str, str], dict[str, int]] = {}
    costs: dict[tuple[str, str], Decimal | None] = {}
    with Ledger(db, user=USER, catalog=catalog) as book:
        book.import_sources(found_logs(corpus))
        for agent in AGENTS:
            for row in book.report(by="day", timezone="UTC", agents=[agent]).rows:
                s = row.sums
                writes = s.cache_write_tokens + s.cache_write_1h_tokens
                key = (str(row.key["day"]), agent)
                tokens[key] = {"input": s.input_tokens - s.cached_input_tokens - writes, "cache_read": s.cached_input_tokens, "cache_write": writes, "output": s.output_tokens}
                costs[key] = s.cost_usd
    return tokens, costs


def run_ccusage(corpus, version: str) -> tuple[dict | None, str]:
    """ccusage's daily JSON for the corpus, or None and why it did not run."""
    npx = shutil.which("npx")
    if npx is None:
        return None, "npx is not installed"
    home = WORK / "empty-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **corpus.env(), "HOME": str(home), "TZ": "UTC"}
    argv = [npx, "-y", f"ccusage@{version}", "daily", "--json", "--offline", "--by-agent", "--timezone", "UTC"]
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, cwd=WORK)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"ccusage@{version} did not run: {exc}"
    if done.returncode != 0:
        why = [line for line in (done.stderr.strip() or done.stdout.strip()).splitlines() if not line.startswith("npm ")]
        return None, f"ccusage@{version} exited {done.returncode}: {why[-1] if why else '(no message)'}"
    try:
        return json.loads(done.stdout), f"ccusage@{version}"
    except ValueError:
        return None, f"ccusage@{version} printed no JSON"


def ccusage_daily(data: dict) -> tuple[dict[tuple[str, str], dict[str, int]], dict[tuple[str, str], Decimal]]:
    tokens, costs = {}, {}
    names = {v: k for k, v in AGENTS.items()}
    for day in data["daily"]:
        for part in day.get("agents") or [day]:
            agent = names.get(part.get("agent", "claude"))
            if agent is None:
                continue
            key = (day["period"], agent)
            tokens[key] = {"input": part["inputTokens"], "cache_read": part["cacheReadTokens"], "cache_write": part["cacheCreationTokens"], "output": part["outputTokens"]}
            costs[key] = Decimal(str(part["totalCost"]))
    return tokens, costs


def compare(name: str, ours: dict, theirs: dict) -> list[str]:
    """One line per (day, agent) where the two differ, naming the kinds and by how much."""
    out = []
    for key in sorted(set(ours) | set(theirs)):
        a, b = ours.get(key), theirs.get(key)
        if a is None or b is None:
            out.append(f"   {key[0]} {key[1]}: only in {'tokopt' if b is None else name}")
            continue
        diffs = [f"{kind} {a[kind]:,} vs {b[kind]:,} ({a[kind] - b[kind]:+,})" for kind in KINDS if a[kind] != b[kind]]
        if diffs:
            out.append(f"   {key[0]} {key[1]}: " + "; ".join(diffs))
    return out


def summary(name: str, ours: dict, theirs: dict) -> None:
    diffs = compare(name, ours, theirs)
    for agent in AGENTS:
        days = sorted(k for k in set(ours) | set(theirs) if k[1] == agent)
        same = sum(1 for k in days if ours.get(k) is not None and {kind: ours[k][kind] for kind in KINDS} == {kind: theirs.get(k, {}).get(kind) for kind in KINDS})
        total = {kind: sum(v[kind] for k, v in theirs.items() if k[1] == agent) for kind in KINDS}
        print(f"   {agent}: {same} of {len(days)} days agree on every token kind; {name}'s totals " + ", ".join(f"{k} {v:,}" for k, v in total.items()))
    print("\n".join(diffs) if diffs else "   no differences")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 lines instead of 200,000")
    parser.add_argument("--ccusage", default="latest", help="the ccusage version to run with npx, or none (default: latest)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(paths.ENV_PRICING_DIR, str(HERE.parent / "pricing"))
    catalog = load_catalog(paths.bundled_pricing_dir())
    corpus = build_corpus(bench_agents.OUTSIDE.with_name("agreement") / "corpus", 20_000 if args.quick else 200_000)
    reference = {k: {kind: v.get(kind, 0) for kind in KINDS} for k, v in corpus.truth.items()}
    print(f"tokopt agreement benchmark — {corpus.lines:,} lines in {corpus.files:,} Claude Code and Codex files, days in UTC")

    ours, our_costs = tokopt_daily(corpus, catalog)
    print("\n1. tokopt against the reference counted while writing the corpus")
    summary("the reference", ours, reference)

    print("\n2. tokopt against ccusage")
    if args.ccusage == "none":
        print("   skipped: --ccusage none")
        return
    data, who = run_ccusage(corpus, args.ccusage)
    if data is None and args.ccusage == "latest":
        print(f"   {who}; trying ccusage@{FALLBACK}")
        data, who = run_ccusage(corpus, FALLBACK)
    if data is None:
        print(f"   skipped: {who}")
        return
    theirs, their_costs = ccusage_daily(data)
    print(f"   ran {who} (npx, --offline, --timezone UTC)")
    summary(who, ours, theirs)
    for agent in AGENTS:
        a = sum((c for k, c in our_costs.items() if k[1] == agent and c is not None), Decimal(0))
        b = sum((c for k, c in their_costs.items() if k[1] == agent), Decimal(0))
        print(f"   {agent} cost (not compared: different price lists): tokopt ${a:,.2f}, {who} ${b:,.2f}")


if __name__ == "__main__":
    main()
