"""`tokopt statusline`: one line for Claude Code's status bar. The work is in `tokopt.fastpath`,
which runs it without loading typer; this command is its --help, and its way in from Python."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tokopt.cli._common import LedgerOption, TimezoneOption, UserOption


def statusline_command(
    *,
    import_transcript: Annotated[
        bool, typer.Option("--import/--no-import", help="First import the session's transcript (new lines only): up to date, but slower.")
    ] = False,
    timezone: TimezoneOption = "local",
    user: UserOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Print one line for Claude Code's status bar: today's, the 5-hour block's and the session's cost.

    The session is the one in the status-line JSON Claude Code sends on stdin; the block line
    says how long the open 5-hour block has left. In Claude Code's settings.json: {"statusLine": {"type": "command", "command": "tokopt statusline"}}.
    It reads only the records it shows; import your logs (tokopt session import) to keep it current,
    or pass --import.
    """
    from tokopt.fastpath import StatuslineArgs, read_hook, statusline

    args = StatuslineArgs(ledger=str(ledger) if isinstance(ledger, Path) else None, user=user, timezone=timezone, import_transcript=import_transcript)
    sys.stdout.write(statusline(args, read_hook(sys.stdin)) + "\n")
