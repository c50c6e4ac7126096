"""Start-up: a run builds only its own command, and option values are converted as typer
converts them without building typer's pydantic schemas."""

from __future__ import annotations

import ast
import enum
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer._coercion import build_runtime_param
from typer.core import _TyperParameter
from typer.testing import CliRunner

from tokopt import cli
from tokopt.cli import _coerce

ROOT = typer.main.get_command(cli.app)
SAMPLES = ["", "0", "7", "-3", "+5", " 5", "5_000", "1.5", "abc", "-", "table", "JSON", "json", "o200k_base", "cost", "x.toml", "./dir/../f.txt"]


def _params():
    def walk(cmd, path):
        for p in [*cmd.params]:
            if isinstance(p, _TyperParameter):
                yield f"{path} {p.name}", p
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    return list(walk(ROOT, "tokopt"))


def _outcome(conversion, value, param, ctx):
    try:
        result = conversion.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return ("error", type(exc).__name__, str(exc))
    return ("value", type(result).__name__, repr(result))


@pytest.mark.parametrize("where,param", _params(), ids=lambda x: x if isinstance(x, str) else "")
def test_direct_conversion_gives_what_typer_gives(where, param, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.toml").write_text("")
    multi = param.multiple or param.nargs == -1
    values: list = [None] + ([tuple(SAMPLES[i : i + 3]) for i in range(0, len(SAMPLES), 3)] + [()] if multi else SAMPLES + [3, Path("x.toml")])
    annotation = param.type_descriptor.annotation
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values += list(annotation)
    ctx = ROOT.make_context("tokopt", [], resilient_parsing=True)
    direct, typers = _coerce.DirectConversion(param.type_descriptor), build_runtime_param(param.type_descriptor)
    for value in values:
        assert _outcome(direct, value, param, ctx) == _outcome(typers, value, param, ctx), (where, value)


def _help_and_error(application, name):
    runner = CliRunner()
    outputs = []
    for args in ([name, "--help"], [name, "--no-such-option"], [name, "-f", "bogus"]):
        r = runner.invoke(application, args)
        outputs.append((r.exit_code, r.output))
    return outputs


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_an_app_of_one_command_behaves_as_the_whole_app(name):
    assert _help_and_error(cli.build_app(name), name) == _help_and_error(cli.app, name)


def _modules_after(args: list[str], tmp_path: Path) -> list[str]:
    code = (
        "import atexit, sys\n"
        "watch = ('tokopt.cli.' + m for m in ('estimate', 'tokenize', 'models', 'prices', 'session', 'check', 'init', 'suggest'))\n"
        "atexit.register(lambda: print(sorted(m for m in [*watch, 'typer._adapters'] if m in sys.modules), file=sys.stderr))\n"
        f"sys.argv = ['tokopt', *{args!r}]\n"
        "from tokopt.cli import main\n"
        "main()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return ast.literal_eval(r.stderr.strip().splitlines()[-1])


def test_a_run_builds_only_its_own_command_and_no_pydantic_schema_per_option(tmp_path):
    (tmp_path / "p.txt").write_text("hello world\n")
    assert _modules_after(["estimate", "p.txt", "-f", "json", "-o", "10"], tmp_path) == ["tokopt.cli.estimate"]
    assert _modules_after(["tokenize", "p.txt", "--format", "csv"], tmp_path) == ["tokopt.cli.tokenize"]
    assert len(_modules_after(["--help"], tmp_path)) == 8
