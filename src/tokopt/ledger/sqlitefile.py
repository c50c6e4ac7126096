"""An SQLite ledger file: what it is stored as (times, money), how it is recognised, created,
copied before a migration, and what SQLite's errors mean to the user."""

from __future__ import annotations

import datetime as dt
import errno
import os
import sqlite3
import stat
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tokopt.errors import LedgerError
from tokopt.ledger.migrations import APPLICATION_ID, SCHEMA_VERSION, add_token_columns, migrate, missing_token_columns

SQLITE_MAGIC = b"SQLite format 3\x00"
PICO = 12  # cost_picousd = cost_usd x 10^12 when that is an integer
_INT64_MAX = 2**63 - 1
BUSY_TIMEOUT_S = 60.0


# ---------------------------------------------------------------------------------------------
# Value conversion: ISO-8601 UTC text with microseconds, so text order is time order and
# substr(time, 1, 10) is the UTC date.


def time_text(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    utc = value.astimezone(_UTC)
    if utc.year < 1000:  # strftime writes years before 1000 without their leading zeros
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # "...+00:00" -> "...Z": the same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), in a third less time
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"


_UTC = dt.timezone.utc


def parse_time_text(text: str) -> dt.datetime:
    # fromisoformat is C and ten times faster than strptime: reports parse a time per group
    return dt.datetime.fromisoformat(text[:-1] if text.endswith("Z") else text).replace(tzinfo=dt.timezone.utc)


def money_text(value: Decimal) -> str:
    """Plain decimal text, never an exponent: Decimal('5E-7') -> '0.0000005'."""
    # Not value.normalize(): that rounds to the context's 28 digits, and stored money is exact.
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", "0", ""} else text


def picousd(value: Decimal | None) -> int | None:
    """The cost as a whole number of 10^-12 USD, or None when that would round or overflow."""
    if value is None:
        return None
    scaled = value.scaleb(PICO)
    try:
        whole = scaled.to_integral_value()
    except InvalidOperation:
        return None
    if whole != scaled or abs(whole) > _INT64_MAX:
        return None
    return int(whole)


def picousd_of_text(text: str | None) -> int | None:
    return None if text is None else picousd(Decimal(text))


def not_a_ledger(path: Path, what: str) -> LedgerError:
    return LedgerError(
        f"{path} is not a tokopt ledger ({what}); it was left untouched",
        hint="move it away, or point --ledger / TOKOPT_LEDGER at another file",
    )


_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}


def check_path(path: Path) -> bool:
    """Refuse a ledger path that is neither a regular file nor a new name in a directory (a
    device such as /dev/null, a pipe, a dangling symlink): SQLite would create its journal next
    to it (`/dev/null-journal`). True when the file exists."""
    try:
        st = os.stat(path)  # through symlinks: what SQLite would open
    except FileNotFoundError:
        if os.path.islink(path):
            raise LedgerError(f"ledger path is a broken symlink: {path}", hint="point it at a file, or remove it") from None
        return False
    except OSError as exc:
        raise LedgerError(f"cannot use ledger {path}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise LedgerError(f"ledger path is a directory: {path}", hint="name a file, e.g. ledger.sqlite3")
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise LedgerError(
            f"ledger path is {kind}, not a file: {path}; it was left untouched",
            hint="point --ledger / TOKOPT_LEDGER at a file, e.g. ledger.sqlite3",
        )
    return True


SIDE_FILES = ("-wal", "-shm", "-journal")


def make_private(path: Path) -> None:
    """The ledger and its -wal, -shm and -journal readable by their owner only: a file made
    0644 by another tool (or an older tokopt) becomes 0600. SQLite gives the files it creates
    the mode of the ledger, so they follow."""
    for name in (str(path), *(f"{path}{suffix}" for suffix in SIDE_FILES)):
        try:
            st = os.stat(name)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o077:
            continue
        try:
            os.chmod(name, stat.S_IMODE(st.st_mode) & 0o700)
        except OSError as exc:
            if exc.errno == errno.EROFS:
                continue  # nothing can be written there either
            raise LedgerError(
                f"ledger file {name} is readable by others (mode {stat.S_IMODE(st.st_mode):o}) and cannot be made private: {exc.strerror}",
                hint=f"chmod 600 {name}, or point --ledger / TOKOPT_LEDGER at a file of your own",
            ) from None


def check_header(path: Path) -> None:
    """Refuse anything that is not an SQLite file before SQLite itself touches it."""
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except IsADirectoryError:
        raise LedgerError(f"ledger path is a directory: {path}", hint="name a file, e.g. ledger.sqlite3") from None
    except OSError as exc:
        raise LedgerError(f"cannot read ledger {path}: {exc.strerror}") from None
    if head and (len(head) < 100 or not head.startswith(SQLITE_MAGIC)):
        raise not_a_ledger(path, "not an SQLite database")


def create_file(path: Path) -> bool:
    """Create an empty file readable by its owner only; False when another process won the race."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"cannot create the ledger's directory {path.parent}: {exc.strerror}") from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise LedgerError(f"cannot create ledger {path}: {exc.strerror}") from None
    os.close(fd)
    return True


def file_identity(path: Path) -> tuple[tuple[int, int] | None, ...]:
    """(device, inode) of the ledger and of its -wal and -shm, None for one that is missing."""
    out = []
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        try:
            st = os.stat(name)
            out.append((st.st_dev, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def same_files(path: Path, opened: tuple[tuple[int, int] | None, ...] | None) -> tuple[tuple[int, int] | None, ...]:
    """The identity of the ledger's files now, after checking that none that was there when it
    was opened has been deleted or replaced: someone deleting the -wal under a running process
    would make its later writes go where nobody reads them."""
    now = file_identity(path)
    if opened is not None and any(old is not None and new != old for old, new in zip(opened, now, strict=True)):
        raise LedgerError(
            f"ledger {path} changed under tokopt: its file, -wal or -shm was deleted or replaced "
            "by another program while tokopt had it open; nothing was written",
            hint="run the command again (it opens the ledger anew)",
        )
    return now


def check_pages(db: sqlite3.Connection, path: Path) -> None:
    """Refuse to write to a ledger with a damaged page: an append reads only the pages it
    changes, so SQLite alone would write on. PRAGMA quick_check reads every page once: on this
    machine 142 ms for 100k records (35 MB), 1.4 s for 1M (355 MB), warm cache."""
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise LedgerError(
            f"ledger {path} is damaged ({problems[0]}); it was left untouched",
            hint="restore a backup (ledger.sqlite3.v*.bak) or move the file away",
        )


def remove_new(path: Path) -> None:
    """Remove a ledger this process created and could not finish making (a full disk): nothing
    half-made is left behind."""
    for name in (str(path), *(f"{path}{suffix}" for suffix in SIDE_FILES)):
        try:
            os.unlink(name)
        except OSError:
            pass


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    return type(exc) is sqlite3.DatabaseError or "malformed" in str(exc) or "not a database" in str(exc)


# What SQLite says when the file or the disk is the problem, not tokopt's SQL.
_ENVIRONMENT = ("locked", "readonly", "read-only", "disk i/o", "full", "unable to open", "busy")


def _no_space(exc: sqlite3.DatabaseError, path: Path | None) -> bool:
    """SQLite says "database or disk is full"; when the disk fills while it writes a journal it
    may say "disk I/O error" instead: then the file system's free space tells."""
    text = str(exc).lower()
    if "full" in text:
        return True
    if "disk i/o" not in text or path is None:
        return False
    try:
        fs = os.statvfs(path.parent)
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize < 1 << 20


def translate(exc: sqlite3.DatabaseError, path: Path | None) -> LedgerError | None:
    """A LedgerError the user can act on, or None for a bug (which must show its traceback)."""
    if _no_space(exc, path):
        return LedgerError(
            f"cannot write ledger {path}: no space left on device; nothing was written",
            hint="free some space, or point --ledger / TOKOPT_LEDGER at another disk",
        )
    if _is_corrupt(exc):
        return LedgerError(
            f"ledger {path} is damaged ({exc}); it was left untouched",
            hint="restore a backup (ledger.sqlite3.v*.bak) or move the file away",
        )
    if isinstance(exc, sqlite3.OperationalError) and any(word in str(exc).lower() for word in _ENVIRONMENT):
        return LedgerError(f"cannot use ledger {path}: {exc}")
    return None


def backup_copy(path: Path, version: int) -> Path:
    """A consistent copy of the ledger before migrating it (the caller holds the write lock)."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.v{version}-{stamp}-{n}.bak")
    create_file(target)
    source = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    return target


def connect(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A connection to the ledger file at `path`, created (empty, mode 0600) if missing, and
    whether this call created it. Anything but a regular file or a new name is refused before
    SQLite touches it, and an existing ledger (with its -wal and -shm) is made private."""
    created = False
    if check_path(path):
        make_private(path)
    else:
        created = create_file(path)
    try:
        check_header(path)
        return sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False), created
    except sqlite3.Error as exc:
        if created:
            remove_new(path)
        raise LedgerError(f"cannot open ledger {path}: {exc}") from None
    except BaseException:
        if created:
            remove_new(path)
        raise


def prepare(db: sqlite3.Connection, path: Path | None) -> tuple[int | None, Path | None]:
    """Check that `db` is a tokopt ledger, set it up, and migrate it if it is older: the version
    it was migrated from and its backup, if it was. Closes `db` when it cannot be used."""
    try:
        return _prepare(db, path)
    except sqlite3.DatabaseError as exc:
        db.close()
        error = translate(exc, path)
        if error is None:
            raise
        raise error from None
    except BaseException:
        db.close()
        raise


def _prepare(db: sqlite3.Connection, path: Path | None) -> tuple[int | None, Path | None]:
    # One statement, one snapshot: read apart, a first migration committed by another
    # process in between would look like tables without our application id.
    app_id, version, tables = db.execute(
        "SELECT (SELECT application_id FROM pragma_application_id()), "
        "(SELECT user_version FROM pragma_user_version()), (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if app_id != APPLICATION_ID and (app_id != 0 or tables or version):
        raise not_a_ledger(path or Path(":memory:"), "an SQLite database of another application")
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"ledger {path} has schema version {version}; this tokopt knows up to {SCHEMA_VERSION}",
            hint="upgrade tokopt (pip install -U tokopt)",
        )
    db.execute("PRAGMA foreign_keys = ON")
    if path is not None:
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            _set_wal(db)
        db.execute("PRAGMA synchronous = NORMAL")
    if version < SCHEMA_VERSION or missing_token_columns(db):
        return _migrate(db, path)
    return None, None


def _set_wal(db: sqlite3.Connection) -> None:
    # Switching needs a moment without other connections; a concurrent first use may hold
    # the file, so wait for it like any busy statement.
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _migrate(db: sqlite3.Connection, path: Path | None) -> tuple[int | None, Path | None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        migrated_from, backup = None, None
        # Another process may have migrated while we waited for the lock.
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION or missing_token_columns(db):
            if version > 0 and path is not None:
                backup = backup_copy(path, version)
            migrate(db)
            add_token_columns(db)
            migrated_from = version
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite has rolled back already after a full disk
            db.execute("ROLLBACK")
        raise
    return migrated_from, backup
