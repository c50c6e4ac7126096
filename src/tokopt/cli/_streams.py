"""stdout and stderr for every command: a reader that leaves, a full disk, a closed stream, a
narrow charset, and the consoles tables are printed on (see `TokoptGroup.main` in _common)."""

from __future__ import annotations

import os
import sys
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
