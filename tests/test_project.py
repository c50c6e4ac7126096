"""The project as a user meets it: the README's commands, the installed command, the layers."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO

def _core_modules() -> list[str]:
    """Every module of the package except the command layer and the one rich renderer."""
    src = REPO / "src"
    names = []
    for path in sorted((src / "tokopt").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] in ("__init__", "__main__"):
            parts.pop()
            if path.name == "__main__.py":
                continue
        name = ".".join(parts)
        if name.startswith("tokopt.cli") or name == "tokopt.render.table":
            continue
        names.append(name)
    return names


CORE_MODULES = _core_modules()


def python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=REPO)


def readme_block(heading: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    commands = [line for line in readme_block("Quick start").splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    install_and_run, test = commands
    assert "tokopt estimate examples/prompt.txt" in install_and_run
    assert (REPO / "examples" / "prompt.txt").is_file()
    assert test in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_quick_start_names_the_python_the_package_requires():
    import tomllib

    required = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    version = re.fullmatch(r">=\s*(3\.\d+)", required)
    assert version, required
    quick_start = (REPO / "README.md").read_text(encoding="utf-8").split("## Quick start\n", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"Python (3\.\d+) or newer", quick_start) == [version.group(1)]


def test_core_modules_import_neither_typer_nor_rich():
    code = f"import sys; [__import__(m) for m in {CORE_MODULES!r}]; print(sorted(m for m in ('typer', 'rich') if m in sys.modules))"
    r = python("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def heavy_modules_after(args: list[str]) -> list[str]:
    code = (
        "import sys; from tokopt.cli import app\n"
        f"try: app({args!r})\n"
        "except SystemExit: pass\n"
        "print([m for m in ('tiktoken', 'pydantic', 'sqlite3') if m in sys.modules], file=sys.stderr)"
    )
    r = python("-c", code)
    return ast.literal_eval(r.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_stay_light(args):
    assert heavy_modules_after(args) == []


@pytest.mark.parametrize("command", ["estimate", "tokenize", "models"])
def test_command_help_loads_no_tokenizer_or_database(command):
    # typer itself builds pydantic adapters for a command's options, so only these two
    assert set(heavy_modules_after([command, "--help"])) <= {"pydantic"}


def test_tokenize_of_a_small_prompt_builds_no_tokenizer_and_no_usage_models(tmp_path):
    # Start-up is most of a small prompt's time (issue 13): its few thousand rank lookups need
    # neither tiktoken's encoder nor tokopt.usage and the models around it.
    prompt = tmp_path / "p.txt"
    prompt.write_text("Summarise this text in one line, please. naïve café\n", encoding="utf-8")
    code = (
        "import sys; from tokopt.cli import app\n"
        f"try: app(['tokenize', '-f', 'json', {str(prompt)!r}])\n"
        "except SystemExit as e: assert not e.code, e.code\n"
        "print([m for m in ('tiktoken', 'tokopt.usage', 'sqlite3') if m in sys.modules], file=sys.stderr)"
    )
    r = python("-c", code)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total"]["o200k_base_tokens"] > 0
    assert ast.literal_eval(r.stderr.strip().splitlines()[-1]) == []


def test_python_dash_m_and_version():
    from tokopt import __version__

    assert python("-m", "tokopt", "--help").returncode == 0
    r = python("-m", "tokopt", "--version")
    assert r.returncode == 0 and r.stdout.strip() == f"tokopt {__version__}"


def test_console_script_estimates_the_example_prompt():
    exe = shutil.which("tokopt", path=os.path.dirname(sys.executable)) or shutil.which("tokopt")
    assert exe, "the tokopt console script is not installed"
    r = subprocess.run([exe, "estimate", "examples/prompt.txt", "-f", "json"], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["inputs"][0]["tokens"]["o200k_base"] > 300 and len(doc["models"]) >= 9


def test_a_broken_install_is_an_internal_error_exit_3(tmp_path):
    # A copy of the package whose bundled tokenizer data does not match its pinned hash.
    copy = tmp_path / "site" / "tokopt"
    shutil.copytree(REPO / "src" / "tokopt", copy)
    data = copy / "data" / "o200k_base.tiktoken.gz"
    import gzip

    raw = bytearray(gzip.decompress(data.read_bytes()))
    raw[10] ^= 1
    data.write_bytes(gzip.compress(bytes(raw), compresslevel=1))  # level 9 took 0.4 s
    (tmp_path / "prompt.txt").write_text("hello")
    r = subprocess.run(
        [sys.executable, "-c", "from tokopt.cli import main; main()", "estimate", str(tmp_path / "prompt.txt"), "-m", "gpt-5.5"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site"), "TOKOPT_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert r.returncode == 3, r.stderr
    assert "Traceback" in r.stderr and "does not match tiktoken's pinned" in r.stderr
    assert "error: internal error" in r.stderr


def test_wheel_carries_pricing_and_tokenizer_data(tmp_path):
    # with the build backend of the test extra: no index to reach, no build environment to make
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("tokopt-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n.rsplit("/", 1)[-1] for n in names if re.fullmatch(r"tokopt/pricing/data/[a-z]+\.toml", n))
    assert shipped == sorted(p.name for p in (REPO / "pricing").glob("*.toml"))
    assert {"tokopt/data/o200k_base.tiktoken.gz", "tokopt/data/cl100k_base.tiktoken.gz"} <= set(names)
