"""Time zones for the ledger's reports: IANA names, UTC, or this machine's zone with its
daylight-saving rules; dates and times from the command line; spans of constant UTC offset."""

from __future__ import annotations

import datetime as dt
import re
import time as _time

from tokopt.errors import InputError


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class _LocalZone(dt.tzinfo):
    """The machine's zone with its daylight-saving rules, as the C library applies them."""

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        if when is None:
            return dt.timedelta(seconds=_time.localtime().tm_gmtoff)
        if when.tzinfo is self:
            stamp = _time.mktime((*when.timetuple()[:8], -1))
        else:
            stamp = when.replace(tzinfo=dt.timezone.utc).timestamp()
        return dt.timedelta(seconds=_time.localtime(stamp).tm_gmtoff)

    def dst(self, when: dt.datetime | None) -> dt.timedelta | None:
        return None

    def tzname(self, when: dt.datetime | None) -> str:
        return "local"

    def fromutc(self, when: dt.datetime) -> dt.datetime:
        stamp = when.replace(tzinfo=dt.timezone.utc).timestamp()
        return when + dt.timedelta(seconds=_time.localtime(stamp).tm_gmtoff)


def zone(name: str | None) -> dt.tzinfo:
    """An IANA zone name, `UTC`, or `local` / None for this machine's zone."""
    if name is None or name.strip().lower() == "local":
        return _LocalZone()
    if name.strip().upper() in {"UTC", "Z", "GMT"}:
        return dt.timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone: {name}", hint="use an IANA name such as Europe/Berlin, or UTC, or local") from None


def zone_label(tz: dt.tzinfo) -> str:
    """How reports name a zone: `UTC`, `Europe/Berlin`, or `local (Europe/Berlin)`, so that a
    day is never in a zone nobody can tell."""
    if tz is dt.timezone.utc:
        return "UTC"
    key = getattr(tz, "key", None)
    if key:
        return str(key)
    return f"local ({local_name()})"


def local_name() -> str:
    """This machine's zone: its IANA name where the system says it (TZ, /etc/localtime, /etc/timezone),
    else its abbreviation and offset from UTC now."""
    import os

    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    try:
        with open("/etc/timezone", encoding="utf-8") as fh:
            candidates.append(fh.read().strip())
    except OSError:
        pass
    for name in candidates:
        if name and "/" in name or name in {"UTC", "Etc/UTC"}:
            try:
                from zoneinfo import ZoneInfo

                ZoneInfo(name)
                return name
            except (ValueError, OSError, LookupError):
                continue
    now = _time.localtime()
    offset = now.tm_gmtoff
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{now.tm_zone}, UTC{sign}{hours:02}:{minutes:02}"


def parse_when(value: str | dt.date | dt.datetime | None, tz: dt.tzinfo, *, end: bool = False) -> dt.datetime | None:
    """A date (the start of that day in `tz`; with `end`, the start of the next day, so the
    day is included) or a date and time (zone-less means `tz`) -> an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        day = value + dt.timedelta(days=1) if end else value
        return _local_midnight(day, tz)
    else:
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise InputError(f"not a date: {value}") from None
            return parse_when(day, tz, end=end)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InputError(f"not a date or time: {value}", hint="use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]") from None
    if parsed.tzinfo is None:
        parsed = _localize(parsed, tz)
    return parsed.astimezone(dt.timezone.utc)


def _localize(naive: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(tz, _LocalZone):
        return dt.datetime.fromtimestamp(_time.mktime((*naive.timetuple()[:8], -1)), dt.timezone.utc).replace(
            microsecond=naive.microsecond
        )
    return naive.replace(tzinfo=tz)


def _local_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return _localize(dt.datetime(day.year, day.month, day.day), tz).astimezone(dt.timezone.utc)


def _offset_minutes(tz: dt.tzinfo, epoch: int) -> int:
    if isinstance(tz, _LocalZone):
        return _time.localtime(epoch).tm_gmtoff // 60
    offset = dt.datetime.fromtimestamp(epoch, dt.timezone.utc).astimezone(tz).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def offset_spans(tz: dt.tzinfo, first: dt.datetime, last: dt.datetime) -> list[tuple[int | None, int | None, int]]:
    """[(start, end, offset minutes)] covering first..last in Unix seconds, one span per
    stretch of constant UTC offset (a daylight-saving change starts a new one); the first
    start and the last end are open (None)."""
    lo, hi = int(first.timestamp()), int(last.timestamp()) + 1
    spans: list[tuple[int | None, int | None, int]] = []
    start: int | None = None
    current = _offset_minutes(tz, lo)
    t = lo
    while t < hi:
        nxt = min(t + 86400, hi)
        if _offset_minutes(tz, nxt) != current:
            a, b = t, nxt  # offset(a) == current != offset(b): find the first second of the change
            while b - a > 1:
                mid = (a + b) // 2
                if _offset_minutes(tz, mid) == current:
                    a = mid
                else:
                    b = mid
            spans.append((start, b, current))
            start, current = b, _offset_minutes(tz, b)
            nxt = b
        t = nxt
    spans.append((start, None, current))
    return spans
