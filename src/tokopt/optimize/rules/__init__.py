"""The suggestion rules, one module each, registered here in the order they run.

A rule module defines its `NAME` (the `rule` of its suggestions), `find(ctx: Context) ->
list[Suggestion]`, and `RULE = Rule(NAME, kind, find)` (see `tokopt.optimize.context`), its kind
being "prompt", "request" or "model"; a rule whose changes `tokopt suggest --write` applies also
passes `rewrites`, the text rewrites it makes.
Adding a rule is one module and one line below.
"""

from __future__ import annotations

from tokopt.optimize.context import Rule
from tokopt.optimize.rewrite import Rewrite
from tokopt.optimize.rules import (
    batch,
    caching,
    cheaper_model,
    conversation_growth,
    duplicates,
    formatting,
    long_context,
    output_length,
)

RULES: tuple[Rule, ...] = (
    cheaper_model.RULE,
    caching.RULE,
    batch.RULE,
    formatting.RULE,
    duplicates.RULE,
    conversation_growth.RULE,
    output_length.RULE,
    long_context.RULE,
)


def rewrites(text: str) -> list[Rewrite]:
    """Every rule's rewrites that may change `text`, fresh, in the order --write applies them."""
    return [rw for rule in RULES if rule.rewrites is not None for rw in rule.rewrites(text)]
