"""The SQLite ledger's schema, as an ordered list of small named migrations.

`PRAGMA user_version` holds how many have been applied; each applied one is also recorded in
the `migrations` table. Append only: never edit a migration that has shipped, add a new one.

Token columns follow the record type: `usage` has one `INTEGER NOT NULL DEFAULT 0` column per
token kind (`usage.TOKEN_FIELDS`). A kind added after these migrations gets its column from
`add_token_columns` when a ledger without it is opened, so a new kind needs no migration.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable


Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_runs_and_usage(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            name TEXT NOT NULL,
            labels TEXT NOT NULL DEFAULT '{}',
            started_at TEXT NOT NULL,
            ended_at TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            user TEXT NOT NULL,
            run_id TEXT REFERENCES runs(id),
            provider TEXT,
            model TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            cached_input_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            cache_write_1h_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_usd TEXT,
            pricing_as_of TEXT,
            batch INTEGER NOT NULL DEFAULT 0,
            estimated INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            dedupe_key TEXT,
            prompt_hash TEXT
        )"""
    )
    db.execute("CREATE UNIQUE INDEX usage_dedupe ON usage(user, dedupe_key) WHERE dedupe_key IS NOT NULL")
    db.execute(
        "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


@migration
def m002_current_run(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE current_run (user TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id))")


@migration
def m003_report_indexes(db: sqlite3.Connection) -> None:
    db.execute("CREATE INDEX usage_user_time ON usage(user, time)")
    db.execute("CREATE INDEX usage_run ON usage(run_id)")
    db.execute("CREATE INDEX runs_user_name ON runs(user, name, started_at)")
    # the "unpriced" line of a report reads only this small index
    db.execute("CREATE INDEX usage_unpriced ON usage(user, model, time) WHERE cost_usd IS NULL")


@migration
def m004_cost_picousd(db: sqlite3.Connection) -> None:
    # Exact integer costs let SQL sum them; older rows are filled in from their Decimal text.
    db.execute("ALTER TABLE usage ADD COLUMN cost_picousd INTEGER")
    from tokopt.ledger.sqlitefile import picousd_of_text

    db.create_function("tokopt_picousd", 1, picousd_of_text, deterministic=True)
    db.execute("UPDATE usage SET cost_picousd = tokopt_picousd(cost_usd) WHERE cost_usd IS NOT NULL")


@migration
def m005_attribution(db: sqlite3.Connection) -> None:
    # What coding-agent logs say about each call: which agent, session, project and branch,
    # and whether a subagent made it. Records imported before have the agent their source names.
    for column in ("agent TEXT", "session_id TEXT", "project TEXT", "git_branch TEXT", "sidechain INTEGER NOT NULL DEFAULT 0"):
        db.execute(f"ALTER TABLE usage ADD COLUMN {column}")
    db.execute("UPDATE usage SET agent = substr(source, 8) WHERE source IN ('import:claude-code', 'import:codex')")
    # the status line sums one session's records
    db.execute("CREATE INDEX usage_session ON usage(user, session_id) WHERE session_id IS NOT NULL")


@migration
def m006_import_files(db: sqlite3.Connection) -> None:
    # Where the last import of each log file stopped, so that the next one skips a file that
    # has not changed and reads a grown one from there (see ledger/incremental.py).
    db.execute(
        """CREATE TABLE import_files (
            user TEXT NOT NULL,
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            lines INTEGER NOT NULL,
            tail_len INTEGER NOT NULL,
            tail_hash TEXT NOT NULL,
            state TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (user, path)
        )"""
    )


@migration
def m007_records_travel(db: sqlite3.Connection) -> None:
    # What `session push` / `pull` need: an id a record keeps across ledgers (`uid`), the
    # machine it was made on (`origin`), a change number that grows with every insert and
    # update (`seq`, so a push sends only what changed; `seq_floor` keeps numbers of deleted
    # records from being given again), this ledger's own id, and how far each other ledger's
    # records have been merged into this one.
    import uuid

    from tokopt.ledger.store import record_uid, this_machine

    db.execute("ALTER TABLE usage ADD COLUMN uid TEXT")
    db.execute("ALTER TABLE usage ADD COLUMN origin TEXT")
    db.execute("ALTER TABLE usage ADD COLUMN seq INTEGER")
    db.create_function("tokopt_uid", 2, record_uid)
    db.execute("UPDATE usage SET uid = tokopt_uid(user, dedupe_key), origin = ?, seq = id", (this_machine(),))
    db.execute("CREATE UNIQUE INDEX usage_uid ON usage(uid)")
    db.execute("CREATE INDEX usage_seq ON usage(seq)")
    db.execute("CREATE TABLE ledger_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO ledger_info (key, value) VALUES ('ledger_id', ?), ('seq_floor', '0')", (uuid.uuid4().hex,))
    db.execute("CREATE TABLE sync_state (source TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_at TEXT NOT NULL)")


@migration
def m008_price_version_and_tier(db: sqlite3.Connection) -> None:
    # Which price data priced a record (`gp:<genai-prices data hash>[+file:<pricing file hash>]`),
    # and the service tier that served the call (flex, priority; NULL: standard). Records priced
    # before have no version: `tokopt session reprice` gives them one.
    db.execute("ALTER TABLE usage ADD COLUMN pricing_version TEXT")
    db.execute("ALTER TABLE usage ADD COLUMN service_tier TEXT")


@migration
def m009_response_index(db: sqlite3.Connection) -> None:
    # A response imported by several users counts once in every user's sums (`store.once_sql`):
    # finding keys held by more than one user reads this index, not the table.
    db.execute("CREATE INDEX usage_response ON usage(dedupe_key) WHERE dedupe_key IS NOT NULL")


@migration
def m010_report_index(db: sqlite3.Connection) -> None:
    # What a report of one user's records reads, in a fraction of the table's pages: every
    # column its sums need (`sqlitesums`), so no row of the table is read. Its order is
    # `session report --by month`'s groups (user, UTC month, provider, model), so that report
    # needs no sort; other periods and groups scan it and sort. The token columns are the
    # ones of this migration's time: a later token kind makes the report read the table again
    # (a new migration then makes a new index).
    db.execute(
        "CREATE INDEX usage_report ON usage(user, substr(time, 1, 7), provider, model, time, input_tokens, cached_input_tokens, "
        "cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, estimated, cost_usd, cost_picousd)"
    )


@migration
def m011_report_index_by_hour(db: sqlite3.Connection) -> None:
    # The report index again, ordered by UTC hour rather than month: (user, UTC hour, provider,
    # model). Every period's sums (hour, day, week, month, in UTC or in a zone, and the 5-hour
    # blocks) are then one pass over it in its order, per UTC hour, with no sort; each hour is
    # given to its period in Python (`sqlitesums`). Ordered by month, only the UTC month
    # report was read without a sort, and the blocks sorted every record by hour.
    db.execute("DROP INDEX IF EXISTS usage_report")
    db.execute(
        "CREATE INDEX usage_report ON usage(user, substr(time, 1, 13), provider, model, time, input_tokens, cached_input_tokens, "
        "cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, estimated, cost_usd, cost_picousd)"
    )


@migration
def m012_one_index_of_identity(db: sqlite3.Connection) -> None:
    # A record's uid is made from (user, dedupe_key) whenever it has a key (`store.record_uid`,
    # m007, every write), so the unique uid index already keeps (user, dedupe_key) unique; this
    # second unique index only cost every import a b-tree insert per record. Lookups by key
    # read usage_response (m009).
    db.execute("DROP INDEX IF EXISTS usage_dedupe")


APPLICATION_ID = 0x746F6B6F  # "toko": PRAGMA application_id of every tokopt ledger
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection, upto: int | None = None) -> None:
    """Apply the migrations after the file's version, in order, inside the caller's transaction."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    target = SCHEMA_VERSION if upto is None else upto
    from tokopt.ledger.sqlitefile import time_text

    now = time_text(dt.datetime.now(dt.timezone.utc))
    for version in range(current + 1, target + 1):
        fn = MIGRATIONS[version - 1]
        fn(db)
        db.execute("INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)", (version, fn.__name__, now))
        db.execute(f"PRAGMA user_version = {version:d}")
    if current == 0 and target > 0:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")




def missing_token_columns(db: sqlite3.Connection) -> list[str]:
    """Token kinds the ledger's `usage` table has no column for."""
    from tokopt.usage import TOKEN_FIELDS  # here, not above: opening a ledger to read (the status line) need not load pydantic

    have = {row[1] for row in db.execute("PRAGMA table_info(usage)")}
    return [name for name in TOKEN_FIELDS if name not in have] if have else []


def add_token_columns(db: sqlite3.Connection) -> list[str]:
    """Add a column for each token kind the ledger lacks (inside the caller's transaction)."""
    added = missing_token_columns(db)
    for name in added:
        db.execute(f"ALTER TABLE usage ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0")
    return added
