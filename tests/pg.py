"""A private PostgreSQL server for the tests: one per test session (one per xdist worker).

The server runs from the PostgreSQL binaries on this machine (Debian's package puts them in
/usr/lib/postgresql/<version>/bin; `.ci/ensure-postgresql` installs it when missing) in a
temporary directory (in /dev/shm when it has room), without fsync, on a free loopback port,
with password authentication for every connection. It starts the first time a test asks for
it and stops when the session ends. initdb refuses to run as root, so under root the server
runs as the `postgres` user (made by the Debian package) or else `nobody`, from a directory
that user owns.

Fixtures (registered by tests/conftest.py):

- `pg_database`: a fresh, empty database for this test, owned by a password role; dropped after.
  `.url` is `postgresql://user:password@127.0.0.1:port/name`; `.url_with_password("wrong")`.
- `pg_url`: `pg_database.url`.
- `make_pg_database`: call it for more independent databases in one test ("two machines").
- `pg_unreachable_url`: a URL to a loopback port where nothing listens (connection refused).
- `pg_server`: the server itself (`.admin()` gives a superuser connection, for rare tests).

If PostgreSQL cannot start, every test that asks for it fails with the reason; none is skipped.
"""

from __future__ import annotations

import ctypes
import glob
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

if TYPE_CHECKING:
    import psycopg

HOST = "127.0.0.1"
BINDIR_ENV = "TOKOPT_TEST_PG_BINDIR"  # where initdb and postgres are, to pick one install
SUPERUSER = "postgres"
ROLE = "tokopt_test"
START_TIMEOUT = 60.0
STALE_AFTER = 600.0  # seconds: a server directory this old with no live server is a leftover
SHM = Path("/dev/shm")
SHM_MIN_FREE = 2 << 30  # bytes: use memory-backed /dev/shm only when it has this much room
INSTALL_HINT = "run .ci/ensure-postgresql (it installs Debian's postgresql package) or set " + BINDIR_ENV


class PgUnavailable(Exception):
    """PostgreSQL could not be found or started; the message says why."""


@dataclass(frozen=True)
class PgDatabase:
    """One database on the test server, reached as a role that has a password."""

    host: str
    port: int
    name: str
    user: str
    password: str

    @property
    def url(self) -> str:
        return self.url_with_password(self.password)

    def url_with_password(self, password: str) -> str:
        return f"postgresql://{quote(self.user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/{self.name}"

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(self.url, **kwargs)


def find_bindir() -> Path:
    """The directory holding initdb and postgres: $TOKOPT_TEST_PG_BINDIR, pg_config, Debian's layout, PATH."""
    if os.environ.get(BINDIR_ENV):
        candidates = [Path(os.environ[BINDIR_ENV])]
    else:
        candidates = []
        if shutil.which("pg_config"):
            r = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
            if r.returncode == 0 and r.stdout.strip():
                candidates.append(Path(r.stdout.strip()))
        debian = glob.glob("/usr/lib/postgresql/*/bin")
        candidates += [Path(p) for p in sorted(debian, key=lambda p: _version_key(Path(p).parent.name), reverse=True)]
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "postgres")):
            return bindir
    tried = ", ".join(str(c) for c in candidates) or "nothing"
    raise PgUnavailable(f"PostgreSQL's initdb and postgres not found (looked in: {tried}); {INSTALL_HINT}")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", name))


def _server_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PgUnavailable("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL as")


# Linux's prctl, resolved before any fork (no dlopen in the child); None elsewhere.
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child after it has switched user (a change of user would clear the setting):
    # if the test process dies without tearing down, the server gets SIGQUIT (immediate stop).
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGQUIT)


def _base_dir() -> Path:
    """/dev/shm when it has room (creating and dropping a database there costs a third of what it
    does on ext4, starting a server two thirds), else the temporary directory."""
    try:
        st = os.statvfs(SHM)
        if os.access(SHM, os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize >= SHM_MIN_FREE:
            return SHM
    except OSError:
        pass
    return Path(tempfile.gettempdir())


def _sweep_stale_dirs() -> None:
    """Remove the directories of test servers whose session was killed (they hold ~45 MB each)."""
    leftovers = [*SHM.glob("tokopt-pg*-*"), *Path(tempfile.gettempdir()).glob("tokopt-pg*-*")]
    for path in leftovers:
        try:
            if time.time() - path.stat().st_mtime < STALE_AFTER:
                continue
            pid = int((path / "data" / "postmaster.pid").read_text(encoding="ascii").split()[0])
        except (OSError, ValueError, IndexError):
            pid = None
        if pid is not None:
            try:
                os.kill(pid, 0)
                continue  # its server still runs
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        shutil.rmtree(path, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class PgServer:
    """A throwaway PostgreSQL cluster: initdb into a temporary directory, then postgres on loopback."""

    def __init__(self, label: str = "") -> None:
        self.bindir = find_bindir()
        self.account = _server_account()
        self.host = HOST
        self.port = 0
        self.superuser_password = "su-" + secrets.token_hex(8)
        # Characters that must be percent-encoded in a URL, as real passwords have.
        self.role_password = "p@ss:w/rd %" + secrets.token_hex(6)
        self.dir = Path(tempfile.mkdtemp(prefix=f"tokopt-pg{label}-", dir=_base_dir()))
        self.log_path = self.dir / "server.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._admin: psycopg.Connection[Any] | None = None
        self._names = itertools.count(1)

    # -- life cycle

    def start(self) -> None:
        _sweep_stale_dirs()
        self._chown(self.dir)
        self._initdb()
        for attempt in range(3):  # the free port may be taken between choosing and binding it
            self.port = _free_port()
            self._launch()
            try:
                self._wait_until_ready()
            except PgUnavailable:
                if attempt < 2 and "could not bind" in self._log_tail():
                    continue
                raise
            break
        from psycopg import sql

        self.admin().execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(ROLE), sql.Literal(self.role_password)))

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGQUIT)  # immediate shutdown: the data is thrown away
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _chown(self, path: Path) -> None:
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)

    def _as_server_user(self) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        kwargs: dict[str, Any] = {"cwd": self.dir, "env": env}
        if self.account is not None:
            env["HOME"] = str(self.dir)
            kwargs.update(user=self.account.pw_uid, group=self.account.pw_gid, extra_groups=[])
        return kwargs

    def _initdb(self) -> None:
        pwfile = self.dir / "pwfile"
        pwfile.write_text(self.superuser_password + "\n", encoding="utf-8")
        self._chown(pwfile)
        args = [
            str(self.bindir / "initdb"), "--pgdata", str(self.dir / "data"), "--username", SUPERUSER,
            "--pwfile", str(pwfile), "--auth", "scram-sha-256", "--encoding", "UTF8", "--locale", "C",
            "--no-sync", "--no-instructions",
        ]  # fmt: skip
        r = subprocess.run(args, capture_output=True, text=True, check=False, **self._as_server_user())
        pwfile.unlink()
        if r.returncode != 0:
            raise PgUnavailable(f"initdb failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()[-2000:]}")

    def _launch(self) -> None:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": "",  # loopback TCP only: every connection gives a password
            "fsync": "off",  # a test server's data is thrown away: trade durability for speed
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
        }
        args = [str(self.bindir / "postgres"), "-D", str(self.dir / "data")]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        log = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent, **self._as_server_user(),
            )  # fmt: skip
        finally:
            log.close()

    def _wait_until_ready(self) -> None:
        import psycopg

        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise PgUnavailable(f"postgres exited with {self._process.returncode}: {self._log_tail()}")
            try:
                self._admin = self._connect_admin()
                return
            except psycopg.OperationalError as e:
                if time.monotonic() > deadline:
                    self._process.kill()
                    raise PgUnavailable(f"postgres did not accept connections within {START_TIMEOUT:.0f}s: {e}; {self._log_tail()}") from None
                time.sleep(0.02)

    def _log_tail(self) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return "(no server log)"
        return "server log: " + " | ".join(text.splitlines()[-8:])

    # -- use

    def _connect_admin(self) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, password=self.superuser_password, dbname="postgres",
            autocommit=True, connect_timeout=5,
        )  # fmt: skip

    def admin(self) -> psycopg.Connection[Any]:
        """A superuser connection (autocommit) to the `postgres` database, shared by the session."""
        if self._admin is None or self._admin.closed or self._admin.broken:
            self._admin = self._connect_admin()
        return self._admin

    def create_database(self) -> PgDatabase:
        name = f"t{next(self._names)}"
        admin = self.admin()
        # From the empty template0; FILE_COPY (PostgreSQL 15+) takes ~7 ms here, half of WAL_LOG's.
        strategy = " STRATEGY FILE_COPY" if admin.info.server_version >= 150000 else ""
        admin.execute(f"CREATE DATABASE {name} OWNER {ROLE} TEMPLATE template0{strategy}")
        return PgDatabase(self.host, self.port, name, ROLE, self.role_password)

    def drop_database(self, db: PgDatabase) -> None:
        self.admin().execute(f"DROP DATABASE IF EXISTS {db.name} WITH (FORCE)")


# -- fixtures


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """This session's (this xdist worker's) PostgreSQL server, started on first use."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg is not installed: pip install -e '.[test]' (the test extra includes tokopt[postgres])", pytrace=False)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    try:
        server = PgServer(label=f"-{worker}" if worker else "")
    except PgUnavailable as e:
        pytest.fail(f"PostgreSQL test server unavailable: {e}", pytrace=False)
    try:
        try:
            server.start()
        except PgUnavailable as e:
            pytest.fail(f"PostgreSQL test server unavailable: {e}", pytrace=False)
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_pg_database(pg_server: PgServer) -> Iterator[Callable[[], PgDatabase]]:
    """A factory of fresh, independent databases on the test server, all dropped after the test."""
    made: list[PgDatabase] = []

    def make() -> PgDatabase:
        db = pg_server.create_database()
        made.append(db)
        return db

    yield make
    for db in made:
        pg_server.drop_database(db)


@pytest.fixture
def pg_database(make_pg_database: Callable[[], PgDatabase]) -> PgDatabase:
    """A fresh, empty database for this test, owned by a role with a password."""
    return make_pg_database()


@pytest.fixture
def pg_url(pg_database: PgDatabase) -> str:
    """The URL of this test's fresh database, password included."""
    return pg_database.url


@pytest.fixture
def pg_unreachable_url() -> Iterator[str]:
    """A PostgreSQL URL whose loopback port refuses connections (held bound, never listening)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        yield f"postgresql://{ROLE}:secret@{HOST}:{s.getsockname()[1]}/tokopt"
