"""Suggestions: measured ways to pay less for a prompt, a request file or a conversation.

`suggest(workload, settings)` runs the registered rules (`optimize.rules.RULES`, one module
each) and returns `Suggestion`s, each with the tokens and USD it saves per call (one call of
every input: a batch file is all its lines once) and for `calls` calls. A suggestion is "exact"
when its saving is measured (re-tokenizing a rewritten text, catalog arithmetic on the counted
prompt) and "estimated" when it rests on an assumption, which it states.

    intake.py    inputs -> the counted `Workload` and its `Settings` (the seam to the estimate pipeline)
    workload.py  what the rules look at
    context.py   what a rule receives (`Context`) and what it is (`Rule`)
    rules/       one module per rule, registered in `rules/__init__.py`
    segments.py, rewrite.py   the rewrite engine: safe cuts, rewrites re-counted segment by segment
    run.py       every rule on a workload -> `SuggestReport`
    report.py    `Suggestion`, `SuggestReport`, `WriteResult`
    write.py     `tokopt suggest --write`

Names are loaded on first use, so importing `tokopt.optimize.report` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokopt.optimize.intake import Options, prepare, prepare_counted
    from tokopt.optimize.report import SuggestReport, Suggestion, WriteResult
    from tokopt.optimize.run import suggest
    from tokopt.optimize.workload import Settings, TextPrompt, Workload
    from tokopt.optimize.write import rewrite_diff, write_rewritten

# No public name is also a module's name: importing that module would shadow the name.
_HOMES = {
    "Options": "intake",
    "prepare": "intake",
    "prepare_counted": "intake",
    "Suggestion": "report",
    "SuggestReport": "report",
    "WriteResult": "report",
    "suggest": "run",
    "Settings": "workload",
    "TextPrompt": "workload",
    "Workload": "workload",
    "write_rewritten": "write",
    "rewrite_diff": "write",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
