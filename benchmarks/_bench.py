"""What the performance benchmarks share: the machine, paired runs, ratios, corpora, peak memory.

Every benchmark times tokopt and its baseline in the same run, interleaved (A B A B ...), and
reports the ratio of each pair: min / median / max over the pairs. It measures each process's
wall time and its CPU time (user + system, from wait4): on a shared, loaded machine the wall
time of a single-threaded start-up varies by a third from run to run while its CPU time barely
moves; for parallel work only wall time shows the gain, so the load average is printed before
and after, and a figure measured under load says so.

Peak memory is the measured process's own high-water mark (VmHWM, read by the process itself
at exit), not ru_maxrss from wait4: on Linux a child's ru_maxrss includes the high-water mark
of the parent it was forked from.
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
# Inputs that tokopt walks as a directory live outside the repository: its .gitignore leaves
# out benchmarks/.work/, and a walk honours it.
OUTSIDE = Path(tempfile.gettempdir()) / "tokopt-bench"


# --- the machine ------------------------------------------------------------------------------


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine_line() -> str:
    return (
        f"machine: {cores()} cores, {cpu_model()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average {load()}"
    )


# --- commands ----------------------------------------------------------------------------------


def script(name: str) -> str:
    """An installed command, looked for next to this Python first: a venv's scripts need not be on PATH."""
    found = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        sys.exit(f"{name} is not installed: pip install -e '.[bench]'")
    return found


def bench_env(work: Path) -> dict[str, str]:
    """tokopt's and tiktoken's caches inside the work directory, filled, so nothing touches the network."""
    from tokopt import tokens

    # Installed packages have their bytecode compiled; a shell that forbids writing it
    # (PYTHONDONTWRITEBYTECODE) would make every run compile tokopt's sources again.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKOPT_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["TOKOPT_HOME"] = str(work / "home")
    env["TIKTOKEN_CACHE_DIR"] = str(tokens.export_tiktoken_cache(work / "tiktoken-cache"))
    env["COLUMNS"] = "120"
    # Every run counts: a repeated input would otherwise be answered by the count cache
    # (bench_cache.py turns it on to measure exactly that).
    env["TOKOPT_COUNT_CACHE"] = "0"
    return env


@dataclass
class Run:
    wall: float
    cpu: float
    stdout: str


def run(cmd: Sequence[str], env: dict[str, str], *, stdin: Path | None = None, cwd: Path | None = None) -> Run:
    """One process, timed: wall clock and its own CPU time; fails loudly if it fails."""
    with tempfile.TemporaryFile() as out, (stdin.open("rb") if stdin else open(os.devnull, "rb")) as inp:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), env=env, stdin=inp, stdout=out, stderr=subprocess.PIPE, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if proc.returncode not in (0, 1):
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
        out.seek(0)
        return Run(wall, usage.ru_utime + usage.ru_stime, out.read().decode(errors="replace"))


def run_together(cmds: Sequence[Sequence[str]], env: dict[str, str]) -> Run:
    """Processes started at once, timed until the last ends: wall clock, and the sum of their
    CPU times; stdout is theirs joined, one line each."""
    outs = [tempfile.TemporaryFile() for _ in cmds]
    try:
        start = time.perf_counter()
        procs = [subprocess.Popen(list(c), env=env, stdin=subprocess.DEVNULL, stdout=o, stderr=subprocess.DEVNULL) for c, o in zip(cmds, outs)]
        cpu = 0.0
        for proc in procs:
            _, status, usage = os.wait4(proc.pid, 0)
            cpu += usage.ru_utime + usage.ru_stime
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"failed: {' '.join(proc.args)}")  # type: ignore[arg-type]
        wall = time.perf_counter() - start
        text = ""
        for o in outs:
            o.seek(0)
            text += o.read().decode(errors="replace")
        return Run(wall, cpu, text)
    finally:
        for o in outs:
            o.close()


@dataclass
class Pairs:
    """Interleaved runs of a measured command and its baseline."""

    ours: list[Run] = field(default_factory=list)
    base: list[Run] = field(default_factory=list)

    def ratios(self, what: str = "wall") -> list[float]:
        return [getattr(a, what) / getattr(b, what) for a, b in zip(self.ours, self.base)]

    def median(self, side: str, what: str = "wall") -> float:
        return statistics.median(getattr(r, what) for r in getattr(self, side))


def paired(ours: Callable[[], Run], base: Callable[[], Run], n: int, *, warm: bool = True) -> Pairs:
    if warm:
        ours(), base()
    pairs = Pairs()
    for i in range(n):
        # alternate which goes first, so that neither always runs right after the other
        if i % 2:
            pairs.base.append(base())
            pairs.ours.append(ours())
        else:
            pairs.ours.append(ours())
            pairs.base.append(base())
    return pairs


def spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def report(title: str, pairs: Pairs, *, target: str, passed: Callable[[float], bool], cpu: bool = True, inverse: bool = False) -> float:
    """Print one target's ratios (median and min–max over the pairs) and return the median.

    `inverse`: report baseline / ours (a speed-up) instead of ours / baseline."""
    wall = pairs.ratios("wall")
    cpus = pairs.ratios("cpu")
    if inverse:
        wall = [1 / r for r in wall]
        cpus = [1 / r for r in cpus]
    med = statistics.median(wall)
    verdict = "PASS" if passed(med) else "MISS"
    print(f"\n{title}")
    print(f"  ours {pairs.median('ours'):.3f}s, baseline {pairs.median('base'):.3f}s (medians of {len(wall)} pairs, wall)")
    print(f"  wall ratio {spread(wall)}  target {target}  {verdict}")
    if cpu:
        print(f"  cpu ratio  {spread(cpus)}  (user+sys: what load does not change much)")
    return med


# --- memory ------------------------------------------------------------------------------------

PEAK_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                with open(os.environ["BENCH_PEAK_FILE"], "w") as out:
                    out.write(str(int(line.split()[1]) * 1024))
atexit.register(_peak)
sys.argv = ["tokopt", *sys.argv[1:]]
runpy.run_module("tokopt", run_name="__main__")
"""


def peak_rss(args: Sequence[str], env: dict[str, str]) -> int:
    """The peak resident memory of `tokopt ARGS`, as the process itself saw it (VmHWM)."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "peak"
        run([sys.executable, "-c", PEAK_WRAPPER, *args], {**env, "BENCH_PEAK_FILE": str(target)})
        return int(target.read_text())


# --- corpora -----------------------------------------------------------------------------------

MULTILINGUAL = [
    "日本語のテキストは、ひらがなとカタカナと漢字で書かれています。東京で会いましょう。\n",
    "中文文本的分词方式与英文不同，每个汉字通常是一个或多个词元。\n",
    "한국어 텍스트도 섞여 있습니다. 토큰 수를 정확하게 셉니다.\n",
    "Русский текст: съешь же ещё этих мягких французских булок, да выпей чаю.\n",
    "النص العربي يكتب من اليمين إلى اليسار، وهذه جملة للاختبار.\n",
    "Ελληνικά: ξεσκεπάζω την ψυχοφθόρα βδελυγμία. naïve café déjà vu — “quotes” ✓\n",
    "emoji 👩‍👩‍👧‍👦 🇺🇳 ✨ 🎉 mixed with text, and a JSON {\"role\": \"user\", \"content\": \"hi\"}\r\n",
]


def real_text(path: Path, size: int, *, mixed: bool = True) -> Path:
    """`size` bytes of real text: this Python installation's sources and docs, with (if `mixed`)
    one block of other scripts in about every 40 lines. Made once and kept in the work dir."""
    if path.exists() and path.stat().st_size == size:
        return path
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    files = sorted(p for root in roots for p in root.rglob("*") if p.suffix in {".py", ".txt", ".rst", ".md"} and p.is_file())
    rng = random.Random(13)
    out = bytearray()
    while len(out) < size:
        for p in files:
            try:
                data = p.read_bytes()
                data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if mixed:
                lines = data.splitlines(keepends=True)
                for i in range(0, len(lines), 40):
                    out += b"".join(lines[i : i + 40])
                    out += rng.choice(MULTILINGUAL).encode()
            else:
                out += data
            if len(out) >= size:
                break
    # cut at a line end so the file stays valid UTF-8
    cut = out.rfind(b"\n", 0, size) + 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out[:cut]) + b"\n" * (size - cut))
    return path
