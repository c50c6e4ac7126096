"""The `tokopt` entry point, and the commands that cannot wait for typer to load.

Claude Code runs its status-line command after every message, so `tokopt statusline` must
finish in a fraction of a second; loading typer alone takes longer than the whole of it.
`main()` therefore runs `statusline` here when its arguments are ones this module knows,
and hands everything else (and `statusline --help`, and anything it does not understand)
to the typer application, which has the same command with the same options.

`tokopt tokenize FILE... [-e ENCODING]... [-f FORMAT]`, the plain count, runs here too: typer,
click and building the command take about 0.04 s, a sixth of counting a megabyte (issue 13).
It runs on the same helpers as the typer command (cli/_streams.py), and any other option,
`--help`, or a value it does not know goes to typer, which explains it.
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


# --- tokenize ------------------------------------------------------------------------------------

# every option of `tokopt tokenize` (a test compares them with the typer command's): a hint
# that names another is left out, as the typer command leaves it out
TOKENIZE_OPTIONS = frozenset(
    {"--help", "-h", "--encoding", "-e", "--model", "-m", "--show", "--ids", "--format", "-f", "--pricing", "--encoding-errors",
     "--input-format", "--keep-going", "--text", "--max-input-size"}
)  # fmt: skip
_ENCODINGS = ("o200k_base", "cl100k_base")  # tokenize's EncodingChoice, in its order
_FORMATS = ("table", "json", "csv", "markdown")  # OutputFormat


@dataclass
class TokenizeArgs:
    paths: list[str]
    encodings: list[str]
    output_format: str = "table"


def parse_tokenize(argv: Sequence[str]) -> TokenizeArgs | None:
    """Paths, -e/--encoding and -f/--format as click would read them; None for anything else."""
    args = TokenizeArgs([], [])
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-" or not arg.startswith("-"):
            args.paths.append(arg)
            i += 1
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if not eq:
            if i + 1 >= len(argv):
                return None
            i += 1
            value = argv[i]
        if name in ("-e", "--encoding") and value in _ENCODINGS:
            args.encodings.append(value)
        elif name in ("-f", "--format") and value in _FORMATS:
            args.output_format = value
        else:
            return None
        i += 1
    return args


def tokenize(args: TokenizeArgs) -> None:
    """`tokopt tokenize` of these arguments, as the typer command runs it (cli/tokenize.py)."""
    from tokopt.cli import _streams as s
    from tokopt.errors import TokoptError

    code = 0
    with s.guarded_output():
        try:
            _count(args)
        except TokoptError as err:
            s.print_error(err.message, s.hint_if_taken(err.hint, TOKENIZE_OPTIONS))
            code = int(err.exit_code)
        except (KeyboardInterrupt, EOFError):
            s.print_error("aborted")
            sys.exit(130)
    sys.exit(code)


def _count(args: TokenizeArgs) -> None:
    from tokopt.cli import _streams as s
    from tokopt.inputs import formats
    from tokopt.render import tokenize as view
    from tokopt.requests.read import ReadOptions
    from tokopt.tokens import tokenize

    encodings = list(dict.fromkeys(args.encodings)) or list(_ENCODINGS)
    read = ReadOptions(formats.InputFormat("auto"), False, "strict")
    expansion = s.expand_inputs(args.paths or None, None)
    for skipped in expansion.skipped:
        s.note(f"skipped {skipped}")
    with s.spool(expansion.sources, None) as sources:
        total = None if any(x.size is None for x in sources) else sum(x.size or 0 for x in sources)
        with s.byte_progress(total, "counting") as on_bytes:
            report = tokenize.tokenize(sources, encodings, None, read, on_bytes=on_bytes)
    for line in view.warnings(report):
        s.warn(line)
    s.emit(s.OutputFormat(args.output_format), document=lambda: view.document(report), rows=lambda: view.csv_rows(report), grids=lambda: [view.grid(report)])


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["statusline"]:
        code = run_statusline(sys.argv[2:])
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    if sys.argv[1:2] == ["tokenize"]:
        args = parse_tokenize(sys.argv[2:])
        if args is not None:
            from tokopt import cli

            cli.prepare_process()
            cli.run(lambda: tokenize(args))
    from tokopt.cli import main as cli_main

    cli_main()
