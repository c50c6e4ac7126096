"""`check`: the project's file budgets and spend budgets, evaluated into one CheckResult."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from tokopt.budgets.config import Project
from tokopt.budgets.files import check_files
from tokopt.budgets.headline import headline
from tokopt.budgets.results import CheckResult, SpendResult
from tokopt.budgets.spend import SpendLedger, check_spend
from tokopt.errors import ConfigError
from tokopt.inputs import EncodingErrors
from tokopt.pricing import Catalog
from tokopt.settings import Settings


def check(
    project: Project,
    catalog: Catalog,
    settings: Settings,
    *,
    base: str | None = None,
    only: Sequence[str] | None = None,
    errors: EncodingErrors = "strict",
    ledger: SpendLedger | None = None,
    now: dt.datetime | None = None,
) -> CheckResult:
    """Evaluate every budget of `project` on the working tree (and against `base`, a git
    revision); spend budgets against `ledger`, which the caller opens, as of `now`."""
    cfg = project.config
    if not cfg.budgets:
        raise ConfigError(f"{project.path}: no budgets", hint=f"add a [[{project.key('budgets')}]] table, or run `tokopt init`")
    if cfg.spend_budgets and ledger is None:
        raise ValueError("the project has spend budgets: pass the ledger they read")
    files = check_files(project, catalog, settings, base=base, only=only, errors=errors)
    warnings = files.warnings
    spend: list[SpendResult] = []
    if cfg.spend_budgets and ledger is not None:
        spend, spend_warnings = check_spend(project, ledger, now=now)
        warnings += spend_warnings
    return CheckResult(
        ok=all(r.ok for r in files.rows) and all(b.ok for b in files.budgets) and all(r.ok for r in spend),
        spend=spend,
        ledger=ledger.display_location if spend and ledger is not None else None,
        config=str(project.path),
        root=str(project.root),
        repo_prefix=files.repo_prefix,
        base=base,
        base_commit=files.base_commit,
        budgets=files.budgets,
        rows=files.rows,
        headline=headline(files.rows, compared=files.base_commit is not None),
        warnings=warnings,
        notes=[*project.notes, *files.notes],
    )
