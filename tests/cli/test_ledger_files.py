"""The SQLite ledger file against what its surroundings do to it (issue 12, ledger integrity):
its mode, a path that is not a file, a damaged page in the middle, a -wal deleted while a
process holds the ledger, and a full disk. Every case: exit 2, one `error:` line, no traceback,
and nothing written to (or left behind next to) a file tokopt should not touch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import one_error_line
from tests.ledger_files import openai_chat, write_jsonl
from tokopt.errors import LedgerError
from tokopt.ledger.sqlite import SqliteStore
from tokopt.usage import UsageRecord

WRITERS = [
    ["session", "start"],
    ["session", "record", "-m", "gpt-5.5", "-i", "10"],
    ["session", "record", "--stdin"],
    ["session", "import", "log.jsonl"],
]
STDIN = '{"model": "gpt-5.5", "input_tokens": 5, "output_tokens": 1}\n'


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKOPT_USER", "alice")
    write_jsonl(tmp_path / "log.jsonl", [openai_chat("c1", prompt=10, completion=2)])
    return tmp_path


def invoke(run, args: list[str], ledger: Path):  # type: ignore[no-untyped-def]
    return run(*args, "--ledger", str(ledger), input=STDIN if "--stdin" in args else None)


def refused(result, *expected: str) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    line = one_error_line(result.stderr)
    for text in expected:
        assert text in line, (text, line)
    return line


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- modes: a ledger, its -wal and -shm are private, however they were made -------------------


@pytest.mark.parametrize("args", WRITERS + [["session", "report"]], ids=lambda a: " ".join(a[:3]))
def test_a_ledger_readable_by_others_is_made_private_with_its_wal_and_shm(run, ws, args):
    ledger = ws / "ledger.sqlite3"
    assert run("session", "record", "-m", "gpt-5.5", "-i", "10", "--ledger", str(ledger)).exit_code == 0
    holder = sqlite3.connect(ledger)  # keeps the -wal and -shm in place, as a running app would
    holder.execute("SELECT count(*) FROM usage").fetchone()
    sides = [Path(f"{ledger}{s}") for s in ("-wal", "-shm")]
    for path in [ledger, *sides]:
        assert path.exists()
        os.chmod(path, 0o644)
    r = invoke(run, args, ledger)
    holder.close()
    assert r.exit_code == 0, r.stderr
    for path in [ledger, *sides]:
        if path.exists():
            assert mode(path) == 0o600, path


# --- not a file: a device, a pipe, a symlink to one, a dangling symlink -----------------------


def make_not_a_file(ws: Path, kind: str) -> Path:
    ledger = ws / "ledger.sqlite3"
    if kind == "symlink to /dev/null":
        ledger.symlink_to("/dev/null")
    elif kind == "named pipe":
        os.mkfifo(ledger)
    elif kind == "dangling symlink":
        ledger.symlink_to(ws / "gone" / "ledger.sqlite3")
    return ledger


NOT_A_FILE = {
    "symlink to /dev/null": "a character device, not a file",
    "named pipe": "a named pipe, not a file",
    "dangling symlink": "a broken symlink",
}


@pytest.mark.parametrize("kind", list(NOT_A_FILE))
@pytest.mark.parametrize("args", WRITERS + [["session", "report"], ["session", "list"]], ids=lambda a: " ".join(a[:3]))
def test_a_ledger_path_that_is_not_a_file_is_refused(run, ws, args, kind):
    ledger = make_not_a_file(ws, kind)
    refused(invoke(run, args, ledger), "ledger.sqlite3", NOT_A_FILE[kind])
    assert sorted(p.name for p in ws.iterdir() if p.name.startswith("ledger")) == ["ledger.sqlite3"]
    assert not (ws / "gone").exists()


def test_dev_null_itself_is_refused_and_gets_no_journal(run, ws):
    before = set(os.listdir("/dev"))
    refused(invoke(run, ["session", "record", "-m", "gpt-5.5", "-i", "10"], Path("/dev/null")), "/dev/null", "not a file")
    assert set(os.listdir("/dev")) - before == set()


# --- a damaged page in the middle: found before anything is written -------------------------


def damaged_ledger(run, ws: Path) -> Path:
    """A ledger of 3,000 records whose middle page is overwritten: SQLite only notices when it
    reads that page, which an append does not."""
    ledger = ws / "ledger.sqlite3"
    lines = "".join(f'{{"model": "gpt-5.5", "input_tokens": {i}, "output_tokens": 1}}\n' for i in range(3000))
    # as JSON: a table of 3,000 rows takes rich seconds to draw, and nobody reads it here
    assert run("session", "record", "--stdin", "--ledger", str(ledger), "-f", "json", input=lines).exit_code == 0
    pages = ledger.stat().st_size // 4096
    assert pages > 20
    with ledger.open("r+b") as f:
        f.seek(4096 * (pages // 2))
        f.write(b"\xa5" * 4096)
    return ledger


@pytest.mark.parametrize("args", WRITERS, ids=lambda a: " ".join(a[:3]))
def test_a_damaged_ledger_is_never_written(run, ws, args):
    ledger = damaged_ledger(run, ws)
    before = digest(ledger)
    refused(invoke(run, args, ledger), "ledger.sqlite3", "damaged", "left untouched")
    assert digest(ledger) == before


# --- a -wal deleted while a process holds the ledger --------------------------------------------


def test_a_wal_deleted_under_a_running_process_fails_its_next_write_and_loses_nothing(run, ws):
    ledger = ws / "ledger.sqlite3"
    app = SqliteStore.open(ledger)  # a long-running app that records its calls
    with app.write():
        app.insert_usage(UsageRecord(model="gpt-5.5", input_tokens=1, user="alice", time=dt.datetime.now(dt.timezone.utc)))
    app.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # its record is in the file itself now
    Path(f"{ledger}-wal").unlink()  # someone cleans up "stray" files
    other = subprocess.run(
        [sys.executable, "-m", "tokopt", "session", "record", "-m", "gpt-5.5", "-i", "2", "--ledger", str(ledger)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert other.returncode == 0, other.stderr
    with pytest.raises(LedgerError, match="deleted or replaced"):
        with app.write():
            app.insert_usage(UsageRecord(model="gpt-5.5", input_tokens=3, user="alice", time=dt.datetime.now(dt.timezone.utc)))
    app.close()
    r = run("session", "report", "--by", "model", "--format", "json", "--ledger", str(ledger))
    assert r.exit_code == 0, r.stderr
    total = json.loads(r.stdout)["total"]  # the app's first record and the other process's: nothing lost
    assert (total["records"], total["input_tokens"]) == (2, 1 + 2)


# --- a full disk: a new ledger is not half-made ---------------------------------------------------


def record_in_subprocess(ledger: Path, preexec=None):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "tokopt", "session", "record", "-m", "gpt-5.5", "-i", "10", "--ledger", str(ledger)],
        capture_output=True, text=True, check=False, preexec_fn=preexec,
    )  # fmt: skip


def test_a_file_size_limit_while_creating_a_ledger_is_one_error_and_leaves_nothing(tmp_path):
    # RLIMIT_FSIZE needs no root: writes past 16 KB fail (EFBIG) as they would on a full disk
    import resource
    import signal

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))

    ledger = tmp_path / "ledger.sqlite3"
    r = record_in_subprocess(ledger, small_files)
    assert r.returncode == 2, r.stderr
    line = one_error_line(r.stderr)
    assert line.startswith("error: cannot use ledger") and "ledger.sqlite3" in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def full_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 1 MB tmpfs, filled: needs root (mount), skipped otherwise."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True, check=False).returncode:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        with (disk / "filler").open("wb") as f:
            try:
                f.write(b"\0" * (2 << 20))
            except OSError:
                pass
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_creating_a_ledger_on_a_full_disk_says_no_space_and_leaves_nothing(full_disk):
    r = record_in_subprocess(full_disk / "ledger.sqlite3")
    assert r.returncode == 2, r.stderr
    assert "no space left on device" in one_error_line(r.stderr)
    assert [p.name for p in full_disk.iterdir()] == ["filler"]


def test_a_ledger_on_a_disk_that_fills_keeps_what_it_had(full_disk):
    ledger = full_disk / "ledger.sqlite3"
    (full_disk / "filler").unlink()
    assert record_in_subprocess(ledger).returncode == 0
    with (full_disk / "filler").open("wb") as f:
        try:
            f.write(b"\0" * (2 << 20))
        except OSError:
            pass
    lines = "".join(f'{{"model": "gpt-5.5", "input_tokens": {i}, "output_tokens": 1}}\n' for i in range(2000))
    r = subprocess.run(
        [sys.executable, "-m", "tokopt", "session", "record", "--stdin", "--ledger", str(ledger)],
        input=lines, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "no space left on device" in one_error_line(r.stderr)
    (full_disk / "filler").unlink()
    report = subprocess.run(
        [sys.executable, "-m", "tokopt", "session", "report", "--format", "json", "--ledger", str(ledger)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["total"]["records"] == 1
