"""The count cache (issue 13, target 5). Prints ratios from one run.

    pip install -e . && python benchmarks/bench_cache.py [--quick] [--runs N]

`tokopt estimate` of a 1 MB prompt (real mixed text) on the default models, whole process: run
again with the file unchanged (its counts in the cache) against its first run (the cache
emptied before each pair). Target: at most 0.50x. Also shown: the same for 10 MB.
"""

from __future__ import annotations

import argparse

import _bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 pairs (a smoke test)")
    parser.add_argument("--runs", type=int, default=7, help="pairs per comparison (default 7)")
    args = parser.parse_args()
    runs = 3 if args.quick else max(7, args.runs)
    work = _bench.WORK
    work.mkdir(exist_ok=True)
    env = {**_bench.bench_env(work), "TOKOPT_COUNT_CACHE": "1"}
    cache = work / "home" / "cache" / "counts-v1.bin"
    tokopt = _bench.script("tokopt")
    print("tokopt count-cache benchmark (issue 13, target 5)")
    print(_bench.machine_line())
    for n, size_mb in enumerate((1, 10), 1):
        path = _bench.real_text(work / f"mixed-{size_mb}mb.txt", size_mb << 20)
        outputs = set()

        def again(path=path) -> _bench.Run:
            r = _bench.run([tokopt, "estimate", str(path), "-f", "json"], env)
            outputs.add(r.stdout)
            return r

        def first(path=path) -> _bench.Run:
            cache.unlink(missing_ok=True)
            return again(path)

        # each pair: the first run (no entry), then the same again (its entry written by that run)
        p = _bench.Pairs()
        first(), again()
        for _ in range(runs):
            p.base.append(first())
            p.ours.append(again())
        _bench.report(f"{n}. estimate of {size_mb} MB unchanged / its first run (whole process)", p, target="<= 0.50x", passed=lambda r: r <= 0.5)
        print(f"  the same output both ways: {len(outputs) == 1}")
    print(f"\nload average at the end: {_bench.load()}")


if __name__ == "__main__":
    main()
