"""`tokopt init`: find a project's prompt files and propose budgets from what they cost today,
on the models the project's code calls (`scan`), at the traffic the team says it has.

The data is written with tomli-w; the comments are plain lines around it. The text is read
back and validated before it is returned, so a starter file always loads.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from tokopt import costing, inputs
from tokopt.budgets import counting, scan
from tokopt.budgets.config import CONFIG_NAME, DAYS_PER_MONTH, FileBudget, ProjectConfig
from tokopt.errors import InputError
from tokopt.inputs import gitrepo, globs, walk
from tokopt.pricing import Catalog
from tokopt.pricing.model import ModelPrice
from tokopt.settings import Settings
from tokopt.usage import Usage, quantize

PROMPT_DIR_NAMES = {"prompt", "prompts", "system_prompts", "system-prompts", "system_prompt", "system-prompt"}
PROMPT_SUFFIXES = {".prompt", ".prompty"}
TEXT_SUFFIXES = {".md", ".txt", ".j2", ".jinja", ".jinja2", ".tmpl", ".mustache", ".hbs", ".xml", ".prompt", ".prompty"}
REQUEST_SUFFIXES = {".json", ".jsonl", ".ndjson"}  # chat requests and batch files, in a prompts directory
NOT_PROMPTS = {"readme", "license", "changelog", "contributing", "notice"}
SKIP_DIRS = {"node_modules", "__pycache__", "site-packages", "venv", "dist", "build"}
DEFAULT_HEADROOM = 25


def _is_prompt_dir(name: str) -> bool:
    return name.lower() in PROMPT_DIR_NAMES or name.lower().endswith(("_prompts", "-prompts"))


def _prompt_dir_of(path: PurePosixPath, named: set[str]) -> str | None:
    """The nearest ancestor directory that holds prompts (by its name, or because the user named it)."""
    for parent in list(path.parents)[:-1]:
        if _is_prompt_dir(parent.name) or parent.as_posix() in named:
            return parent.as_posix()
    return "" if "" in named else None


def looks_like_prompt(path: PurePosixPath) -> bool:
    """A file in a prompts directory, or one whose name says it is a prompt."""
    name = path.name.lower()
    if path.stem.lower().split(".")[0] in NOT_PROMPTS:
        return False
    suffixes = [s.lower() for s in path.suffixes]
    if any(_is_prompt_dir(p) for p in path.parts[:-1]):
        return bool(suffixes) and suffixes[-1] in TEXT_SUFFIXES | REQUEST_SUFFIXES
    if any(s in PROMPT_SUFFIXES for s in suffixes):
        return True
    return "prompt" in name and bool(suffixes) and suffixes[-1] in TEXT_SUFFIXES


def project_files(root: Path) -> list[str]:
    """Every file below `root`, relative to it: git's view where there is one (ignored files
    left out), else a walk; hidden paths are left out either way."""
    repo = gitrepo.find(root)
    if repo is not None:
        names = gitrepo.working_files(repo)
    else:
        names = [e.rel for e in walk.walk(root, skip_dirs=SKIP_DIRS).files]
    return sorted(n for n in names if not any(p.startswith(".") for p in PurePosixPath(n).parts))


def target(root: Path, *, overwrite: bool) -> Path:
    """Where the starter goes; an InputError when a config is there already and may not be replaced."""
    path = root / CONFIG_NAME
    if path.exists() and not overwrite:
        raise InputError(f"{CONFIG_NAME} already exists: {path}", hint="pass --force to overwrite it, or --stdout to print")
    return path


def chosen_files(root: Path, named: Sequence[str] | None) -> tuple[list[str], list[str], list[str]]:
    """The prompt files to budget, relative to `root`: those `named` (files, directories or
    globs, all inside the project) or else the ones `discover` finds; then the directories
    named, and every file of the project."""
    everything = project_files(root)
    if not named:
        return discover(everything), [], everything
    files = []
    for source in inputs.expand(named).sources:
        rel = _inside(source.path, root)
        if rel is None:
            raise InputError(f"not inside the project directory {root}: {source.label}")
        files.append(rel)
    named_dirs = [d for d in (_inside(Path(p), root) for p in named if Path(p).is_dir()) if d is not None]
    return files, ["" if d == "." else d for d in named_dirs], everything


def _inside(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


@dataclass(frozen=True)
class Traffic:
    """How often each prompt is sent, and whether anyone said so (else a placeholder)."""

    calls_per_month: int
    known: bool
    calls_per_day: int | None = None


def traffic(chosen: Settings, calls_per_day: int | None) -> Traffic:
    """--calls-per-day (a month is 30 days), else the calls per month chosen (flag, env, config)."""
    if calls_per_day is not None:
        return Traffic(calls_per_day * DAYS_PER_MONTH, True, calls_per_day)
    return Traffic(chosen.calls.value, chosen.calls.source != "default")


def starter(
    root: Path,
    named: Sequence[str] | None,
    catalog: Catalog,
    chosen: Settings,
    *,
    headroom: int = DEFAULT_HEADROOM,
    calls_per_day: int | None = None,
) -> Starter:
    """`tokopt init`: a starter config for the project at `root`, priced on the models `chosen`
    names, else the models the project's code calls, else the catalog's defaults."""
    files, named_dirs, everything = chosen_files(root, named)
    found: list[scan.Found] = []
    if chosen.models.value:
        models, models_from = catalog.select(chosen.models.value), "option"
    else:
        found = scan.models_in_code(root, everything, catalog)
        models, models_from = ([catalog.get(f.model) for f in found], "code") if found else (catalog.defaults(), "default")
    result = propose(
        root,
        sorted(set(files)),
        models,
        model_ids=[m.id for m in models],
        output_tokens=chosen.output_tokens.value,
        traffic=traffic(chosen, calls_per_day),
        headroom=headroom,
        named_dirs=named_dirs,
        all_files=everything,
        found=found,
    )
    result.models, result.models_from = [m.id for m in models], models_from
    return result


def discover(files: Sequence[str]) -> list[str]:
    """The prompt files among `files`."""
    return [n for n in files if looks_like_prompt(PurePosixPath(n))]


def nice_ceiling(value: Decimal, digits: int = 2) -> Decimal:
    """`value` rounded up to `digits` significant digits: 1542.5 -> 1600, 0.0089125 -> 0.009."""
    if value <= 0:
        return Decimal(0)
    step = Decimal(1).scaleb(value.adjusted() - digits + 1)
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


@dataclass
class ProposedBudget:
    name: str
    paths: list[str]
    exclude: list[str]
    files: list[str]
    max_tokens: int
    max_cost_per_call: Decimal | int
    today_tokens: int
    today_cost: Decimal
    costliest: str
    today_monthly: Decimal = Decimal(0)  # the costliest prompt's month
    today_total: Decimal = Decimal(0)  # all its prompts' month, on the model where that is most
    max_monthly_cost: Decimal | int | None = None  # with a known traffic only
    max_total_monthly_cost: Decimal | int | None = None


@dataclass
class Starter:
    text: str
    budgets: list[ProposedBudget] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "file: why", left out of the budgets
    models: list[str] = field(default_factory=list)
    models_from: str = "option"  # "option" (-m, env, config), "code" (found in the code), "default"
    found: list[scan.Found] = field(default_factory=list)


def _group(files: Sequence[str], named: set[str]) -> dict[str, tuple[str, list[str], list[str]]]:
    """name -> (name, globs, files): a prompts directory gets `dir/**/*.ext` globs, so new
    prompts there are budgeted too; loose prompt files are listed one by one per directory."""
    groups: dict[str, tuple[str, list[str], list[str]]] = {}
    for name in files:
        path = PurePosixPath(name)
        home = _prompt_dir_of(path, named)
        if home is not None:
            key = home
            suffix = "".join(path.suffixes[-1:]) or ""
            pattern = f"{globs.escape(home)}/**/*{globs.escape(suffix)}" if home else f"**/*{globs.escape(suffix)}"
        else:
            key = path.parent.as_posix() if path.parent.as_posix() != "." else ""
            pattern = globs.escape(name)
        label = key or "prompts"
        entry = groups.setdefault(key, (label, [], []))
        if pattern not in entry[1]:
            entry[1].append(globs.check(pattern))
        entry[2].append(name)
    return groups


def _costs(model: ModelPrice, requests: Sequence[counting.PricedRequest]) -> tuple[int, Decimal]:
    """The largest input and the largest cost per call among a file's requests, as check prices them."""
    most_tokens, most_cost = 0, Decimal(0)
    for r in requests:
        n = r.input_tokens[model.id]
        cost = costing.cost_of(model, Usage(input_tokens=n, output_tokens=r.output_tokens), batch=r.batch).total_usd
        most_tokens, most_cost = max(most_tokens, n), max(most_cost, cost)
    return most_tokens, most_cost


def propose(
    root: Path,
    files: Sequence[str],
    models: Sequence[ModelPrice],
    *,
    model_ids: Sequence[str] | None,
    output_tokens: int,
    traffic: Traffic,
    headroom: int = DEFAULT_HEADROOM,
    named_dirs: Sequence[str] = (),
    all_files: Sequence[str] = (),
    found: Sequence[scan.Found] = (),
) -> Starter:
    """A starter tokopt.toml for `files` (relative to `root`), with limits at today's maximum
    over `models` plus `headroom` percent, rounded up to two significant digits: per call, and
    (when the traffic is known) per prompt a month and for all of a budget's prompts together.
    Files among `all_files` that a proposed glob would catch but are not prompts go in its
    `exclude`."""
    skipped: list[str] = []
    contents = counting.count_prompts(root, files, models, skipped)
    files = [f for f in files if f in contents]
    factor = 1 + Decimal(headroom) / 100
    proposals = []
    for label, patterns, members in _group(files, set(named_dirs)).values():
        worst_tokens, worst_cost, costliest = 0, Decimal(0), ""
        per_model = {m.id: Decimal(0) for m in models}  # one call of every prompt, on each model
        for f in members:
            requests = counting.file_requests(contents[f], models, output_tokens)
            for m in models:
                n, cost = _costs(m, requests)
                per_model[m.id] += _all_calls(m, requests)
                worst_tokens = max(worst_tokens, n)
                if cost >= worst_cost:
                    worst_cost, costliest = cost, m.id
        calls = traffic.calls_per_month
        with decimal.localcontext(decimal.Context(prec=40)):
            max_tokens = int(nice_ceiling(Decimal(worst_tokens) * factor).to_integral_value(rounding=ROUND_CEILING))
            max_cost = _plain(nice_ceiling(worst_cost * factor))
            monthly, total = worst_cost * calls, max(per_model.values(), default=Decimal(0)) * calls
            max_monthly = _plain(nice_ceiling(monthly * factor)) if traffic.known else None
            max_total = _plain(nice_ceiling(total * factor)) if traffic.known else None
        spec = FileBudget(paths=patterns, max_tokens=0)
        exclude = [globs.escape(f) for f in all_files if f not in members and spec.matches(f)]
        proposals.append(
            ProposedBudget(
                label, patterns, exclude, members, max(max_tokens, 1), max_cost, worst_tokens, worst_cost, costliest,
                monthly, total, max_monthly, max_total,
            )
        )
    text = render(proposals, model_ids=model_ids, output_tokens=output_tokens, traffic=traffic, headroom=headroom, found=found)
    return Starter(text=text, budgets=proposals, files=list(files), skipped=skipped)


def _plain(value: Decimal) -> Decimal | int:
    """A limit as people write it in TOML: 210, not 2.1E+2 or 210.0; 0.0035, not 0.00350."""
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def _all_calls(model: ModelPrice, requests: Sequence[counting.PricedRequest]) -> Decimal:
    """One call of each of a file's requests on `model`, as check prices them."""
    with decimal.localcontext(costing.MONEY_CONTEXT):
        return sum(
            (costing.cost_of(model, Usage(input_tokens=r.input_tokens[model.id], output_tokens=r.output_tokens), batch=r.batch).total_usd for r in requests),
            Decimal(0),
        )


HEADER = """\
# tokopt.toml: token and cost budgets for this project's prompts, checked by `tokopt check`.
#
# `tokopt check` prices every file a budget's `paths` match on each model and fails (exit 1)
# when one breaks a limit; `tokopt check --base origin/main` also shows what a change adds.
# Paths are globs relative to this file (`**` = any directories). Limits, all optional:
#   max_tokens              input tokens per call, on each model (≈ where the count is approximate)
#   max_cost_per_call       USD per call: input plus `output_tokens` of output
#   max_monthly_cost        USD per month of each prompt: cost per call x calls_per_month
#   max_total_monthly_cost  USD per month of all the prompts a budget covers, together
#   max_context_share       (input + output) / the model's context window, e.g. 0.5
#   max_increase_pct        growth in input tokens against --base, in percent
# A budget may set its own `models`, `output_tokens` and `calls_per_month`.
"""


def _visible(text: str) -> str:
    """A name for a comment line: a newline or other control character shown as its escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _fmt_usd(value: Decimal) -> str:
    return "$" + format(value.normalize(), "f")


def _places(found: scan.Found) -> str:
    more = len(found.places) - 1
    return found.places[0] + (f" and {more} more place{'s' if more != 1 else ''}" if more else "")


def _defaults_comment(model_ids: Sequence[str] | None, traffic: Traffic, found: Sequence[scan.Found]) -> list[str]:
    lines = ["# The models priced for budgets that name none, the expected completion per call,", "# and how often each prompt is sent in a month."]
    if found:
        lines.append("# Models found in the code: " + "; ".join(f"{f.model} ({_visible(_places(f))})" for f in found) + ".")
    elif model_ids:
        lines.append("# No model ids were found in the code (model=\"...\" and the like): these are tokopt's defaults.")
    if traffic.calls_per_day is not None:
        lines.append(f"# calls_per_month: {traffic.calls_per_day:,} calls a day × {DAYS_PER_MONTH} days.")
    elif not traffic.known:
        lines.append("# calls_per_month is a placeholder: put your real traffic here or in [[traffic]] below, then")
        lines.append("# add max_monthly_cost and max_total_monthly_cost (or run tokopt init --calls-per-day N).")
    return lines


def _traffic_template(budgets: Sequence[ProposedBudget]) -> str:
    import json

    example = budgets[0].paths[0] if budgets else "prompts/**/*.md"
    paths = f"paths = [{json.dumps(example, ensure_ascii=False)}]"  # a JSON string is a TOML basic string
    return (
        "# Real traffic, prompt by prompt, like infracost's usage file: the first entry that matches\n"
        "# a file sets its calls (over calls_per_month) and the share of its input the provider's\n"
        "# cache serves. Uncomment and fill in:\n"
        "# [[traffic]]\n"
        f"# {paths}\n"
        "# calls_per_day = 1000           # or calls_per_month; a month is 30 days\n"
        "# cached_share = 0.5             # share of each call's input read from the cache\n"
    )


def render(
    budgets: Sequence[ProposedBudget],
    *,
    model_ids: Sequence[str] | None,
    output_tokens: int,
    traffic: Traffic,
    headroom: int,
    found: Sequence[scan.Found] = (),
) -> str:
    import tomli_w

    defaults: dict[str, Any] = {"output_tokens": output_tokens, "calls_per_month": traffic.calls_per_month}
    if model_ids:
        defaults = {"models": list(model_ids), **defaults}
    parts = [HEADER, *_defaults_comment(model_ids, traffic, found), tomli_w.dumps({"defaults": defaults}), _traffic_template(budgets)]
    if budgets:
        parts.append(f"# Proposed from the files as they are today: the largest value plus {headroom}% headroom, rounded up.\n")
    for b in budgets:
        files = f"{len(b.files)} file{'s' if len(b.files) != 1 else ''}"
        month = f", {_fmt_usd(_cents(b.today_monthly))} a month; all of them {_fmt_usd(_cents(b.today_total))} a month" if traffic.known else ""
        parts.append(
            f"# {_visible(b.name)}: {files} today, up to {b.today_tokens:,} input tokens and "
            f"{_fmt_usd(quantize(b.today_cost, '0.000001', ROUND_CEILING))} per call ({b.costliest}){month}"
        )
        data: dict[str, Any] = {
            "name": b.name,
            "paths": b.paths,
            **({"exclude": b.exclude} if b.exclude else {}),
            "max_tokens": b.max_tokens,
            "max_cost_per_call": b.max_cost_per_call,
            **({"max_monthly_cost": b.max_monthly_cost} if b.max_monthly_cost is not None else {}),
            **({"max_total_monthly_cost": b.max_total_monthly_cost} if b.max_total_monthly_cost is not None else {}),
        }
        parts.append(tomli_w.dumps({"budgets": [data]}).rstrip("\n"))
        parts.append("# max_increase_pct = 20\n# max_context_share = 0.5\n")
    if not budgets:
        parts.append(
            "# No prompt files were found. A budget looks like this:\n"
            "#\n"
            "# [[budgets]]\n"
            '# name = "prompts"\n'
            '# paths = ["prompts/**/*.md"]\n'
            "# max_tokens = 4000\n"
            "# max_cost_per_call = 0.02\n"
        )
    text = "\n".join(parts)
    _validate(text)
    return text


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_CEILING)


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def summary(result: Starter) -> str:
    """`2 budgets for 5 prompt files on gpt-5.5 and claude-sonnet-5 (found in the code)`."""
    text = f"{_n(len(result.budgets), 'budget')} for {_n(len(result.files), 'prompt file')}"
    models = result.models
    if result.models_from == "default":
        return f"{text} on tokopt's {_n(len(models), 'default model')} (no model ids found in the code)"
    named = models[0] if len(models) == 1 else ", ".join(models[:-1]) + " and " + models[-1]
    if len(models) > 4:
        named = f"{', '.join(models[:3])} and {_n(len(models) - 3, 'more model')}"
    return f"{text} on {named}" + (" (found in the code)" if result.models_from == "code" else "")


def _validate(text: str) -> None:
    from tokopt.tomlio import tomllib

    ProjectConfig.model_validate(tomllib.loads(text, parse_float=Decimal))
