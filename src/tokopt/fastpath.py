"""The `tokopt` entry point, and the one command that cannot wait for typer to load.

Claude Code runs its status-line command after every message, so `tokopt statusline` must
finish in a fraction of a second; loading typer alone takes longer than the whole of it.
`main()` therefore runs `statusline` here when its arguments are ones this module knows,
and hands everything else (and `statusline --help`, and anything it does not understand)
to the typer application, which has the same command with the same options.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

# environment variables, as tokopt.paths names them (that module is cheap, but this is cheaper)
_ENV_LEDGER = "TOKOPT_LEDGER"
_ENV_USER = "TOKOPT_USER"


@dataclass
class StatuslineArgs:
    ledger: str | None = None
    user: str | None = None
    timezone: str = "local"
    import_transcript: bool = False


def parse_statusline(argv: Sequence[str]) -> StatuslineArgs | None:
    """The options of `statusline`, or None when there is anything else (typer then explains)."""
    args = StatuslineArgs(ledger=os.environ.get(_ENV_LEDGER) or None, user=os.environ.get(_ENV_USER) or None)
    values = {"--ledger": "ledger", "--user": "user", "-u": "user", "--timezone": "timezone", "--tz": "timezone"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in values:
            if not eq:
                if i + 1 >= len(argv):
                    return None
                i += 1
                value = argv[i]
            setattr(args, values[name], value)
        elif arg == "--import":
            args.import_transcript = True
        elif arg == "--no-import":
            args.import_transcript = False
        else:
            return None
        i += 1
    return args


MAX_HOOK = 1 << 20  # characters: Claude Code sends about 1 KiB


def read_hook(stdin: TextIO) -> dict[str, Any]:
    """The JSON Claude Code sends a status-line command (nothing when stdin is a terminal)."""
    from tokopt.errors import InputError

    if stdin.isatty():
        return {}
    text = stdin.read(MAX_HOOK + 1)  # a pipe that never ends is stopped, not read into memory
    if len(text) > MAX_HOOK:
        raise InputError(
            f"stdin: more than {MAX_HOOK >> 20} MiB of status-line JSON; stopped reading",
            hint="the status line reads the small JSON object Claude Code sends; pipe nothing else into it",
        )
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "invalid UTF-8"
        raise InputError(f"stdin: the status-line JSON is not JSON ({reason.lower()})") from None
    if not isinstance(data, dict):
        raise InputError("stdin: the status-line JSON is not an object")
    return data


def statusline(args: StatuslineArgs, hook: dict[str, Any]) -> str:
    """The status line for the hook's session (the JSON Claude Code sends on stdin)."""
    from pathlib import Path

    from tokopt.render.statusline import status_line

    session = hook.get("session_id") if isinstance(hook.get("session_id"), str) else None
    model_info = hook.get("model")
    model = model_info.get("id") if isinstance(model_info, dict) and isinstance(model_info.get("id"), str) else None
    transcript = hook.get("transcript_path") if isinstance(hook.get("transcript_path"), str) else None
    if not args.import_transcript:
        # an SQLite ledger as it is: read with sqlite3 alone (no pydantic, no store), same answer
        from tokopt.ledger.sqlitestatus import quick_status

        quick = quick_status(args.ledger, args.user, args.timezone, session)
        if quick is not None:
            return status_line(quick, model=model)
    from tokopt.ledger.facade import Ledger

    with Ledger(args.ledger, user=args.user) as book:
        if args.import_transcript and transcript and Path(transcript).expanduser().is_file():
            book.import_paths([transcript])
        status = book.status(session=session, timezone=args.timezone)
    return status_line(status, model=model)


def run_statusline(argv: Sequence[str]) -> int | None:
    """Run `statusline` without typer; None when its arguments need typer."""
    args = parse_statusline(argv)
    if args is None:
        return None
    from tokopt.errors import TokoptError

    try:
        line = statusline(args, read_hook(sys.stdin))
    except TokoptError as err:
        sys.stderr.write(f"error: {' '.join(err.message.split())}\n")
        if err.hint:
            sys.stderr.write(f"hint: {' '.join(err.hint.split())}\n")
        return int(err.exit_code)
    sys.stdout.write(line + "\n")
    return 0


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["statusline"]:
        code = run_statusline(sys.argv[2:])
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    from tokopt.cli import main as cli_main

    cli_main()
