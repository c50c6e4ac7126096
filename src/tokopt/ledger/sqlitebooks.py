"""What an SQLite ledger keeps about itself: its id, how far each ledger merged into it has been
read (`session pull`), and the state of each log file imported into it (incremental import)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence

from tokopt.ledger.sqlitefile import parse_time_text, time_text
from tokopt.ledger.store import FileState


class SqliteBookkeeping:
    """The bookkeeping methods of `SqliteStore` (see `store.Store`)."""

    db: sqlite3.Connection

    # -- merging ledgers ----------------------------------------------------------------------

    @property
    def ledger_id(self) -> str:
        return str(self.db.execute("SELECT value FROM ledger_info WHERE key = 'ledger_id'").fetchone()[0])

    def sync_position(self, source: str) -> int:
        row = self.db.execute("SELECT position FROM sync_state WHERE source = ?", (source,)).fetchone()
        return int(row[0]) if row else 0

    def set_sync_position(self, source: str, position: int) -> None:
        self.db.execute(
            "INSERT INTO sync_state (source, position, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
            (source, position, time_text(dt.datetime.now(dt.timezone.utc))),
        )

    # -- incremental import -------------------------------------------------------------------

    def import_states(self, user: str, paths: Sequence[str]) -> dict[str, FileState]:
        """The stored state of each of these log files that `user` imported before."""
        out: dict[str, FileState] = {}
        wanted = list(dict.fromkeys(paths))
        for i in range(0, len(wanted), 500):  # SQLite takes at most 999 parameters by default
            chunk = wanted[i : i + 500]
            rows = self.db.execute(
                f"SELECT {_FILE_COLUMNS} FROM import_files WHERE user = ? AND path IN ({', '.join('?' * len(chunk))})",
                [user, *chunk],
            )
            for row in rows:
                path, size, mtime_ns, offset, lines, tail_len, tail_hash, state, imported_at = row
                out[str(path)] = FileState(
                    path=str(path),
                    size=int(size),
                    mtime_ns=int(mtime_ns),
                    offset=int(offset),
                    lines=int(lines),
                    tail_len=int(tail_len),
                    tail_hash=str(tail_hash),
                    state=json.loads(str(state)),
                    imported_at=parse_time_text(str(imported_at)),
                )
        return out

    def save_import_states(self, user: str, states: Sequence[FileState]) -> None:
        """Store (or replace) these files' states, in the caller's write transaction."""
        self.db.executemany(
            f"INSERT OR REPLACE INTO import_files (user, {_FILE_COLUMNS}) VALUES ({', '.join('?' * 10)})",
            [
                (
                    user,
                    f.path,
                    f.size,
                    f.mtime_ns,
                    f.offset,
                    f.lines,
                    f.tail_len,
                    f.tail_hash,
                    json.dumps(f.state, sort_keys=True, separators=(",", ":")),
                    time_text(f.imported_at),
                )
                for f in states
            ],
        )


_FILE_COLUMNS = "path, size, mtime_ns, offset, lines, tail_len, tail_hash, state, imported_at"
