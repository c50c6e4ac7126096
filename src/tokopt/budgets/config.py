"""Project config for CI budgets: `tokopt.toml`, or `[tool.tokopt]` in `pyproject.toml`.

    pricing = ["pricing/ours.toml"]          # optional overrides, relative to this file
    approximate = "high"                     # optional: budget approximate counts (Claude, Gemini, ...)
                                             # at the high end of their band; default "point"

    [defaults]
    models = ["gpt-5.5", "claude-sonnet-5"]  # priced for budgets that name no models
    output_tokens = 500                      # expected completion per call
    calls_per_month = 10000                  # for max_monthly_cost

    [[budgets]]
    name = "support bot"
    paths = ["prompts/support/**/*.md"]      # globs relative to this file; `**` = any directories
    exclude = ["prompts/support/drafts/**"]
    models = ["gpt-5.4-mini"]                # optional; else [defaults].models
    max_tokens = 3000                        # input tokens per call, on each model
    max_cost_per_call = 0.01                 # USD, input + expected output
    max_monthly_cost = 400                   # USD, per call x calls_per_month
    max_total_monthly_cost = 2000            # USD a month of all the files it covers, together
    max_context_share = 0.25                 # (input + output) / the model's window
    max_increase_pct = 15                    # input tokens against `tokopt check --base REF`

    [[traffic]]                              # how often prompts are really called (infracost's usage file)
    paths = ["prompts/support/*.md"]         # globs, as a budget's; the first entry that matches a file wins
    calls_per_day = 20000                    # or calls_per_month (a month is 30 days)
    cached_share = 0.6                       # share of each call's input read from the provider's cache

    [[budgets]]                              # a spend budget: what the usage ledger recorded
    name = "my month"
    max_spend = 50                           # USD, priced records in the period
    period = "month"                         # day | week | month | year | all (the current one)
    user = "*"                               # optional; "*" everyone, default the current user
    run = "nightly-eval"                     # optional: one run (id or name)
    timezone = "Europe/Berlin"               # optional: where days start (default UTC)

The file is found by walking up from the working directory. Every key is validated; an
error names the file and the key path (`budgets[0].max_tokens`). Values are read as they are
written (floats as Decimal), so a limit of 0.01 is exactly one cent.

Precedence for the defaults (`settings.resolve`): command-line flags (and their env vars), then
this file's [defaults], then the user's config, then the built-in defaults. A budget's own `models`,
`output_tokens` and `calls_per_month` belong to the budget and are kept as written. A file's
[[traffic]] entry is more specific still: its calls and cached share win over the budget's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from tokopt import settings
from tokopt.inputs import globs
from tokopt.errors import ConfigError
from tokopt.tomlio import read_toml

CONFIG_NAME = "tokopt.toml"
PYPROJECT = "pyproject.toml"
LIMIT_KEYS = ("max_tokens", "max_cost_per_call", "max_monthly_cost", "max_total_monthly_cost", "max_context_share", "max_increase_pct")


# --- the schema ------------------------------------------------------------------------------


def _number(value: Any) -> Any:
    # TOML gives int or Decimal; refuse true/false and "5" rather than coerce them.
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError("expected a number")
    return value


def _integer(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected a whole number")
    return value


Glob = Annotated[str, AfterValidator(globs.check)]
Tokens = Annotated[int, BeforeValidator(_integer), Field(ge=0)]
Calls = Annotated[int, BeforeValidator(_integer), Field(ge=1)]
Money = Annotated[Decimal, BeforeValidator(_number), Field(ge=0, description="USD")]
Share = Annotated[Decimal, BeforeValidator(_number), Field(gt=0, le=1)]
Percent = Annotated[Decimal, BeforeValidator(_number), Field(ge=0)]


class ProjectDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] | None = None
    output_tokens: Tokens | None = None
    calls_per_month: Calls | None = None


class FileBudget(BaseModel):
    """Limits on the prompt files that `paths` match, checked for each file on each model."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    paths: Annotated[list[Glob], Field(min_length=1)]
    exclude: list[Glob] = Field(default_factory=list)
    models: Annotated[list[str], Field(min_length=1)] | None = None
    output_tokens: Tokens | None = None
    calls_per_month: Calls | None = None
    max_tokens: Tokens | None = None
    max_cost_per_call: Money | None = None
    max_monthly_cost: Money | None = None
    max_total_monthly_cost: Money | None = None  # all the prompts it covers together, on each model
    max_context_share: Share | None = None
    max_increase_pct: Percent | None = None

    @cached_property
    def _include(self) -> list[globs.Glob]:
        return [globs.compile(p) for p in self.paths]

    @cached_property
    def _exclude(self) -> list[globs.Glob]:
        return [globs.compile(p) for p in self.exclude]

    def matches(self, path: str) -> bool:
        """Whether a project-relative POSIX path is covered by this budget."""
        return globs.matches_any(self._include, path) and not globs.matches_any(self._exclude, path)

    def limits(self) -> dict[str, Decimal]:
        return {k: Decimal(getattr(self, k)) for k in LIMIT_KEYS if getattr(self, k) is not None}

    @property
    def label(self) -> str:
        return self.name or ", ".join(self.paths)


class Traffic(BaseModel):
    """How often the prompts that `paths` match are called, and how much of each call's input
    the provider's cache serves; like infracost's usage file, kept next to the budgets."""

    model_config = ConfigDict(extra="forbid")

    paths: Annotated[list[Glob], Field(min_length=1)]
    exclude: list[Glob] = Field(default_factory=list)
    calls_per_day: Calls | None = None
    calls_per_month: Calls | None = None
    cached_share: Annotated[Decimal, BeforeValidator(_number), Field(ge=0, le=1)] | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> Traffic:
        if self.calls_per_day is not None and self.calls_per_month is not None:
            raise ValueError("set calls_per_day or calls_per_month, not both")
        if self.calls_per_day is None and self.calls_per_month is None and self.cached_share is None:
            raise ValueError("set calls_per_day, calls_per_month or cached_share")
        return self

    @cached_property
    def _include(self) -> list[globs.Glob]:
        return [globs.compile(p) for p in self.paths]

    @cached_property
    def _exclude(self) -> list[globs.Glob]:
        return [globs.compile(p) for p in self.exclude]

    def matches(self, path: str) -> bool:
        return globs.matches_any(self._include, path) and not globs.matches_any(self._exclude, path)

    @property
    def monthly_calls(self) -> int | None:
        """Calls per month; a month of calls per day is 30 days."""
        if self.calls_per_day is not None:
            return self.calls_per_day * DAYS_PER_MONTH
        return self.calls_per_month


DAYS_PER_MONTH = 30


def _date(value: Any) -> Any:
    # TOML dates arrive as datetime.date; a quoted "2026-11-01" is accepted too
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected a date, YYYY-MM-DD") from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError("expected a date, YYYY-MM-DD")
    return value


def _zone_name(value: str) -> str:
    from tokopt.errors import TokoptError
    from tokopt.ledger import zone

    try:
        zone(value)
    except TokoptError as exc:
        raise ValueError(exc.message) from None
    return value


Day = Annotated[dt.date, BeforeValidator(_date)]
Period = Literal["day", "week", "month", "year", "all"]
FILE_KEYS = ("paths", "exclude", "models", "output_tokens", "calls_per_month", *LIMIT_KEYS)


class SpendBudget(BaseModel):
    """A limit on what the usage ledger recorded: for a user (or everyone), a run, a period."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    max_spend: Money
    user: Annotated[str, Field(min_length=1)] | None = None  # None: the current user; "*": everyone
    run: Annotated[str, Field(min_length=1)] | None = None
    period: Period = "month"
    since: Day | None = None
    until: Day | None = None
    timezone: Annotated[str, AfterValidator(_zone_name)] = "UTC"

    @model_validator(mode="before")
    @classmethod
    def _no_file_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            mixed = [k for k in FILE_KEYS if k in data]
            if mixed:
                raise ValueError(
                    f"a spend budget (max_spend) takes no {', '.join(mixed)}: put file limits in their own [[budgets]] table"
                )
        return data

    @model_validator(mode="after")
    def _ordered(self) -> SpendBudget:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since is after until")
        return self

    @property
    def label(self) -> str:
        return self.name or f"spend ≤ ${self.max_spend}"

    def window(self, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The days the budget covers (both included), given today's date in its time zone:
        `since`/`until` where set, else the current day, week (from Monday), month or year."""
        start: dt.date | None
        if self.period == "day":
            start = today
        elif self.period == "week":
            start = today - dt.timedelta(days=today.weekday())
        elif self.period == "month":
            start = today.replace(day=1)
        elif self.period == "year":
            start = today.replace(month=1, day=1)
        else:
            start = None
        if self.since is not None:
            start = self.since
        return start, self.until


def _budget_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "[spend]" if "max_spend" in value else "[file]"
    return "[spend]" if isinstance(value, SpendBudget) else "[file]"


# The tags are in brackets so that error key paths leave them out (`_describe`).
AnyBudget = Annotated[
    Annotated[FileBudget, Tag("[file]")] | Annotated[SpendBudget, Tag("[spend]")],
    Discriminator(_budget_kind),
]


class ProjectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pricing: list[str] = Field(default_factory=list)
    # an approximate count is checked at its point estimate, or at the high end of its band
    # (the spread of the measured factors), so that a budget holds whatever the true count is
    approximate: Literal["point", "high"] = "point"
    defaults: ProjectDefaults = Field(default_factory=ProjectDefaults)
    traffic: list[Traffic] = Field(default_factory=list)
    budgets: list[AnyBudget] = Field(default_factory=list)

    def traffic_for(self, path: str) -> tuple[int, Traffic] | None:
        """The first [[traffic]] entry that matches a project-relative path, with its index."""
        for index, entry in enumerate(self.traffic):
            if entry.matches(path):
                return index, entry
        return None

    @property
    def file_budgets(self) -> list[tuple[int, FileBudget]]:
        return [(i, b) for i, b in enumerate(self.budgets) if isinstance(b, FileBudget)]

    @property
    def spend_budgets(self) -> list[tuple[int, SpendBudget]]:
        return [(i, b) for i, b in enumerate(self.budgets) if isinstance(b, SpendBudget)]


# --- finding and loading ---------------------------------------------------------------------


@dataclass
class Project:
    """A loaded project config: the model, the file it came from, and the project root."""

    config: ProjectConfig
    path: Path
    table: str = ""  # "tool.tokopt" when read from pyproject.toml
    notes: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.path.parent

    def key(self, *parts: str | int) -> str:
        return _key_path((self.table, *parts) if self.table else parts)

    def pricing_files(self) -> list[Path]:
        return [(self.root / p).resolve() for p in self.config.pricing]

    def values(self) -> settings.ProjectValues:
        """Its [defaults], for the precedence `settings.resolve` applies."""
        d = self.config.defaults
        return settings.ProjectValues(models=d.models, output_tokens=d.output_tokens, calls=d.calls_per_month)


def _key_path(parts: Sequence[str | int]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p != "":
            out += ("." if out else "") + p
    return out


def _describe(exc: ValidationError, table: str, limit: int = 3) -> str:
    items = []
    errors = exc.errors()
    for err in errors[:limit]:
        # pydantic puts validator names (`function-after[...]`) in the location; drop them.
        loc = [p for p in err["loc"] if isinstance(p, int) or "[" not in p]
        where = _key_path([table, *loc] if table else loc)
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "missing"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            msg = msg[:1].lower() + msg[1:]
        items.append(f"{where}: {msg}" if where else msg)
    if len(errors) > limit:
        items.append(f"and {len(errors) - limit} more")
    return "; ".join(items)


def _tool_table(data: dict[str, Any]) -> Any:
    tool = data.get("tool")
    return tool.get("tokopt") if isinstance(tool, dict) else None


def has_tool_table(pyproject: Path) -> bool:
    """Whether a pyproject.toml exists and has a [tool.tokopt] table."""
    return pyproject.is_file() and _tool_table(read_toml(pyproject, what="pyproject.toml", error=ConfigError)) is not None


def find_config(start: Path) -> tuple[Path, list[str]] | None:
    """The nearest `tokopt.toml`, or `pyproject.toml` with [tool.tokopt], at or above `start`."""
    notes: list[str] = []
    for directory in [start, *start.parents]:
        own = directory / CONFIG_NAME
        pyproject = directory / PYPROJECT
        has_table = has_tool_table(pyproject)
        if own.is_file():
            if has_table:
                notes.append(f"{own} is used; [tool.tokopt] in {pyproject} is ignored")
            return own, notes
        if has_table:
            return pyproject, notes
    return None


def load_project(path: Path) -> Project:
    """Read and validate a project config file (tokopt.toml, or a pyproject.toml's [tool.tokopt])."""
    path = path.absolute()
    data = read_toml(path, what="project config", error=ConfigError)
    table = ""
    if path.name == PYPROJECT:
        table = "tool.tokopt"
        section = _tool_table(data)
        if section is None:
            raise ConfigError(f"{path}: no [tool.tokopt] table")
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: tool.tokopt: expected a table")
        data = section
    try:
        model = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc, table)}") from None
    project = Project(model, path, table)
    _check_consistent(project)
    return project


def _check_consistent(project: Project) -> None:
    cfg = project.config
    for index, budget in cfg.file_budgets:
        if not budget.limits():
            raise ConfigError(
                f"{project.path}: {project.key('budgets', index)}: no limit set",
                hint=f"set at least one of {', '.join(LIMIT_KEYS)} (or max_spend, for a spend budget over the ledger)",
            )
        monthly = [k for k in ("max_monthly_cost", "max_total_monthly_cost") if getattr(budget, k) is not None]
        if monthly and budget.calls_per_month is None and cfg.defaults.calls_per_month is None:
            # The limit means nothing without the volume it assumes, and CI must not depend
            # on a developer's own config for it.
            raise ConfigError(
                f"{project.path}: {project.key('budgets', index, 'calls_per_month')}: "
                f"required with {monthly[0]} (here or in [defaults])"
            )
    root = project.root.resolve()
    for index, name in enumerate(cfg.pricing):
        file = project.root / name
        # a project config comes with the repository: it may not make tokopt read files outside
        # it (`../../../etc/...`, an absolute path, a symlink out); the user's command line may
        if not file.resolve().is_relative_to(root):
            raise ConfigError(
                f"{project.path}: {project.key('pricing', index)}: pricing file outside the project: {name}",
                hint=f"keep it inside {project.root.name or project.root}, or pass it yourself: --pricing {name}",
            )
        if not file.is_file():
            raise ConfigError(f"{project.path}: {project.key('pricing', index)}: pricing file not found: {name}")


def locate(explicit: Path | None, start: Path) -> Project:
    """The project config named by `--config`, or the nearest one above `start`."""
    if explicit is not None:
        if explicit.is_dir():
            raise ConfigError(f"project config is a directory, expected a .toml file: {explicit}")
        if not explicit.exists():
            raise ConfigError(f"project config not found: {explicit}")
        return load_project(explicit)
    found = find_config(start.absolute())
    if found is None:
        raise ConfigError(
            f"no project config: no {CONFIG_NAME} or [tool.tokopt] in {PYPROJECT} in {start} or above",
            hint="run `tokopt init` to write a starter tokopt.toml, or pass --config",
        )
    path, notes = found
    project = load_project(path)
    project.notes.extend(notes)
    return project
