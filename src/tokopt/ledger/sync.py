"""Merging ledgers: `session push --to` and `session pull --from` copy usage records, and the
runs they belong to, from one ledger to another (a file, a team database, another file).

What makes a merge safe to repeat, to kill and to run from many machines at once:

- **idempotent**: a record keeps its `uid` in every ledger (made from its user and dedupe key,
  or random for a record without a key), and the target stores it by that uid with the
  ledger's one rule: a record seen again replaces the stored one only when it is larger. The
  same record pushed twice, or from two machines, is one record.
- **resumable**: records are read in batches in the order of their change numbers; each batch
  is written in one target transaction together with how far it got (`sync_position`, keyed
  by the source ledger's id and the scope). A merge killed at any moment has committed whole
  batches and their position, or nothing of the last one; run again, it starts after the last
  committed batch. Changes made at the source later (a record grown by a longer transcript)
  get a new change number, so the next push sends them.
- **traceable**: each record keeps `origin`, the machine it was recorded on, wherever it goes.
- **bounded**: `since` leaves out records older than a time.
- **concurrent**: target writes queue on the target's write lock (SQLite's, or PostgreSQL's
  advisory lock), and each upsert decides per record; two machines pushing overlapping records
  at once end with each record once, at its largest.

Deleting a run at the source does not delete its records at the target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from tokopt.errors import LedgerError
from tokopt.ledger.store import Filters, Run, Store, open_store

BATCH = 5000


@dataclass(frozen=True)
class MergeResult:
    """What one push or pull did (locations as messages show them)."""

    source: str
    target: str
    user: str | None  # whose records (None: every user's)
    since: dt.datetime | None
    resumed_after: int  # the change number it started after (0: from the start)
    position: int  # the change number it got to
    records: int  # records sent
    added: int
    updated: int
    unchanged: int
    runs_added: int
    batches: int


def scope_key(source_id: str, user: str | None, since: dt.datetime | None) -> str:
    """How a target knows how far one source's records in one scope were merged."""
    return "|".join([source_id, user if user is not None else "*", since.isoformat() if since else ""])


def merge(
    source: Store,
    target: Store,
    *,
    user: str | None,
    since: dt.datetime | None = None,
    full: bool = False,
    batch: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> MergeResult:
    """Copy the records in scope (of `user`, or everyone's) that changed since the last merge of
    this scope from `source` into `target`; `full` sends every record in scope again."""
    with source.read():
        source_id = source.ledger_id
    with target.write():
        if target.ledger_id == source_id:
            raise LedgerError(f"{source.location} and {target.location} are the same ledger", hint="push to another ledger")
        key = scope_key(source_id, user, since)
        start = 0 if full else target.sync_position(key)
    filters = Filters(user=user, since=since, copies=True)  # every user's copy of a response travels
    position = start
    totals = {"records": 0, "added": 0, "updated": 0, "unchanged": 0, "runs": 0, "batches": 0}
    while True:
        with source.read():
            changes = source.usage_changes(filters, after=position, limit=batch)
            run_ids = sorted({r.run_id for _, r in changes if r.run_id is not None})
            runs = [found for found in (source.get_run(i) for i in run_ids) if found is not None]
        if not changes:
            break
        records = [record for _, record in changes]
        with target.write():
            totals["runs"] += _copy_runs(target, runs)
            outcome = target.upsert_usage(records)
            position = changes[-1][0]
            target.set_sync_position(key, position)
        totals["records"] += len(records)
        totals["added"] += outcome.added
        totals["updated"] += outcome.updated
        totals["unchanged"] += outcome.unchanged
        totals["batches"] += 1
        if on_batch is not None:
            on_batch(len(records))
    return MergeResult(
        source=source.location,
        target=target.location,
        user=user,
        since=since,
        resumed_after=start,
        position=position,
        records=totals["records"],
        added=totals["added"],
        updated=totals["updated"],
        unchanged=totals["unchanged"],
        runs_added=totals["runs"],
        batches=totals["batches"],
    )


def _copy_runs(target: Store, runs: list[Run]) -> int:
    """Add the runs the target lacks; a run id the target has for another user's run is an error."""
    added = 0
    for run in runs:
        there = target.get_run(run.id)
        if there is None:
            target.insert_run(run)
            added += 1
        elif there.user != run.user or there.started_at != run.started_at:
            raise LedgerError(
                f"run {run.id} of {run.user} clashes with another run of the same id in {target.location}",
                hint="nothing of this batch was written; rename the run at the source (tokopt session delete and record again) and push again",
            )
    return added


def merge_locations(
    source: str,
    target: str,
    *,
    user: str | None,
    since: dt.datetime | None = None,
    full: bool = False,
    batch: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[MergeResult, list[str]]:
    """`merge` between two ledger locations; the target is created if it does not exist. Also
    returns notices (a ledger migrated when it was opened)."""
    notices: list[str] = []
    source_store = open_store(source, create=False)
    try:
        target_store = open_store(target, create=True)
        try:
            for store in (source_store, target_store):
                if store.migrated_from:
                    notices.append(f"migrated ledger {store.location} to schema v{store.version}")
            result = merge(source_store, target_store, user=user, since=since, full=full, batch=batch, on_batch=on_batch)
        finally:
            target_store.close()
    finally:
        source_store.close()
    return result, notices


def merge_command(
    source: str,
    target: str,
    *,
    user: str | None,
    all_users: bool,
    since: str | None,
    timezone: str | None,
    full: bool,
) -> tuple[MergeResult, list[str]]:
    """What `session push` and `pull` run: the scope from their options (your records unless
    `all_users`; `since` a date in `timezone` or a time), then `merge_locations`."""
    from tokopt.ledger.records import current_user
    from tokopt.ledger.timezones import parse_when, zone

    who = None if all_users else current_user(user)
    start = parse_when(since, zone(timezone)) if since else None
    return merge_locations(source, target, user=who, since=start, full=full)
