"""Price catalog benchmark (issue 11). Prints ratios from one run.

    pip install -e '.[bench]' && python benchmarks/bench_prices.py [--quick] [--baseline-src DIR]

1. Getting the prices, whole process: importing tokopt's catalog, loading it (cache warm) and
   pricing the default models, against a process that imports genai-prices' data module (what
   reading prices through genai-prices costs). Target: at most 1.0x. Also shown, inside those
   processes with their modules imported: the catalog load against `import genai_prices.data`
   after `genai_prices.types`, and the first run, which builds the cache from the data.
2. `tokopt estimate` of a 2 KB prompt over the default models, whole process, against
   `ttok -m gpt-4o` (as bench_startup.py measures it). Target: at most 1.0x, and no slower than
   before the catalog moved to genai-prices.
3. With --baseline-src DIR (the src/ of a checkout of an earlier tokopt, e.g. a git worktree of
   the commit before): the same estimate run alternately by that tree and this one (paired),
   their ratio. Target: at most 1.05x.

Each timing is the median of several interleaved runs; only ratios compare between machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_startup  # noqa: E402

WHOLE_OURS = "import tokopt.pricing as p; p.load_catalog().defaults()"
WHOLE_GENAI = "import genai_prices.data"
# each prints the seconds the price data took, its modules already imported
LOAD = "import time, tokopt.pricing as p; t = time.perf_counter(); p.load_catalog().defaults(); print(time.perf_counter() - t)"
GENAI = "import time, genai_prices.types; t = time.perf_counter(); import genai_prices.data; print(time.perf_counter() - t)"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def inner(script: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def bench_load(runs: int) -> dict[str, float]:
    cache = Path(tempfile.mkdtemp(prefix="tokopt-bench-cache-"))
    env = {**os.environ, "TOKOPT_CACHE_DIR": str(cache), "TOKOPT_HOME": str(cache / "home")}
    try:
        cold = inner(LOAD, env)  # builds the cache
        got: dict[str, list[float]] = {"ours": [], "genai": [], "whole_ours": [], "whole_genai": []}
        for _ in range(runs):
            got["ours"].append(inner(LOAD, env))
            got["genai"].append(inner(GENAI, env))
            got["whole_ours"].append(timed([sys.executable, "-c", WHOLE_OURS], env))
            got["whole_genai"].append(timed([sys.executable, "-c", WHOLE_GENAI], env))
        return {"cold": cold, **{k: statistics.median(v) for k, v in got.items()}}
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def bench_paired(work: Path, baseline_src: Path, runs: int) -> tuple[float, float]:
    prompt = work / "prompt-2k.txt"
    here_src = HERE.parent / "src"
    def env(src: Path) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(src), "TOKOPT_HOME": str(work / f"home-{src.parent.name}")}
    cmd = [sys.executable, "-m", "tokopt", "estimate", str(prompt)]
    for src in (baseline_src, here_src):
        timed(cmd, env(src))
    before, after = [], []
    for _ in range(runs):
        before.append(timed(cmd, env(baseline_src)))
        after.append(timed(cmd, env(here_src)))
    return statistics.median(before), statistics.median(after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    parser.add_argument("--baseline-src", type=Path, help="src/ of an earlier tokopt to compare the estimate with, paired")
    args = parser.parse_args()
    runs = 3 if args.quick else 11
    work = bench_startup.WORK
    work.mkdir(exist_ok=True)
    print(f"tokopt price catalog benchmark — Python {sys.version.split()[0]}")

    r = bench_load(runs)
    whole = r["whole_ours"] / r["whole_genai"]
    print(f"\n1. prices for the default models, whole process: tokopt {r['whole_ours']:.3f}s, import genai_prices.data {r['whole_genai']:.3f}s")
    print(f"   ratio tokopt/genai-prices = {whole:.2f}x (target <= 1.00x) {'PASS' if whole <= 1.0 else 'MISS'}")
    print(f"   inside the process: catalog load {r['ours'] * 1000:.1f} ms (first run, building the cache: {r['cold'] * 1000:.0f} ms); "
          f"genai_prices.data after its types {r['genai'] * 1000:.1f} ms")

    ours, theirs = bench_startup.bench_small_prompt(work, runs)
    ratio = ours / theirs
    print(f"\n2. estimate 2 KB prompt, default models, whole process: tokopt {ours:.3f}s, ttok -m gpt-4o {theirs:.3f}s")
    print(f"   ratio tokopt/ttok = {ratio:.2f}x (target <= 1.00x) {'PASS' if ratio <= 1.0 else 'MISS'}")

    if args.baseline_src:
        before, after = bench_paired(work, args.baseline_src.resolve(), runs)
        print(f"\n3. estimate 2 KB prompt, paired: before {before:.3f}s, now {after:.3f}s")
        print(f"   ratio now/before = {after / before:.2f}x (target <= 1.05x) {'PASS' if after / before <= 1.05 else 'MISS'}")


if __name__ == "__main__":
    main()
