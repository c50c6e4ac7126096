"""The `tokopt` command. Every command is registered here, one line each (`COMMANDS`).

`main()` builds only the command it runs when the first argument names one: typer turns each
registered function into a click command by reading its signature, and a run needs only its
own. Everything else (`tokopt`, `tokopt --help`, a misspelt command, completion) gets the whole
app, which is also what `from tokopt.cli import app` gives.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokopt import __version__
from tokopt.cli._common import TokoptGroup, guard_standard_streams, print_error

if TYPE_CHECKING:
    app: typer.Typer

# name -> "module:attribute": a command function, or a typer app for a group of commands.
COMMANDS: dict[str, str] = {
    "estimate": "tokopt.cli.estimate:estimate_command",
    "tokenize": "tokopt.cli.tokenize:tokenize_command",
    "models": "tokopt.cli.models:models_command",
    "prices": "tokopt.cli.prices:prices_app",
    "session": "tokopt.cli.session:session_app",
    "check": "tokopt.cli.check:check_command",
    "init": "tokopt.cli.init:init_command",
    "suggest": "tokopt.cli.suggest:suggest_command",
    "statusline": "tokopt.cli.statusline:statusline_command",
    "calibrate": "tokopt.cli.calibrate:calibrate_command",
}
# The commands of a group whose module does not register them itself.
GROUP_COMMANDS: dict[str, dict[str, str]] = {
    "prices": {
        "status": "tokopt.cli.prices:prices_status",
        "update": "tokopt.cli.prices:prices_update",
        "rollback": "tokopt.cli.prices:prices_rollback",
    },
    "session": {
        "push": "tokopt.cli.session_sync:session_push",
        "pull": "tokopt.cli.session_sync:session_pull",
        "export": "tokopt.cli.session_sync:session_export",
        "reprice": "tokopt.cli.session_reprice:session_reprice",
        "sources": "tokopt.cli.agents:session_sources",
        "blocks": "tokopt.cli.agents:session_blocks",
    },
}
_filled: set[str] = set()


def _load(target: str) -> Any:
    module, attribute = target.split(":")
    return getattr(importlib.import_module(module), attribute)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"tokopt {__version__}\n")
        raise typer.Exit()


def root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Exact token counts and costs for LLM prompts, offline.

    Exit codes: 0 ok, 1 a budget check failed, 2 bad usage or input, 3 an internal error.
    """


def build_app(only: str | None = None) -> typer.Typer:
    """The app with every command, or with the command `only` alone."""
    application = typer.Typer(
        name="tokopt",
        cls=TokoptGroup,
        help="Exact token counts and costs for LLM prompts, offline.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    application.callback()(root)
    for name, target in COMMANDS.items():
        if only is not None and name != only:
            continue
        registered = _load(target)
        if isinstance(registered, typer.Typer):
            if name in GROUP_COMMANDS and name not in _filled:  # once: the group is a module's object
                for sub, sub_target in GROUP_COMMANDS[name].items():
                    registered.command(name=sub)(_load(sub_target))
                _filled.add(name)
            application.add_typer(registered, name=name)
        else:
            application.command(name=name)(registered)
    return application


_full_app: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    global _full_app
    if name == "app":
        if _full_app is None:
            _full_app = build_app()
        return _full_app
    raise AttributeError(f"module 'tokopt.cli' has no attribute {name!r}")


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM and SIGHUP end tokopt as Ctrl-C does: `finally` blocks run, so temp files are
    # removed and a ledger transaction is rolled back
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point: a bug exits 3 with its traceback, never 1 (a failed check)."""
    import signal

    guard_standard_streams()  # first: before anything opens a file that could become fd 2
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate)
    first = sys.argv[1] if len(sys.argv) > 1 else None
    application = build_app(first) if first in COMMANDS else __getattr__("app")
    try:
        application()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        traceback.print_exc()
        print_error("internal error; this is a bug in tokopt, please report it with the traceback above")
        sys.exit(3)
