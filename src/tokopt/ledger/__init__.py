"""The session ledger: what was really spent, per user and per run, on this machine.

    from tokopt import Ledger

    ledger = Ledger()                                   # TOKOPT_LEDGER, or the user data dir
    ledger.record(model="gpt-5.5", input_tokens=1200, output_tokens=300)
    with ledger.run("nightly-eval", labels={"branch": "main"}) as run:
        run.record(model="claude-sonnet-4-6", input_tokens=5000, cached_input_tokens=4000, output_tokens=800)
    print(ledger.spend().cost_usd)

Records are priced when they are written, with `costing.cost_of` and the catalog of that
moment; each keeps its cost as Decimal text and the pricing `as_of` it used. A model the
catalog does not know is kept with no cost ("unpriced"), never $0.

The package, one job a module:

- `facade`: `Ledger`, what apps and commands call
- `records`: records as apps send them (JSON lines, the Python API), labels, prompt hashes
- `pricer`: a record's model name -> its price and cost
- `importers/`: provider and coding-agent logs -> records, one module per log format
- `reports`: report, spend and listing values, built from a store's sums
- `timezones`: zones, dates on the command line, spans of constant UTC offset
- `store`: the `Store` protocol every backend implements, and `open_store(location)`
- `sqlite`, `sqlitefile`, `migrations`: the SQLite backend (the default)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokopt.ledger.facade import Ledger, RunContext
    from tokopt.ledger.pricer import Pricer
    from tokopt.ledger.records import parse_labels, read_records
    from tokopt.ledger.reports import ALL_USERS, REPORT_BY, ImportSummary, ReportRow, RunListing, SessionReport, Spend
    from tokopt.ledger.store import Run, Sums
    from tokopt.ledger.timezones import offset_spans, zone

# Public names, loaded when first asked for: `import tokopt.ledger` stays cheap.
_NAMES = {
    "Ledger": "facade",
    "RunContext": "facade",
    "Pricer": "pricer",
    "parse_labels": "records",
    "read_records": "records",
    "ALL_USERS": "reports",
    "REPORT_BY": "reports",
    "ImportSummary": "reports",
    "ReportRow": "reports",
    "RunListing": "reports",
    "SessionReport": "reports",
    "Spend": "reports",
    "Run": "store",
    "Sums": "store",
    "offset_spans": "timezones",
    "zone": "timezones",
}
__all__ = [
    "ALL_USERS",
    "ImportSummary",
    "Ledger",
    "Pricer",
    "REPORT_BY",
    "ReportRow",
    "Run",
    "RunContext",
    "RunListing",
    "SessionReport",
    "Spend",
    "Sums",
    "offset_spans",
    "parse_labels",
    "read_records",
    "zone",
]


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
