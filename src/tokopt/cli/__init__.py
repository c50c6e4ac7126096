"""The `tokopt` command. Every command is registered here, one line each."""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer

from tokopt import __version__
from tokopt.cli._common import TokoptGroup, print_error
from tokopt.cli.check import check_command
from tokopt.cli.estimate import estimate_command
from tokopt.cli.init import init_command
from tokopt.cli.models import models_command
from tokopt.cli.prices import prices_app, prices_rollback, prices_status, prices_update
from tokopt.cli.session import session_app
from tokopt.cli.suggest import suggest_command
from tokopt.cli.tokenize import tokenize_command

app = typer.Typer(
    name="tokopt",
    cls=TokoptGroup,
    help="Exact token counts and costs for LLM prompts, offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"tokopt {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Exact token counts and costs for LLM prompts, offline.

    Exit codes: 0 ok, 1 a budget check failed, 2 bad usage or input, 3 an internal error.
    """


app.command(name="estimate")(estimate_command)
app.command(name="tokenize")(tokenize_command)
app.command(name="models")(models_command)
app.add_typer(prices_app, name="prices")
prices_app.command(name="status")(prices_status)
prices_app.command(name="update")(prices_update)
prices_app.command(name="rollback")(prices_rollback)
app.add_typer(session_app, name="session")
app.command(name="check")(check_command)
app.command(name="init")(init_command)
app.command(name="suggest")(suggest_command)


def main() -> None:
    """Console-script entry point: a bug exits 3 with its traceback, never 1 (a failed check)."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        traceback.print_exc()
        print_error("internal error; this is a bug in tokopt, please report it with the traceback above")
        sys.exit(3)
