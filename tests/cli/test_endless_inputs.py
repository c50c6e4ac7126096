"""Endless and stalled inputs (issue 12, resources): a device or a pipe is read as a stream up
to --max-input-size and stopped with a clear error; a read that blocks says what it waits for;
temporary copies are removed however tokopt ends (an error, SIGTERM, SIGHUP). Real processes,
real pipes, devices and named pipes.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import one_error_line
from tokopt.inputs import streams

COMMANDS = [["estimate", "-m", "gpt-5.5"], ["tokenize"], ["suggest", "-t", "gpt-5.5"]]


def tokopt(args: list[str], tmp: Path, **kwargs):  # type: ignore[no-untyped-def]
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.Popen([sys.executable, "-m", "tokopt", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    """The TMPDIR tokopt gets: empty again after every run."""
    path = tmp_path / "tmp"
    path.mkdir()
    return path


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom", "stdin from /dev/zero", "a pipe that never ends"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_an_endless_input_stops_at_the_limit_with_a_clear_error(tmp, tmp_path, command, source):
    limit = ["--max-input-size", "2M"]
    if source.startswith("/dev/"):
        proc = tokopt([*command, source, *limit], tmp)
    if source == "stdin from /dev/zero":
        with open("/dev/zero", "rb") as zero:
            proc = tokopt([*command, "-", *limit], tmp, stdin=zero)
    yes = None
    if source == "a pipe that never ends":
        yes = subprocess.Popen(["yes", "a prompt that repeats"], stdout=subprocess.PIPE)
        proc = tokopt([*command, *limit], tmp, stdin=yes.stdout)
        assert yes.stdout is not None
        yes.stdout.close()
    out, err = proc.communicate(timeout=120)
    if yes is not None:
        yes.kill()
        yes.wait()
    assert proc.returncode == 2, err
    line = one_error_line(err.decode())
    assert "more than 2 MiB" in line and "--max-input-size" in line
    assert out == b""
    assert list(tmp.iterdir()) == []


def test_the_limit_is_a_limit_not_a_cut(tmp, tmp_path):
    text = b"word " * 1000  # 5,000 bytes
    ok = tokopt(["tokenize", "-", "--max-input-size", "5000", "--format", "json"], tmp, stdin=subprocess.PIPE)
    out, err = ok.communicate(text, timeout=60)
    assert ok.returncode == 0, err
    over = tokopt(["tokenize", "-", "--max-input-size", "4999"], tmp, stdin=subprocess.PIPE)
    _, err = over.communicate(text, timeout=60)
    assert over.returncode == 2 and "--max-input-size" in err.decode()


@pytest.mark.parametrize("value", ["0", "lots", "-5M", "1.5X"])
def test_a_bad_size_is_a_usage_error(tmp, value):
    proc = tokopt(["tokenize", "/dev/null", "--max-input-size", value], tmp)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--max-input-size" in err.decode() and b"Traceback" not in err


def read_line(stream, seconds: float) -> bytes:  # type: ignore[no-untyped-def]
    """One line of a child's stderr, or b'' if none came in `seconds` (the test never hangs)."""
    ready, _, _ = select.select([stream], [], [], seconds)
    return stream.readline() if ready else b""


def test_a_named_pipe_with_no_writer_says_what_it_waits_for(tmp, tmp_path):
    fifo = tmp_path / "prompt.fifo"
    os.mkfifo(fifo)
    proc = tokopt(["estimate", str(fifo), "-m", "gpt-5.5", "--format", "json"], tmp)
    assert proc.stderr is not None
    line = read_line(proc.stderr, 60)
    assert line.startswith(b"note: waiting for ") and b"prompt.fifo" in line, line
    # still waiting, still holding the pipe open for a writer, three of its poll steps later
    time.sleep(3 * streams.POLL_MS / 1000)
    # a writer comes (ENXIO here, not a hang, if tokopt gave up on the pipe): tokopt reads on
    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    os.write(fd, b"You are a helpful assistant.\n")
    os.close(fd)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b'"input_tokens"' in out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("command", [["estimate", "-m", "gpt-5.5"], ["tokenize"]], ids=["estimate", "tokenize (its lean path)"])
def test_a_signal_while_copying_a_pipe_removes_the_copy(tmp, tmp_path, signum, command):
    fifo = tmp_path / "prompt.fifo"
    os.mkfifo(fifo)
    proc = tokopt([command[0], str(fifo), *command[1:]], tmp)
    with fifo.open("wb") as writer:
        writer.write(b"some text\n" * 1000)
        writer.flush()
        deadline = time.monotonic() + 60
        while not list(tmp.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.02)  # the copy exists: tokopt is reading the pipe, which stays open
        assert list(tmp.iterdir()), "tokopt made its copy"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert b"Traceback" not in err
    assert list(tmp.iterdir()) == []


def test_session_record_stdin_stops_at_a_line_without_end(tmp, tmp_path):
    ledger = tmp_path / "ledger.sqlite3"
    with open("/dev/zero", "rb") as zero:
        proc = tokopt(["session", "record", "--stdin", "--ledger", str(ledger)], tmp, stdin=zero)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert "a line of more than 1 MiB is not a usage record" in one_error_line(err.decode())


class EndlessRecords:
    """A stdin that sends the same valid record forever."""

    line = b'{"model": "gpt-5.5", "input_tokens": 5, "output_tokens": 1}\n'

    def readline(self, limit: int = -1) -> bytes:
        return self.line


def test_endless_valid_records_stop_at_the_limit_and_none_is_kept(monkeypatch):
    from tokopt.errors import InputError
    from tokopt.ledger import records

    monkeypatch.setattr(records, "MAX_RECORDS_INPUT", 1 << 16)  # the real limit is 64 MiB: slow to reach
    with pytest.raises(InputError, match="stopped reading, nothing recorded"):
        records.read_records(EndlessRecords())


# -- every command that reads a whole stream (issue 12: `session import -` and its family) --------

RECORD = '{"model": "gpt-5.5", "input": 5, "output": 1}'
RESPONSE = '{"type": "message", "id": "msg_1", "model": "claude-sonnet-4-5", "usage": {"input_tokens": 3, "output_tokens": 1}}'
PAIR = '{"request": {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}, "response": {"usage": {"input_tokens": 8}}}'
# (command, what `yes` sends on stdin forever); each names the limit and --max-input-size
ENDLESS = {
    "session import -": (["session", "import", "-", "--max-input-size", "1M"], RESPONSE),
    "session import - (no newline)": (["session", "import", "-", "--max-input-size", "1M"], None),
    "session record --stdin": (["session", "record", "--stdin", "--max-input-size", "1M"], RECORD),
    "session record --from-file": (["session", "record", "-m", "gpt-5.5", "--from-file", "/dev/stdin", "--max-input-size", "1M"], "a prompt"),
    "calibrate": (["calibrate", "/dev/stdin", "--max-input-size", "1M"], PAIR),
    "estimate -": (["estimate", "-m", "gpt-5.5", "-", "--max-input-size", "1M"], "a prompt"),
}


def _limited_memory() -> None:  # pragma: no cover - runs in the child
    """A child that would read without end runs out of memory (1 GiB), not the machine."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def endless_stdin(args: list[str], tmp: Path, line: str | None, env: dict[str, str]) -> tuple[int, str]:
    """Run tokopt with a stdin that never ends: `yes LINE` (or /dev/zero, a line that never ends)."""
    feeder = subprocess.Popen(["yes", line], stdout=subprocess.PIPE) if line is not None else None
    zero = open("/dev/zero", "rb") if line is None else None  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tokopt", *args],
            stdin=feeder.stdout if feeder is not None else zero,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "TMPDIR": str(tmp), **env},
            preexec_fn=_limited_memory,
        )
        if feeder is not None and feeder.stdout is not None:
            feeder.stdout.close()
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        if feeder is not None:
            feeder.kill()
            feeder.wait()
        if zero is not None:
            zero.close()
    return proc.returncode, err.decode()


@pytest.mark.parametrize("case", list(ENDLESS))
def test_every_command_reading_a_whole_stream_stops_at_the_limit_and_writes_nothing(tmp, tmp_path, case):
    from tokopt.ledger import Ledger

    ledger = tmp_path / "ledger.sqlite3"
    with Ledger(ledger, user="alice") as book:
        book.record(model="gpt-5.5", input_tokens=10, output_tokens=1)
    before = ledger.read_bytes()
    args, line = ENDLESS[case]
    code, err = endless_stdin(args, tmp, line, {"TOKOPT_LEDGER": str(ledger), "TOKOPT_USER": "alice", "TOKOPT_HOME": str(tmp_path / "home")})
    assert code == 2, err
    message = one_error_line(err)
    assert "more than 1 MiB" in message and "--max-input-size" in message, message
    assert ledger.read_bytes() == before  # all or nothing: not one record of the stream
    with Ledger(ledger, user="alice") as book:
        assert len(book.usage()) == 1
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [["statusline"], ["check", "--config", "/dev/stdin"], ["estimate", "-m", "gpt-5.5", "--pricing", "/dev/stdin", "--text", "hi"]],
    ids=["statusline", "check --config", "estimate --pricing"],
)
def test_small_inputs_read_from_an_endless_pipe_are_refused_at_their_own_limit(tmp, tmp_path, args):
    """The status-line JSON, a config or a pricing file named as a pipe: a fixed limit far
    above any real one (they have no --max-input-size), one error line."""
    code, err = endless_stdin(args, tmp, "y", {"TOKOPT_HOME": str(tmp_path / "home"), "TOKOPT_LEDGER": str(tmp_path / "l.sqlite3")})
    assert code == 2, err
    assert "MiB" in one_error_line(err) and "stopped reading" in err


def test_a_bounded_stream_gives_up_to_its_limit_and_no_byte_more():
    import io

    from tokopt.errors import InputError
    from tokopt.inputs.formats import Bounded

    data = b"line\n" * 200  # 1,000 bytes
    assert Bounded(io.BytesIO(data), "x", 1000).read() == data
    assert list(Bounded(io.BytesIO(data), "x", 1000)) == data.splitlines(keepends=True)
    exact = Bounded(io.BytesIO(data), "x", 1000)
    assert b"".join(iter(lambda: exact.read(7), b"")) == data
    for read in (lambda s: s.read(), lambda s: list(s), lambda s: [s.read(64) for _ in range(20)]):
        with pytest.raises(InputError, match="more than 999 bytes of input; stopped reading"):
            read(Bounded(io.BytesIO(data), "x", 999))
