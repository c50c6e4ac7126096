"""Whose records a ledger command reads and writes: `--user`, else TOKOPT_USER, else the login
name. Apart from `records` (which loads pydantic) so that `tokopt statusline` can ask cheaply."""

from __future__ import annotations

import getpass
import os

from tokopt import paths
from tokopt.errors import InputError, LedgerError


def current_user(explicit: str | None = None) -> str:
    """`explicit`, else TOKOPT_USER, else the login name."""
    for value in (explicit, os.environ.get(paths.ENV_USER)):
        if value is not None:
            name = value.strip()
            if not name:
                raise InputError("the user name is empty", hint=f"pass --user NAME or set {paths.ENV_USER}")
            return name
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        raise LedgerError(
            "cannot tell who you are (no login name)", hint=f"pass --user NAME or set {paths.ENV_USER}"
        ) from None
