"""What `tokopt check` found: one row per request, file and model under a file budget, one
result per spend budget, and the whole CheckResult that render/ shows. Models only."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from tokopt.usage import Usd

LimitName = Literal["max_tokens", "max_cost_per_call", "max_monthly_cost", "max_context_share", "max_increase_pct"]
Change = Literal["new", "changed", "unchanged", "deleted"]


class LimitCheck(BaseModel):
    """One limit applied to one row: `actual` <= `limit` passes."""

    name: LimitName
    limit: Usd
    actual: Usd
    ok: bool


class Measure(BaseModel):
    """One version of one request on one model."""

    input_tokens: int
    output_tokens: int
    per_call_usd: Usd
    monthly_usd: Usd
    context_share: Usd | None = Field(description="(input + output) / context_window, exact; None if the window is not known")


class CheckRow(BaseModel):
    """One request of one file on one model, under one budget."""

    budget: int = Field(description="index into CheckResult.budgets")
    file: str = Field(description="POSIX path relative to the project root")
    request: str | None = Field(None, description="which request of the file; None: the file is one prompt")
    model: str
    provider: str
    approximate: bool
    batch: bool = Field(False, description="priced at batch rates (a batch input file)")
    calls_per_month: int
    cached_share: Usd | None = Field(None, description="share of each call's input read from the cache ([[traffic]])")
    traffic: str | None = Field(None, description="the [[traffic]] entry that set the calls, e.g. traffic[0]")
    change: Change | None = Field(None, description="against the base revision; None without one")
    current: Measure | None = None
    base: Measure | None = None
    delta_tokens: int | None = None
    delta_usd: Usd | None = None
    increase_pct: Usd | None = None
    checks: list[LimitCheck] = Field(default_factory=list)
    ok: bool = True

    @property
    def failures(self) -> list[LimitCheck]:
        return [c for c in self.checks if not c.ok]


class Span(BaseModel):
    """USD (or a percentage) on a budget's models: on the model where the prompt costs least
    (`cheapest`) and where it costs most (`dearest`); equal for a budget of one model. A
    difference is taken end by end, so a change's `cheapest` is the change on the cheap end."""

    cheapest: Usd
    dearest: Usd


class PromptLine(BaseModel):
    """One prompt (a file, or one request of a request file) under one budget, its models collapsed."""

    budget: int
    file: str
    request: str | None
    models: list[str]
    approximate: bool
    calls_per_month: int
    cached_share: Usd | None
    change: Change | None
    base_monthly_usd: Span | None
    head_monthly_usd: Span | None
    delta_monthly_usd: Span | None
    delta_pct: Span | None
    ok: bool


class Headline(BaseModel):
    """What the budgets' prompts cost a month at their traffic, before (base) and after."""

    prompts: int
    prompts_changed: int
    base_monthly_usd: Span | None = Field(description="None without a base revision")
    head_monthly_usd: Span
    delta_monthly_usd: Span | None
    delta_pct: Span | None = Field(description="None without a base, or when the base cost nothing")
    changed: list[PromptLine] = Field(description="new, changed and deleted prompts, largest difference first")
    lines: list[PromptLine] = Field(description="every prompt, in the order of the rows")


class TotalCheck(BaseModel):
    """`max_total_monthly_cost` on one model: what all the budget's prompts cost together a month."""

    model: str
    monthly_usd: Usd
    limit: Usd
    ok: bool


class BudgetResult(BaseModel):
    index: int
    name: str
    key: str = Field(description="where the budget is in the config, e.g. budgets[0]")
    paths: list[str]
    exclude: list[str]
    models: list[str]
    output_tokens: int
    calls_per_month: int
    limits: dict[str, Usd]
    files: list[str] = Field(description="files checked now (deleted ones excluded)")
    totals: list[TotalCheck] = Field(default_factory=list, description="max_total_monthly_cost, per model")
    ok: bool = True

    @property
    def failed_totals(self) -> list[TotalCheck]:
        return [t for t in self.totals if not t.ok]


class SpendResult(BaseModel):
    """A spend budget: what the ledger recorded in its scope, against `max_spend`."""

    index: int = Field(description="the budget's position in the config")
    name: str
    key: str
    max_spend: Usd
    user: str | None = Field(description="whose records; None: every user")
    run: str | None
    since: dt.date | None = Field(description="first day included, in `timezone`; None: from the start")
    until: dt.date | None = Field(description="last day included; None: up to now")
    period: str
    timezone: str
    spent_usd: Usd = Field(description="priced records only")
    records: int
    unpriced_records: int
    estimated_records: int
    ok: bool


class CheckResult(BaseModel):
    """Every budget's rows. `ok` is False when any row breaks a limit."""

    ok: bool
    config: str
    root: str
    repo_prefix: str = Field("", description="the root relative to the git work tree's top, '' or 'dir/'")
    base: str | None = None
    base_commit: str | None = None
    budgets: list[BudgetResult]
    rows: list[CheckRow]
    headline: Headline
    spend: list[SpendResult] = Field(default_factory=list)
    ledger: str | None = Field(None, description="the ledger the spend budgets read")
    warnings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def failed_rows(self) -> list[CheckRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def failed_spend(self) -> list[SpendResult]:
        return [r for r in self.spend if not r.ok]

    @property
    def totals(self) -> list[tuple[BudgetResult, TotalCheck]]:
        return [(b, t) for b in self.budgets for t in b.totals]

    @property
    def failed_totals(self) -> list[tuple[BudgetResult, TotalCheck]]:
        return [(b, t) for b, t in self.totals if not t.ok]
