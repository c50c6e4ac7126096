"""The SQLite ledger's runs: named stretches of one user's work, and each user's current run."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence

from tokopt.ledger.sqlitefile import parse_time_text, time_text
from tokopt.ledger.sqlitesums import aggregate
from tokopt.ledger.store import Filters, Run, Sums


class SqliteRuns:
    """The run methods of `SqliteStore` (see `store.Store`)."""

    db: sqlite3.Connection

    # -- runs ---------------------------------------------------------------------------------

    def run_id_exists(self, run_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def insert_run(self, run: Run) -> None:
        self.db.execute(
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                run.id,
                run.user,
                run.name,
                json.dumps(run.labels, sort_keys=True, ensure_ascii=False),
                time_text(run.started_at),
                time_text(run.ended_at) if run.ended_at else None,
            ),
        )

    def get_run(self, run_id: str) -> Run | None:
        row = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_of(row) if row else None

    def runs_named(self, name: str, user: str | None) -> list[Run]:
        """Runs with this name (of `user`, or of anyone), newest first."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE name = ?"
        args: list[object] = [name]
        if user is not None:
            sql += " AND user = ?"
            args.append(user)
        rows = self.db.execute(sql + " ORDER BY started_at DESC, rowid DESC", args).fetchall()
        return [_run_of(r) for r in rows]

    def end_run(self, run_id: str, ended_at: dt.datetime) -> None:
        self.db.execute("UPDATE runs SET ended_at = ? WHERE id = ?", (time_text(ended_at), run_id))
        self.db.execute("DELETE FROM current_run WHERE run_id = ?", (run_id,))

    def delete_run(self, run_id: str) -> int:
        """Delete a run and its usage records; returns how many records went with it."""
        # the change numbers of deleted records are never given again (a push may be past them)
        self.db.execute(
            "UPDATE ledger_info SET value = CAST(max(CAST(value AS INTEGER), (SELECT coalesce(max(seq), 0) FROM usage)) AS TEXT) WHERE key = 'seq_floor'"
        )
        deleted = self.db.execute("DELETE FROM usage WHERE run_id = ?", (run_id,)).rowcount
        self.db.execute("DELETE FROM current_run WHERE run_id = ?", (run_id,))
        self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        return int(deleted)

    def current_run(self, user: str) -> Run | None:
        row = self.db.execute(
            f"SELECT {', '.join('r.' + c for c in _RUN_COLUMNS.split(', '))} "
            "FROM current_run c JOIN runs r ON r.id = c.run_id WHERE c.user = ?",
            (user,),
        ).fetchone()
        return _run_of(row) if row else None

    def set_current_run(self, user: str, run_id: str) -> None:
        self.db.execute(
            "INSERT INTO current_run (user, run_id) VALUES (?, ?) ON CONFLICT(user) DO UPDATE SET run_id = excluded.run_id",
            (user, run_id),
        )

    def list_runs(self, user: str | None) -> list[tuple[Run, Sums, bool]]:
        """Runs (of `user`, or everyone's) with their totals and whether each is its user's current run."""
        sql = (
            f"SELECT {', '.join('r.' + c for c in _RUN_COLUMNS.split(', '))}, "
            "(SELECT 1 FROM current_run c WHERE c.run_id = r.id) FROM runs r"
        )
        args: list[object] = []
        if user is not None:
            sql += " WHERE r.user = ?"
            args.append(user)
        runs = [(_run_of(row[:6]), bool(row[6])) for row in self.db.execute(sql + " ORDER BY r.started_at, r.rowid", args)]
        totals = aggregate(self.db, ["run"], Filters(user=user, copies=True)) if runs else {}
        return [(run, totals.get((run.id,), Sums()), current) for run, current in runs]


_RUN_COLUMNS = "id, user, name, labels, started_at, ended_at"


def _run_of(row: Sequence[object]) -> Run:
    run_id, user, name, labels, started, ended = row
    return Run(
        id=str(run_id),
        user=str(user),
        name=str(name),
        labels=json.loads(str(labels)),
        started_at=parse_time_text(str(started)),
        ended_at=parse_time_text(str(ended)) if ended is not None else None,
    )
