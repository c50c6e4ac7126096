"""Output (issue 13, target 4). Prints ratios from one run.

    pip install -e . && python benchmarks/bench_output.py [--quick] [--runs N] [--files N]

A git repository of 500 prompt files of 2 KB (real text, a heading line each) under one budget,
priced on the 12 default models.

1. `tokopt check` (the table) against `tokopt check -f json`, whole process. Target: at most 1.3x.
2. JSON through the json module's C encoder: the check document of those 500 files as tokopt
   writes it (compact) against the same document written with indent=2 (which takes json's
   pure-Python encoder), in one process. Shown as how many times faster the C encoder is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import _bench

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def repo(work: Path, n: int) -> Path:
    root = work / f"check-{n}"
    if (root / ".git").is_dir():
        return root
    (root / "prompts").mkdir(parents=True)
    text = _bench.real_text(work / "corpus-2mb.txt", 2 << 20, mixed=False).read_text(encoding="utf-8")
    for i in range(n):
        (root / "prompts" / f"p{i:04d}.md").write_text(f"# prompt {i}\n" + text[i * 2048 : (i + 1) * 2048], encoding="utf-8")
    (root / "tokopt.toml").write_text(
        '[defaults]\noutput_tokens = 500\ncalls_per_month = 10000\n\n[[budgets]]\nname = "prompts"\n'
        'paths = ["prompts/**/*.md"]\nmax_tokens = 100000\nmax_cost_per_call = 1\n',
        encoding="utf-8",
    )
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "prompts"]):
        subprocess.run(["git", *cmd], cwd=root, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)
    return root


ENCODE = """
import json, sys, time
from tokopt.render import machine
doc = json.loads(sys.stdin.read())
best = {}
for _ in range(int(sys.argv[1])):
    for name, write in (("c", lambda: machine.to_json(doc)), ("indent", lambda: machine.to_json(doc, pretty=True))):
        start = time.perf_counter()
        write()
        best.setdefault(name, []).append(time.perf_counter() - start)
print(json.dumps(best))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 pairs (a smoke test)")
    parser.add_argument("--runs", type=int, default=7, help="pairs per comparison (default 7)")
    parser.add_argument("--files", type=int, default=500, help="prompt files (default 500)")
    args = parser.parse_args()
    runs = 3 if args.quick else max(7, args.runs)
    work = _bench.WORK
    work.mkdir(exist_ok=True)
    env = {**_bench.bench_env(work), "COLUMNS": "120"}
    tokopt = _bench.script("tokopt")
    root = repo(work, args.files)
    print("tokopt output benchmark (issue 13, target 4)")
    print(_bench.machine_line())

    p = _bench.paired(
        lambda: _bench.run([tokopt, "check"], env, cwd=root),
        lambda: _bench.run([tokopt, "check", "-f", "json"], env, cwd=root),
        runs,
    )
    _bench.report(f"1. check of {args.files} files: the table / JSON (whole process)", p, target="<= 1.30x", passed=lambda r: r <= 1.3)

    doc = _bench.run([tokopt, "check", "-f", "json"], env, cwd=root).stdout
    out = subprocess.run([sys.executable, "-c", ENCODE, str(runs)], input=doc, capture_output=True, text=True, env=env, check=True)
    times = json.loads(out.stdout)
    ratios = [i / c for c, i in zip(times["c"], times["indent"])]
    print(f"\n2. writing that JSON document ({len(doc) / 1024:.0f} KB compact): indent=2 / the C encoder = {_bench.spread(ratios)} "
          f"({min(times['c']) * 1000:.1f} ms against {min(times['indent']) * 1000:.1f} ms)")
    print(f"\nload average at the end: {_bench.load()}")


if __name__ == "__main__":
    main()
