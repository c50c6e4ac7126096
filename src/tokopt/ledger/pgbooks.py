"""What a PostgreSQL ledger keeps about itself: its id, how far each ledger merged into it has
been read (`session pull`), and the state of each log file imported into it (incremental import)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from tokopt.ledger.store import FileState


class PostgresBookkeeping:
    """The bookkeeping methods of `PostgresStore` (see `store.Store`)."""

    conn: Any

    # -- merging ledgers ------------------------------------------------------------------------

    @property
    def ledger_id(self) -> str:
        (value,) = self.conn.execute("SELECT value FROM tokopt_ledger WHERE key = 'ledger_id'").fetchone()
        return str(value)

    def sync_position(self, source: str) -> int:
        row = self.conn.execute("SELECT position FROM sync_state WHERE source = %s", (source,)).fetchone()
        return int(row[0]) if row else 0

    def set_sync_position(self, source: str, position: int) -> None:
        self.conn.execute(
            "INSERT INTO sync_state (source, position, updated_at) VALUES (%s, %s, now()) "
            "ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
            (source, position),
        )

    # -- incremental import -------------------------------------------------------------------

    def import_states(self, user: str, paths: Sequence[str]) -> dict[str, FileState]:
        """The stored state of each of these log files that `user` imported before."""
        rows = self.conn.execute(
            f'SELECT {_FILE_COLUMNS} FROM import_files WHERE "user" = %s AND path = ANY(%s)', (user, list(dict.fromkeys(paths)))
        )
        out: dict[str, FileState] = {}
        for path, size, mtime_ns, offset, lines, tail_len, tail_hash, state, imported_at in rows:
            out[str(path)] = FileState(
                path=str(path),
                size=int(size),
                mtime_ns=int(mtime_ns),
                offset=int(offset),
                lines=int(lines),
                tail_len=int(tail_len),
                tail_hash=str(tail_hash),
                state=json.loads(str(state)),
                imported_at=imported_at.astimezone(dt.timezone.utc),
            )
        return out

    def save_import_states(self, user: str, states: Sequence[FileState]) -> None:
        """Store (or replace) these files' states, in the caller's write transaction."""
        if not states:
            return
        with self.conn.cursor() as cur:
            cur.executemany(
                f'INSERT INTO import_files ("user", {_FILE_COLUMNS}) VALUES ({", ".join(["%s"] * 10)}) '
                'ON CONFLICT ("user", path) DO UPDATE SET ' + ", ".join(f"{c} = excluded.{c}" for c in _FILE_COLUMNS.split(", ")[1:]),
                [
                    (user, f.path, f.size, f.mtime_ns, f.offset, f.lines, f.tail_len, f.tail_hash, json.dumps(f.state, sort_keys=True, separators=(",", ":")), f.imported_at)
                    for f in states
                ],
            )


_FILE_COLUMNS = 'path, size, mtime_ns, "offset", lines, tail_len, tail_hash, state, imported_at'
