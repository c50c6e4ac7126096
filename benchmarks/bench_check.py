"""CI budgets benchmark (`tokopt check`). Prints ratios from one run.

    python benchmarks/bench_check.py [--quick] [--files N]

A git repository of N prompt files (2 KB each, text from this machine's Python
installation) on `main`, and a branch that changes a quarter of them. One budget covers them
all, priced on the 12 default models.

1. `tokopt check` against `tokopt estimate --per-file` of the same files, whole process,
   both writing JSON: what evaluating budgets adds to counting and pricing. Target: at most
   1.2x. (The rich table of thousands of rows takes longer to draw than all of this: people
   read a table of a few prompts; CI reads markdown, github or junit.)
2. `tokopt check --base main` against `tokopt check`: what reading every file's base
   revision adds (one `git ls-tree`, one `git cat-file --batch`). Target: at most 1.5x.
3. Reading the base revisions with one `git cat-file --batch` against one `git show REF:path`
   per file, the obvious way. Shown as how many times faster the batch is.

Each timing is the median of several interleaved runs; only the ratios are meant to be
compared between machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def texts(n: int, size: int = 2048) -> list[str]:
    """`n` different texts of about `size` characters from this Python's stdlib sources."""
    root = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for p in sorted(root.glob("*.py")):
        try:
            data = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for start in range(0, len(data) - size, size):
            out.append(data[start : start + size])
            if len(out) == n:
                return out
    raise SystemExit("not enough text on this machine")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


def make_repo(root: Path, n: int) -> None:
    git(root, "init", "-q", "-b", "main")
    prompts = root / "prompts"
    prompts.mkdir()
    for i, text in enumerate(texts(n)):
        # a heading first, as prompts have: a chunk that starts with `[]` would be read as JSON
        (prompts / f"p{i:04d}.md").write_text(f"# Prompt {i}\n\n{text}", encoding="utf-8")
    (root / "tokopt.toml").write_text(
        '[defaults]\noutput_tokens = 500\ncalls_per_month = 10000\n\n[[budgets]]\nname = "prompts"\n'
        'paths = ["prompts/**/*.md"]\nmax_tokens = 100000\nmax_cost_per_call = 1\nmax_increase_pct = 1000\n',
        encoding="utf-8",
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "prompts")
    git(root, "checkout", "-q", "-b", "feature")
    for path in sorted(prompts.iterdir())[::4]:
        path.write_text(path.read_text(encoding="utf-8") + "\nOne more instruction.\n", encoding="utf-8")
    git(root, "commit", "-q", "-am", "grow a quarter")


def timed(cmd: list[str], cwd: Path, env: dict[str, str], expect: int = 0) -> float:
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if r.returncode != expect:
        raise SystemExit(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.decode()}")
    return elapsed


def read_with_git_show(root: Path, names: list[str]) -> None:
    for name in names:
        subprocess.run(["git", "show", f"main:{name}"], cwd=root, check=True, capture_output=True)


def read_with_cat_file(root: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from tokopt.inputs import gitrepo

    repo = gitrepo.require(root, "bench")
    files = gitrepo.tree_files(repo, gitrepo.resolve(repo, "main"))
    gitrepo.read_blobs(repo, files.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer files and runs")
    parser.add_argument("--files", type=int, help="how many prompt files (default 500; 100 with --quick)")
    args = parser.parse_args()
    n, runs = (100, 3) if args.quick else (500, 5)
    n = args.files or n
    exe = shutil.which("tokopt", path=os.path.dirname(sys.executable)) or shutil.which("tokopt")
    if not exe:
        raise SystemExit("install tokopt first: pip install -e .")
    with tempfile.TemporaryDirectory(prefix="tokopt-bench-check-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        make_repo(root, n)
        env = {**os.environ, "TOKOPT_HOME": str(Path(tmp) / "home"), "NO_COLOR": "1", "COLUMNS": "200"}
        files = sorted(str(p.relative_to(root)) for p in (root / "prompts").iterdir())
        commands = {
            "estimate": [exe, "estimate", "--per-file", "-f", "json", *files],
            "check": [exe, "check", "-f", "json"],
            "check --base": [exe, "check", "--base", "main", "-f", "json"],
        }
        timed(commands["check"], root, env)  # warm the tokenizer cache
        times: dict[str, list[float]] = {k: [] for k in commands}
        show, batch = [], []
        for _ in range(runs):
            for key, cmd in commands.items():
                times[key].append(timed(cmd, root, env))
            start = time.perf_counter()
            read_with_git_show(root, files)
            show.append(time.perf_counter() - start)
            start = time.perf_counter()
            read_with_cat_file(root)
            batch.append(time.perf_counter() - start)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{n} prompt files of 2 KB, 12 default models, JSON out, median of {runs} runs")
        print(f"  tokopt estimate --per-file   {med['estimate']:.3f} s")
        print(f"  tokopt check                 {med['check']:.3f} s")
        print(f"  tokopt check --base main     {med['check --base']:.3f} s")
        print(f"1. check / estimate:           {med['check'] / med['estimate']:.2f}x (target <= 1.2x)")
        print(f"2. check --base / check:       {med['check --base'] / med['check']:.2f}x (target <= 1.5x)")
        print(
            f"3. base read, cat-file --batch vs git show per file: {statistics.median(show) / statistics.median(batch):.0f}x faster "
            f"({statistics.median(batch) * 1000:.0f} ms vs {statistics.median(show) * 1000:.0f} ms)"
        )


if __name__ == "__main__":
    main()
