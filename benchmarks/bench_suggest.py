"""Suggestions benchmark (issue 5). Prints a ratio from one run.

    pip install -e . && python benchmarks/bench_suggest.py [--quick]

`tokopt suggest` on a 1 MB prompt of real text (the text files of this machine's Python
installation, as in bench_startup.py), against `tokopt estimate` on the same file, both as whole
processes with JSON output. Both price the same model (`gpt-5.4`), so the difference is what the
rules cost: the rewrites re-counted segment by segment, the duplicate scan, the cheaper-model
search over the catalog. Target: at most 3x.

Machines are noisy: each timing is the median of several interleaved runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE))

from _bench import real_text  # noqa: E402


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--size-mb", type=float, default=1.0)
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    exe = shutil.which("tokopt", path=os.path.dirname(sys.executable)) or shutil.which("tokopt")
    if not exe:
        raise SystemExit("install tokopt first: pip install -e .")
    WORK.mkdir(exist_ok=True)
    size = int(args.size_mb * 1024 * 1024)
    prompt = real_text(WORK / f"prompt-{size}.txt", size, mixed=False)
    # the count cache off: both commands count the file every run
    env = {**os.environ, "TOKOPT_HOME": str(WORK / "home"), "NO_COLOR": "1", "TOKOPT_COUNT_CACHE": "0"}
    suggest = [exe, "suggest", str(prompt), "--target-model", "gpt-5.4", "--format", "json"]
    estimate = [exe, "estimate", str(prompt), "--model", "gpt-5.4", "--format", "json"]

    found = json.loads(subprocess.run(suggest, env=env, capture_output=True, text=True, check=True).stdout)
    timed(estimate, env)  # warm the rank cache
    ours, base = [], []
    for _ in range(runs):
        ours.append(timed(suggest, env))
        base.append(timed(estimate, env))
    s, e = statistics.median(ours), statistics.median(base)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"tokopt suggest benchmark — {cores} cores, Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}")
    print(f"prompt: {prompt.stat().st_size:,} bytes, {found['input_tokens']:,} tokens on gpt-5.4; {len(found['suggestions'])} suggestions:")
    for item in found["suggestions"]:
        print(f"  {item['id']:<28} {item['tokens_saved']:>8,} tokens  ${item['cost_saved_per_call']} per call ({item['confidence']})")
    ratio = s / e
    print(f"suggest {s:.3f}s, estimate {e:.3f}s (whole process, median of {runs})")
    print(f"ratio suggest/estimate = {ratio:.2f}x (target <= 3.00x) {'PASS' if ratio <= 3.0 else 'MISS'}")


if __name__ == "__main__":
    main()
