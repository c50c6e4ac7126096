"""Many small prompts (issue 13, target 3). Prints ratios from one run.

    pip install -e . && python benchmarks/bench_many_files.py [--quick] [--runs N] [--files N]

The same 2 MB of real mixed text (this Python's sources and docs, with a block of other scripts
every 40 lines) as one file, and cut into 10,000 files of about 210 bytes, each starting with a
heading line (prompts, not JSON). `tokopt estimate` on the default models, JSON output, whole
process:

1. the directory of 10,000 files against the one file. Target: at most 2.0x.
2. memory: the peak of the run over the directory less the peak over the one file, per file,
   each measured by the process itself. Target: at most 5 KB a file.
3. for information: the same with --per-file (each file priced on every model on its own).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import _bench


def corpus(work: Path, n_files: int) -> tuple[Path, Path]:
    """(directory of n_files prompts, one file of the same text)."""
    folder = _bench.OUTSIDE / f"prompts-{n_files}"
    whole = _bench.OUTSIDE / f"prompts-{n_files}.txt"
    if folder.is_dir() and whole.exists() and len(list(folder.iterdir())) == n_files:
        return folder, whole
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    text = _bench.real_text(work / "mixed-2mb.txt", 2 << 20).read_text(encoding="utf-8")
    size = len(text) // n_files
    parts = []
    for i in range(n_files):
        part = f"# prompt {i}\n" + text[i * size : (i + 1) * size]
        (folder / f"p{i:05d}.txt").write_text(part, encoding="utf-8")
        parts.append(part)
    whole.write_text("".join(parts), encoding="utf-8")
    return folder, whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 pairs (a smoke test)")
    parser.add_argument("--runs", type=int, default=7, help="pairs per comparison (default 7)")
    parser.add_argument("--files", type=int, default=10_000, help="how many files (default 10,000)")
    args = parser.parse_args()
    runs = 3 if args.quick else max(7, args.runs)
    work = _bench.WORK
    work.mkdir(exist_ok=True)
    env = _bench.bench_env(work)
    tokopt = _bench.script("tokopt")
    folder, whole = corpus(work, args.files)
    size = sum(p.stat().st_size for p in folder.iterdir())
    print("tokopt many-files benchmark (issue 13, target 3)")
    print(_bench.machine_line())
    print(f"{args.files:,} files, {size / 2**20:.2f} MB in all; one file of the same text")

    def many(*extra: str) -> _bench.Run:
        return _bench.run([tokopt, "estimate", str(folder), "-f", "json", *extra], env)

    def one() -> _bench.Run:
        return _bench.run([tokopt, "estimate", str(whole), "-f", "json"], env)

    p = _bench.paired(many, one, runs)
    _bench.report(f"1. estimate of {args.files:,} files / of one file of the same text", p, target="<= 2.00x", passed=lambda r: r <= 2.0)

    peaks_many = [_bench.peak_rss(["estimate", str(folder), "-f", "json"], env) for _ in range(3)]
    peaks_one = [_bench.peak_rss(["estimate", str(whole), "-f", "json"], env) for _ in range(3)]
    per_file = (min(peaks_many) - min(peaks_one)) / args.files
    print(f"\n2. peak memory: {min(peaks_many) / 2**20:.0f} MB over the files, {min(peaks_one) / 2**20:.0f} MB over one file: "
          f"{per_file / 1024:.1f} KB a file  target <= 5 KB  {'PASS' if per_file <= 5 * 1024 else 'MISS'}")

    p = _bench.paired(lambda: many("--per-file"), one, max(3, runs // 2), warm=False)
    print(f"\n3. with --per-file (every file priced on every model): {_bench.spread(p.ratios())} x one file")
    print(f"\nload average at the end: {_bench.load()}")


if __name__ == "__main__":
    main()
