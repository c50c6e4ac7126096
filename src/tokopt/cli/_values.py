"""Parsers and checks of option values that typer's types do not cover: counts of calls (50k),
sizes (500M, 2G) and dates or times (--since, --until). A bad value is typer's usage error,
which names the option."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer


def _number(parse: Callable[[str], int], value: Any) -> int:
    """`value` as `parse` reads it (an int is one already); its ValueError as typer's usage error."""
    if isinstance(value, int):
        return value
    try:
        return parse(str(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def parse_calls(value: Any) -> int:
    """A count of calls as people write it: 50000, 50,000, 50k, 1.5M (typer's parser for -n)."""
    from tokopt.counts import parse_count

    return _number(parse_count, value)


def parse_size(value: Any) -> int:
    """A size as people write it: 500M, 2G, 1048576 (typer's parser for --max-input-size)."""
    from tokopt.inputs.formats import parse_size as parse

    return _number(parse, value)


def check_when(value: str | None) -> str | None:
    """typer's check of --since and --until: a date or a time, or an error that names the
    option (it is turned into a moment later, in the ledger's time zone)."""
    if value is None:
        return None
    import datetime as dt

    from tokopt.errors import InputError
    from tokopt.ledger.timezones import parse_when

    try:
        parse_when(value, dt.timezone.utc)
    except InputError as exc:
        raise typer.BadParameter(f"{exc}{f' ({exc.hint})' if exc.hint else ''}") from None
    return value
