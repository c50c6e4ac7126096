"""Conversations benchmark (issue: chat transcripts and request files). Prints ratios from one run.

    pip install -e . && python benchmarks/bench_conversations.py [--quick] [--size-mb N]

1. A 100 MB OpenAI Batch input file (generated here, deterministically: real text from this
   machine's Python installation cut into system/user/assistant turns, 1 to 3 exchanges per
   request) priced end to end by `tokopt estimate FILE --format json`, whole process, against
   counting the same message texts with tiktoken alone: one thread, `encode_ordinary` on
   each text already in memory (reading and parsing the file are not timed for the
   baseline). Target: at most 1.3x. The two text-token totals must be identical.
2. Peak memory (max RSS) of that process for the file at two sizes (a quarter, and all of
   it). Target: the same for both, i.e. memory independent of the file's size.

Machines are noisy, and other processes may hold a core: each timing is the median of several
interleaved runs, the CPU time of the run is printed next to its wall time, and so is the load
average. Only the ratios are meant to be compared between machines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
MODEL = "gpt-5.4-mini"
SYSTEM = "You are a careful reviewer. Point out bugs first, then style, in at most five bullet points."


def corpus(size: int) -> str:
    """About `size` characters of real text: the sources and docs of this Python installation."""
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    files = sorted(p for root in roots for p in root.rglob("*") if p.suffix in {".py", ".txt", ".rst", ".md"} and p.is_file())
    parts, n = [], 0
    for p in files:
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        parts.append(text)
        n += len(text)
        if n >= size:
            break
    return "".join(parts)


def batch_file(path: Path, size: int, text: str) -> Path:
    """A batch input file of about `size` bytes; the same bytes on every run on this machine."""
    if path.exists() and abs(path.stat().st_size - size) < 64 * 1024:
        return path
    rng = random.Random(20260718)
    written = i = 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        while written < size:
            messages = [{"role": "system", "content": SYSTEM}]
            for _ in range(rng.choice((1, 1, 2, 3))):
                at = rng.randrange(len(text) - 8000)
                ask = rng.randrange(300, 4000)
                answer = rng.randrange(80, 800)
                messages.append({"role": "user", "content": text[at : at + ask]})
                messages.append({"role": "assistant", "content": text[at + ask : at + ask + answer]})
            messages.pop()  # every request ends with the user's turn
            body = {"model": MODEL, "max_completion_tokens": rng.choice((256, 512, 1024)), "messages": messages}
            line = json.dumps({"custom_id": f"review-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}, ensure_ascii=False)
            out.write(line + "\n")
            written += len(line.encode("utf-8")) + 1
            i += 1
    tmp.replace(path)
    return path


BASELINE = """
import json, sys, time
from tokopt import tokens
enc = tokens.get_encoding("o200k_base")
texts = []
with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        texts.extend(m["content"] for m in json.loads(line)["body"]["messages"])
start = time.perf_counter()
n = sum(len(enc.encode_ordinary(t)) for t in texts)
print(n, time.perf_counter() - start)
"""


def run_timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall time, CPU time (user + system), peak RSS in bytes, and stdout of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, out.decode()


def ours(path: Path, env: dict[str, str]) -> tuple[float, float, int, int]:
    # the tokopt installed next to this interpreter, else the one on PATH
    tokopt = shutil.which("tokopt", path=str(Path(sys.executable).parent)) or shutil.which("tokopt") or "tokopt"
    wall, cpu, peak, out = run_timed([tokopt, "estimate", str(path), "--format", "json"], env)
    doc = json.loads(out)
    return wall, cpu, peak, doc["inputs"][0]["tokens"]["o200k_base"]


def baseline(path: Path, env: dict[str, str]) -> tuple[float, int]:
    _, _, _, out = run_timed([sys.executable, "-c", BASELINE, str(path)], env)
    n, seconds = out.split()
    return float(seconds), int(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 20 MB file and fewer runs (a smoke test)")
    parser.add_argument("--size-mb", type=int, default=None, help="size of the large file (default 100)")
    args = parser.parse_args()
    size_mb = args.size_mb or (20 if args.quick else 100)
    runs = 2 if args.quick else 3
    WORK.mkdir(exist_ok=True)
    env = {**os.environ, "TOKOPT_HOME": str(WORK / "home")}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"tokopt conversations benchmark — {cores} cores, Python {sys.version.split()[0]}")

    text = corpus(12_000_000)
    large = batch_file(WORK / f"batch-{size_mb}mb.jsonl", size_mb * 1_000_000, text)
    small = batch_file(WORK / f"batch-{size_mb // 4}mb.jsonl", size_mb * 1_000_000 // 4, text)
    requests = sum(1 for _ in large.open("rb"))
    ours(small, env)  # warm the tokenizer cache and the page cache

    walls, cpus, peaks, bases = [], [], [], []
    counts: set[int] = set()
    load = os.getloadavg()[0]
    for _ in range(runs):
        wall, cpu, peak, n = ours(large, env)
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
        counts.add(n)
        seconds, n = baseline(large, env)
        bases.append(seconds)
        counts.add(n)
    load = max(load, os.getloadavg()[0])
    wall, cpu, base = statistics.median(walls), statistics.median(cpus), statistics.median(bases)
    ratio = wall / base
    print(f"\n1. price a {large.stat().st_size / 1e6:.0f} MB batch file ({requests:,} requests), whole process: "
          f"tokopt {wall:.2f}s wall ({cpu:.2f}s CPU); tiktoken alone on the same texts {base:.2f}s")
    print(f"   ratio tokopt/tiktoken = {ratio:.2f}x (target <= 1.30x) {'PASS' if ratio <= 1.3 else 'MISS'}; "
          f"CPU ratio {cpu / base:.2f}x; identical text tokens: {len(counts) == 1} ({min(counts):,}); "
          f"load average during the runs up to {load:.2f}")

    small_peaks = [ours(small, env)[2] for _ in range(runs)]
    peak_small, peak_large = min(small_peaks), min(peaks)
    grows = (peak_large - peak_small) / 2**20
    print(f"\n2. peak RSS: {peak_small / 2**20:.0f} MB for {small.stat().st_size / 1e6:.0f} MB, "
          f"{peak_large / 2**20:.0f} MB for {large.stat().st_size / 1e6:.0f} MB "
          f"({grows:+.0f} MB for {(large.stat().st_size - small.stat().st_size) / 1e6:.0f} MB more input) "
          f"{'PASS' if abs(grows) < 32 else 'MISS'} (target: independent of the file's size)")


if __name__ == "__main__":
    main()
