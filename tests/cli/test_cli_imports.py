"""cli modules stay independent: each imports only the shared options module `cli/_common.py`."""

from __future__ import annotations

import ast
from pathlib import Path

import tokopt.cli

CLI = Path(tokopt.cli.__file__).parent


def imported_cli_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n.split(".")[2] for n in names if n.startswith("tokopt.cli.") and n.count(".") >= 2)
    return found


def test_cli_modules_do_not_import_each_other() -> None:
    modules = sorted(p for p in CLI.glob("*.py") if p.name not in ("__init__.py", "_common.py"))
    assert len(modules) > 5
    for path in modules:
        others = imported_cli_modules(path) - {"_common", path.stem}
        assert not others, f"cli/{path.name} imports cli modules {sorted(others)}; share through cli/_common.py"
