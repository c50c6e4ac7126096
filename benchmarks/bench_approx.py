"""Content classification for approximate counts (issue 17): its cost against counting itself.

    python benchmarks/bench_approx.py [--quick]

1. For 1 MB of each kind of text (Python code, prose and Markdown, JSON, CJK, and a mix of
   them), the time `tokens.approx.classify` takes against the time counting the same text
   takes (tiktoken's `encode_ordinary`, one thread, the same encoding), and the time of
   `classify_sampled`, which long plain texts use (a quarter of the text, evenly spread).
   Target: a small fraction (whole: under 20%; sampled: under 5%).
2. The whole pipeline: `tokopt estimate` of a 20 MB file on an approximate model (counting plus
   classification) against the same on an exact one (counting alone), wall and CPU time.
   Target: under 1.05x CPU (a shared machine's wall times vary more than that).
3. Each kind's classes, and how close the classes' weights (characters per o200k_base token,
   `approx.CHARS_PER_TOKEN`) come to the real count (1.00 is exact).

The texts come from this machine's Python installation (its sources, docs, JSON files, and
the CJK samples of its test suite when installed). Each timing is the median of several runs;
only the ratios are meant to be compared between machines.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import time
from decimal import Decimal
from pathlib import Path

from tokopt import tokens
from tokopt.pricing.model import CONTENT_CLASSES
from tokopt.tokens import approx

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
MB = 1 << 20


def _files(suffixes: set[str]) -> list[Path]:
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in suffixes and p.is_file())


def _text(files: list[Path], size: int, name_filter: str = "") -> str:
    out: list[str] = []
    total = 0
    while total < size and files:
        for p in files:
            if name_filter not in p.name:
                continue
            try:
                text = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            out.append(text)
            total += len(text)
            if total >= size:
                break
        if not total:
            return ""
    return "".join(out)[:size]


def samples(size: int) -> dict[str, str]:
    found = {
        "code": _text(_files({".py"}), size),
        "prose": _text(_files({".rst", ".md", ".txt"}), size),
        "json": _text(_files({".json"}), size),
        "cjk": _text(_files({".txt"}), size, "-utf8"),
    }
    found = {k: v for k, v in found.items() if len(v) >= size // 2}
    found["mix"] = "".join(v[: size // len(found)] for v in found.values())
    return found


def _median(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_classify(texts: dict[str, str], runs: int) -> None:
    enc = tokens.get_encoding("o200k_base")
    print(f"1. classification against counting, {len(next(iter(texts.values()))) // 1024:,} K characters each")
    print(f"   {'text':6} {'count':>10} {'classify':>10} {'ratio':>7} {'sampled':>10} {'ratio':>7}")
    for name, text in texts.items():
        count = _median(lambda: enc.encode_ordinary(text), runs)
        whole = _median(lambda: approx.classify(text), runs)
        sampled = _median(lambda: approx.classify_sampled(text), runs)
        print(f"   {name:6} {count * 1000:8.1f}ms {whole * 1000:8.1f}ms {whole / count:6.1%} {sampled * 1000:8.1f}ms {sampled / count:6.1%}")


def bench_pipeline(text: str, runs: int) -> None:
    WORK.mkdir(exist_ok=True)
    path = WORK / "approx-20mb.txt"
    big = (text * (20 * MB // max(1, len(text)) + 1))[: 20 * MB]
    path.write_text(big, encoding="utf-8")
    env = {**os.environ, "TOKOPT_HOME": str(WORK / "home")}

    def run(model: str) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tokopt", "estimate", str(path), "-m", model, "-f", "json"], env=env, stdout=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    exact, approximate = [], []
    for _ in range(runs):  # interleaved, so that a busy moment hits both
        exact.append(run("gpt-5.5"))
        approximate.append(run("claude-opus-4-7"))
    e, a = (statistics.median(w for w, _ in exact), statistics.median(w for w, _ in approximate))
    ce, ca = (statistics.median(c for _, c in exact), statistics.median(c for _, c in approximate))
    print(f"2. tokopt estimate of 20 MB: exact model {e:.2f}s ({ce:.2f}s CPU), approximate model {a:.2f}s ({ca:.2f}s CPU): {a / e:.2f}x wall, {ca / ce:.2f}x CPU")


def weights(texts: dict[str, str]) -> None:
    print("3. classes, and the classes' weights against the real o200k_base count")
    for name, text in texts.items():
        mix = approx.classify(text)
        weight = sum(Decimal(n) / cpt for n, cpt in zip(mix.counts, approx.CHARS_PER_TOKEN))
        shares = ", ".join(f"{c} {float(s):.0%}" for c, s in zip(CONTENT_CLASSES, mix.shares()) if s >= Decimal("0.01"))
        print(f"   {name:6} {float(weight) / tokens.count(text, 'o200k_base'):.2f}  {shares}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, no 20 MB pipeline run")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    texts = samples(MB)
    tokens.count("warm up", "o200k_base")
    bench_classify(texts, runs)
    if not args.quick:
        bench_pipeline(texts["mix"], 5)
    weights(texts)


if __name__ == "__main__":
    main()
