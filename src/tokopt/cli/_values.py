"""Parsers and checks of option values that typer's types do not cover: sizes (500M, 2G) and
dates or times (--since, --until). A bad value is typer's usage error, naming the option."""

from __future__ import annotations

from typing import Any

import typer


def parse_size(value: Any) -> int:
    """A size as people write it: 500M, 2G, 1048576 (typer's parser for --max-input-size)."""
    if isinstance(value, int):
        return value
    from tokopt.inputs.formats import parse_size as parse

    try:
        return parse(str(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


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
