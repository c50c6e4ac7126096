"""Budgets for CI: the project's config in, checks over files and over ledger spend, results out.

- `config`: the project config (tokopt.toml or [tool.tokopt]), validated with key paths
- `counting`: what a budgeted file stands for, read and counted (shared with `init`)
- `files`: file budgets, on the working tree and against a git base revision
- `spend`: spend budgets over a ledger the caller opens
- `results`: the result models render/ shows
- `headline`: the monthly cost before and after, and the prompts that changed, models collapsed
- `evaluate`: `check`, both kinds of budget into one CheckResult
- `init`: `tokopt init`, a starter config from the prompts' cost today
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokopt.budgets.evaluate import check
    from tokopt.budgets.results import BudgetResult, CheckResult, CheckRow, LimitCheck, Measure, SpendResult

# Loaded when first asked for, so that importing the result models (render/) reads no files.
_NAMES = {
    "check": "evaluate",
    "BudgetResult": "results",
    "CheckResult": "results",
    "CheckRow": "results",
    "LimitCheck": "results",
    "Measure": "results",
    "SpendResult": "results",
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
