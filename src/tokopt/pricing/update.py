"""`tokopt prices update`: fetch genai-prices' published data, verify it, diff it, install it.

The only code in tokopt that opens a network connection, and only when `tokopt prices update`
runs without `--offline` / TOKOPT_OFFLINE=1. The data is the JSON genai-prices' own
`UpdatePrices` fetches (`genai_prices.update_prices.DEFAULT_UPDATE_URL`), or a mirror
(`--url`), or a file (`--file`). It is installed only if:

- genai-prices' own schema accepts it (its `UpdatePrices` reader);
- it is not older than the data in use (its date, and its newest dated price change);
- it does not price more than 10% fewer models than the data in use.

Installing writes the new files next to the old ones and renames them into place, so a
reader sees the old data or the new, never half of either; the data it replaces is kept for
`tokopt prices rollback`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tokopt.errors import PricingError
from tokopt.pricing import store
from tokopt.pricing.upstream import DataInfo, Upstream, _inflate, _pack, compact_from_json

MAX_SHRINK = Decimal("0.10")  # refuse data that prices more than 10% fewer models
TIMEOUT_S = 30
MAX_BYTES = 64 << 20


class OfflineError(PricingError):
    """The network is forbidden (--offline, TOKOPT_OFFLINE)."""


def default_url() -> str:
    """The URL genai-prices' own UpdatePrices fetches."""
    from genai_prices.update_prices import DEFAULT_UPDATE_URL

    return DEFAULT_UPDATE_URL


@dataclass
class Fetched:
    raw: bytes
    source: str  # the URL or file it came from
    as_of: dt.date  # when it was current: Last-Modified, the file's date, or today


def fetch(*, url: str | None = None, file: Path | None = None, offline: bool = False, today: dt.date | None = None) -> Fetched:
    """The data at `file`, or at `url` (default: genai-prices' own). No network when `offline`."""
    today = today or dt.date.today()
    if file is not None:
        try:
            raw = file.read_bytes()
            mtime = dt.datetime.fromtimestamp(file.stat().st_mtime, dt.timezone.utc).date()
        except OSError as exc:
            raise PricingError(f"cannot read price data {file}: {exc.strerror}") from None
        return Fetched(raw=raw, source=str(file), as_of=min(mtime, today))
    if offline:
        raise OfflineError(
            "the network is off (--offline or TOKOPT_OFFLINE): tokopt prices update cannot fetch",
            hint="install a copy with --file, or run without --offline",
        )
    target = url or default_url()
    if not target.startswith(("https://", "http://")):
        raise PricingError(f"--url: only http and https are fetched: {target}", hint="use --file for a local copy")
    request = urllib.request.Request(target, headers={"User-Agent": "tokopt prices update", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - http(s) only, checked above
            raw = response.read(MAX_BYTES + 1)
            modified = response.headers.get("Last-Modified")
    except urllib.error.HTTPError as exc:
        raise PricingError(f"cannot fetch price data from {target}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PricingError(f"cannot fetch price data from {target}: {reason}") from None
    if len(raw) > MAX_BYTES:
        raise PricingError(f"price data from {target} is larger than {MAX_BYTES >> 20} MB: refused")
    as_of = today
    if modified:
        try:
            as_of = min(email.utils.parsedate_to_datetime(modified).astimezone(dt.timezone.utc).date(), today)
        except (TypeError, ValueError):
            pass
    return Fetched(raw=raw, source=target, as_of=as_of)


@dataclass
class Change:
    model: str  # provider/model, as genai-prices names it
    field: str  # input or output, per 1M tokens
    old: Decimal
    new: Decimal

    @property
    def pct(self) -> Decimal | None:
        if self.old == 0:
            return None
        return ((self.new - self.old) / self.old * 100).quantize(Decimal("0.1"))


@dataclass
class Diff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)  # largest change first
    old_count: int = 0
    new_count: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class Candidate:
    """Verified data ready to install, and how it differs from the data in use."""

    fetched: Fetched
    sha256: str
    upstream: Upstream
    diff: Diff


def _token_prices(upstream: Upstream, moment: dt.datetime) -> dict[str, tuple[Decimal, Decimal | None]]:
    out = {}
    for provider in upstream.providers:
        for model in provider.models:
            sheet = model.sheet_at(moment)
            if "input_mtok" not in sheet:
                continue

            def base(key: str) -> Decimal | None:
                value = sheet.get(key)
                return None if value is None else Decimal(value if isinstance(value, str) else value[0])

            out[f"{provider.id}/{model.id}"] = (base("input_mtok"), base("output_mtok"))  # type: ignore[assignment]
    return out


def diff(old: Upstream, new: Upstream, moment: dt.datetime) -> Diff:
    """Models added and removed, and input/output prices changed (largest relative change first)."""
    before, after = _token_prices(old, moment), _token_prices(new, moment)
    result = Diff(
        added=sorted(set(after) - set(before)),
        removed=sorted(set(before) - set(after)),
        old_count=len(before),
        new_count=len(after),
    )
    for name in sorted(set(before) & set(after)):
        for index, label in enumerate(("input", "output")):
            was, now = before[name][index], after[name][index]
            if was is not None and now is not None and was != now:
                result.changed.append(Change(name, label, was, now))
    result.changed.sort(key=lambda c: (-(abs(c.pct) if c.pct is not None else Decimal(10**9)), c.model, c.field))
    return result


def verify(fetched: Fetched, current: Upstream, moment: dt.datetime) -> Candidate:
    """Schema, age and size checks; PricingError saying which failed."""
    sha = hashlib.sha256(fetched.raw).hexdigest()
    compact = compact_from_json(fetched.raw, fetched.source)
    info = DataInfo(label=f"genai-prices data from {fetched.source}", path=Path(fetched.source), sha256=sha, as_of=fetched.as_of, installed=True)
    new = Upstream(info, _inflate(_pack(compact)))
    if current.info.as_of is not None and fetched.as_of < current.info.as_of:
        raise PricingError(
            f"{fetched.source}: the data is of {fetched.as_of}, older than the data in use ({current.info.as_of}): refused",
            hint="tokopt prices status names the data in use",
        )
    newest_old, newest_new = current.newest_change(), new.newest_change()
    if newest_old is not None and (newest_new is None or newest_new < newest_old):
        raise PricingError(
            f"{fetched.source}: its newest price change is of {newest_new}, older than the data in use ({newest_old}): refused",
        )
    result = diff(current, new, moment)
    if result.new_count < result.old_count * (1 - MAX_SHRINK):
        raise PricingError(
            f"{fetched.source}: prices {result.new_count} models where the data in use prices {result.old_count} "
            f"(more than {int(MAX_SHRINK * 100)}% fewer): refused",
        )
    return Candidate(fetched=fetched, sha256=sha, upstream=new, diff=result)


def _write_meta(path: Path, *, label: str, source: str, as_of: dt.date, sha256: str, installed_at: dt.datetime) -> None:
    meta = {"label": label, "source": source, "as_of": as_of.isoformat(), "sha256": sha256, "installed_at": installed_at.isoformat()}
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def install(candidate: Candidate, *, now: dt.datetime | None = None) -> store.Installed:
    """Make `candidate` the data in use; the data it replaces becomes the one rollback returns to."""
    base = store.directory()
    base.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.timezone.utc)
    fetched = candidate.fetched
    label = f"genai-prices data of {fetched.as_of} from {fetched.source}"
    tmp_data, tmp_meta = base / f"incoming.{os.getpid()}.json", base / f"incoming.{os.getpid()}.meta.json"
    try:
        tmp_data.write_bytes(fetched.raw)
        _write_meta(tmp_meta, label=label, source=fetched.source, as_of=fetched.as_of, sha256=candidate.sha256, installed_at=now)
        current_meta, current_data = base / "current.meta.json", base / "current.json"
        if current_meta.exists():
            os.replace(current_data, base / "previous.json")
            os.replace(current_meta, base / "previous.meta.json")
        else:
            # the bundled data was in use: rolling back returns to it
            (base / "previous.json").unlink(missing_ok=True)
            (base / "previous.meta.json").write_text(json.dumps({"bundled": True}) + "\n", encoding="utf-8")
        os.replace(tmp_data, current_data)
        os.replace(tmp_meta, current_meta)
    finally:
        tmp_data.unlink(missing_ok=True)
        tmp_meta.unlink(missing_ok=True)
    found = store.current()
    assert found is not None
    return found


def rollback() -> store.Installed | None:
    """Go back to the data in use before the last update; None when that is the bundled data."""
    base = store.directory()
    previous_meta = base / "previous.meta.json"
    if not previous_meta.is_file():
        raise PricingError("nothing to roll back to: no update has been installed since the last rollback")
    try:
        bundled = json.loads(previous_meta.read_text(encoding="utf-8")).get("bundled") is True
    except (OSError, ValueError, AttributeError):
        raise PricingError(f"{previous_meta}: unreadable record of the previous price data") from None
    if bundled:
        for name in ("current.json", "current.meta.json", "previous.meta.json"):
            (base / name).unlink(missing_ok=True)
        return None
    os.replace(base / "previous.json", base / "current.json")
    os.replace(previous_meta, base / "current.meta.json")
    return store.current()

