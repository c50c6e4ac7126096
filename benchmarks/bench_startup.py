"""Start-up on a small prompt (issue 13, target 2). Prints ratios from one run.

    pip install -e '.[bench]' && python benchmarks/bench_startup.py [--quick] [--runs N]

1. `tokopt estimate` of a 2 KB prompt on the default models, whole process, against
   `ttok -m gpt-4o -i` on the same file (ttok gets its encoding through TIKTOKEN_CACHE_DIR,
   filled from tokopt's bundled data, so neither touches the network). Target: at most 0.70x.
2. `tokopt tokenize` of the same prompt (both encodings), against the same ttok. Target: at
   most 0.70x.

Paired, interleaved runs; the ratio of each pair, min–median–max. Wall time is the target; the
CPU-time ratio (user + system of each process) is printed beside it because on a loaded shared
machine it moves much less than wall time.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _bench

WORK = _bench.WORK


def prompt(work: Path) -> Path:
    """2 KB of real text (this Python installation's sources and docs)."""
    path = work / "prompt-2k.txt"
    if not path.exists():
        text = _bench.real_text(work / "corpus-64k.txt", 64 * 1024, mixed=False).read_text(encoding="utf-8")
        path.write_text(text[:2048], encoding="utf-8")
    return path


def pairs(args: list[str], work: Path, runs: int) -> _bench.Pairs:
    env = _bench.bench_env(work)
    path = prompt(work)
    tokopt, ttok = _bench.script("tokopt"), _bench.script("ttok")
    return _bench.paired(
        lambda: _bench.run([tokopt, *args, str(path)], env),
        lambda: _bench.run([ttok, "-m", "gpt-4o", "-i", str(path)], env),
        runs,
    )


def bench_small_prompt(work: Path, runs: int) -> tuple[float, float]:
    """Median wall seconds of `tokopt estimate` and of ttok on the 2 KB prompt (bench_prices.py)."""
    p = pairs(["estimate"], work, runs)
    return p.median("ours"), p.median("base")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 pairs (a smoke test)")
    parser.add_argument("--runs", type=int, default=11, help="pairs per comparison (default 11)")
    args = parser.parse_args()
    runs = 3 if args.quick else max(7, args.runs)
    WORK.mkdir(exist_ok=True)
    print("tokopt start-up benchmark (issue 13, target 2)")
    print(_bench.machine_line())
    for n, (label, command) in enumerate([("estimate, default models", ["estimate"]), ("tokenize, both encodings", ["tokenize"])], 1):
        p = pairs(command, WORK, runs)
        _bench.report(f"{n}. {label}, 2 KB prompt: tokopt / ttok -m gpt-4o (whole process)", p, target="<= 0.70x", passed=lambda r: r <= 0.7)
    print(f"\nload average at the end: {_bench.load()}")


if __name__ == "__main__":
    main()
