"""What every command shares: output formats, consoles, error handling, catalog loading.

Imported by `tokopt --help`, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from tokopt.cli._complete import complete_model  # noqa: F401 (shared: every model option completes with it)
from tokopt.cli._streams import (  # noqa: F401 (shared: commands take them from here)
    NATURAL_WIDTH,
    OutputError,
    OutputFormat,
    _drop_stdout,
    _GuardedOutput,
    _line,
    _ReaderLeft,
    _with_fallbacks,
    byte_progress,
    emit,
    exit_code_if_reader_leaves,
    expand_inputs,
    guard_standard_streams,
    guarded_output,
    hint_if_taken,
    note,
    print_error,
    reader_left_code,
    resolve_paths,
    spool,
    stderr_console,
    stdout_charset,
    stdout_console,
    table_consoles,
    warn,
)
from tokopt.cli._values import check_when, parse_calls, parse_size  # noqa: F401 (shared: commands take them from here)
from tokopt.paths import ENV_CALLS_PER_MONTH, ENV_LEDGER, ENV_MODELS, ENV_OUTPUT_TOKENS, ENV_PROJECT_CONFIG, ENV_USER

if TYPE_CHECKING:
    from tokopt.config import UserConfig
    from tokopt.pricing import Catalog
    from tokopt.pricing.model import ModelPrice


class ServiceTierChoice(str, Enum):
    flex = "flex"
    priority = "priority"


class EncodingErrorsChoice(str, Enum):
    strict = "strict"
    replace = "replace"


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output format: a rich table for people, or json, csv, markdown."),
]
PricingOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--pricing",
        help="A pricing TOML file that adds or overrides models (repeatable). \\[env var: TOKOPT_PRICING]",
        show_default=False,
    ),
]

AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Price at this date (YYYY-MM-DD, taken at 12:00 UTC) or date-time: what it cost then. \\[env var: TOKOPT_PRICES_AT] \\[default: now]",
        show_default=False,
    ),
]
TierOption = Annotated[
    ServiceTierChoice | None,
    typer.Option(
        "--tier",
        help="Price on this service tier where a model has one (flex: cheaper, slower; priority: faster); other models at standard prices, and a note names them.",
        show_default=False,
    ),
]
PathsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Files, directories (walked; hidden and .gitignored paths skipped), globs, or - for stdin.",
        show_default=False,
    ),
]
EncodingErrorsOption = Annotated[
    EncodingErrorsChoice,
    typer.Option("--encoding-errors", help="What to do with invalid UTF-8: stop (strict) or read it as U+FFFD."),
]


class InputFormatChoice(str, Enum):
    auto = "auto"
    text = "text"
    openai = "openai"
    anthropic = "anthropic"
    jsonl = "jsonl"
    batch = "batch"


InputFormatOption = Annotated[
    InputFormatChoice,
    typer.Option(
        "--input-format",
        help="How to read inputs: auto (from the content), text, openai (chat request or message list), "
        "anthropic (Messages request), jsonl (requests or messages, one per line), batch (OpenAI or Anthropic batch input).",
    ),
]
KeepGoingOption = Annotated[
    bool,
    typer.Option("--keep-going", help="In a JSONL input, skip lines that are not requests (each is reported) and price the rest."),
]

# tokopt check and tokopt init: the project config, and the defaults for budgets that set none
ProjectConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar=ENV_PROJECT_CONFIG,
        help="The project config: a tokopt.toml, or a pyproject.toml with \\[tool.tokopt]. "
        "\\[default: the nearest one at or above the working directory]",
        show_default=False,
    ),
]
DefaultModelsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "-m",
        envvar=ENV_MODELS,
        autocompletion=complete_model,
        help="Models for budgets that name none, instead of \\[defaults] models (repeatable; ids, aliases, globs).",
        show_default=False,
    ),
]
DefaultOutputTokensOption = Annotated[
    int | None,
    typer.Option(
        "--output-tokens",
        "-o",
        min=0,
        envvar=ENV_OUTPUT_TOKENS,
        help="Expected completion tokens per call, for budgets that set none. \\[default: the project's, else 500]",
        show_default=False,
    ),
]


CallsPerMonthOption = Annotated[
    int | None,
    typer.Option(
        "--calls-per-month",
        parser=parse_calls,
        metavar="N",
        envvar=ENV_CALLS_PER_MONTH,
        help="Calls per month of each prompt, for budgets that set none. \\[default: the project's]",
        show_default=False,
    ),
]

# the usage ledger: `tokopt session ...`, and check's spend budgets
# The ledger: a file path, or a URL (postgresql://user@host/db). Plain text, not a Path, which
# would fold a URL's "//"; a directory at a file path is the store's clear error.
LedgerOption = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        envvar=ENV_LEDGER,
        help="The ledger: a file, or a postgresql:// URL. \\[default: ledger.sqlite3 in your data directory]",
        show_default=False,
    ),
]
UserOption = Annotated[
    str | None,
    typer.Option("--user", "-u", envvar=ENV_USER, help="Whose records. \\[default: your login name]", show_default=False),
]


MaxInputSizeOption = Annotated[
    int | None,
    typer.Option(
        "--max-input-size",
        parser=parse_size,
        metavar="SIZE",
        help="Read at most this much from stdin, a pipe or a device (/dev/zero never ends): 500M, 4G. \\[default: 1G]",
        show_default=False,
    ),
]


TextOption = Annotated[
    list[str] | None,
    typer.Option("--text", metavar="TEXT", help="Count this text, as if it were a file (repeatable).", show_default=False),
]


# what a ledger report or its blocks cover: shell-style patterns, each repeatable
ModelFilter = Annotated[
    list[str] | None,
    typer.Option("--model", "-m", help="Only these models (a catalog id or a pattern such as 'claude-*'; repeatable).", show_default=False),
]
ProviderFilter = Annotated[list[str] | None, typer.Option("--provider", help="Only these providers (repeatable).", show_default=False)]
AgentFilter = Annotated[list[str] | None, typer.Option("--agent", help="Only these coding agents: claude-code, codex, gemini-cli, opencode, amp (repeatable).", show_default=False)]
ProjectFilter = Annotated[list[str] | None, typer.Option("--project", help="Only these projects: a directory, or a directory's name wherever it is (repeatable).", show_default=False)]
SinceOption = Annotated[
    str | None, typer.Option("--since", callback=check_when, help="From this date (YYYY-MM-DD) or time, included.", show_default=False)
]
UntilOption = Annotated[
    str | None, typer.Option("--until", callback=check_when, help="To this date (included) or time (excluded).", show_default=False)
]
BranchFilter = Annotated[list[str] | None, typer.Option("--branch", help="Only these git branches (repeatable).", show_default=False)]
TimezoneOption = Annotated[
    str, typer.Option("--timezone", "--tz", help="Zone for periods and for dates without one: an IANA name, UTC, or local.")
]


# typer may vendor click; find its base exception class through an exported subclass.
_ClickException: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_Abort: type[BaseException] = typer.Abort


_ARGS_KEY = "tokopt.args"


def _direct_conversion(command: Any, ctx: Any) -> None:
    """Convert `command`'s option values without typer's per-option pydantic schemas (see
    cli/_coerce.py), its help option included (made here, as click would make it)."""
    from tokopt.cli import _coerce, _help

    command.get_help_option(ctx)
    _coerce.install(command)
    _help.install(command, ctx)


class TokoptGroup(TyperGroup):
    """The root command group: turns every usage or input error into one `error:` line, exit 2."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta[_ARGS_KEY] = list(args)
        _direct_conversion(self, ctx)
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            _direct_conversion(command, ctx)
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        from tokopt.errors import TokoptError

        try:
            return super().invoke(ctx)
        except TokoptError as err:
            print_error(err.message, self._applicable(ctx, err.hint))
            raise typer.Exit(int(err.exit_code)) from None
        except BrokenPipeError:
            raise _ReaderLeft from None  # past click, which would exit 1 for it

    def _applicable(self, ctx: Any, hint: str | None) -> str | None:
        """The hint, unless it names an option the command that failed does not take.

        The core's hints name the options of the commands that use it most (--keep-going,
        --encoding-errors, --input-format); other commands reach the same code without them.
        """
        if not hint:
            return hint
        command: Any = self
        for token in ctx.meta.get(_ARGS_KEY, []):
            sub = command.get_command(ctx, token) if isinstance(command, TyperGroup) else None
            if sub is None:
                break
            command = sub
        return hint_if_taken(hint, [*ctx.help_option_names, *(opt for p in command.params for opt in (*p.opts, *p.secondary_opts))])

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        with guarded_output():
            try:
                rv = super().main(*args, standalone_mode=False, **kwargs)
            except _ClickException as err:
                # house style: lower case, no full stop, and none of the coercion layer's "Value error, "
                message = " ".join(err.format_message().replace(": Value error, ", ": ").rstrip(".").split())  # type: ignore[attr-defined]
                print_error(message[:1].lower() + message[1:])
                sys.exit(getattr(err, "exit_code", 2) or 2)
            except _Abort:
                print_error("aborted")
                sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)


def load_user_config(catalog: Catalog | None = None) -> UserConfig:
    """The user's config (a file TOKOPT_CONFIG names must exist); with `catalog`, its models are checked."""
    from tokopt import settings

    return settings.user_config(catalog)


def load_catalog(
    pricing: Sequence[Path] | None, project: Sequence[Path] | None = None, *, at: str | None = None, tier: ServiceTierChoice | None = None
) -> Catalog:
    """The bundled catalog with the user's pricing files applied (--pricing wins over the env),
    and a project config's own (`project`), in the order `settings.pricing_files` gives; priced
    at `at` (--at), TOKOPT_PRICES_AT, or now; on service tier `tier` (--tier) where a model has it."""
    from tokopt import paths, pricing as pricing_mod, settings

    moment = pricing_mod.parse_moment(at) if at else None
    catalog = pricing_mod.load_catalog(
        paths.bundled_pricing_dir(), settings.pricing_files(pricing or (), project), moment=moment, service_tier=tier.value if tier else None
    )
    stale_note(catalog)
    return catalog


def tier_note(catalog: Catalog, models: Sequence[ModelPrice]) -> None:
    """With --tier: one line on stderr saying so, naming the models priced at standard prices."""
    from tokopt import pricing as pricing_mod

    tier = catalog.service_tier
    if tier is None:
        return
    missing = pricing_mod.missing_tier(catalog, models)
    text = f"priced on the {tier} tier"
    if missing:
        text += f"; no {tier} price for {', '.join(missing)}: priced at standard prices"
    note(text)


def stale_note(catalog: Catalog) -> None:
    """One line on stderr when the price data is past its staleness limit (never a network call)."""
    from tokopt import pricing as pricing_mod

    status = pricing_mod.data_status(catalog)
    if status.stale:
        note(f"prices as of {status.as_of} are {status.age_days} days old; `tokopt prices update` fetches newer ones")
