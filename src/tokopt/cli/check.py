"""`tokopt check`: the project's budgets, evaluated; exit 1 when one is broken."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tokopt.cli._common import (
    AtOption,
    TierOption,
    CallsPerMonthOption,
    DefaultModelsOption,
    DefaultOutputTokensOption,
    EncodingErrorsChoice,
    EncodingErrorsOption,
    LedgerOption,
    PricingOption,
    ProjectConfigOption,
    load_catalog,
    load_user_config,
    note,
    UserOption,
    exit_code_if_reader_leaves,
    print_error,
    stdout_charset,
    table_consoles,
    warn,
)

if TYPE_CHECKING:
    from tokopt.budgets import CheckResult
    from tokopt.budgets.pr_comment import PullRequest
    from tokopt.budgets.config import Project
    from tokopt.ledger import Ledger
    from tokopt.pricing import Catalog


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    github = "github"
    junit = "junit"


FilesArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Check only these files (as pre-commit passes them). \\[default: every file a budget covers]", show_default=False),
]
BaseOption = Annotated[
    str | None,
    typer.Option("--base", "-b", help="A git revision to compare with (branch, tag, commit): deltas and max_increase_pct.", show_default=False),
]
CheckFormatOption = Annotated[
    CheckFormat,
    typer.Option("--format", "-f", help="table for people; json, markdown (PR comment), github (annotations) or junit (XML)."),
]
OutputFileOption = Annotated[
    Path | None,
    typer.Option("--output-file", help="Write the report to this file instead of stdout.", show_default=False, dir_okay=False),
]
WarnOnlyOption = Annotated[bool, typer.Option("--warn-only", help="Report broken budgets but exit 0.")]
DetailsOption = Annotated[bool, typer.Option("--details", help="Every prompt on every model, not only the prompts that changed.")]
CommentOption = Annotated[
    bool,
    typer.Option(
        "--comment",
        help="Post the Markdown report as one pull-request comment, updated in place (GitHub Actions: "
        "GITHUB_TOKEN with pull-requests: write); a read-only token falls back to the job summary.",
    ),
]
SummaryOption = Annotated[bool, typer.Option("--summary", help="Append the Markdown report to the GitHub job summary ($GITHUB_STEP_SUMMARY).")]


def check_command(
    files: FilesArgument = None,
    *,
    base: BaseOption = None,
    output_format: CheckFormatOption = CheckFormat.table,
    output_file: OutputFileOption = None,
    warn_only: WarnOnlyOption = False,
    details: DetailsOption = False,
    comment: CommentOption = False,
    summary: SummaryOption = False,
    config: ProjectConfigOption = None,
    model: DefaultModelsOption = None,
    output_tokens: DefaultOutputTokensOption = None,
    calls_per_month: CallsPerMonthOption = None,
    pricing: PricingOption = None,
    at: AtOption = None,
    tier: TierOption = None,
    max_price_age: Annotated[
        int | None,
        typer.Option("--max-price-age", min=0, help="Fail (exit 1) when the price data is older than this many days.", show_default=False),
    ] = None,
    encoding_errors: EncodingErrorsOption = EncodingErrorsChoice.strict,
    ledger: LedgerOption = None,
    user: UserOption = None,
) -> None:
    """Check the project's token and cost budgets; exit 1 if one is broken.

    Budgets live in tokopt.toml or \\[tool.tokopt] in pyproject.toml (see `tokopt init`).
    Exit codes: 0 within budget (or --warn-only), 1 over budget, 2 a config or input error.
    """
    from tokopt import budgets, settings
    from tokopt.budgets import config as project_config

    pr = _pull_request() if comment else None
    project = project_config.locate(config, Path.cwd())
    catalog = load_catalog(pricing, project.pricing_files(), at=at, tier=tier)
    chosen = settings.resolve(load_user_config(catalog), project.values(), models=model, output_tokens=output_tokens, calls=calls_per_month)
    with _spend_ledger(project, ledger, user, catalog) as book:
        result = budgets.check(project, catalog, chosen, base=base, only=files, errors=encoding_errors.value, ledger=book)
    stale = _price_age_failure(catalog, max_price_age)
    failed = (not result.ok or bool(stale)) and not warn_only
    exit_code_if_reader_leaves(1 if failed else 0)  # `tokopt check | head -1` still fails the job
    _report(result, output_format, warn_only=warn_only, details=details, output_file=output_file)
    if comment or summary:
        _publish(result, pr, warn_only=warn_only, details=details, comment=comment, summary=summary)
    if stale:
        print_error(stale, "run `tokopt prices update`, or raise --max-price-age")
    if failed:
        raise typer.Exit(1)


def _pull_request() -> PullRequest | None:
    """The pull request --comment posts to (checked before the budgets are, to fail early)."""
    from tokopt import paths
    from tokopt.budgets import pr_comment
    from tokopt.errors import InputError

    if paths.offline():
        raise InputError(f"--comment uses the network, and {paths.ENV_OFFLINE} forbids it")
    return pr_comment.pull_request()


def _publish(result: CheckResult, pr: PullRequest | None, *, warn_only: bool, details: bool, comment: bool, summary: bool) -> None:
    """The Markdown report as the pull request's comment and/or in the job summary. A comment
    that cannot be posted is a warning, and the report goes to the job summary instead."""
    from tokopt.budgets import pr_comment
    from tokopt.render import check_ci

    full = check_ci.markdown(result, warn_only=warn_only, details=details)
    in_summary = summary and pr_comment.to_job_summary(full) is not None
    if not comment:
        return
    if pr is None:
        note("--comment: this job is not for a pull request; no comment")
        if not in_summary and pr_comment.to_job_summary(full):
            note("the report is in the job summary")
        return
    where = f"the [job summary]({pr.run_url})" if pr.run_url else "the job summary"
    room = pr_comment.MAX_CHARS - len(pr_comment.body(""))
    text = check_ci.markdown(result, warn_only=warn_only, details=details, max_chars=room, more_text=f"the full report is in {where}")
    try:
        posted = pr_comment.upsert(pr, pr_comment.body(text))
    except pr_comment.CommentError as exc:
        saved = in_summary or pr_comment.to_job_summary(full) is not None
        warn(f"could not comment on pull request #{pr.number}: {exc.message}" + ("; the report is in the job summary" if saved else ""))
        if exc.read_only:
            note("a pull request from a fork gets a read-only token; elsewhere give the job permissions: pull-requests: write")
        return
    if text != full and not in_summary:
        pr_comment.to_job_summary(full)  # the comment links it for what it leaves out
    note(f"{posted.action} the pull request comment" + (f": {posted.url}" if posted.url else ""))


def _price_age_failure(catalog: Catalog, max_days: int | None) -> str | None:
    """--max-price-age: the price data's age as a failure, for teams that want current prices."""
    from tokopt import pricing

    status = pricing.data_status(catalog)
    if max_days is None or status.age_days is None or status.age_days <= max_days:
        return None
    return f"price data {status.label} is {status.age_days} days old (as of {status.as_of}), over --max-price-age {max_days}"


@contextlib.contextmanager
def _spend_ledger(project: Project, location: str | None, user: str | None, catalog: Catalog) -> Iterator[Ledger | None]:
    """The ledger the spend budgets read, open while they do; none without spend budgets."""
    if not project.config.spend_budgets:
        yield None
        return
    from tokopt.ledger import Ledger

    book = Ledger(location, user=user, catalog=catalog)
    try:
        yield book
    finally:
        book.close()
        for line in book.notices:
            note(line)


def _report(result: CheckResult, fmt: CheckFormat, *, warn_only: bool, details: bool, output_file: Path | None) -> None:
    from tokopt.render import check as view, check_ci, machine

    # Markdown carries warnings and notes in the report and GitHub annotates the warnings;
    # elsewhere they go to stderr, next to the data rather than in it.
    if fmt not in (CheckFormat.markdown, CheckFormat.github):
        for line in result.warnings:
            warn(line)
    if fmt is not CheckFormat.markdown:
        for line in result.notes:
            note(line)
    if fmt is CheckFormat.table:
        _print_table(result, warn_only, details, output_file)
        return
    render = {
        CheckFormat.json: lambda: machine.to_json(
            view.document(result, warn_only=warn_only), pretty=output_file is None and sys.stdout.isatty(), encoding="utf-8" if output_file else stdout_charset()
        ),
        CheckFormat.markdown: lambda: check_ci.markdown(result, warn_only=warn_only, details=details),
        CheckFormat.github: lambda: check_ci.github(result, warn_only=warn_only),
        CheckFormat.junit: lambda: check_ci.junit(result, warn_only=warn_only),
    }[fmt]
    _write(render(), output_file)


def _write(text: str, output_file: Path | None) -> None:
    if output_file is None:
        sys.stdout.write(text)
        return
    from tokopt.errors import InputError

    try:
        output_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output_file}: {exc.strerror}") from None


def _print_table(result: CheckResult, warn_only: bool, details: bool, output_file: Path | None) -> None:
    from rich.console import Console

    from tokopt.render import check_headline as view
    from tokopt.render.grid import Grid
    from tokopt.render.table import print_grid, print_text

    if output_file is not None:
        import io

        buffer = io.StringIO()
        console = notes = Console(file=buffer, width=120, no_color=True, soft_wrap=False)
    else:
        console, notes = table_consoles()
    for block in view.blocks(result, warn_only=warn_only, details=details):
        if isinstance(block, Grid):
            print_grid(console, block, notes)
        else:
            print_text(console, *block)
    if output_file is not None:
        _write(buffer.getvalue(), output_file)
