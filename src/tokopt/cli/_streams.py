"""The standard streams for every command: stdin when no input is named, stdout and stderr (a
reader that leaves, a full disk, a closed stream, a narrow charset), the consoles tables are
printed on, `error:`/`warning:`/`note:` lines, and a result written in its format.

Nothing here needs typer: `tokopt tokenize`'s lean path (tokopt.fastpath) runs on this module
alone, and the typer commands take the same helpers from cli/_common.py.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


class _ReaderLeft(Exception):
    """stdout's reader closed the pipe (a BrokenPipeError, carried past click)."""


class OutputError(Exception):
    """stdout cannot be written (a full disk, a closed stream): one error line, exit 2."""

    exit_code = 2

    def __init__(self, err: OSError) -> None:
        import errno

        reason = "stdout is closed" if err.errno == errno.EBADF else (err.strerror or str(err)).lower()
        super().__init__(reason)
        self.message = f"cannot write output: {reason}"


class _GuardedOutput:
    """stdout, whose write errors other than a reader leaving become an OutputError (so that
    no core `except OSError` can take them for an input's error)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as err:
            raise OutputError(err) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as err:
            raise OutputError(err) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_reader_left_code = 0


def exit_code_if_reader_leaves(code: int) -> None:
    """The exit code for a reader that leaves from here on (`tokopt check | head -1`)."""
    global _reader_left_code
    _reader_left_code = code


def reader_left_code() -> int:
    return _reader_left_code


def _drop_stdout(stream: Any) -> None:
    """Point stdout at devnull so that nothing buffered fails again at exit (the recipe from
    Python's signal docs); what was not written is lost either way."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (CliRunner's): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _with_fallbacks(stream: Any) -> Any:
    """A text stream that never fails to encode: on an ASCII or Latin-1 terminal, ≈ ✓ ✗ × and
    box characters become ASCII, other characters `\\uXXXX` escapes, undecodable bytes `\\xff`."""
    from tokopt.render.escape import FALLBACK_ERRORS

    try:
        stream.reconfigure(errors=FALLBACK_ERRORS)
    except (AttributeError, ValueError, OSError):
        pass
    return stream


class _ClosedOutput:
    """What stdout is when it was closed before tokopt started (`>&-`): every write fails."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        import errno

        raise OSError(errno.EBADF, "Bad file descriptor")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1


def guard_standard_streams() -> None:
    """Before anything opens a file: give a closed fd 0, 1 or 2 /dev/null, so that no ledger or
    temp file is opened as fd 2 and written to by our messages. A closed stdout still fails
    (`cannot write output: stdout is closed`); a closed stderr silences messages."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            if fd == 0:
                sys.stdin = open(0, closefd=False)  # noqa: SIM115 (lives as long as the process)
            elif fd == 1:
                sys.stdout = _ClosedOutput()  # type: ignore[assignment]
            else:
                sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


NATURAL_WIDTH = 100_000  # "as wide as the content": a table never wraps to fit a pipe


def _width(stream: Any) -> int:
    """`COLUMNS` when it is a positive number; else the terminal's width; else (a pipe, a file,
    a CI log) no limit, so tables take their natural width."""
    import shutil

    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream is not None and stream.isatty():
            return shutil.get_terminal_size().columns or 80
    except (ValueError, OSError):
        pass
    return NATURAL_WIDTH


def stdout_charset() -> str:
    """What stdout can carry (`ascii` under PYTHONIOENCODING=ascii)."""
    return getattr(sys.stdout, "encoding", None) or "utf-8"


def stdout_console() -> Console:
    from rich.console import Console

    return Console(soft_wrap=False, width=_width(sys.stdout))


def table_consoles() -> tuple[Console, Console]:
    """Where a table goes, and where its notes go: under it on a terminal; on stderr when stdout
    is a pipe or a file, so that it carries the data alone."""
    out = stdout_console()
    return out, (out if out.is_terminal else stderr_console())


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, width=_width(sys.stderr))


@contextlib.contextmanager
def guarded_output() -> Iterator[None]:
    """Run a command with stdout guarded (`TokoptGroup.main`, and tokenize's lean path): a reader
    that leaves ends it quietly with the code it would have had, an unwritable stdout is one
    error line, exit 2."""
    exit_code_if_reader_leaves(0)
    saved = sys.stdout
    sys.stdout = _GuardedOutput(_with_fallbacks(sys.stdout))
    _with_fallbacks(sys.stderr)
    try:
        yield
        sys.stdout.flush()
    except (BrokenPipeError, _ReaderLeft):
        # `tokopt ... | head`: the reader left, as readers may. End quietly with the code the
        # command would have had (check: 1 when a budget failed), never 1 for the pipe.
        _drop_stdout(saved)
        sys.exit(reader_left_code())
    except OutputError as err:
        _drop_stdout(saved)
        print_error(err.message)
        sys.exit(int(err.exit_code))
    finally:
        sys.stdout = saved


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def spool(sources: Any, max_input_size: int | None) -> Any:
    """`formats.spooled` with the command line's limit, saying on stderr what a blocked read waits for."""
    from tokopt.inputs import formats

    return formats.spooled(sources, max_size=max_input_size or formats.DEFAULT_MAX_INPUT, on_wait=note)


def expand_inputs(paths: list[str] | None, texts: list[str] | None = None) -> Any:
    """The inputs named on the command line: files, directories and globs (`inputs.expand`), then
    any --text; standard input when there is neither and it is not a terminal."""
    from tokopt import inputs

    if texts and not paths:
        return inputs.Expansion(sources=inputs.inline(texts))
    expansion = inputs.expand(resolve_paths(paths))
    if texts:
        expansion.sources.extend(inputs.inline(texts))
    return expansion


def resolve_paths(paths: list[str] | None) -> list[str]:
    """The inputs named on the command line, or stdin when nothing is named and it is not a terminal."""
    if paths:
        return paths
    if not sys.stdin.isatty():
        return ["-"]
    from tokopt.errors import InputError

    raise InputError("no input given", hint="name files, directories or globs, pipe text in with -, or give it with --text")


def _line(kind: str, message: str) -> None:
    """One message line on stderr. Our messages are one line; a name inside one (a file name
    with a newline or an escape sequence) is shown visibly, never acted on or split."""
    from tokopt.render.escape import visible

    try:
        sys.stderr.write(f"{kind}: {visible(message.strip())}\n")
    except OSError:
        pass  # stderr is gone (a full disk): there is nowhere left to say it


def hint_if_taken(hint: str | None, options: Iterable[str]) -> str | None:
    """`hint`, unless it names an option (`--name`) that is not among `options`: the core's hints
    name the options of the commands that use it most, and other commands reach the same code."""
    import re

    if not hint:
        return hint
    taken = set(options)
    return hint if all(flag in taken for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", hint)) else None


def print_error(message: str, hint: str | None = None) -> None:
    _line("error", message)
    if hint:
        _line("hint", hint)
    with contextlib.suppress(OSError):
        sys.stderr.flush()


def warn(message: str) -> None:
    _line("warning", message)


def note(message: str) -> None:
    _line("note", message)


@contextlib.contextmanager
def byte_progress(total: int | None, label: str, *, min_total: int = 16 << 20) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for long reads, only when stderr is a terminal."""
    if not sys.stderr.isatty() or (total is not None and total < min_total):
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def emit(
    output_format: OutputFormat,
    *,
    document: Callable[[], Any],
    rows: Callable[[], list[dict[str, Any]]],
    grids: Callable[[], list[Any]],
    columns: Sequence[str] | None = None,
) -> None:
    """Write one result in the chosen format; only the chosen view is built."""
    from tokopt.render import machine

    if output_format is OutputFormat.json:
        sys.stdout.write(machine.to_json(document(), pretty=sys.stdout.isatty(), encoding=stdout_charset()))
    elif output_format is OutputFormat.csv:
        sys.stdout.write(machine.to_csv(rows(), columns))
    elif output_format is OutputFormat.markdown:
        from tokopt.render.grid import to_markdown

        sys.stdout.write("\n".join(to_markdown(g) for g in grids()))
    else:
        from tokopt.render.table import print_grid

        console, notes = table_consoles()
        for g in grids():
            print_grid(console, g, notes)
