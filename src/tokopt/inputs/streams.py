"""Reading a pipe, device or terminal so that SIGTERM, SIGHUP and Ctrl-C always end the read.

CPython runs a signal's Python handler in the main thread, between bytecodes. A signal that
lands just before the main thread enters a blocking read() (or that the kernel hands to
another thread) does not interrupt that read: the handler runs only when the read returns, and
on a quiet pipe whose writer stays open that is never. tokopt would then ignore a SIGTERM and
keep its temporary copy of the input. Waiting in poll() with a short timeout instead, and
reading only what poll says is there, bounds the delay to POLL_MS.
"""

from __future__ import annotations

import io
import os
import select
import stat
from typing import BinaryIO

POLL_MS = 200  # the longest a pending signal waits before its handler runs
USABLE = hasattr(select, "poll") and hasattr(os, "readv")  # not on Windows: plain reads there


class Interruptible(io.RawIOBase):
    """A file descriptor read in poll() with a timeout, never in a read() that could block."""

    def __init__(self, fd: int, *, closefd: bool) -> None:
        super().__init__()
        self._fd = fd
        self._closefd = closefd
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN | select.POLLPRI)

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._poller.poll(POLL_MS):
            pass  # the loop's jump back is where a pending signal's handler runs
        return os.readv(self._fd, [buffer])

    def close(self) -> None:
        if not self.closed and self._closefd:
            os.close(self._fd)
        super().close()


def interruptible(stream: BinaryIO) -> BinaryIO:
    """`stream` (standard input, not read from yet) read through `Interruptible` when it is a
    pipe, device or terminal; a regular file, or a stream with no descriptor (a test's
    in-memory stdin), as it is."""
    if not USABLE:
        return stream
    try:
        fd = stream.fileno()
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return stream
    except (OSError, ValueError):
        return stream
    return io.BufferedReader(Interruptible(fd, closefd=False), 1 << 16)  # type: ignore[return-value]


def open_interruptible(fd: int) -> BinaryIO:
    """A buffered reader that owns `fd` (a pipe or device opened by tokopt) and closes it."""
    if not USABLE:
        return os.fdopen(fd, "rb")
    return io.BufferedReader(Interruptible(fd, closefd=True), 1 << 16)  # type: ignore[return-value]
