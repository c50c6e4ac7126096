"""The PostgreSQL ledger's runs: named stretches of one user's work, and each user's current run."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from tokopt.ledger.pgsums import aggregate
from tokopt.ledger.store import Filters, Run, Sums


class PostgresRuns:
    """The run methods of `PostgresStore` (see `store.Store`)."""

    conn: Any

    # -- runs ---------------------------------------------------------------------------------

    def run_id_exists(self, run_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM runs WHERE id = %s", (run_id,)).fetchone() is not None

    def insert_run(self, run: Run) -> None:
        self.conn.execute(
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
            (run.id, run.user, run.name, json.dumps(run.labels, sort_keys=True, ensure_ascii=False), run.started_at, run.ended_at),
        )

    def get_run(self, run_id: str) -> Run | None:
        row = self.conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = %s", (run_id,)).fetchone()
        return _run_of(row) if row else None

    def runs_named(self, name: str, user: str | None) -> list[Run]:
        """Runs with this name (of `user`, or of anyone), newest first."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE name = %s"
        args: list[object] = [name]
        if user is not None:
            sql += ' AND "user" = %s'
            args.append(user)
        return [_run_of(r) for r in self.conn.execute(sql + " ORDER BY started_at DESC, n DESC", args)]

    def end_run(self, run_id: str, ended_at: dt.datetime) -> None:
        self.conn.execute("UPDATE runs SET ended_at = %s WHERE id = %s", (ended_at, run_id))
        self.conn.execute("DELETE FROM current_run WHERE run_id = %s", (run_id,))

    def delete_run(self, run_id: str) -> int:
        """Delete a run and its usage records; returns how many records went with it."""
        deleted = self.conn.execute("DELETE FROM usage WHERE run_id = %s", (run_id,)).rowcount
        self.conn.execute("DELETE FROM current_run WHERE run_id = %s", (run_id,))
        self.conn.execute("DELETE FROM runs WHERE id = %s", (run_id,))
        return int(deleted)

    def current_run(self, user: str) -> Run | None:
        row = self.conn.execute(
            f"SELECT {_RUN_COLUMNS_R} FROM current_run c JOIN runs r ON r.id = c.run_id WHERE c.\"user\" = %s", (user,)
        ).fetchone()
        return _run_of(row) if row else None

    def set_current_run(self, user: str, run_id: str) -> None:
        self.conn.execute(
            'INSERT INTO current_run ("user", run_id) VALUES (%s, %s) ON CONFLICT ("user") DO UPDATE SET run_id = excluded.run_id',
            (user, run_id),
        )

    def list_runs(self, user: str | None) -> list[tuple[Run, Sums, bool]]:
        """Runs (of `user`, or everyone's), oldest first, with their totals and whether each is its user's current run."""
        sql = f"SELECT {_RUN_COLUMNS_R}, EXISTS (SELECT 1 FROM current_run c WHERE c.run_id = r.id) FROM runs r"
        args: list[object] = []
        if user is not None:
            sql += ' WHERE r."user" = %s'
            args.append(user)
        runs = [(_run_of(row[:6]), bool(row[6])) for row in self.conn.execute(sql + " ORDER BY r.started_at, r.n", args)]
        totals = aggregate(self.conn, ["run"], Filters(user=user, copies=True)) if runs else {}
        return [(run, totals.get((run.id,), Sums()), current) for run, current in runs]


_RUN_COLUMNS = 'id, "user", name, labels, started_at, ended_at'
_RUN_COLUMNS_R = ", ".join("r." + c for c in _RUN_COLUMNS.split(", "))


def _run_of(row: Sequence[Any]) -> Run:
    run_id, user, name, labels, started, ended = row
    return Run(
        id=str(run_id),
        user=str(user),
        name=str(name),
        labels=json.loads(str(labels)),
        started_at=started.astimezone(dt.timezone.utc),
        ended_at=ended.astimezone(dt.timezone.utc) if ended is not None else None,
    )
