"""Spend budgets: what the usage ledger recorded in a budget's scope (a user or everyone, a run,
a period in a time zone), against its `max_spend`.

The ledger is passed in, already open: budgets never open one. Only priced records count
towards the total; unpriced ones are counted apart and named in a warning.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

from tokopt.budgets.config import Project
from tokopt.budgets.results import SpendResult
from tokopt.errors import ConfigError, InputError

if TYPE_CHECKING:
    from tokopt.ledger import Spend


class SpendLedger(Protocol):
    """What a spend budget needs of a ledger (`tokopt.ledger.Ledger` is one)."""

    user: str

    @property
    def display_location(self) -> str: ...

    def exists(self) -> bool: ...

    def spend(self, *, user: Any = None, run: str | None = None, since: Any = None, until: Any = None, timezone: str | None = None) -> Spend: ...


def check_spend(project: Project, ledger: SpendLedger, *, now: dt.datetime | None = None) -> tuple[list[SpendResult], list[str]]:
    """Each spend budget against the ledger's priced records in its scope; and warnings."""
    from tokopt.ledger import ALL_USERS, zone

    results = []
    warnings = []
    if not ledger.exists():
        warnings.append(f"no ledger at {ledger.display_location}: nothing is recorded, so spend budgets see $0")
    for index, spec in project.config.spend_budgets:
        key = project.key("budgets", index)
        tz = zone(spec.timezone)
        today = (now or dt.datetime.now(dt.timezone.utc)).astimezone(tz).date()
        since, until = spec.window(today)
        user = ALL_USERS if spec.user == "*" else spec.user
        try:
            spent = ledger.spend(user=user, run=spec.run, since=since, until=until, timezone=spec.timezone)
        except InputError as exc:
            where = f"{key}.run" if spec.run is not None else key
            raise ConfigError(f"{project.path}: {where}: {exc.message}", hint=exc.hint) from None
        label = spec.label
        if spent.unpriced_records:
            warnings.append(
                f"spend budget {label!r}: {spent.unpriced_records:,} recorded calls have no known price and are not in "
                "its total (see tokopt session report)"
            )
        results.append(
            SpendResult(
                index=index,
                name=label,
                key=key,
                max_spend=spec.max_spend,
                user=None if spec.user == "*" else (spec.user or ledger.user),
                run=spec.run,
                since=since,
                until=until,
                period=spec.period if spec.since is None and spec.until is None else "custom",
                timezone=spec.timezone,
                spent_usd=spent.cost_usd,
                records=spent.records,
                unpriced_records=spent.unpriced_records,
                estimated_records=spent.estimated_records,
                ok=spent.cost_usd <= spec.max_spend,
            )
        )
    return results, warnings
