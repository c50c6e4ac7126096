"""`tokopt init`: write a commented starter tokopt.toml with budgets for the prompts found."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tokopt.cli._common import (
    CallsPerMonthOption,
    DefaultModelsOption,
    DefaultOutputTokensOption,
    PricingOption,
    load_catalog,
    parse_calls,
    load_user_config,
    note,
    warn,
)

PromptsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Prompt files, directories or globs to budget. \\[default: prompt files found in the project]",
        show_default=False,
    ),
]
HeadroomOption = Annotated[
    int, typer.Option("--headroom", min=0, max=1000, metavar="PCT", help="Percent above today's largest value for each proposed limit.")
]
CallsPerDayOption = Annotated[
    int | None,
    typer.Option(
        "--calls-per-day",
        parser=parse_calls,
        metavar="N",
        help="Calls a day of each prompt (× 30 a month; 2000, 2k), instead of --calls-per-month.",
        show_default=False,
    ),
]


def init_command(
    prompts: PromptsArgument = None,
    *,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing tokopt.toml.")] = False,
    stdout: Annotated[bool, typer.Option("--stdout", help="Print the file instead of writing it.")] = False,
    headroom: HeadroomOption = 25,
    model: DefaultModelsOption = None,
    output_tokens: DefaultOutputTokensOption = None,
    calls_per_month: CallsPerMonthOption = None,
    calls_per_day: CallsPerDayOption = None,
    pricing: PricingOption = None,
) -> None:
    """Write a starter tokopt.toml, with budgets proposed from the prompts' cost today.

    Prompt files are found in directories named prompts (or *_prompts) and by names such as
    *.prompt.md or system_prompt.txt; name them yourself to choose. The models are those the
    code calls (model="..." in Python, TypeScript, JSON, YAML), else tokopt's defaults. Limits
    are today's largest value plus --headroom percent, rounded up; with --calls-per-day or
    --calls-per-month, monthly ones too. An existing file is kept unless --force.
    """
    from tokopt import settings
    from tokopt.budgets import config as project_config, init

    if calls_per_day is not None and calls_per_month is not None:
        raise typer.BadParameter("give --calls-per-day or --calls-per-month, not both", param_hint="'--calls-per-day'")
    root = Path.cwd()
    target = init.target(root, overwrite=force or stdout)
    catalog = load_catalog(pricing)
    chosen = settings.resolve(load_user_config(catalog), models=model, output_tokens=output_tokens, calls=calls_per_month)
    result = init.starter(root, prompts, catalog, chosen, headroom=headroom, calls_per_day=calls_per_day)
    for line in result.skipped:
        warn(line)
    if stdout:
        sys.stdout.write(result.text)
        return
    target.write_text(result.text, encoding="utf-8")
    if not result.files:
        warn("no prompt files found; the budgets in tokopt.toml are an example to edit (or name files: tokopt init prompts/)")
    note(f"wrote {target.name}: {init.summary(result)}; run `tokopt check`")
    if project_config.has_tool_table(root / project_config.PYPROJECT):
        note("pyproject.toml has [tool.tokopt] too; tokopt.toml is the one used")
