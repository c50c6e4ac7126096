"""`tokopt session ...`: the usage ledger (runs, records, imports, reports)."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokopt import paths
from tokopt.cli._common import (
    AgentFilter,
    BranchFilter,
    FormatOption,
    LedgerOption,
    MaxInputSizeOption,
    ModelFilter,
    OutputFormat,
    PricingOption,
    ProjectFilter,
    ProviderFilter,
    SinceOption,
    TimezoneOption,
    UntilOption,
    UserOption,
    byte_progress,
    complete_model,
    emit,
    load_catalog,
    note,
    parse_size,
    warn,
)

if TYPE_CHECKING:
    from tokopt.ledger import Ledger

session_app = typer.Typer(
    help="Record what LLM calls really cost, per user and run, and report it.",
    no_args_is_help=True,
)


class ReportBy(str, Enum):
    model = "model"
    run = "run"
    user = "user"
    provider = "provider"
    agent = "agent"
    session = "session"
    project = "project"
    branch = "branch"
    hour = "hour"
    day = "day"
    week = "week"
    month = "month"


RunOption = Annotated[
    str | None,
    typer.Option(
        "--run",
        "-r",
        envvar=paths.ENV_RUN,
        help="Run id or name to record into (a new name starts a run). \\[default: your current run]",
        show_default=False,
    ),
]


def _open(ledger: str | None, user: str | None, pricing: list[Path] | None = None, *, priced: bool = False) -> Ledger:
    from tokopt.ledger import Ledger

    return Ledger(ledger, user=user, catalog=load_catalog(pricing) if priced else None)


def _notices(ledger: Ledger) -> None:
    for message in ledger.notices:
        note(message)
    ledger.notices.clear()


def session_start(
    *,
    name: Annotated[str | None, typer.Option("--run", "-r", help="A name for the run. \\[default: its id]", show_default=False)] = None,
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="A key=value label (repeatable).", show_default=False)] = None,
    user: UserOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Start a run, print its id, and make it your current run until `session end`."""
    from tokopt.ledger import parse_labels

    with _open(ledger, user) as book:
        run = book.start_run(name, parse_labels(label or []))
        _notices(book)
    sys.stdout.write(run.id + "\n")
    note(f"started run {run.id}" + (f" ({run.name})" if run.name != run.id else "") + f" for {run.user}; it is your current run")
    if os.environ.get(paths.ENV_RUN):
        warn(f"{paths.ENV_RUN} is set, so records go to that run instead")


def session_end(
    run: Annotated[str | None, typer.Argument(help="Run id or name. \\[default: your current run]", show_default=False)] = None,
    *,
    user: UserOption = None,
    ledger: LedgerOption = None,
) -> None:
    """End a run (your current one unless named) and print its id."""
    with _open(ledger, user) as book:
        ended = book.end_run(run)
        _notices(book)
    sys.stdout.write(ended.id + "\n")
    note(f"ended run {ended.id}" + (f" ({ended.name})" if ended.name != ended.id else ""))


def session_list(
    *,
    all_users: Annotated[bool, typer.Option("--all-users", help="Every user's runs, not only yours.")] = False,
    user: UserOption = None,
    ledger: LedgerOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """List runs with their records and cost; * marks your current run."""
    from tokopt.render import session as view

    with _open(ledger, user) as book:
        listing = book.runs(all_users=all_users)
        _notices(book)
    emit(
        output_format,
        document=lambda: view.runs_document(listing),
        rows=lambda: view.run_rows(listing),
        grids=lambda: [view.runs_grid(listing, all_users=all_users)],
        columns=view.RUN_COLUMNS,
    )


def session_delete(
    run: Annotated[str, typer.Argument(help="Run id or name.", show_default=False)],
    *,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    user: UserOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Delete one of your runs and every record in it."""
    from tokopt.errors import InputError

    with _open(ledger, user) as book:
        found = book.get_run(run)
        if not yes:
            n = book.spend(run=found.id).records
            label = f"{found.id} ({found.name})" if found.name != found.id else found.id
            try:
                from tokopt.render.escape import visible

                answer = typer.confirm(f"delete run {visible(label)} and its {n:,} records?", default=False, err=True)
            except typer.Abort:  # no answer at all: standard input is closed or empty
                sys.stderr.write("\n")
                raise InputError("no answer to the question: nothing deleted", hint="pass --yes to delete without asking") from None
            if not answer:
                note(f"kept run {label}: nothing deleted")
                return
        deleted, records = book.delete_run(found.id)
        _notices(book)
    note(f"deleted run {deleted.id} and {records:,} records")


def session_record(
    *,
    model: Annotated[str | None, typer.Option("--model", "-m", help="The model billed (id, alias, or dated snapshot).", show_default=False, autocompletion=complete_model)] = None,
    input_tokens: Annotated[int | None, typer.Option("--input", "-i", min=0, help="Input tokens: the whole prompt, cached parts included.", show_default=False)] = None,
    output_tokens: Annotated[int, typer.Option("--output", "-o", min=0, help="Output tokens, reasoning included.")] = 0,
    cached: Annotated[int, typer.Option("--cached", min=0, help="Input tokens read from the prompt cache.")] = 0,
    cache_write: Annotated[int, typer.Option("--cache-write", min=0, help="Input tokens written to the cache (5-minute).")] = 0,
    cache_write_1h: Annotated[int, typer.Option("--cache-write-1h", min=0, help="Input tokens written to the 1-hour cache.")] = 0,
    reasoning: Annotated[int, typer.Option("--reasoning", min=0, help="Reasoning tokens (a part of output).")] = 0,
    batch: Annotated[bool, typer.Option("--batch", help="Billed at batch-API prices.")] = False,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="Count this prompt file as the input: an estimate, marked so.", exists=True, dir_okay=False, show_default=False),
    ] = None,
    stdin: Annotated[bool, typer.Option("--stdin", help="Read usage records as JSON lines from stdin (all or none are kept).")] = False,
    max_input_size: Annotated[
        int | None,
        typer.Option(
            "--max-input-size",
            parser=parse_size,
            metavar="SIZE",
            help="Read at most this much from --stdin (default 64M) or a pipe given to --from-file (default 1G): an endless one is stopped, nothing recorded.",
            show_default=False,
        ),
    ] = None,
    allow_unknown: Annotated[bool, typer.Option("--allow-unknown", help="Record a model tokopt has no price for (kept unpriced) instead of refusing it.")] = False,
    run: RunOption = None,
    user: UserOption = None,
    ledger: LedgerOption = None,
    pricing: PricingOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Record the usage of LLM calls in the ledger, priced with today's prices."""
    from tokopt.errors import InputError
    from tokopt.ledger import read_records
    from tokopt.render import session as view

    given = sum(x is not None and x is not False for x in (input_tokens, from_file, stdin or None))
    if given != 1:
        raise InputError("give exactly one of --input N, --from-file FILE, --stdin", hint="tokopt session record --help")
    if not stdin and not model:
        raise InputError("--model is required", hint="e.g. --model gpt-5.5")
    with _open(ledger, user, pricing, priced=True) as book:
        if model and not stdin and not allow_unknown and book.pricer.resolve(model) is None:
            # a typo (gpt5.5) would be stored unpriced and never counted: name the near models
            near = ", ".join(book.pricer.catalog.suggest(model))
            raise InputError(
                f"unknown model: {model}; nothing was recorded",
                hint=f"{f'did you mean {near}? ' if near else ''}--allow-unknown records it unpriced; --pricing FILE prices it",
            )
        if stdin:
            from tokopt.inputs.streams import interruptible

            rows = book.record_many(read_records(interruptible(sys.stdin.buffer), max_size=max_input_size), run=run, source="cli")
        elif from_file is not None:
            rows = [
                book.record_estimate(
                    model=model or "", prompt_file=from_file, output_tokens=output_tokens, run=run, batch=batch, max_input_size=max_input_size
                )
            ]
        else:
            rows = [
                book.record(
                    model=model or "",
                    input_tokens=input_tokens or 0,
                    output_tokens=output_tokens,
                    cached_input_tokens=cached,
                    cache_write_tokens=cache_write,
                    cache_write_1h_tokens=cache_write_1h,
                    reasoning_tokens=reasoning,
                    batch=batch,
                    run=run,
                    source="cli",
                )
            ]
        _notices(book)
        catalog = book.pricer.catalog
    records = rows
    for model_id in sorted({r.model for r in records if r.cost_usd is None}):
        near = catalog.suggest(model_id)
        guess = f"did you mean {', '.join(near)}? " if near else ""
        warn(f"no price known for model {model_id}: recorded without a cost ({guess}add one with --pricing)")
    emit(
        output_format,
        document=lambda: view.records_document(records),
        rows=lambda: view.record_rows(records),
        grids=lambda: [view.records_grid(records)],
        columns=view.RECORD_COLUMNS,
    )


def session_import(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Usage logs: files, directories (walked for *.jsonl, *.json), or - for stdin. "
            "\\[default: every coding-agent log found; see `session sources`]",
            show_default=False,
        ),
    ] = None,
    *,
    run: RunOption = None,
    user: UserOption = None,
    ledger: LedgerOption = None,
    pricing: PricingOption = None,
    max_input_size: MaxInputSizeOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Import usage: every coding agent's logs found (Claude Code, Codex, Gemini CLI, OpenCode,
    Amp), or the named files (also OpenAI, Anthropic and Gemini responses).

    The format of every line is detected. A file unchanged since its last import is not read
    again, and a grown one is read from where that import stopped; lines that cannot be read
    are skipped and reported.
    """
    from tokopt.ledger import importers
    from tokopt.render import session as view

    logs = _import_sources(importers, sources)
    with _open(ledger, user, pricing, priced=True) as book:
        steps = book.plan_import(logs)
        with byte_progress(sum(s.to_read for s in steps), "reading logs") as on_bytes:
            summary = book.import_sources(steps, run=run, on_bytes=on_bytes, max_stdin=max_input_size)
        _notices(book)
    for f in summary.files:
        if f.garbage:
            examples = "; ".join(f.garbage_examples)
            warn(f"{f.source}: skipped {f.garbage:,} unreadable line{'s' if f.garbage != 1 else ''} ({examples})")
        elif not f.records and f.status != "unchanged" and f.agent is None:  # an agent's folder holds files without usage
            note(f"{f.source}: no usage found ({f.format})")
    for u in summary.unpriced:
        warn(f"no price known for model {u.model}: {u.records:,} records kept without a cost (add one with --pricing)")
    emit(
        output_format,
        document=lambda: view.import_document(summary),
        rows=lambda: view.import_rows(summary),
        grids=lambda: [view.import_grid(summary)],
        columns=view.IMPORT_COLUMNS,
    )


def _import_sources(importers: Any, sources: list[str] | None) -> list[Any]:
    """The named logs (what is missing or empty is a warning when another has logs), or every
    coding-agent log found."""
    from tokopt.errors import InputError

    if sources:
        logs, problems = importers.expand_paths(sources)
        for problem in problems:
            warn(problem)
        return list(logs)
    found = importers.discover()
    for place in found:
        for path, why in place.problems:
            warn(f"cannot read {path}: {why}")
    logs = importers.found_sources(found)
    if not logs:
        looked = ", ".join(str(f.place.path) for f in found)
        raise InputError("no coding-agent logs found", hint=f"looked in {looked}; name files or directories to import")
    return list(logs)


def session_report(
    ctx: typer.Context,
    *,
    by: Annotated[ReportBy, typer.Option("--by", "-b", help="One row per model, run, user, provider, agent, session, project, branch, or period.")] = ReportBy.model,
    run: Annotated[str | None, typer.Option("--run", "-r", help="Only this run (id or name).", show_default=False)] = None,
    user: UserOption = None,
    all_users: Annotated[bool, typer.Option("--all-users", help="Every user's records, not only yours.")] = False,
    since: SinceOption = None,
    until: UntilOption = None,
    timezone: TimezoneOption = "local",
    model: ModelFilter = None,
    provider: ProviderFilter = None,
    agent: AgentFilter = None,
    project: ProjectFilter = None,
    branch: BranchFilter = None,
    breakdown: Annotated[bool, typer.Option("--breakdown", help="Under each row, one row per model.")] = False,
    chart: Annotated[bool, typer.Option("--chart", help="Draw the cost of each row as a bar (table format).")] = False,
    ledger: LedgerOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Report recorded usage and cost, with a total; unpriced models are shown, never as $0."""
    from tokopt.errors import InputError
    from tokopt.ledger import ALL_USERS
    from tokopt.render import report as view

    if all_users and user is not None and ctx.get_parameter_source("user").name == "COMMANDLINE":  # type: ignore[union-attr]
        raise InputError("--user and --all-users do not go together")
    if chart and output_format is not OutputFormat.table:
        raise InputError("--chart draws for people: it goes with the table format", hint="leave out --format, or --chart")
    match = {"models": model or [], "providers": provider or [], "agents": agent or [], "projects": project or [], "branches": branch or []}
    with _open(ledger, user) as book:
        report = book.report(by=by.value, user=ALL_USERS if all_users else None, run=run, since=since, until=until, timezone=timezone, **match)
        _notices(book)
    if chart:
        from tokopt.cli._common import stdout_console
        from tokopt.render.chart import print_chart

        print_chart(stdout_console(), f"Cost per {report.by}", view.report_bars(report), notes=view.report_notes(report))
        return
    emit(
        output_format,
        document=lambda: view.report_document(report, breakdown=breakdown),
        rows=lambda: view.report_rows(report, breakdown=breakdown),
        grids=lambda: [view.report_grid(report, breakdown=breakdown)],
        columns=view.report_columns(report.by, breakdown=breakdown),
    )


session_app.command(name="start")(session_start)
session_app.command(name="end")(session_end)
session_app.command(name="list")(session_list)
session_app.command(name="delete")(session_delete)
session_app.command(name="record")(session_record)
session_app.command(name="import")(session_import)
session_app.command(name="report")(session_report)
