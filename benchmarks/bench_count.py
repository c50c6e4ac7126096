"""Counting large inputs on every core (issue 13, target 1). Prints ratios from one run.

    pip install -e '.[bench]' && python benchmarks/bench_count.py [--quick] [--runs N]

1. `tokopt tokenize -e ENC FILE` of 50 MB of real mixed text (this Python's sources and docs,
   with a block of other scripts every 40 lines), whole process, against tiktoken counting the
   same file on one thread, whole process too (import, load its encoding from its cache, read,
   count). The baseline counts with tiktoken's core buffer encoder, the fastest single-thread
   way (no list of ids); `encode_ordinary`, the public API, is slower still. Target: at least
   1.7x faster on 2 cores, identical counts.
2. Peak memory of `tokopt tokenize` on that file, measured by the process itself. Target: under
   3x the file.
3. The same comparison on 1 MB. Target: no slower than tiktoken (ratio at most 1.0).

The ceiling: in the same rounds as target 1, one tiktoken process per core, started together,
each counting its share of the file (read as bytes, its range decoded). No program can count
the file faster on this machine at that moment than these independent processes, which share
nothing; tokopt's speed-up is printed beside it as a share of it.

A parallel speed-up is only visible in wall time: on a loaded machine, compare the load average
printed before and after, and re-run.
"""

from __future__ import annotations

import argparse
import json
import sys

import _bench

BASELINE = """
import sys
import tiktoken
enc = tiktoken.get_encoding(sys.argv[2])
if sys.argv[3].startswith("part"):  # part:I/N: the I-th of N byte ranges, cut after a newline
    i, n = map(int, sys.argv[3][5:].split("/"))
    with open(sys.argv[1], "rb") as fh:
        data = fh.read()
    def cut(k):
        return 0 if k == 0 else len(data) if k == n else data.index(b"\\n", len(data) * k // n) + 1
    text = data[cut(i) : cut(i + 1)].decode("utf-8")
    del data
    print(memoryview(enc._core_bpe.encode_to_tiktoken_buffer(text, set())).nbytes // 4)
    sys.exit()
with open(sys.argv[1], encoding="utf-8", newline="") as fh:
    text = fh.read()
if sys.argv[3] == "buffer":
    n = memoryview(enc._core_bpe.encode_to_tiktoken_buffer(text, set())).nbytes // 4
else:
    n = len(enc.encode_ordinary(text))
print(n)
"""


def large(ours, tiktoken, halves, counts, encoding, big, size_mb, runs, env) -> None:
    """Steps 1 and 2: the large count against tiktoken and the machine's ceiling, and peak memory."""
    pairs, ceiling = _bench.Pairs(), _bench.Pairs()
    ours(), tiktoken(), halves()  # warm the page cache and the caches
    for i in range(runs):
        # one round: tokopt, tiktoken, and the machine's ceiling, in a rotating order, so
        # that all three see about the same load
        runs_of = {"ours": ours, "base": tiktoken, "ceiling": halves}
        order = ["ours", "base", "ceiling"][i % 3 :] + ["ours", "base", "ceiling"][: i % 3]
        got = {name: runs_of[name]() for name in order}
        pairs.ours.append(got["ours"])
        pairs.base.append(got["base"])
        ceiling.ours.append(got["ceiling"])
        ceiling.base.append(got["base"])
    _bench.report(
        f"1. {size_mb} MB, {encoding}: tiktoken on one thread / tokopt on {_bench.cores()} cores (speed-up, whole process)",
        pairs,
        target=">= 1.70x",
        passed=lambda r: r >= 1.7,
        inverse=True,
    )
    print(f"  identical counts: {len(counts) == 1} ({', '.join(f'{c:,}' for c in sorted(counts))} tokens)")
    limit = [1 / r for r in ceiling.ratios()]
    print(f"\n  the machine's ceiling in the same rounds: {_bench.cores()} tiktoken processes started together, each counting")
    print(f"  its share of the file: speed-up {_bench.spread(limit)} over one (wall; {ceiling.median('ours'):.3f}s)")
    share = [c.wall / o.wall for c, o in zip(ceiling.ours, pairs.ours)]
    print(f"  tokopt's speed-up as a share of the ceiling, per round: {_bench.spread(share)}")
    public = _bench.paired(lambda: ours(), lambda: tiktoken(how="list"), max(3, runs // 2), warm=False)
    print(f"  against encode_ordinary (the public API, a list of ids): speed-up {_bench.spread([1 / r for r in public.ratios()])}")

    peak = _bench.peak_rss(["tokenize", "-e", encoding, "-f", "json", str(big)], env)
    size = big.stat().st_size
    verdict = "PASS" if peak < 3 * size else "MISS"
    print(f"\n2. peak memory of tokopt tokenize, {encoding}: {peak / 2**20:.0f} MB = {peak / size:.2f}x the file  target < 3x  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 pairs and a 10 MB file (a smoke test)")
    parser.add_argument("--runs", type=int, default=7, help="pairs per comparison (default 7)")
    parser.add_argument("--encodings", default="o200k_base,cl100k_base")
    parser.add_argument("--small-only", action="store_true", help="only step 3, the 1 MB comparison")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    size_mb = 10 if args.quick else 50
    work = _bench.WORK
    work.mkdir(exist_ok=True)
    env = _bench.bench_env(work)
    tokopt = _bench.script("tokopt")
    print("tokopt counting benchmark (issue 13, target 1)")
    print(_bench.machine_line())

    big = work / f"mixed-{size_mb}mb.txt" if args.small_only else _bench.real_text(work / f"mixed-{size_mb}mb.txt", size_mb << 20)
    small = _bench.real_text(work / "mixed-1mb.txt", 1 << 20)
    for encoding in args.encodings.split(","):
        counts: set[int] = set()

        def ours(path=big, encoding=encoding) -> _bench.Run:
            r = _bench.run([tokopt, "tokenize", "-e", encoding, "-f", "json", str(path)], env)
            counts.add(json.loads(r.stdout)["inputs"][0][f"{encoding}_tokens"])
            return r

        def tiktoken(path=big, encoding=encoding, how="buffer") -> _bench.Run:
            r = _bench.run([sys.executable, "-c", BASELINE, str(path), encoding, how], env)
            counts.add(int(r.stdout))
            return r

        def halves(path=big, encoding=encoding) -> _bench.Run:
            n = _bench.cores()
            return _bench.run_together([[sys.executable, "-c", BASELINE, str(path), encoding, f"part:{i}/{n}"] for i in range(n)], env)

        if not args.small_only:
            large(ours, tiktoken, halves, counts, encoding, big, size_mb, runs, env)

        counts.clear()
        pairs = _bench.paired(lambda: ours(small), lambda: tiktoken(small), runs)
        _bench.report(f"3. 1 MB, {encoding}: tokopt / tiktoken (whole process)", pairs, target="<= 1.00x", passed=lambda r: r <= 1.0)
        print(f"  identical counts: {len(counts) == 1}")
    print(f"\nload average at the end: {_bench.load()}")


if __name__ == "__main__":
    main()
