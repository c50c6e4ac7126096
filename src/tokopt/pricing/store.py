"""The price data `tokopt prices update` installed in the user data directory.

    <data dir>/prices/current.json        genai-prices' published JSON, as fetched
    <data dir>/prices/current.meta.json   where it came from, its date, its sha256
    <data dir>/prices/previous.*          the data in use before the last update (for rollback)

Nothing here touches the network; `tokopt.pricing.update` fetches.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from tokopt.errors import PricingError


@dataclass(frozen=True)
class Installed:
    path: Path
    label: str
    source: str
    as_of: dt.date
    installed_at: dt.datetime
    sha256: str


def directory() -> Path:
    from tokopt import paths

    return paths.data_dir() / "prices"


def _read(slot: str) -> Installed | None:
    base = directory()
    meta_path = base / f"{slot}.meta.json"
    data_path = base / f"{slot}.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("bundled") is True:
            return None
        return Installed(
            path=data_path,
            label=str(meta["label"]),
            source=str(meta["source"]),
            as_of=dt.date.fromisoformat(meta["as_of"]),
            installed_at=dt.datetime.fromisoformat(meta["installed_at"]),
            sha256=str(meta["sha256"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PricingError(
            f"{meta_path}: unreadable record of the installed price data ({exc})",
            hint="run `tokopt prices rollback` or delete the file to use the bundled prices",
        ) from None


def current() -> Installed | None:
    """The installed price data, or None when the bundled genai-prices data is in use."""
    found = _read("current")
    if found is not None and not found.path.is_file():
        raise PricingError(
            f"{found.path}: installed price data is missing",
            hint="run `tokopt prices rollback`, or `tokopt prices update` again",
        )
    return found


def previous() -> Installed | None:
    return _read("previous")


def can_roll_back() -> str | None:
    """What `tokopt prices rollback` would return to: a label, "the bundled data", or None."""
    meta = directory() / "previous.meta.json"
    if not meta.is_file():
        return None
    found = previous()
    return found.label if found is not None else "the bundled genai-prices data"
