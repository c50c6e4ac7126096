"""File budgets: which files each budget covers, now and at a base revision, and every limit
checked on every request of every file on every model.

A limit is met when the value is at most the limit, so a prompt exactly at its limit passes.
An exceeded budget is a result (`CheckRow.ok` False), never an exception; errors in the config
or the inputs raise `TokoptError` subclasses. Reading and counting files is `counting`'s job.
`--base` reads the base revision through `inputs/gitrepo.py`: the working tree, the index and
HEAD are never touched.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tokopt import costing
from tokopt.budgets.config import FileBudget, Project
from tokopt.budgets.counting import FileContent, PricedRequest, count_revision, count_working, file_requests
from tokopt.budgets.results import BudgetResult, Change, CheckRow, LimitCheck, LimitName, Measure, TotalCheck
from tokopt.errors import ConfigError, InputError, PricingError, UnknownModelError
from tokopt.inputs import EncodingErrors, gitrepo, globs, walk
from tokopt.pricing import Catalog
from tokopt.pricing.model import ModelPrice
from tokopt.settings import Settings
from tokopt.usage import Usage, quantize


@dataclass
class FileCheck:
    """What the file budgets found; `check` adds the spend budgets and makes a CheckResult."""

    budgets: list[BudgetResult]
    rows: list[CheckRow]
    base_commit: str | None = None
    repo_prefix: str = ""
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- which files -----------------------------------------------------------------------------


SKIP_DIRS = frozenset({"__pycache__"})


def _walk(root: Path, budgets: Sequence[FileBudget], passed_over: list[tuple[str, str]]) -> list[str]:
    """Files below the budgets' literal prefixes, outside git: hidden directories skipped
    unless a pattern names them. What the walk could not read, or read as a file, goes to
    `passed_over` (path below `root`, why)."""
    starts = sorted({globs.literal_prefix(p) for b in budgets for p in b.paths})
    found: set[str] = set()
    for start in starts:
        if any(_walked_with(start, outer) for outer in starts):
            continue
        top = root / start if start else root
        if not top.is_dir():
            continue
        listing = walk.walk(top, hidden_files=True, skip_dirs=SKIP_DIRS)
        found.update(f"{start}/{e.rel}" if start else e.rel for e in listing.files)
        passed_over.extend((path.relative_to(root).as_posix(), why) for path, why in listing.problems)
    return sorted(found)


def _passed_over(root: Path, passed_over: Sequence[tuple[str, str]], specs: Sequence[FileBudget]) -> list[str]:
    """Warnings for what a budget may have wanted but could not be read as a file: a matched
    named pipe, device or socket, an unreadable matched file, a directory that could not be
    listed. Never a silent skip: a check that passes says what it did not see."""
    out = []
    for rel, why in passed_over:
        if (root / rel).is_dir():
            out.append(f"{rel}/: not checked, {why}")
        elif any(spec.matches(rel) for spec in specs):
            out.append(f"{rel}: not checked, {why}")
    return out


def _walked_with(start: str, outer: str) -> bool:
    """Whether the walk from `outer` already lists what one from `start` would."""
    if start == outer or not (outer == "" or start.startswith(outer + "/")):
        return False
    between = start[len(outer) :].strip("/").split("/")
    return not any(part.startswith(".") or part in SKIP_DIRS for part in between)


def _relative(arg: str, root: Path) -> str | None:
    path = Path(arg).absolute()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None


# --- budgets ---------------------------------------------------------------------------------


@dataclass
class _Budget:
    index: int
    spec: FileBudget
    models: list[ModelPrice]
    output_tokens: int
    calls_per_month: int
    current: list[str]
    base: list[str]


def _models_for(project: Project, catalog: Catalog, settings: Settings, index: int, budget: FileBudget) -> list[ModelPrice]:
    if budget.models:
        patterns, key = budget.models, project.key("budgets", index, "models")
    elif settings.models.value:
        patterns = settings.models.value
        key = project.key("defaults", "models") if settings.models.source == "project" else None
    else:
        return catalog.defaults()
    try:
        return catalog.select(patterns)
    except UnknownModelError as exc:
        if key is None:
            raise
        raise ConfigError(f"{project.path}: {key}: {exc.message}", hint=exc.hint) from None


# --- limits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Traffic:
    """A file's traffic: calls per month, the cached share of its input, and where they come from."""

    calls_per_month: int
    cached_share: Decimal | None = None
    key: str | None = None  # "traffic[0]": the entry that set them; None: the budget's own


def _traffic(project: Project, b: _Budget, name: str) -> _Traffic:
    found = project.config.traffic_for(name)
    if found is None:
        return _Traffic(b.calls_per_month)
    index, entry = found
    calls = entry.monthly_calls
    return _Traffic(calls if calls is not None else b.calls_per_month, entry.cached_share, project.key("traffic", index))


def _cached(input_tokens: int, share: Decimal | None) -> int:
    if not share:
        return 0
    return int((share * input_tokens).to_integral_value(rounding=decimal.ROUND_HALF_UP))


def _measure(model: ModelPrice, request: PricedRequest, traffic: _Traffic) -> Measure:
    input_tokens, output_tokens = request.input_tokens[model.id], request.output_tokens
    # the cached share is read at the model's cached-input price (plain input where it has none)
    usage = Usage(input_tokens=input_tokens, cached_input_tokens=_cached(input_tokens, traffic.cached_share), output_tokens=output_tokens)
    cost = costing.cost_of(model, usage, batch=request.batch)
    calls_per_month = traffic.calls_per_month
    share = None
    if model.context_window is not None:
        with decimal.localcontext(costing.MONEY_CONTEXT):
            share = Decimal(input_tokens + output_tokens) / Decimal(model.context_window)
        # shown rounded, as estimate shows it; the limit itself is compared exactly (_limit_checks)
        share = quantize(share, "0.000001")
    return Measure(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        per_call_usd=cost.total_usd,
        monthly_usd=costing.times(cost.total_usd, calls_per_month),
        context_share=share,
    )


def _same_call(model: ModelPrice, a: PricedRequest | None, b: PricedRequest) -> bool:
    """Two requests that cost the same on `model`: an unchanged prompt is priced once."""
    return (
        a is not None
        and a.input_tokens[model.id] == b.input_tokens[model.id]
        and a.output_tokens == b.output_tokens
        and a.batch == b.batch
    )


def _limit_checks(spec: FileBudget, model: ModelPrice, now: Measure, before: Measure | None) -> tuple[list[LimitCheck], Decimal | None]:
    checks = []

    def add(name: LimitName, limit: Decimal | int | None, actual: Decimal, ok: bool) -> None:
        if limit is not None:
            checks.append(LimitCheck(name=name, limit=Decimal(limit), actual=actual, ok=ok))

    tokens_in = now.input_tokens
    if spec.max_tokens is not None:
        add("max_tokens", spec.max_tokens, Decimal(tokens_in), tokens_in <= spec.max_tokens)
    if spec.max_cost_per_call is not None:
        add("max_cost_per_call", spec.max_cost_per_call, now.per_call_usd, now.per_call_usd <= spec.max_cost_per_call)
    if spec.max_monthly_cost is not None:
        add("max_monthly_cost", spec.max_monthly_cost, now.monthly_usd, now.monthly_usd <= spec.max_monthly_cost)
    if spec.max_context_share is not None:
        if model.context_window is None or now.context_share is None:
            raise PricingError(
                f"max_context_share: the price data states no context window for {model.id}",
                hint="drop max_context_share for this budget, or add context_window for the model with --pricing",
            )
        # compared without division, so exactly at the limit is exactly at the limit
        fits = Decimal(tokens_in + now.output_tokens) <= spec.max_context_share * model.context_window
        add("max_context_share", spec.max_context_share, now.context_share, fits)
    pct = None
    if before is not None and before.input_tokens > 0:
        grown = tokens_in - before.input_tokens
        with decimal.localcontext(costing.MONEY_CONTEXT):
            pct = quantize(Decimal(grown * 100) / Decimal(before.input_tokens), "0.0001")
        if spec.max_increase_pct is not None:
            add("max_increase_pct", spec.max_increase_pct, pct, grown * 100 <= spec.max_increase_pct * before.input_tokens)
    return checks, pct


def _rows(
    project: Project, b: _Budget, now: Mapping[str, FileContent], then: Mapping[str, FileContent] | None, same: set[str]
) -> Iterator[CheckRow]:
    own = b.spec.output_tokens is not None
    high = project.config.approximate == "high"
    for name in sorted(set(b.current) | set(b.base)):
        traffic = _traffic(project, b, name)
        cur = file_requests(now[name], b.models, b.output_tokens, own_output=own, high=high) if name in now and name in b.current else []
        old = (
            file_requests(then[name], b.models, b.output_tokens, own_output=own, high=high)
            if then is not None and name in then and name in b.base
            else []
        )
        if not cur and not old:
            continue  # skipped: not text
        old_by_label = {r.label: r for r in old}
        labels = [r.label for r in cur] + [r.label for r in old if r.label not in {c.label for c in cur}]
        cur_by_label = {r.label: r for r in cur}
        for label in labels:
            c, o = cur_by_label.get(label), old_by_label.get(label)
            for model in b.models:
                now_m = _measure(model, c, traffic) if c else None
                old_m = None
                if o is not None:
                    old_m = now_m if now_m is not None and _same_call(model, c, o) else _measure(model, o, traffic)
                change: Change | None = None
                if then is not None:
                    if now_m is None:
                        change = "deleted"
                    elif old_m is None:
                        change = "new"
                    else:
                        change = "unchanged" if name in same else "changed"
                checks: list[LimitCheck] = []
                pct = None
                if now_m is not None:
                    checks, pct = _limit_checks(b.spec, model, now_m, old_m)
                delta_tokens = delta_usd = None
                if now_m is not None and old_m is not None:
                    delta_tokens = now_m.input_tokens - old_m.input_tokens
                    delta_usd = now_m.per_call_usd - old_m.per_call_usd
                elif old_m is not None:
                    delta_tokens, delta_usd = -old_m.input_tokens, -old_m.per_call_usd
                yield CheckRow(
                    budget=b.index,
                    file=name,
                    request=label,
                    model=model.id,
                    provider=model.provider,
                    approximate=model.approximate or any(model.id in r.approximate for r in (c, o) if r is not None),
                    batch=any(r.batch for r in (c, o) if r is not None),
                    calls_per_month=traffic.calls_per_month,
                    cached_share=traffic.cached_share,
                    traffic=traffic.key,
                    change=change,
                    current=now_m,
                    base=old_m,
                    delta_tokens=delta_tokens,
                    delta_usd=delta_usd,
                    increase_pct=pct,
                    checks=checks,
                    ok=all(ch.ok for ch in checks),
                )


def _totals(b: _Budget, rows: Sequence[CheckRow]) -> list[TotalCheck]:
    """max_total_monthly_cost: the budget's prompts (as they are now) together, on each model."""
    limit = b.spec.max_total_monthly_cost
    if limit is None:
        return []
    out = []
    for model in b.models:
        with decimal.localcontext(costing.MONEY_CONTEXT):
            total = sum((r.current.monthly_usd for r in rows if r.budget == b.index and r.model == model.id and r.current), Decimal(0))
        out.append(TotalCheck(model=model.id, monthly_usd=total, limit=Decimal(limit), ok=total <= limit))
    return out


# --- the check -------------------------------------------------------------------------------


def check_files(
    project: Project,
    catalog: Catalog,
    settings: Settings,
    *,
    base: str | None = None,
    only: Sequence[str] | None = None,
    errors: EncodingErrors = "strict",
) -> FileCheck:
    """Every file budget of `project` on the working tree (and against `base`, a git revision)."""
    root = project.root
    file_specs = project.config.file_budgets
    repo = gitrepo.require(root, "--base") if base is not None else gitrepo.find(root) if file_specs else None
    passed_over: list[tuple[str, str]] = []  # (path, why): found but not read as a file
    if not file_specs:
        current_files = []
    elif repo is not None:
        current_files = gitrepo.working_files(repo, passed_over)
    else:
        current_files = _walk(root, [spec for _, spec in file_specs], passed_over)
    base_commit = gitrepo.resolve(repo, base) if base is not None and repo is not None else None
    base_blobs = gitrepo.tree_files(repo, base_commit) if base_commit is not None and repo is not None else {}
    if only is not None:
        for arg in only:
            # a file deleted since the base is still checked (as deleted); any other is a typo
            if not Path(arg).exists() and _relative(arg, root) not in base_blobs:
                raise InputError(f"file not found: {arg}")
        wanted = {r for r in (_relative(a, root) for a in only) if r is not None}
        current_files = [f for f in current_files if f in wanted]
        base_blobs = {f: o for f, o in base_blobs.items() if f in wanted}

    budgets = []
    for index, spec in file_specs:
        budgets.append(
            _Budget(
                index=index,
                spec=spec,
                models=_models_for(project, catalog, settings, index, spec),
                output_tokens=spec.output_tokens if spec.output_tokens is not None else settings.output_tokens.value,
                calls_per_month=spec.calls_per_month if spec.calls_per_month is not None else settings.calls.value,
                current=[f for f in current_files if spec.matches(f)],
                base=[f for f in base_blobs if spec.matches(f)],
            )
        )

    all_models = list({m.id: m for b in budgets for m in b.models}.values())
    skipped: list[str] = []
    counting: list[str] = []
    counted_now = count_working(root, sorted({f for b in budgets for f in b.current}), all_models, errors, skipped, counting)
    then = None
    same: set[str] = set()
    if base_commit is not None and repo is not None:
        assert base is not None
        wanted_base = {f: base_blobs[f] for b in budgets for f in b.base}
        both = sorted(set(counted_now) & set(wanted_base))
        same = {f for f, oid in gitrepo.blob_ids(repo, both).items() if oid == base_blobs[f]}
        # a file the change leaves as it was is read and counted once: its base is its count now
        changed = {f: oid for f, oid in wanted_base.items() if f not in same}
        then = count_revision(repo, base, changed, all_models, errors, skipped, counting)
        then.update({f: counted_now[f] for f in same})

    rows = [row for b in budgets for row in _rows(project, b, counted_now, then, same)]
    out = FileCheck(budgets=[], rows=rows, base_commit=base_commit, repo_prefix=repo.prefix if repo is not None else "")
    out.warnings = _passed_over(root, passed_over, [b.spec for b in budgets]) + skipped + counting
    for b in budgets:
        label = b.spec.label
        if not b.current and not b.base:
            out.warnings.append(f"budget {label!r} ({project.key('budgets', b.index)}) matches no files")
        if project.config.approximate == "high" and any(r.approximate for r in rows if r.budget == b.index):
            out.notes.append(f"budget {label!r}: approximate (≈) counts are checked at the high end of their band (approximate = \"high\")")
        if base is None and b.spec.max_increase_pct is not None:
            out.notes.append(f"budget {label!r}: max_increase_pct is checked only against a base (--base REF)")
        out.budgets.append(
            BudgetResult(
                index=b.index,
                name=label,
                key=project.key("budgets", b.index),
                paths=b.spec.paths,
                exclude=b.spec.exclude,
                models=[m.id for m in b.models],
                output_tokens=b.output_tokens,
                calls_per_month=b.calls_per_month,
                limits=b.spec.limits(),
                files=sorted(f for f in b.current if f in counted_now),
                totals=(totals := _totals(b, rows)),
                ok=all(r.ok for r in rows if r.budget == b.index) and all(t.ok for t in totals),
            )
        )
    return out
