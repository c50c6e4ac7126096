"""A PostgreSQL ledger's database: connecting (psycopg 3, imported only here and only for a
postgresql:// location), recognising a tokopt ledger, its schema as an ordered list of small
migrations, and what psycopg's errors mean to the user.

The applied migrations are rows of `tokopt_migrations` (the version is their count);
`tokopt_ledger` marks the database as a tokopt ledger and holds its id. A database that has
tables but no such mark belongs to something else and is never written. Migrations run in one
transaction under an advisory lock, so processes opening a new ledger at once create it once.

Passwords: a URL is shown only through `store.redact`, and every message from psycopg or the
server goes through `scrub` before it reaches an error, since libpq may quote its input.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from tokopt.errors import LedgerError
from tokopt.ledger.store import redact
from tokopt.usage import TOKEN_FIELDS

if TYPE_CHECKING:
    import psycopg

# pg_advisory_xact_lock keys: creating/migrating the schema; every write transaction.
MIGRATE_LOCK = 0x746F6B6F
WRITE_LOCK = 0x746F6B70
EXTRA = "pip install 'tokopt[postgres]'"
CONNECT_TIMEOUT_S = 10

Migration = Callable[["psycopg.Connection[Any]"], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_ledger(db: psycopg.Connection[Any]) -> None:
    # The SQLite ledger's schema at its version 7, in PostgreSQL's types: times are
    # timestamptz, money exact numeric, flags boolean. "user" is a reserved word, so quoted.
    db.execute("CREATE TABLE tokopt_ledger (key text PRIMARY KEY, value text NOT NULL)")
    db.execute("CREATE TABLE tokopt_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)")
    db.execute(
        """CREATE TABLE runs (
            id text PRIMARY KEY,
            "user" text NOT NULL,
            name text NOT NULL,
            labels text NOT NULL DEFAULT '{}',
            started_at timestamptz NOT NULL,
            ended_at timestamptz,
            n bigint GENERATED ALWAYS AS IDENTITY
        )"""
    )
    db.execute("CREATE SEQUENCE usage_changes")
    db.execute(
        """CREATE TABLE usage (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time timestamptz NOT NULL,
            "user" text NOT NULL,
            run_id text REFERENCES runs(id),
            provider text,
            model text NOT NULL,
            input_tokens bigint NOT NULL DEFAULT 0,
            cached_input_tokens bigint NOT NULL DEFAULT 0,
            cache_write_tokens bigint NOT NULL DEFAULT 0,
            cache_write_1h_tokens bigint NOT NULL DEFAULT 0,
            output_tokens bigint NOT NULL DEFAULT 0,
            reasoning_tokens bigint NOT NULL DEFAULT 0,
            cost_usd numeric,
            pricing_as_of date,
            batch boolean NOT NULL DEFAULT false,
            estimated boolean NOT NULL DEFAULT false,
            source text NOT NULL,
            dedupe_key text,
            prompt_hash text,
            agent text,
            session_id text,
            project text,
            git_branch text,
            sidechain boolean NOT NULL DEFAULT false,
            uid text NOT NULL,
            origin text,
            seq bigint NOT NULL DEFAULT nextval('usage_changes')
        )"""
    )
    db.execute("CREATE UNIQUE INDEX usage_uid ON usage(uid)")
    db.execute('CREATE UNIQUE INDEX usage_dedupe ON usage("user", dedupe_key) WHERE dedupe_key IS NOT NULL')
    db.execute('CREATE INDEX usage_user_time ON usage("user", time)')
    db.execute("CREATE INDEX usage_time ON usage(time)")
    db.execute("CREATE INDEX usage_run ON usage(run_id)")
    db.execute("CREATE INDEX usage_seq ON usage(seq)")
    db.execute('CREATE INDEX usage_unpriced ON usage("user", model, time) WHERE cost_usd IS NULL')
    db.execute('CREATE INDEX usage_session ON usage("user", session_id) WHERE session_id IS NOT NULL')
    db.execute('CREATE INDEX runs_user_name ON runs("user", name, started_at)')
    db.execute('CREATE TABLE current_run ("user" text PRIMARY KEY, run_id text NOT NULL REFERENCES runs(id))')
    db.execute(
        """CREATE TABLE import_files (
            "user" text NOT NULL,
            path text NOT NULL,
            size bigint NOT NULL,
            mtime_ns bigint NOT NULL,
            "offset" bigint NOT NULL,
            lines bigint NOT NULL,
            tail_len bigint NOT NULL,
            tail_hash text NOT NULL,
            state text NOT NULL,
            imported_at timestamptz NOT NULL,
            PRIMARY KEY ("user", path)
        )"""
    )
    db.execute("CREATE TABLE sync_state (source text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz NOT NULL)")
    db.execute("INSERT INTO tokopt_ledger (key, value) VALUES ('application', 'tokopt'), ('ledger_id', %s)", (uuid.uuid4().hex,))


@migration
def m002_price_version_and_tier(db: psycopg.Connection[Any]) -> None:
    # The SQLite ledger's m008: which price data priced a record, and the service tier that
    # served the call (NULL: standard).
    db.execute("ALTER TABLE usage ADD COLUMN pricing_version text")
    db.execute("ALTER TABLE usage ADD COLUMN service_tier text")


@migration
def m003_response_index(db: psycopg.Connection[Any]) -> None:
    # The SQLite ledger's m009: finding the responses several users imported (`store.once_sql`).
    db.execute("CREATE INDEX usage_response ON usage(dedupe_key) WHERE dedupe_key IS NOT NULL")


@migration
def m004_report_index(db: psycopg.Connection[Any]) -> None:
    # The SQLite ledger's m010: what a report of one user's records reads without the table (an
    # index-only scan, once vacuum has marked the pages visible): every column its sums need.
    # PostgreSQL groups by hashing, so by user and time is the order that serves every period.
    db.execute(
        'CREATE INDEX usage_report ON usage("user", time) INCLUDE (provider, model, input_tokens, cached_input_tokens, '
        "cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, estimated, cost_usd)"
    )


SCHEMA_VERSION = len(MIGRATIONS)


# -- connecting ----------------------------------------------------------------------------------


def import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise LedgerError("a postgresql:// ledger needs psycopg 3, which is not installed", hint=EXTRA) from None
    return psycopg


def scrub(text: str, location: str) -> str:
    """`text` with the location's password (as written and percent-decoded) replaced by ***."""
    secrets: set[str] = set()
    try:
        parts = urlsplit(location)
        if parts.password:
            secrets |= {parts.password, unquote(parts.password)}
        for pair in parts.query.split("&"):
            key, _, value = pair.partition("=")
            if key.lower() == "password" and value:
                secrets |= {value, unquote(value)}
    except ValueError:
        secrets.add(location.partition("://")[2])  # cannot tell the parts apart: hide all but the scheme
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return " ".join(text.split())


def connect(location: str) -> psycopg.Connection[Any]:
    """An autocommit connection to the database at `location`, its session in UTC."""
    psycopg = import_psycopg()
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    shown = redact(location)
    try:
        given = conninfo_to_dict(location)
        extra: dict[str, Any] = {"application_name": "tokopt"}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = CONNECT_TIMEOUT_S
        conninfo = make_conninfo(location, **{k: v for k, v in extra.items() if k not in given})
    except psycopg.ProgrammingError as exc:
        raise LedgerError(f"not a PostgreSQL URL: {shown} ({scrub(str(exc), location)})", hint="e.g. postgresql://user@host:5432/tokopt") from None
    try:
        conn = psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        raise connect_error(exc, location) from None
    try:
        conn.execute("SET TIME ZONE 'UTC'")
    except psycopg.Error:
        conn.close()
        raise
    return conn


def connect_error(exc: Exception, location: str) -> LedgerError:
    shown = redact(location)
    reason = scrub(str(exc), location).removeprefix("connection failed: ")
    lowered = reason.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered or "authentication failed" in lowered:
        return LedgerError(f"ledger {shown} refused the login: {reason}", hint="check the user and password (in the URL, PGPASSWORD or ~/.pgpass)")
    if "does not exist" in lowered and "database" in lowered:
        return LedgerError(f"cannot use ledger {shown}: {reason}", hint="create the database first (createdb), or fix its name in the URL")
    return LedgerError(f"cannot connect to ledger {shown}: {reason}")


def translate(exc: Exception, location: str) -> LedgerError | None:
    """A LedgerError the user can act on, or None for a bug (which must show its traceback)."""
    import psycopg

    shown = redact(location)
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return LedgerError(f"cannot use ledger {shown}: {scrub(str(exc), location)}", hint="the database role needs to own the ledger's tables, or CREATE on its schema")
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return LedgerError(f"cannot write to ledger {shown}: {scrub(str(exc), location)}")
    if isinstance(exc, psycopg.OperationalError):
        return LedgerError(f"lost the connection to ledger {shown}: {scrub(str(exc), location)}")
    return None


# -- recognising and migrating -------------------------------------------------------------------


def state(db: psycopg.Connection[Any]) -> tuple[bool, int, int]:
    """(marked as a tokopt ledger, its schema version, how many tables its schema has)."""
    marked, tables = db.execute(
        "SELECT to_regclass('tokopt_ledger') IS NOT NULL, "
        "(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))"
    ).fetchone()
    if not marked:
        return False, 0, int(tables)
    rows = dict(db.execute("SELECT key, value FROM tokopt_ledger WHERE key = 'application'").fetchall())
    if rows.get("application") != "tokopt":
        return False, 0, int(tables)
    (version,) = db.execute("SELECT coalesce(max(version), 0) FROM tokopt_migrations").fetchone()
    return True, int(version), int(tables)


def not_a_ledger(location: str) -> LedgerError:
    return LedgerError(
        f"{redact(location)} is not a tokopt ledger (its database has tables of another application); it was left untouched",
        hint="point --ledger / TOKOPT_LEDGER at an empty database (createdb tokopt) or at an existing tokopt ledger",
    )


def check(db: psycopg.Connection[Any], location: str) -> tuple[bool, int]:
    """Whether the database holds a tokopt ledger and at which version; refuses anything else."""
    marked, version, tables = state(db)
    if not marked and tables:
        raise not_a_ledger(location)
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"ledger {redact(location)} has schema version {version}; this tokopt knows up to {SCHEMA_VERSION}",
            hint="upgrade tokopt (pip install -U tokopt)",
        )
    return marked, version


def missing_token_columns(db: psycopg.Connection[Any]) -> list[str]:
    # the catalog itself, not the information_schema view: every opening asks (0.9 ms on a new
    # connection, not 3.6 ms)
    rows = db.execute(
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname = 'usage' AND a.attnum > 0 AND NOT a.attisdropped"
    ).fetchall()
    have = {name for (name,) in rows}
    return [name for name in TOKEN_FIELDS if name not in have] if have else []


def prepare(db: psycopg.Connection[Any], location: str) -> int | None:
    """Create or migrate the ledger's schema when it is behind; the version it was migrated from, if it was."""
    _, version = check(db, location)
    if version == SCHEMA_VERSION and not missing_token_columns(db):
        return None
    db.execute("BEGIN")
    try:
        db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        _, version = check(db, location)  # another process may have migrated while we waited
        missing = missing_token_columns(db)
        migrated_from = None
        if version < SCHEMA_VERSION or missing:
            now = dt.datetime.now(dt.timezone.utc)
            for number in range(version + 1, SCHEMA_VERSION + 1):
                fn = MIGRATIONS[number - 1]
                fn(db)
                db.execute("INSERT INTO tokopt_migrations (version, name, applied_at) VALUES (%s, %s, %s)", (number, fn.__name__, now))
            for name in missing_token_columns(db):
                db.execute(f"ALTER TABLE usage ADD COLUMN {name} bigint NOT NULL DEFAULT 0")
            migrated_from = version
        db.execute("COMMIT")
    except BaseException:
        if db.info.transaction_status != 0:  # not idle: undo whatever ran
            db.execute("ROLLBACK")
        raise
    return migrated_from
