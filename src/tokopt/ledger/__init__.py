"""The session ledger: what was really spent, per user and per run, on this machine.

    from tokopt import Ledger

    ledger = Ledger()                                   # TOKOPT_LEDGER, or the user data dir
    ledger.record(model="gpt-5.5", input_tokens=1200, output_tokens=300)
    with ledger.run("nightly-eval", labels={"branch": "main"}) as run:
        run.record(model="claude-sonnet-4-6", input_tokens=5000, cached_input_tokens=4000, output_tokens=800)
    print(ledger.spend().cost_usd)

Records are priced when they are written, with `costing.cost_of` and the catalog of that
moment; each keeps its cost as Decimal text and the pricing `as_of` it used. A model the
catalog does not know is kept with no cost ("unpriced"), never $0. The SQL is in `storage`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import hashlib
import json
import os
import re
import secrets
import threading
import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokopt import paths
from tokopt.ledger import importers
from tokopt.errors import InputError, LedgerError
from tokopt.pricing.model import ModelPrice
from tokopt.usage import Usd
from tokopt.ledger.storage import Filters, RunRow, Store, Totals, UsageRow

if TYPE_CHECKING:
    from tokopt.pricing import Catalog

ReportBy = Literal["run", "model", "day", "user", "provider"]
REPORT_BY: tuple[str, ...] = ("model", "run", "day", "user", "provider")


# ---------------------------------------------------------------------------------------------
# who and when


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
    if tz is dt.timezone.utc:
        return "UTC"
    return str(getattr(tz, "key", None) or "local")


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


# ---------------------------------------------------------------------------------------------
# models of the results (JSON carries money as decimal strings)


class Run(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    user: str
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    started_at: dt.datetime
    ended_at: dt.datetime | None = None

    @classmethod
    def of(cls, row: RunRow) -> Run:
        return cls(id=row.id, user=row.user, name=row.name, labels=row.labels, started_at=row.started_at, ended_at=row.ended_at)


class Sums(BaseModel):
    """Token and cost sums of a group of records; `cost_usd` is None when none had a price."""

    records: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Usd | None = None
    unpriced_records: int = 0
    estimated_records: int = 0

    @classmethod
    def of(cls, t: Totals) -> Sums:
        priced = t.records - t.unpriced_records
        return cls(
            records=t.records,
            input_tokens=t.input_tokens,
            cached_input_tokens=t.cached_input_tokens,
            cache_write_tokens=t.cache_write_tokens,
            cache_write_1h_tokens=t.cache_write_1h_tokens,
            output_tokens=t.output_tokens,
            reasoning_tokens=t.reasoning_tokens,
            cost_usd=t.cost_usd if priced else None,
            unpriced_records=t.unpriced_records,
            estimated_records=t.estimated_records,
        )


class RunListing(BaseModel):
    run: Run
    current: bool
    sums: Sums


class ReportRow(BaseModel):
    """One group of a report: `key` names it (e.g. {"day": "2026-07-18"})."""

    key: dict[str, str | None]
    sums: Sums


class UnpricedModel(BaseModel):
    model: str
    records: int


class SessionReport(BaseModel):
    by: str
    user: str | None = Field(description="None: every user")
    run: list[Run] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    timezone: str
    rows: list[ReportRow]
    total: Sums
    unpriced: list[UnpricedModel]


class Spend(BaseModel):
    """What a user, run or period cost: the priced records' total, and what has no price."""

    cost_usd: Usd
    records: int
    unpriced_records: int
    estimated_records: int


class FileImport(BaseModel):
    source: str
    format: str
    lines: int
    records: int
    duplicates: int
    garbage: int
    garbage_examples: list[str]


class ImportSummary(BaseModel):
    run: Run | None
    files: list[FileImport]
    records: int
    added: int
    updated: int
    unchanged: int
    unpriced: list[UnpricedModel]


class Recorded(BaseModel):
    """One stored usage record, as the commands show it."""

    id: int | None
    time: dt.datetime
    user: str
    run_id: str | None
    provider: str | None
    model: str
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost_usd: Usd | None
    pricing_as_of: dt.date | None
    batch: bool
    estimated: bool
    source: str
    prompt_hash: str | None

    @classmethod
    def of(cls, row: UsageRow) -> Recorded:
        return cls(**{name: getattr(row, name) for name in cls.model_fields})


class RecordIn(BaseModel):
    """One usage record as an app sends it (`session record --stdin`, one JSON object a line)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str = Field(min_length=1)
    input_tokens: int = Field(0, ge=0, alias="input")
    output_tokens: int = Field(0, ge=0, alias="output")
    cached_input_tokens: int = Field(0, ge=0, alias="cached")
    cache_write_tokens: int = Field(0, ge=0, alias="cache_write")
    cache_write_1h_tokens: int = Field(0, ge=0, alias="cache_write_1h")
    reasoning_tokens: int = Field(0, ge=0, alias="reasoning")
    provider: str | None = None
    time: dt.datetime | None = None
    run: str | None = None
    batch: bool = False
    prompt_hash: str | None = None
    dedupe_key: str | None = Field(None, alias="id")


# ---------------------------------------------------------------------------------------------
# pricing of records


_BEDROCK = re.compile(r"^(?:(?:us|eu|apac|global)\.)?(?:anthropic|meta|amazon|mistral)\.(.+?)(?:-v\d+(?::\d+)?)?$")


def model_candidates(name: str) -> list[str]:
    """Spellings of one model name as logs write it: as is, `models/x`, Vertex `x@date`, Bedrock ids."""
    out = [name]
    bare = name.strip()
    if bare.startswith("models/"):
        bare = bare[len("models/") :]
        out.append(bare)
    if "@" in bare:
        base, _, date = bare.partition("@")
        out += [f"{base}-{date}" if date and date != "latest" else base, base]
    match = _BEDROCK.match(bare)
    if match:
        out.append(match.group(1))
    return list(dict.fromkeys(out))


class Pricer:
    """Prices usage with the catalog; remembers how each model name resolved."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._resolved: dict[str, ModelPrice | None] = {}

    def resolve(self, name: str) -> ModelPrice | None:
        if name not in self._resolved:
            found = None
            for candidate in model_candidates(name):
                found = self.catalog.find(candidate)
                if found is not None:
                    break
            self._resolved[name] = found
        return self._resolved[name]

    def row(
        self,
        *,
        time: dt.datetime,
        user: str,
        run_id: str | None,
        model: str,
        provider: str | None,
        input_tokens: int,
        cached_input_tokens: int,
        cache_write_tokens: int,
        cache_write_1h_tokens: int,
        output_tokens: int,
        reasoning_tokens: int,
        batch: bool,
        estimated: bool,
        source: str,
        dedupe_key: str | None,
        prompt_hash: str | None,
    ) -> UsageRow:
        from tokopt.costing import cost_of
        from tokopt.usage import Usage

        price = self.resolve(model)
        cost = None
        if price is not None:
            usage = Usage(
                input_tokens=input_tokens,
                cached_input_tokens=cached_input_tokens,
                cache_write_tokens=cache_write_tokens,
                cache_write_1h_tokens=cache_write_1h_tokens,
                output_tokens=output_tokens,
            )
            cost = cost_of(price, usage, batch=batch).total_usd
        return UsageRow(
            time=time,
            user=user,
            run_id=run_id,
            provider=price.provider if price is not None else provider,
            model=price.id if price is not None else model,
            input_tokens=input_tokens,
            cached_input_tokens=cached_input_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_write_1h_tokens=cache_write_1h_tokens,
            output_tokens=output_tokens,
            reasoning_tokens=reasoning_tokens,
            cost_usd=cost,
            pricing_as_of=price.as_of if price is not None else None,
            batch=batch and price is not None and price.has_batch,
            estimated=estimated,
            source=source,
            dedupe_key=dedupe_key,
            prompt_hash=prompt_hash,
        )


def check_usage(
    *,
    input_tokens: int,
    cached_input_tokens: int,
    cache_write_tokens: int,
    cache_write_1h_tokens: int,
    output_tokens: int,
    reasoning_tokens: int,
) -> None:
    counts = {
        "input_tokens": input_tokens,
        "cached_input_tokens": cached_input_tokens,
        "cache_write_tokens": cache_write_tokens,
        "cache_write_1h_tokens": cache_write_1h_tokens,
        "output_tokens": output_tokens,
        "reasoning_tokens": reasoning_tokens,
    }
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"{name} must be a whole number of tokens, 0 or more (got {value!r})")
        if value > importers.MAX_TOKENS:
            raise InputError(f"{name} is more than {importers.MAX_TOKENS:,} tokens (got {value:,})")
    parts = cached_input_tokens + cache_write_tokens + cache_write_1h_tokens
    if parts > input_tokens:
        raise InputError(
            f"cached and cache-write tokens ({parts:,}) exceed the input tokens ({input_tokens:,})",
            hint="input tokens are the whole prompt; cached and cache-write tokens are parts of it",
        )
    if reasoning_tokens > output_tokens:
        raise InputError(
            f"reasoning tokens ({reasoning_tokens:,}) exceed the output tokens ({output_tokens:,})",
            hint="output tokens include the reasoning tokens",
        )


def hash_prompt(text: str | bytes) -> str:
    """What the ledger keeps of a prompt: its SHA-256, never the text."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_labels(items: Iterable[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"a label is key=value, got: {item}")
        labels[key.strip()] = value.strip()
    return labels


# ---------------------------------------------------------------------------------------------
# the ledger


class _AllUsers(Enum):
    token = 0


ALL_USERS = _AllUsers.token


class Ledger:
    """The usage ledger file. One instance per process; safe to share between threads."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        user: str | None = None,
        catalog: Catalog | None = None,
        pricing: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else paths.default_ledger_path()
        self.user = current_user(user)
        self._catalog = catalog
        self._pricing = [Path(p) for p in pricing]
        self._pricer: Pricer | None = None
        self._store: Store | None = None
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self.notices: list[str] = []  # things a command shows on stderr (a migration, a backup)

    # -- plumbing -----------------------------------------------------------------------------

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _open(self, *, create: bool) -> Store:
        if self._store is not None and self._pid != os.getpid():
            self._store = None  # a forked child must not use its parent's connection
        if self._store is None:
            if not create and not self.path.exists():
                return Store.memory()
            store = Store.open(self.path, create=True)
            self._pid = os.getpid()
            if store.migrated_from:
                self.notices.append(
                    f"migrated ledger {self.path} from schema v{store.migrated_from} to v{store.version}; "
                    f"the old file is kept as {store.backup_path}"
                )
            self._store = store
        return self._store

    @property
    def pricer(self) -> Pricer:
        if self._pricer is None:
            if self._catalog is None:
                from tokopt import pricing

                self._catalog = pricing.load_catalog(paths.bundled_pricing_dir(), self._pricing or paths.user_pricing_files())
            self._pricer = Pricer(self._catalog)
        return self._pricer

    # -- runs ---------------------------------------------------------------------------------

    def _find_run(self, store: Store, ref: str, user: str | None) -> RunRow | None:
        by_id = store.get_run(ref)
        if by_id is not None:
            if user is not None and by_id.user != user:
                raise InputError(f"run {ref} belongs to {by_id.user}, not {user}", hint=f"pass --user {by_id.user}")
            return by_id
        named = store.runs_named(ref, user)
        return named[0] if named else None

    def _new_run(self, store: Store, name: str | None, labels: Mapping[str, str] | None) -> RunRow:
        while True:
            run_id = secrets.token_hex(4)
            if not store.run_id_exists(run_id):
                break
        row = RunRow(id=run_id, user=self.user, name=name or run_id, labels=dict(labels or {}), started_at=utcnow())
        store.insert_run(row)
        return row

    def _run_for_record(self, store: Store, ref: str | None) -> RunRow | None:
        """The run a new record goes to: `ref` (an id or a name; a new name starts a run), else
        TOKOPT_RUN, else the user's current run, else none."""
        if ref is None:
            ref = os.environ.get(paths.ENV_RUN) or None
        if ref is None:
            return store.current_run(self.user)
        found = self._find_run(store, ref, self.user)
        if found is None:
            found = self._new_run(store, ref, None)
            self.notices.append(f"started run {found.id} ({found.name}) for {self.user}")
        return found

    def start_run(self, name: str | None = None, labels: Mapping[str, str] | None = None, *, make_current: bool = True) -> Run:
        """Start a run; by default it becomes this user's current run (records go to it)."""
        with self._lock, self._open(create=True).write() as store:
            previous = store.current_run(self.user) if make_current else None
            row = self._new_run(store, name, labels)
            if make_current:
                store.set_current_run(self.user, row.id)
                if previous is not None:
                    self.notices.append(f"run {previous.id} ({previous.name}) is no longer your current run; it stays open")
            return Run.of(row)

    def end_run(self, ref: str | None = None) -> Run:
        """End a run (the current one if `ref` is None); it stops being current."""
        with self._lock, self._open(create=True).write() as store:
            row = self._find_run(store, ref, self.user) if ref else store.current_run(self.user)
            if row is None:
                if ref:
                    raise InputError(f"no run {ref} for {self.user}", hint="tokopt session list")
                raise InputError(f"{self.user} has no current run", hint="tokopt session start, or name the run to end")
            ended = utcnow()
            store.end_run(row.id, ended)
            return Run.of(RunRow(**{**row.__dict__, "ended_at": row.ended_at or ended}))

    def current_run(self) -> Run | None:
        with self._lock, self._open(create=False).read() as store:
            row = store.current_run(self.user)
            return Run.of(row) if row else None

    def get_run(self, ref: str, *, all_users: bool = False) -> Run:
        with self._lock, self._open(create=False).read() as store:
            row = self._find_run(store, ref, None if all_users else self.user)
        if row is None:
            raise InputError(f"no run {ref} for {self.user}", hint="tokopt session list")
        return Run.of(row)

    def runs(self, *, all_users: bool = False) -> list[RunListing]:
        with self._lock, self._open(create=False).read() as store:
            listed = store.list_runs(None if all_users else self.user)
        return [RunListing(run=Run.of(r), current=current, sums=Sums.of(t)) for r, t, current in listed]

    def delete_run(self, ref: str) -> tuple[Run, int]:
        """Delete one of this user's runs and its records; returns the run and how many records went."""
        with self._lock, self._open(create=True).write() as store:
            row = self._find_run(store, ref, self.user)
            if row is None:
                raise InputError(f"no run {ref} for {self.user}", hint="tokopt session list")
            return Run.of(row), store.delete_run(row.id)

    def run(self, name: str | None = None, labels: Mapping[str, str] | None = None) -> RunContext:
        """A run for `with`: started now (not made current), ended when the block exits."""
        return RunContext(self, self.start_run(name, labels, make_current=False))

    # -- recording ----------------------------------------------------------------------------

    def record(
        self,
        *,
        model: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
        cache_write_1h_tokens: int = 0,
        reasoning_tokens: int = 0,
        run: str | None = None,
        provider: str | None = None,
        time: dt.datetime | None = None,
        batch: bool = False,
        prompt: str | bytes | None = None,
        prompt_hash: str | None = None,
        dedupe_key: str | None = None,
        estimated: bool = False,
        source: str = "api",
    ) -> UsageRow:
        """Record one call's usage (tokens as the provider bills them: `input_tokens` is the
        whole prompt). `time` defaults to now; a naive time is read as UTC. `prompt` is hashed
        and dropped; a `dedupe_key` seen before adds nothing (unless this call has more tokens)."""
        rows = self.record_many(
            [
                dict(
                    model=model,
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                    cached_input_tokens=cached_input_tokens,
                    cache_write_tokens=cache_write_tokens,
                    cache_write_1h_tokens=cache_write_1h_tokens,
                    reasoning_tokens=reasoning_tokens,
                    run=run,
                    provider=provider,
                    time=time,
                    batch=batch,
                    prompt_hash=hash_prompt(prompt) if prompt is not None else prompt_hash,
                    dedupe_key=dedupe_key,
                )
            ],
            estimated=estimated,
            source=source,
        )
        return rows[0]

    def record_many(self, items: Sequence[Mapping[str, Any] | RecordIn], *, run: str | None = None, estimated: bool = False, source: str = "api") -> list[UsageRow]:
        """Record several calls in one transaction: all of them, or none if one is invalid."""
        records = [item if isinstance(item, RecordIn) else _record_in(item) for item in items]
        for r in records:
            _check_record(r)
        pricer = self.pricer
        with self._lock, self._open(create=True).write() as store:
            ids = []
            runs: dict[str | None, RunRow | None] = {}
            for r in records:
                ref = r.run or run
                if ref not in runs:
                    runs[ref] = self._run_for_record(store, ref)
                target = runs[ref]
                when = r.time or utcnow()
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.timezone.utc)
                row = pricer.row(
                    time=when,
                    user=self.user,
                    run_id=target.id if target else None,
                    model=r.model.strip(),
                    provider=r.provider,
                    input_tokens=r.input_tokens,
                    cached_input_tokens=r.cached_input_tokens,
                    cache_write_tokens=r.cache_write_tokens,
                    cache_write_1h_tokens=r.cache_write_1h_tokens,
                    output_tokens=r.output_tokens,
                    reasoning_tokens=r.reasoning_tokens,
                    batch=r.batch,
                    estimated=estimated,
                    source=source,
                    dedupe_key=r.dedupe_key,
                    prompt_hash=r.prompt_hash,
                )
                ids.append(store.insert_usage(row))
            return store.get_usage(ids)

    def record_estimate(
        self,
        *,
        model: str,
        prompt_file: str | os.PathLike[str],
        output_tokens: int = 0,
        run: str | None = None,
        batch: bool = False,
    ) -> UsageRow:
        """Record a call that is not measured: its input counted from the prompt file (exact for
        OpenAI models, the catalog's approximation for others), marked as an estimate."""
        from tokopt import costing, inputs
        from tokopt.tokens import measure

        price = self.pricer.catalog.get(model)
        expansion = inputs.expand([str(prompt_file)])
        counts = measure.count_sources(expansion.sources, [price.tokenizer.encoding])
        digest = hashlib.sha256()
        for source in expansion.sources:
            if source.path is not None:
                digest.update(Path(source.path).read_bytes())
        return self.record(
            model=price.id,
            input_tokens=sum(costing.model_tokens(price, c.tokens) for c in counts),
            output_tokens=output_tokens,
            run=run,
            batch=batch,
            prompt_hash="sha256:" + digest.hexdigest(),
            estimated=True,
            source="cli",
        )

    def record_response(self, response: Any, *, run: str | None = None) -> list[UsageRow]:
        """Record the usage in a provider response (OpenAI, Anthropic or Gemini; a dict, or an
        SDK object with `model_dump()` / `to_dict()`). The same response twice adds nothing."""
        if hasattr(response, "model_dump"):
            response = response.model_dump()
        elif hasattr(response, "to_dict"):
            response = response.to_dict()
        result = importers.parse_objects([response], label="response")
        if result.garbage:
            raise InputError(f"not a usage-bearing response: {result.garbage_examples[0]}")
        if not result.records:
            raise InputError("no usage found in the response", hint="pass the whole response object, with its usage")
        with self._lock, self._open(create=True).write() as store:
            target = self._run_for_record(store, run)
            rows = [self._imported_row(rec, target) for rec in result.records]
            ids = [store.insert_usage(row) for row in rows]
            return store.get_usage(ids)

    def _imported_row(self, rec: importers.Imported, run: RunRow | None) -> UsageRow:
        return self.pricer.row(
            time=rec.time or utcnow(),
            user=self.user,
            run_id=run.id if run else None,
            model=rec.model,
            provider=rec.provider,
            input_tokens=rec.input_tokens,
            cached_input_tokens=rec.cached_input_tokens,
            cache_write_tokens=rec.cache_write_tokens,
            cache_write_1h_tokens=rec.cache_write_1h_tokens,
            output_tokens=rec.output_tokens,
            reasoning_tokens=rec.reasoning_tokens,
            batch=rec.batch,
            estimated=False,
            source=f"import:{rec.format}",
            dedupe_key=rec.key,
            prompt_hash=None,
        )

    def import_paths(
        self, args: Sequence[str], *, run: str | None = None, on_bytes: Callable[[int], None] | None = None
    ) -> ImportSummary:
        """Read provider usage logs and add their records in one transaction (see `importers`).
        `on_bytes` is told how many bytes of the files have been read, as they are read."""
        return self.import_sources(importers.expand_paths(args), run=run, on_bytes=on_bytes)

    def import_sources(
        self,
        sources: Sequence[importers.ImportSource],
        *,
        run: str | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        """`import_paths` for logs already found with `importers.expand_paths`."""
        results = [importers.read_source(s, on_bytes) for s in sources]
        # Empty logs (a session just begun, an empty pipe) add nothing; only logs that hold
        # something, none of it readable, are the wrong files.
        if not any(r.readable for r in results) and any(r.lines for r in results):
            garbage = sum(r.garbage for r in results)
            what = f"{garbage:,} unreadable line{'s' if garbage != 1 else ''}" if garbage else "no JSON"
            example = next((f"; {r.label} {r.garbage_examples[0]}" for r in results if r.garbage_examples), "")
            raise InputError(f"nothing could be read from {_names(sources)}: {what}{example}")
        merged: dict[str, importers.Imported] = {}
        for result in results:
            for rec in result.records:
                old = merged.get(rec.key)
                if old is None or rec.size > old.size:
                    merged[rec.key] = rec
                if old is not None:
                    result.duplicates += 1
        # priced before the write lock is taken, so that other writers wait only for the SQL
        rows = [self._imported_row(rec, None) for rec in merged.values()]
        with self._lock, self._open(create=True).write() as store:
            target = self._run_for_record(store, run)
            if target is not None:
                rows = [dataclasses.replace(row, run_id=target.id) for row in rows]
            outcome = store.upsert_usage(rows)
        unpriced: dict[str, int] = {}
        for row in rows:
            if row.cost_usd is None:
                unpriced[row.model] = unpriced.get(row.model, 0) + 1
        return ImportSummary(
            run=Run.of(target) if target else None,
            files=[
                FileImport(
                    source=r.label,
                    format=r.format,
                    lines=r.lines,
                    records=len(r.records),
                    duplicates=r.duplicates,
                    garbage=r.garbage,
                    garbage_examples=r.garbage_examples,
                )
                for r in results
            ],
            records=len(rows),
            added=outcome.added,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            unpriced=[UnpricedModel(model=m, records=n) for m, n in sorted(unpriced.items(), key=lambda kv: (-kv[1], kv[0]))],
        )

    # -- reading ------------------------------------------------------------------------------

    def _filters(
        self,
        store: Store,
        *,
        user: str | None | _AllUsers,
        run: str | None,
        since: dt.datetime | None,
        until: dt.datetime | None,
    ) -> tuple[Filters, list[RunRow] | None]:
        scope = None if user is ALL_USERS else (user if isinstance(user, str) else self.user)
        runs = None
        if run is not None:
            by_id = store.get_run(run)
            if by_id is not None and (scope is None or by_id.user == scope):
                runs = [by_id]
            else:
                runs = store.runs_named(run, scope)
                if scope is not None:
                    runs = runs[:1]  # a name means the user's latest run of that name
            if not runs:
                who = "anyone" if scope is None else scope
                raise InputError(f"no run {run} for {who}", hint="tokopt session list" + (" --all-users" if scope is None else ""))
        filters = Filters(user=scope, run_ids=tuple(r.id for r in runs) if runs is not None else None, since=since, until=until)
        return filters, runs

    def spend(
        self,
        *,
        user: str | None | _AllUsers = None,
        run: str | None = None,
        since: str | dt.date | dt.datetime | None = None,
        until: str | dt.date | dt.datetime | None = None,
        timezone: str | None = None,
    ) -> Spend:
        """What was spent (USD, Decimal) by this user (or `user`, or ALL_USERS), optionally in
        one run (id or name) and period: `since`/`until` as in `report` (dates are whole days
        in `timezone`, both included). Records with no known price are counted apart."""
        tz = zone(timezone)
        start, end = parse_when(since, tz), parse_when(until, tz, end=True)
        with self._lock, self._open(create=False).read() as store:
            filters, _ = self._filters(store, user=user, run=run, since=start, until=end)
            t = store.total(filters)
        return Spend(
            cost_usd=t.cost_usd, records=t.records, unpriced_records=t.unpriced_records, estimated_records=t.estimated_records
        )

    def total_cost(self, **kwargs: Any) -> Decimal:
        """`spend(...).cost_usd`: the USD total of the priced records."""
        return self.spend(**kwargs).cost_usd

    def usage(self, *, user: str | None | _AllUsers = None, run: str | None = None) -> list[UsageRow]:
        """Every stored record in scope, oldest first (for tests and small exports)."""
        with self._lock, self._open(create=False).read() as store:
            filters, _ = self._filters(store, user=user, run=run, since=None, until=None)
            return store.usage_rows(filters)

    def report(
        self,
        *,
        by: str = "model",
        user: str | None | _AllUsers = None,
        run: str | None = None,
        since: str | dt.date | dt.datetime | None = None,
        until: str | dt.date | dt.datetime | None = None,
        timezone: str | None = None,
    ) -> SessionReport:
        """Totals per run, model, day (in `timezone`), user or provider, with a grand total.

        `since` / `until` are dates (whole days in `timezone`, both included) or times."""
        if by not in REPORT_BY:
            raise InputError(f"cannot report by {by}", hint=f"one of {', '.join(REPORT_BY)}")
        tz = zone(timezone)
        start = parse_when(since, tz)
        end = parse_when(until, tz, end=True)
        if start is not None and end is not None and start >= end:
            raise InputError("--since is not before --until")
        with self._lock, self._open(create=False).read() as store:
            filters, runs = self._filters(store, user=user, run=run, since=start, until=end)
            groups = self._groups(store, by, filters, tz)
            unpriced = store.unpriced_models(filters) if any(t.unpriced_records for t in groups.values()) else []
            run_rows = {}
            if by == "run":
                for key in groups:
                    if key[0] is not None:
                        found = store.get_run(str(key[0]))
                        if found is not None:
                            run_rows[found.id] = found
        total = Totals()
        for t in groups.values():
            total.add(t)
        rows = [ReportRow(key=self._key(by, key, run_rows), sums=Sums.of(t)) for key, t in groups.items()]
        if by == "day":
            rows.sort(key=lambda r: r.key["day"] or "")
        else:
            rows.sort(key=lambda r: (r.sums.cost_usd is None, -(r.sums.cost_usd or 0), [v or "" for v in r.key.values()]))
        return SessionReport(
            by=by,
            user=filters.user,
            run=[Run.of(r) for r in runs] if runs is not None else None,
            since=start,
            until=end,
            timezone=zone_label(tz),
            rows=rows,
            total=Sums.of(total),
            unpriced=[UnpricedModel(model=m, records=n) for m, n in unpriced],
        )

    @staticmethod
    def _groups(store: Store, by: str, filters: Filters, tz: dt.tzinfo) -> dict[tuple[object, ...], Totals]:
        if by != "day":
            return store.aggregate([{"run": "run_id"}.get(by, by)], filters)
        if tz is dt.timezone.utc:
            return store.aggregate([], filters, day_offset_minutes=0)
        span = store.time_range(filters)
        if span is None:
            return {}
        spans = offset_spans(tz, *span)
        out: dict[tuple[object, ...], Totals] = {}

        def merge(key: tuple[object, ...], t: Totals) -> None:
            if key in out:
                out[key].add(t)
            else:
                out[key] = t

        if all(offset % 60 == 0 for _, _, offset in spans) and all(lo is None or lo % 3600 == 0 for lo, _, _ in spans):
            # Whole-hour offsets that change on the hour (nearly every zone): sum per UTC hour in
            # SQL, then give each hour to its local day. Cheaper than a date() per row.
            for (hour,), t in store.aggregate(["utc_hour"], filters).items():
                start = dt.datetime.strptime(str(hour), "%Y-%m-%dT%H").replace(tzinfo=dt.timezone.utc)
                merge((start.astimezone(tz).date().isoformat(),), t)
            return out
        for lo, hi, offset in spans:  # :30 and :45 zones: one pass per stretch of constant offset
            part = Filters(
                user=filters.user,
                run_ids=filters.run_ids,
                since=_later(filters.since, lo),
                until=_earlier(filters.until, hi),
            )
            for key, t in store.aggregate([], part, day_offset_minutes=offset).items():
                merge(key, t)
        return out

    @staticmethod
    def _key(by: str, key: tuple[object, ...], runs: Mapping[str, RunRow]) -> dict[str, str | None]:
        values = [None if v is None else str(v) for v in key]
        if by == "model":
            return {"provider": values[0], "model": values[1]}
        if by == "run":
            found = runs.get(values[0] or "")
            return {"run_id": values[0], "run": found.name if found else None, "user": found.user if found else None}
        return {by: values[0]}


def _later(a: dt.datetime | None, epoch: int | None) -> dt.datetime | None:
    b = dt.datetime.fromtimestamp(epoch, dt.timezone.utc) if epoch is not None else None
    if a is None or b is None:
        return a or b
    return max(a, b)


def _earlier(a: dt.datetime | None, epoch: int | None) -> dt.datetime | None:
    b = dt.datetime.fromtimestamp(epoch, dt.timezone.utc) if epoch is not None else None
    if a is None or b is None:
        return a or b
    return min(a, b)


def _names(sources: Sequence[importers.ImportSource]) -> str:
    names = [s.label for s in sources[:3]]
    return ", ".join(names) + (f" and {len(sources) - 3} more" if len(sources) > 3 else "")


def _record_in(item: Mapping[str, Any]) -> RecordIn:
    try:
        return RecordIn.model_validate(dict(item))
    except ValidationError as exc:
        from tokopt.tomlio import describe_validation

        raise InputError(f"invalid usage record: {describe_validation(exc)}") from None


def _check_record(r: RecordIn) -> None:
    if not r.model.strip():
        raise InputError("the model name is empty")
    check_usage(
        input_tokens=r.input_tokens,
        cached_input_tokens=r.cached_input_tokens,
        cache_write_tokens=r.cache_write_tokens,
        cache_write_1h_tokens=r.cache_write_1h_tokens,
        output_tokens=r.output_tokens,
        reasoning_tokens=r.reasoning_tokens,
    )


def read_records(lines: Iterable[str | bytes], label: str = "stdin") -> list[RecordIn]:
    """JSON lines of usage records; the first bad line is an error naming it (nothing is kept)."""
    from tokopt.tomlio import describe_validation

    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except RecursionError:
            raise InputError(f"{label} line {n}: not JSON (nested too deeply to read)") from None
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "invalid UTF-8"
            raise InputError(f"{label} line {n}: not JSON ({reason.lower()})") from None
        if not isinstance(data, dict):
            raise InputError(f"{label} line {n}: expected a JSON object")
        try:
            record = RecordIn.model_validate(data)
        except ValidationError as exc:
            raise InputError(f"{label} line {n}: {describe_validation(exc)}") from None
        try:
            _check_record(record)
        except InputError as exc:
            raise InputError(f"{label} line {n}: {exc.message}", hint=exc.hint) from None
        out.append(record)
    if not out:
        raise InputError(f"no usage records on {label}", hint='one JSON object a line: {"model": "gpt-5.5", "input": 1200, "output": 300}')
    return out


class RunContext:
    """A run started by `Ledger.run()`: record into it, and it ends when the `with` block does."""

    def __init__(self, ledger: Ledger, run: Run) -> None:
        self.ledger = ledger
        self.info = run

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def name(self) -> str:
        return self.info.name

    def record(self, **kwargs: Any) -> UsageRow:
        return self.ledger.record(run=self.id, **kwargs)

    def record_estimate(self, *, model: str, prompt_file: str | os.PathLike[str], output_tokens: int = 0, batch: bool = False) -> UsageRow:
        return self.ledger.record_estimate(model=model, prompt_file=prompt_file, output_tokens=output_tokens, run=self.id, batch=batch)

    def record_response(self, response: Any) -> list[UsageRow]:
        return self.ledger.record_response(response, run=self.id)

    def spend(self) -> Spend:
        return self.ledger.spend(run=self.id)

    def end(self) -> Run:
        self.info = self.ledger.end_run(self.id)
        return self.info

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.info.ended_at is None:
            self.end()


def rows_of(rows: Iterable[UsageRow]) -> Iterator[Recorded]:
    for row in rows:
        yield Recorded.of(row)
