"""Core benchmark (issue: exact offline counts and estimates). Prints ratios from one run.

    pip install -e '.[bench]' && python benchmarks/bench_core.py [--quick]

1. `tokopt estimate` of a 2 KB prompt over the default model set, whole process, against
   `ttok -m gpt-4o` on the same file (ttok gets its encoding through TIKTOKEN_CACHE_DIR from
   tokopt's bundled data, so neither touches the network). Target: at most 1.0x.
2. Counting a 50 MB file of real text (built from the text files of this machine's Python
   installation) against single-threaded `encode_ordinary` of the whole text, same encoding.
   Target: at least 1.7x faster on 2 cores, identical count.
3. Peak memory of a process counting that file. Target: under 3x the file size.

Machines are noisy: each timing is the median of several interleaved runs, and only the
ratios are meant to be compared between machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from tokopt import tokens

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"


def real_text(path: Path, size: int) -> Path:
    """`size` bytes of text from this machine's Python installation (sources and docs)."""
    if path.exists() and path.stat().st_size == size:
        return path
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    files = sorted(
        p for root in roots for p in root.rglob("*") if p.suffix in {".py", ".txt", ".rst", ".md"} and p.is_file()
    )
    out = bytearray()
    while len(out) < size:
        for p in files:
            try:
                data = p.read_bytes()
                data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            out += data
            if len(out) >= size:
                break
    # cut at a line end so the file stays valid UTF-8
    cut = out.rfind(b"\n", 0, size) + 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out[:cut]) + b"\n" * (size - cut))
    return path


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def script(name: str) -> str | None:
    """An installed command, looked for next to this Python first: a venv's scripts need not be on PATH."""
    return shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def bench_small_prompt(work: Path, runs: int) -> tuple[float, float]:
    prompt = work / "prompt-2k.txt"
    text = real_text(work / "corpus-64k.txt", 64 * 1024).read_text(encoding="utf-8")
    prompt.write_text(text[:2048], encoding="utf-8")
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tokens.export_tiktoken_cache(work / "tiktoken-cache")), "TOKOPT_HOME": str(work / "home")}
    tokopt = [script("tokopt") or "tokopt", "estimate", str(prompt)]
    ttok = script("ttok")
    if ttok is None:
        sys.exit("ttok is not installed: pip install -e '.[bench]'")
    ttok_cmd = [ttok, "-m", "gpt-4o", "-i", str(prompt)]
    timed(tokopt, env), timed(ttok_cmd, env)  # warm both caches
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(timed(tokopt, env))
        theirs.append(timed(ttok_cmd, env))
    return statistics.median(ours), statistics.median(theirs)


COUNT_SCRIPT = """
import resource, sys, time
from tokopt import inputs, tokens
from tokopt.tokens import measure
enc = tokens.get_encoding(sys.argv[2])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
(src,) = inputs.expand([sys.argv[1]]).sources
(count,) = measure.count_sources([src], [sys.argv[2]])
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count.tokens[sys.argv[2]], elapsed, base * 1024, peak * 1024)
"""

BASELINE_SCRIPT = """
import sys, time
from tokopt import tokens
enc = tokens.get_encoding(sys.argv[2])
start = time.perf_counter()
with open(sys.argv[1], encoding="utf-8", newline="") as fh:
    text = fh.read()
n = len(enc.encode_ordinary(text))
print(n, time.perf_counter() - start)
"""


def bench_large_file(path: Path, encoding: str, runs: int) -> dict[str, float]:
    env = {**os.environ, "TOKOPT_HOME": str(WORK / "home")}
    ours, theirs, peaks, bases = [], [], [], []
    counts = set()
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", COUNT_SCRIPT, str(path), encoding], env=env, capture_output=True, text=True, check=True)
        n, elapsed, base, peak = out.stdout.split()
        counts.add(int(n))
        ours.append(float(elapsed))
        bases.append(float(base))
        peaks.append(float(peak))
        out = subprocess.run([sys.executable, "-c", BASELINE_SCRIPT, str(path), encoding], env=env, capture_output=True, text=True, check=True)
        n, elapsed = out.stdout.split()
        counts.add(int(n))
        theirs.append(float(elapsed))
    return {
        "identical": float(len(counts) == 1),
        "tokens": float(counts.pop()) if len(counts) == 1 else -1.0,
        "ours": statistics.median(ours),
        "baseline": statistics.median(theirs),
        "peak": max(peaks),
        "base": min(bases),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs and a 10 MB file (a smoke test)")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    size_mb = 10 if args.quick else 50
    WORK.mkdir(exist_ok=True)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"tokopt core benchmark — {cores} cores, Python {sys.version.split()[0]}")

    ours, theirs = bench_small_prompt(WORK, runs)
    ratio = ours / theirs
    print(f"\n1. estimate 2 KB prompt, default models, whole process: tokopt {ours:.3f}s, ttok -m gpt-4o {theirs:.3f}s")
    print(f"   ratio tokopt/ttok = {ratio:.2f}x (target <= 1.00x) {'PASS' if ratio <= 1.0 else 'MISS'}")

    corpus = real_text(WORK / f"corpus-{size_mb}mb.txt", size_mb * 1024 * 1024)
    for encoding in ("o200k_base", "cl100k_base"):
        r = bench_large_file(corpus, encoding, max(2, runs // 2))
        speedup = r["baseline"] / r["ours"]
        print(f"\n2. count {size_mb} MB of real text, {encoding}: tokopt {r['ours']:.2f}s, single-threaded encode_ordinary {r['baseline']:.2f}s")
        print(f"   speedup = {speedup:.2f}x (target >= 1.70x on 2 cores) {'PASS' if speedup >= 1.7 else 'MISS'}; identical count: {bool(r['identical'])} ({int(r['tokens']):,} tokens)")
        size = corpus.stat().st_size
        print(
            f"3. peak RSS while counting: {r['peak'] / 2**20:.0f} MB = {r['peak'] / size:.2f}x the file "
            f"(target < 3x) {'PASS' if r['peak'] < 3 * size else 'MISS'}; "
            f"of which counting added {(r['peak'] - r['base']) / 2**20:.0f} MB over the loaded encoder"
        )


if __name__ == "__main__":
    main()
