"""`tokopt check`: the project's budgets, evaluated; exit 1 when one is broken."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from tokopt import paths
from tokopt.cli._common import EncodingErrorsChoice, PricingOption, load_user_config, note, stdout_console, warn
from tokopt.cli.session import LedgerOption, UserOption


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    github = "github"
    junit = "junit"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar=paths.ENV_PROJECT_CONFIG,
        help="The project config: a tokopt.toml, or a pyproject.toml with \\[tool.tokopt]. "
        "\\[default: the nearest one at or above the working directory]",
        show_default=False,
    ),
]
ModelsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "-m",
        envvar=paths.ENV_MODELS,
        help="Models for budgets that name none, instead of \\[defaults] models (repeatable; ids, aliases, globs).",
        show_default=False,
    ),
]
OutputTokensOption = Annotated[
    int | None,
    typer.Option(
        "--output-tokens",
        "-o",
        min=0,
        envvar=paths.ENV_OUTPUT_TOKENS,
        help="Expected completion tokens per call, for budgets that set none. \\[default: the project's, else 500]",
        show_default=False,
    ),
]
CallsOption = Annotated[
    int | None,
    typer.Option(
        "--calls-per-month",
        min=1,
        envvar=paths.ENV_CALLS_PER_MONTH,
        help="Calls per month of each prompt, for budgets that set none. \\[default: the project's]",
        show_default=False,
    ),
]


def check_command(
    files: Annotated[
        list[str] | None,
        typer.Argument(help="Check only these files (as pre-commit passes them). \\[default: every file a budget covers]", show_default=False),
    ] = None,
    *,
    base: Annotated[
        str | None,
        typer.Option("--base", "-b", help="A git revision to compare with (branch, tag, commit): deltas and max_increase_pct.", show_default=False),
    ] = None,
    output_format: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="table for people; json, markdown (PR comment), github (annotations) or junit (XML)."),
    ] = CheckFormat.table,
    output_file: Annotated[
        Path | None,
        typer.Option("--output-file", help="Write the report to this file instead of stdout.", show_default=False, dir_okay=False),
    ] = None,
    warn_only: Annotated[bool, typer.Option("--warn-only", help="Report broken budgets but exit 0.")] = False,
    config: ConfigOption = None,
    model: ModelsOption = None,
    output_tokens: OutputTokensOption = None,
    calls_per_month: CallsOption = None,
    pricing: PricingOption = None,
    encoding_errors: Annotated[
        EncodingErrorsChoice,
        typer.Option("--encoding-errors", help="What to do with invalid UTF-8: stop (strict) or read it as U+FFFD."),
    ] = EncodingErrorsChoice.strict,
    ledger: LedgerOption = None,
    user: UserOption = None,
) -> None:
    """Check the project's token and cost budgets; exit 1 if one is broken.

    Budgets live in tokopt.toml or \\[tool.tokopt] in pyproject.toml (see `tokopt init`).
    Exit codes: 0 within budget (or --warn-only), 1 over budget, 2 a config or input error.
    """
    from tokopt import budgets, pricing as pricing_mod, settings as settings_mod
    from tokopt.budgets import config as project_mod
    from tokopt.render import check as view, check_ci

    project = project_mod.locate(config, Path.cwd())
    catalog = pricing_mod.load_catalog(paths.bundled_pricing_dir(), project_mod.pricing_overlays(project, pricing or []))
    settings = settings_mod.resolve(load_user_config(catalog), project.values(), models=model, output_tokens=output_tokens, calls=calls_per_month)
    book = None
    if project.config.spend_budgets:
        from tokopt.ledger import Ledger

        book = Ledger(ledger, user=user, catalog=catalog)
    try:
        result = budgets.check(project, catalog, settings, base=base, only=files, errors=encoding_errors.value, ledger=book)
    finally:
        if book is not None:
            book.close()
            for line in book.notices:
                note(line)

    fmt = output_format
    # Markdown carries warnings and notes in the report and GitHub annotates the warnings;
    # elsewhere they go to stderr, next to the data rather than in it.
    if fmt not in (CheckFormat.markdown, CheckFormat.github):
        for line in result.warnings:
            warn(line)
    if fmt is not CheckFormat.markdown:
        for line in result.notes:
            note(line)
    if fmt is CheckFormat.table:
        _print_table(result, warn_only, output_file)
    else:
        render = {
            CheckFormat.json: lambda: _json(view.document(result, warn_only=warn_only)),
            CheckFormat.markdown: lambda: check_ci.markdown(result, warn_only=warn_only),
            CheckFormat.github: lambda: check_ci.github(result, warn_only=warn_only),
            CheckFormat.junit: lambda: check_ci.junit(result, warn_only=warn_only),
        }[fmt]
        _write(render(), output_file)
    if not result.ok and not warn_only:
        raise typer.Exit(1)


def _json(doc: object) -> str:
    from tokopt.render import machine

    return machine.to_json(doc)


def _write(text: str, output_file: Path | None) -> None:
    if output_file is None:
        sys.stdout.write(text)
        return
    from tokopt.errors import InputError

    try:
        output_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output_file}: {exc.strerror}") from None


def _print_table(result: object, warn_only: bool, output_file: Path | None) -> None:
    from rich.console import Console
    from rich.text import Text

    from tokopt.budgets import CheckResult
    from tokopt.render import check as view
    from tokopt.render.table import print_grid

    assert isinstance(result, CheckResult)
    if output_file is not None:
        import io

        buffer = io.StringIO()
        console = Console(file=buffer, width=120, no_color=True, soft_wrap=False)
    else:
        console = stdout_console()
    for grid in view.grids(result, warn_only=warn_only):
        print_grid(console, grid)
        console.print()
    style = "bold green" if result.ok else ("bold yellow" if warn_only else "bold red")
    console.print(Text(view.verdict(result, warn_only=warn_only), style=style), soft_wrap=True)
    if output_file is not None:
        _write(buffer.getvalue(), output_file)
