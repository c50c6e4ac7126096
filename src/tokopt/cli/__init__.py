"""The `tokopt` command. Every command is registered here, one line each (`COMMANDS`).

`main()` builds only the command it runs when the first argument names one: typer turns each
registered function into a click command by reading its signature, and a run needs only its
own. Everything else (`tokopt`, `tokopt --help`, a misspelt command, completion) gets the whole
app, which is also what `from tokopt.cli import app` gives.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING, Any

from tokopt.cli._streams import guard_standard_streams, print_error

if TYPE_CHECKING:
    import typer

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
def __getattr__(name: str) -> Any:
    # the typer application is made on first use (cli/_app.py): importing this package (the
    # streams, the list of commands) loads no typer, which tokenize's lean path does without
    if name in ("app", "build_app", "root"):
        from tokopt.cli import _app

        return _app.full_app() if name == "app" else getattr(_app, name)
    raise AttributeError(f"module 'tokopt.cli' has no attribute {name!r}")


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM and SIGHUP end tokopt as Ctrl-C does: `finally` blocks run, so temp files are
    # removed and a ledger transaction is rolled back
    raise SystemExit(128 + signum)


def prepare_process() -> None:
    """What every run does first: standard streams that are safe to write, and SIGTERM and SIGHUP
    ending it as Ctrl-C does."""
    import signal

    guard_standard_streams()  # first: before anything opens a file that could become fd 2
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate)


def run(work: Any) -> None:
    """Run `work` as a command runs: a bug exits 3 with its traceback, never 1 (a failed check)."""
    try:
        work()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        traceback.print_exc()
        print_error("internal error; this is a bug in tokopt, please report it with the traceback above")
        sys.exit(3)


def main() -> None:
    """Console-script entry point (the typer application)."""
    prepare_process()  # first: see guard_standard_streams
    from tokopt.cli import _app

    first = sys.argv[1] if len(sys.argv) > 1 else None
    run(_app.build_app(first) if first in COMMANDS else _app.full_app())
