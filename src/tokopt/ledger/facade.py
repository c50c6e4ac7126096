"""`Ledger`: the ledger as apps and commands use it. Each method is one transaction on the
store; records are priced (`pricer`) before the write lock is taken."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokopt import paths
from tokopt.errors import InputError
from tokopt.gcpause import no_cyclic_gc
from tokopt.ledger import importers, reports
from tokopt.ledger.pricer import Pricer
from tokopt.ledger.reading import LedgerReading, When
from tokopt.ledger.records import current_user, hash_prompt, to_record
from tokopt.ledger.reports import ImportSummary, Run, RunListing, Spend
from tokopt.ledger.store import Store, open_store, redact, store_exists
from tokopt.ledger.timezones import utcnow
from tokopt.usage import UsageRecord

if TYPE_CHECKING:
    from tokopt.ledger.reprice import RepriceReport
    from tokopt.pricing import Catalog


class Ledger(LedgerReading):
    """The usage ledger at a location (a file path; default TOKOPT_LEDGER, or the user data
    dir). One instance per process; safe to share between threads."""

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        *,
        user: str | None = None,
        catalog: Catalog | None = None,
        pricing: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        self.location = os.fspath(location) if location is not None else paths.default_ledger()
        self.user = current_user(user)
        self._catalog = catalog
        self._pricing = [Path(p) for p in pricing]
        self._pricer: Pricer | None = None
        self._store: Store | None = None
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self.notices: list[str] = []  # things a command shows on stderr (a migration, a backup)

    @property
    def path(self) -> Path:
        """The ledger file (for a file location)."""
        return Path(self.location).expanduser()

    @property
    def display_location(self) -> str:
        """The location as messages show it: a URL's password is never in it."""
        return redact(self.location)

    def exists(self) -> bool:
        return store_exists(self.location)

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
            if not create and not self.exists():
                return open_store(self.location, create=False)  # empty; nothing is created
            store = open_store(self.location, create=True)
            self._pid = os.getpid()
            if store.migrated_from:
                change = f"from schema v{store.migrated_from} to v{store.version}" if store.migrated_from != store.version else "to new token kinds"
                kept = f"; the old file is kept as {store.backup}" if store.backup else ""
                self.notices.append(f"migrated ledger {store.location} {change}{kept}")
            self._store = store
        return self._store

    @property
    def pricer(self) -> Pricer:
        if self._pricer is None:
            if self._catalog is None:
                from tokopt import pricing, settings

                self._catalog = pricing.load_catalog(paths.bundled_pricing_dir(), settings.pricing_files(self._pricing))
            self._pricer = Pricer(self._catalog)
        return self._pricer

    # -- runs ---------------------------------------------------------------------------------

    def _run_for_record(self, store: Store, ref: str | None) -> Run | None:
        """The run a new record goes to: `ref` (an id or a name; a new name starts a run), else
        TOKOPT_RUN, else the user's current run, else none."""
        if ref is None:
            ref = os.environ.get(paths.ENV_RUN) or None
        if ref is None:
            return store.current_run(self.user)
        found = _find_run(store, ref, self.user)
        if found is None:
            found = _new_run(store, self.user, ref, None)
            self.notices.append(f"started run {found.id} ({found.name}) for {self.user}")
        return found

    def start_run(self, name: str | None = None, labels: Mapping[str, str] | None = None, *, make_current: bool = True) -> Run:
        """Start a run; by default it becomes this user's current run (records go to it)."""
        with self._lock, self._open(create=True).write() as store:
            previous = store.current_run(self.user) if make_current else None
            run = _new_run(store, self.user, name, labels)
            if make_current:
                store.set_current_run(self.user, run.id)
                if previous is not None:
                    self.notices.append(f"run {previous.id} ({previous.name}) is no longer your current run; it stays open")
            return run

    def end_run(self, ref: str | None = None) -> Run:
        """End a run (the current one if `ref` is None); it stops being current."""
        with self._lock, self._open(create=True).write() as store:
            run = _find_run(store, ref, self.user) if ref else store.current_run(self.user)
            if run is None:
                if ref:
                    raise InputError(f"no run {ref} for {self.user}", hint="tokopt session list")
                raise InputError(f"{self.user} has no current run", hint="tokopt session start, or name the run to end")
            ended = utcnow()
            store.end_run(run.id, ended)
            return Run(**{**run.__dict__, "ended_at": run.ended_at or ended})

    def current_run(self) -> Run | None:
        with self._lock, self._open(create=False).read() as store:
            return store.current_run(self.user)

    def get_run(self, ref: str, *, all_users: bool = False) -> Run:
        with self._lock, self._open(create=False).read() as store:
            run = _find_run(store, ref, None if all_users else self.user)
        if run is None:
            raise InputError(f"no run {ref} for {self.user}", hint="tokopt session list")
        return run

    def runs(self, *, all_users: bool = False) -> list[RunListing]:
        with self._lock, self._open(create=False).read() as store:
            listed = store.list_runs(None if all_users else self.user)
        return [RunListing(run=r, current=current, sums=t) for r, t, current in listed]

    def delete_run(self, ref: str) -> tuple[Run, int]:
        """Delete one of this user's runs and its records; returns the run and how many records went."""
        with self._lock, self._open(create=True).write() as store:
            run = _find_run(store, ref, self.user)
            if run is None:
                raise InputError(f"no run {ref} for {self.user}", hint="tokopt session list")
            return run, store.delete_run(run.id)

    def run(self, name: str | None = None, labels: Mapping[str, str] | None = None) -> RunContext:
        """A run for `with`: started now (not made current), ended when the block exits."""
        return RunContext(self, self.start_run(name, labels, make_current=False))

    # -- recording ----------------------------------------------------------------------------

    def record(self, *, model: str, prompt: str | bytes | None = None, estimated: bool = False, source: str = "api", **fields: Any) -> UsageRecord:
        """Record one call's usage: token counts by kind (`input_tokens=`, `cached_input_tokens=`,
        `output_tokens=`, ...: tokens as the provider bills them, `input_tokens` is the whole
        prompt), and optionally `run`, `provider`, `time` (default now; naive is UTC), `batch`,
        `prompt_hash` or `prompt` (hashed and dropped), `dedupe_key` (a key seen before adds
        nothing, unless this call has more tokens)."""
        if prompt is not None:
            fields["prompt_hash"] = hash_prompt(prompt)
        return self.record_many([{"model": model, **fields}], estimated=estimated, source=source)[0]

    def record_many(self, items: Sequence[Mapping[str, Any] | Any], *, run: str | None = None, estimated: bool = False, source: str = "api") -> list[UsageRecord]:
        """Record several calls in one transaction: all of them, or none if one is invalid."""
        checked = [to_record(item) for item in items]
        pricer = self.pricer
        priced = [(pricer.price(rec, estimated=estimated, source=source), ref or run) for rec, ref in checked]
        with self._lock, self._open(create=True).write() as store:
            runs: dict[str | None, Run | None] = {}
            ids = []
            for rec, ref in priced:
                if ref not in runs:
                    runs[ref] = self._run_for_record(store, ref)
                target = runs[ref]
                ids.append(store.insert_usage(rec.replace(user=self.user, run_id=target.id if target else None, time=rec.time or utcnow())))
            return store.get_usage(ids)

    def record_estimate(self, *, model: str, prompt_file: str | os.PathLike[str], output_tokens: int = 0, run: str | None = None, batch: bool = False, max_input_size: int | None = None) -> UsageRecord:
        """Record a call that is not measured: its input counted from the prompt file (exact for
        OpenAI models, the catalog's approximation for others; a pipe read up to `max_input_size`
        bytes, default 1 GiB), marked as an estimate."""
        from tokopt.ledger.records import count_prompt_file

        price = self.pricer.catalog.get(model)
        tokens, digest = count_prompt_file(price, prompt_file, max_size=max_input_size)
        return self.record(
            model=price.id, input_tokens=tokens, output_tokens=output_tokens, run=run, batch=batch, prompt_hash=digest, estimated=True, source="cli"
        )

    def record_response(self, response: Any, *, run: str | None = None) -> list[UsageRecord]:
        """Record the usage in a provider response (OpenAI, Anthropic or Gemini; a dict, or an
        SDK object with `model_dump()` / `to_dict()`). The same response twice adds nothing."""
        priced = [self.pricer.price(rec, user=self.user) for rec in importers.parse_response(response)]
        with self._lock, self._open(create=True).write() as store:
            target = self._run_for_record(store, run)
            ids = [store.insert_usage(rec.replace(run_id=target.id if target else None)) for rec in priced]
            return store.get_usage(ids)

    def reprice(
        self, *, user: reports.Who = None, run: str | None = None, since: When = None, until: When = None, timezone: str | None = None, dry_run: bool = False
    ) -> RepriceReport:
        """Price this user's records (or `user`'s, or ALL_USERS') again with the price data in
        use, each at its own time: unpriced records get a price once one is known. All of them
        in one transaction; `dry_run` only says what would change. Scope as in `report`."""
        from tokopt.ledger.reading import scope_of
        from tokopt.ledger.reprice import reprice
        from tokopt.ledger.timezones import zone

        pricer = self.pricer  # the catalog is loaded before the ledger is locked
        with self._lock:
            store = self._open(create=False)
            with store.read():
                filters, _ = scope_of(store, self.user, user, run, since, until, zone(timezone), {})
            return reprice(store, pricer, filters, dry_run=dry_run)

    def import_paths(self, args: Sequence[str], *, run: str | None = None, on_bytes: Callable[[int], None] | None = None, max_stdin: int | None = None) -> ImportSummary:
        """Read provider usage logs and add their records in one transaction (see `importers`).
        `on_bytes` is told how many bytes of the files have been read, as they are read; `-` is
        read up to `max_stdin` bytes (default 1 GiB), past which nothing is imported."""
        sources, problems = importers.expand_paths(args)
        self.notices.extend(problems)
        return self.import_sources(sources, run=run, on_bytes=on_bytes, max_stdin=max_stdin)

    def plan_import(self, sources: Sequence[importers.ImportSource]) -> list[importers.Step]:
        """How an import would read each log: a file unchanged since this user's last import of
        it is skipped, and a grown one is read from where that import stopped."""
        keys = [importers.state_key(s.path) for s in sources if s.path is not None]
        with self._lock, self._open(create=False).read() as store:
            states = store.import_states(self.user, keys) if keys else {}
        return importers.plan(sources, states)

    @no_cyclic_gc()
    def import_sources(
        self, sources: Sequence[importers.ImportSource] | Sequence[importers.Step], *, run: str | None = None, on_bytes: Callable[[int], None] | None = None, max_stdin: int | None = None
    ) -> ImportSummary:
        """`import_paths` for logs already found (`importers.expand_paths`, `importers.discover`)
        or planned (`plan_import`)."""
        steps = [s for s in sources if isinstance(s, importers.Step)]
        if len(steps) != len(sources):
            steps = self.plan_import(sources)  # type: ignore[arg-type]
        read = importers.read_sources(steps, on_bytes, max_stdin=max_stdin)
        read.check_readable()
        # priced before the write lock is taken, so that other writers wait only for the SQL; the
        # records are the import's own: priced in place
        records = [self.pricer.price_own(rec, user=self.user, time=rec.time or utcnow()) for rec in read.records]
        target, outcome = None, None
        if records or read.states or run is not None:
            with self._lock, self._open(create=True).write() as store:
                target = self._run_for_record(store, run)
                if target is not None:
                    records = [rec.replace(run_id=target.id) for rec in records]
                outcome = store.upsert_usage(records)
                store.save_import_states(self.user, read.states)
        return ImportSummary(
            run=target,
            files=read.files,
            records=len(records),
            added=outcome.added if outcome else 0,
            updated=outcome.updated if outcome else 0,
            unchanged=outcome.unchanged if outcome else 0,
            unpriced=reports.unpriced_of(records),
        )


def _find_run(store: Store, ref: str, user: str | None) -> Run | None:
    by_id = store.get_run(ref)
    if by_id is not None:
        if user is not None and by_id.user != user:
            raise InputError(f"run {ref} belongs to {by_id.user}, not {user}", hint=f"pass --user {by_id.user}")
        return by_id
    named = store.runs_named(ref, user)
    return named[0] if named else None

def _new_run(store: Store, user: str, name: str | None, labels: Mapping[str, str] | None) -> Run:
    run_id = secrets.token_hex(4)
    while store.run_id_exists(run_id):
        run_id = secrets.token_hex(4)
    run = Run(id=run_id, user=user, name=name or run_id, labels=dict(labels or {}), started_at=utcnow())
    store.insert_run(run)
    return run


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

    def record(self, **kwargs: Any) -> UsageRecord:
        return self.ledger.record(run=self.id, **kwargs)

    def record_estimate(self, *, model: str, prompt_file: str | os.PathLike[str], output_tokens: int = 0, batch: bool = False) -> UsageRecord:
        return self.ledger.record_estimate(model=model, prompt_file=prompt_file, output_tokens=output_tokens, run=self.id, batch=batch)

    def record_response(self, response: Any) -> list[UsageRecord]:
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
