"""The limits docs/architecture.md promises, checked on the source itself.

- no module over 500 lines, no class over 250;
- importing a render/ module imports nothing that reads inputs, counts tokens or opens a ledger;
- a cli command function's body is at most 60 lines;
- no package defines a name in its `__init__` that one of its submodules also has: importing the
  submodule later would replace the package's function or class with the module.

(The core's independence from typer and rich, and the cli modules' independence from each other,
are tested beside the code they guard: tests/test_project.py, tests/cli/test_cli_imports.py.)
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import tokopt
from tests.helpers import python_output

SRC = Path(tokopt.__file__).parent
MODULES = sorted(SRC.rglob("*.py"))
RENDER_VIEWS = sorted(f"tokopt.render.{p.stem}" for p in (SRC / "render").glob("*.py") if p.stem != "__init__")

MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 250
MAX_COMMAND_BODY_LINES = 60

# What a view may not pull in, directly or through what it imports: reading inputs, parsing
# requests, counting, the price data loader, the ledger's stores and importers.
FORBIDDEN_IN_RENDER = (
    "tokopt.inputs",
    "tokopt.requests",
    "tokopt.tokens",
    "tokopt.pricing.catalog",
    "tokopt.pricing.upstream",
    "tokopt.ledger.sqlite",
    "tokopt.ledger.postgres",
    "tokopt.ledger.importers",
    "tokopt.ledger.facade",
    "tiktoken",
    "sqlite3",
    "psycopg",
)


def _relative(path: Path) -> str:
    return path.relative_to(SRC.parent).as_posix()


def _line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_there_is_something_to_check():
    assert len(MODULES) > 50
    assert len(RENDER_VIEWS) > 5


def test_no_module_is_over_500_lines():
    long = {_relative(p): n for p in MODULES if (n := _line_count(p)) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by job): {long}"


def _classes(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            yield node.name, node.end_lineno - node.lineno + 1


def test_no_class_is_over_250_lines():
    long = {f"{_relative(p)}:{name}": n for p in MODULES for name, n in _classes(p) if n > MAX_CLASS_LINES}
    assert not long, f"classes over {MAX_CLASS_LINES} lines: {long}"


def _body_lines(fn: ast.FunctionDef) -> int:
    body = fn.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    return 0 if not body else fn.end_lineno - body[0].lineno + 1


def test_command_functions_stay_thin():
    from tokopt.cli import COMMANDS, GROUP_COMMANDS

    targets = list(COMMANDS.values()) + [t for group in GROUP_COMMANDS.values() for t in group.values()]
    modules = {t.split(":")[0] for t in targets}
    checked = {}
    for module in modules:
        path = SRC.parent / (module.replace(".", "/") + ".py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                checked[f"{module}:{node.name}"] = _body_lines(node)
    assert len(checked) >= len(COMMANDS)
    long = {name: n for name, n in checked.items() if n > MAX_COMMAND_BODY_LINES}
    assert not long, f"command functions over {MAX_COMMAND_BODY_LINES} lines (move the work to the core or render): {long}"


def test_render_imports_nothing_that_reads_counts_or_opens_a_ledger():
    # One interpreter for every view (a fresh one each would cost seconds): before each view,
    # tokopt's modules are forgotten, so each view's own imports are seen; a third-party module
    # (tiktoken, sqlite3, psycopg) counts against the view that first brought it in.
    code = f"""
import importlib, json, sys
found = {{}}
for view in {RENDER_VIEWS!r}:
    for name in [n for n in sys.modules if n.startswith("tokopt.")]:
        del sys.modules[name]
    before = set(sys.modules)
    importlib.import_module(view)
    found[view] = sorted(n for n in sys.modules if n.startswith({FORBIDDEN_IN_RENDER!r}) and (n.startswith("tokopt.") or n not in before))
print(json.dumps(found))
"""
    leaks = {view: names for view, names in json.loads(python_output(code)).items() if names}
    assert not leaks, f"render views that import reading, counting or ledger code: {leaks}"


def _top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_no_submodule_shadows_a_name_of_its_package():
    clashes = {}
    for init in SRC.rglob("__init__.py"):
        submodules = {p.stem for p in init.parent.glob("*.py")} | {p.name for p in init.parent.iterdir() if (p / "__init__.py").exists()}
        same = _top_level_names(init) & submodules
        if same:
            clashes[_relative(init)] = sorted(same)
    assert not clashes, f"package names that a submodule of the same name would replace: {clashes}"
