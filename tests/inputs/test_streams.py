"""A signal that does not interrupt a read still ends it (inputs/streams.py).

CPython acts on a signal between bytecodes. The kernel may hand SIGTERM to a thread other than
the one blocked in read(), or it may land just before the read starts; either way a plain
blocking read of a quiet pipe never returns and the handler never runs. The child here makes
that happen every time: its main thread blocks SIGTERM, so the kernel hands the signal to a
second thread, and the main thread's read is not interrupted. A plain `sys.stdin.buffer.read`
in its place hangs (the test then fails on its timeout); `interruptible` exits at once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from tokopt.inputs import streams

pytestmark = pytest.mark.skipif(not streams.USABLE or not hasattr(signal, "pthread_sigmask"), reason="needs poll() and POSIX signals")

CHILD = textwrap.dedent(
    """
    import signal, sys, threading
    from tokopt.inputs.streams import interruptible

    def stop(signum, frame):
        raise SystemExit(7)

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=threading.Event().wait, daemon=True).start()  # takes the signal
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # ...as the main thread refuses it
    stdin = interruptible(sys.stdin.buffer)
    print(stdin.readline().decode().strip(), flush=True)
    print("reading", flush=True)
    stdin.read(1 << 20)
    """
)


@pytest.mark.parametrize("how", ["read", "readline"])
def test_a_signal_that_does_not_interrupt_the_read_still_ends_it(how):
    child = CHILD if how == "read" else CHILD.replace("stdin.read(1 << 20)", "stdin.readline()")
    proc = subprocess.Popen([sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"first line\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"first line\n"  # data that is there is read
    assert proc.stdout.readline() == b"reading\n"
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)  # the writer stays open and sends nothing more
    finally:
        proc.kill()
        proc.stdin.close()
    assert proc.returncode == 7, proc.stderr.read() if proc.stderr else ""


def test_the_end_of_a_pipe_is_its_end():
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from tokopt.inputs.streams import interruptible; s = interruptible(sys.stdin.buffer); sys.stdout.buffer.write(s.read())"],
        input=b"x" * 300_000,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert proc.stdout == b"x" * 300_000


def test_a_regular_file_or_a_stream_without_a_descriptor_is_read_as_it_is(tmp_path):
    import io

    memory = io.BytesIO(b"abc")
    assert streams.interruptible(memory) is memory  # type: ignore[arg-type]
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    with path.open("rb") as fh:
        assert streams.interruptible(fh) is fh  # type: ignore[arg-type]
