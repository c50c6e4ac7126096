"""What a status line shows (Claude Code's status-line hook runs it after every message): the
cost of today, of the open 5-hour block and the time left in it, and of one agent session.

Each figure reads only its own records, through the store's indexes: today's by time, the
session's by session id, the block's from an hour known to start a block (`blocks.anchor`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from tokopt.ledger.blocks import Block, open_block
from tokopt.ledger.store import Filters, Store, Sums
from tokopt.ledger.timezones import parse_when, zone_label


@dataclass(frozen=True)
class Status:
    now: dt.datetime
    timezone: str
    today: Sums
    block: Block | None  # the block open now, if any
    session_id: str | None
    session: Sums | None  # that session's records (None: no session asked for)

    @property
    def block_left(self) -> dt.timedelta | None:
        return None if self.block is None else max(self.block.end - self.now, dt.timedelta(0))


def status_of(store: Store, filters: Filters, tz: dt.tzinfo, now: dt.datetime, session_id: str | None) -> Status:
    """The status at `now`, inside the caller's read transaction."""
    midnight = parse_when(now.astimezone(tz).date(), tz)
    until = now + dt.timedelta(microseconds=1)
    today = store.total(dataclasses.replace(filters, since=midnight, until=until))
    session = store.total(dataclasses.replace(filters, sessions=(glob_literal(session_id),))) if session_id else None
    return Status(
        now=now,
        timezone=zone_label(tz),
        today=today,
        block=open_block(store, filters, now),
        session_id=session_id,
        session=session,
    )


def glob_literal(text: str) -> str:
    """A pattern that matches `text` only (its *, ? and [ made literal)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
