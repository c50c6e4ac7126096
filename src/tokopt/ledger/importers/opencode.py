"""OpenCode messages (`$XDG_DATA_HOME/opencode`, else `~/.local/share/opencode`): one JSON
document per message in `storage/message/<session>/*.json` (older versions), or the rows
of the `message` table of `opencode.db` (newer ones; a row's `data` is the same document).

An assistant message has `modelID`, `providerID`, `sessionID`, `time.created` (Unix
milliseconds), `path.cwd` and `tokens`: `input` leaves out the cache reads and writes
(`cache.read`, `cache.write`), so the whole prompt is their sum; `reasoning` is billed as
output beside `output`. Each message counts once, by its id.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tokopt.ledger.importers.base import BadRecord, Importer, Place, count, obj, record, text


def data_home(env: Mapping[str, str], home: Path) -> tuple[Path, str]:
    """$XDG_DATA_HOME, else ~/.local/share (where OpenCode and Amp keep their data)."""
    value = env.get("XDG_DATA_HOME", "").strip()
    return (Path(value).expanduser(), "$XDG_DATA_HOME") if value else (home / ".local" / "share", "default")


def _log_file(rel: str) -> bool:
    lower = rel.lower()
    if lower.startswith("storage/message/") and lower.endswith(".json"):
        return True
    return "/" not in rel and lower.startswith("opencode") and lower.endswith(".db")


class OpenCode(Importer):
    name = "opencode"
    agent = "opencode"

    @classmethod
    def places(cls, env: Mapping[str, str], home: Path) -> list[Place]:
        base, origin = data_home(env, home)
        return [Place("opencode", base / "opencode", origin, _log_file, "storage/message/**/*.json, opencode*.db")]

    @classmethod
    def database_objects(cls, db: sqlite3.Connection) -> Iterator[dict[str, Any] | None] | None:
        """The messages of an OpenCode database, as documents; None if it is not one."""
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"message", "session"} <= tables:
            return None
        columns = {row[1] for row in db.execute("PRAGMA table_info(session)")}
        directory = "s.directory" if "directory" in columns else "NULL"
        rows = db.execute(f"SELECT m.id, m.session_id, m.data, {directory} FROM message m LEFT JOIN session s ON s.id = m.session_id ORDER BY m.rowid")
        return _documents(rows)

    def feed(self, data: dict[str, Any], time: Any) -> bool:
        tokens = obj(data, "tokens")
        if tokens is None or data.get("role") != "assistant" or not ("modelID" in data or "providerID" in data):
            return False
        cache = obj(tokens, "cache")
        read, write = count(cache, "read"), count(cache, "write")
        reasoning = count(tokens, "reasoning")
        message_id = text(data, "id")
        if message_id is None:
            raise BadRecord("OpenCode message without an id")
        rec = record(
            "opencode",
            model=text(data, "modelID") or "unknown",
            provider=text(data, "providerID"),
            input_tokens=count(tokens, "input") + read + write,
            cached_input_tokens=read,
            cache_write_tokens=write,
            output_tokens=count(tokens, "output") + reasoning,
            reasoning_tokens=reasoning,
            dedupe_key=f"opencode:{message_id}",
            agent="opencode",
            session_id=text(data, "sessionID"),
            project=text(obj(data, "path"), "cwd") or text(obj(data, "path"), "root") or text(data, "_directory"),
            sidechain=False,
        )
        if rec.size != (0, 0):
            created = count(obj(data, "time"), "created")
            self.sink.add((rec, (created / 1000 if created else None, time)))
        return True


def _documents(rows: Any) -> Iterator[dict[str, Any] | None]:
    for message_id, session_id, data, directory in rows:
        try:
            document = json.loads(data)
        except (TypeError, ValueError, RecursionError):
            yield None  # counted as an unreadable row
            continue
        if isinstance(document, dict):
            yield {**document, "id": message_id, "sessionID": session_id, "_directory": directory}


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def open_read_only(path: Path) -> sqlite3.Connection:
    """A database another program may be writing, opened without writing to it."""
    return sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
