"""Budget check: the project's budgets, its files (and their base revision) in, CheckResult out.

Every file a budget's globs match is checked on each of the budget's models against each of
its limits. A limit is met when the value is at most the limit, so a prompt exactly at its
limit passes. An exceeded budget is a result (`CheckResult.ok` False), never an exception;
errors in the config or the inputs raise `TokoptError` subclasses. Nothing here exits.

The unit that is priced is a *request*: `file_requests` turns one file's measured content
into the requests it stands for. A plain-text file is one prompt, one request. A chat request
(OpenAI or Anthropic JSON), a JSONL file of requests or a batch input file (OpenAI Batch,
Anthropic Message Batches) is read with the parser `tokopt estimate` uses and stands for each of
its requests, counted the way the API bills them; batch files are priced at batch rates.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from tokopt import costing, inputs, tokens
from tokopt.tokens import billing, measure
from tokopt.requests import parse
from tokopt.inputs import formats, gitrepo, globs
from tokopt.requests.model import Request
from tokopt.errors import ConfigError, InputError, UnknownModelError
from tokopt.inputs.formats import Shape
from tokopt.inputs import EncodingErrors, Source
from tokopt.pricing.model import ModelPrice
from tokopt.costing.report import TextCount
from tokopt.usage import Usage, Usd
from tokopt.pricing import Catalog
from tokopt.budgets.project import FileBudget, Project
from tokopt.settings import Settings

if TYPE_CHECKING:
    from tokopt.ledger import Ledger

LimitName = Literal["max_tokens", "max_cost_per_call", "max_monthly_cost", "max_context_share", "max_increase_pct"]
Change = Literal["new", "changed", "unchanged", "deleted"]
SNIFF_SIZE = inputs.SNIFF_SIZE
REQUEST_CHUNK = 512  # requests of one file parsed and counted together: bounded memory


# --- results ---------------------------------------------------------------------------------


class LimitCheck(BaseModel):
    """One limit applied to one row: `actual` <= `limit` passes."""

    name: LimitName
    limit: Usd
    actual: Usd
    ok: bool


class Measure(BaseModel):
    """One version of one request on one model."""

    input_tokens: int
    output_tokens: int
    per_call_usd: Usd
    monthly_usd: Usd
    context_share: Usd = Field(description="(input + output) / context_window, exact")


class CheckRow(BaseModel):
    """One request of one file on one model, under one budget."""

    budget: int = Field(description="index into CheckResult.budgets")
    file: str = Field(description="POSIX path relative to the project root")
    request: str | None = Field(None, description="which request of the file; None: the file is one prompt")
    model: str
    provider: str
    approximate: bool
    batch: bool = Field(False, description="priced at batch rates (a batch input file)")
    calls_per_month: int
    change: Change | None = Field(None, description="against the base revision; None without one")
    current: Measure | None = None
    base: Measure | None = None
    delta_tokens: int | None = None
    delta_usd: Usd | None = None
    increase_pct: Usd | None = None
    checks: list[LimitCheck] = Field(default_factory=list)
    ok: bool = True

    @property
    def failures(self) -> list[LimitCheck]:
        return [c for c in self.checks if not c.ok]


class BudgetResult(BaseModel):
    index: int
    name: str
    key: str = Field(description="where the budget is in the config, e.g. budgets[0]")
    paths: list[str]
    exclude: list[str]
    models: list[str]
    output_tokens: int
    calls_per_month: int
    limits: dict[str, Usd]
    files: list[str] = Field(description="files checked now (deleted ones excluded)")
    ok: bool = True


class SpendResult(BaseModel):
    """A spend budget: what the ledger recorded in its scope, against `max_spend`."""

    index: int = Field(description="the budget's position in the config")
    name: str
    key: str
    max_spend: Usd
    user: str | None = Field(description="whose records; None: every user")
    run: str | None
    since: dt.date | None = Field(description="first day included, in `timezone`; None: from the start")
    until: dt.date | None = Field(description="last day included; None: up to now")
    period: str
    timezone: str
    spent_usd: Usd = Field(description="priced records only")
    records: int
    unpriced_records: int
    estimated_records: int
    ok: bool


class CheckResult(BaseModel):
    """Every budget's rows. `ok` is False when any row breaks a limit."""

    ok: bool
    config: str
    root: str
    repo_prefix: str = Field("", description="the root relative to the git work tree's top, '' or 'dir/'")
    base: str | None = None
    base_commit: str | None = None
    budgets: list[BudgetResult]
    rows: list[CheckRow]
    spend: list[SpendResult] = Field(default_factory=list)
    ledger: str | None = Field(None, description="the ledger the spend budgets read")
    warnings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def failed_rows(self) -> list[CheckRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def failed_spend(self) -> list[SpendResult]:
        return [r for r in self.spend if not r.ok]


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedRequest:
    """One request a file stands for: input tokens per model id and the expected output."""

    label: str | None
    input_tokens: Mapping[str, int]
    output_tokens: int
    batch: bool = False  # priced at the model's batch rates
    approximate: frozenset[str] = frozenset()  # model ids whose count is ≈ for this request


@dataclass(frozen=True)
class RequestInput:
    """One request of a request or batch file, counted: input tokens per model id."""

    label: str | None  # None when the file is one request
    input_tokens: Mapping[str, int]
    approximate: frozenset[str]
    max_output: int | None  # the request's own max_tokens


@dataclass(frozen=True)
class RequestFile:
    """A request, request (JSONL) or batch file, measured: its requests in order."""

    source: str
    requests: list[RequestInput]
    batch: bool


FileContent = TextCount | RequestFile  # what measuring one version of a file gives


def file_requests(
    content: FileContent, models: Sequence[ModelPrice], output_tokens: int, *, own_output: bool = False
) -> list[PricedRequest]:
    """The requests one budgeted file stands for, priced per model.

    A plain-text file is one prompt sent as is: one request, `output_tokens` expected back.
    A request or batch file gives one item per request, labelled by its custom_id or line;
    its output is the request's own max_tokens unless the budget sets `output_tokens`
    (`own_output`), and batch files are priced at batch rates.
    """
    if isinstance(content, TextCount):
        return [PricedRequest(None, {m.id: costing.model_tokens(m, content.tokens) for m in models}, output_tokens)]
    out = []
    for r in content.requests:
        output = r.max_output if r.max_output is not None and not own_output else output_tokens
        out.append(PricedRequest(r.label, r.input_tokens, output, content.batch, r.approximate))
    return out


def _request_labels(requests: Sequence[Request], single: bool, seen: dict[str, int]) -> list[str | None]:
    """custom_id, else `line N`; a label used twice gets its line, so rows never merge."""
    labels: list[str | None] = []
    for r in requests:
        if single:
            labels.append(None)
            continue
        label = r.custom_id if r.custom_id is not None else f"line {r.line}"
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} (line {r.line})"
        labels.append(label)
    return labels


def _budgeted_requests(
    source: Source, shape: Shape, models: Sequence[ModelPrice], errors: EncodingErrors, warnings: list[str]
) -> RequestFile:
    """measure_requests, with a way out that `tokopt check` has: the budget's `exclude`."""
    try:
        return measure_requests(source, shape, models, errors, warnings)
    except InputError as exc:
        if "invalid UTF-8" in exc.message:
            raise  # its hint, --encoding-errors, is one check has
        raise InputError(exc.message, hint="fix the file, or leave it out of the budget with `exclude`") from None


def _chunks(items: Iterator[Request], size: int) -> Iterator[list[Request]]:
    chunk: list[Request] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def measure_requests(
    source: Source, shape: Shape, models: Sequence[ModelPrice], errors: EncodingErrors, warnings: list[str]
) -> RequestFile:
    """Parse a request or batch file and count each request on each model, as estimate does.

    Parts that cannot be counted offline (images of unknown size, unknown part types) are
    named in `warnings`, never counted as zero silently."""
    encodings = sorted({m.tokenizer.encoding for m in models})
    assert shape != "text"
    opened = parse.open_requests(source, shape, errors=errors)
    items = (r for r in opened.items if isinstance(r, Request))
    batch, single = opened.batch, opened.single
    out: list[RequestInput] = []
    seen: dict[str, int] = {}
    missing: list[str] = []
    missing_total = 0
    for chunk in _chunks(items, REQUEST_CHUNK):
        labels = _request_labels(chunk, single, seen)
        for label, counted in zip(labels, billing.count_requests(chunk, encodings)):
            plan = counted.plan
            gaps = billing.not_counted(plan)
            missing_total += len(gaps)
            for gap in gaps[: max(0, 3 - len(missing))]:
                missing.append(f"{label}: {gap}" if label else gap)
            sizes: dict[str, int] = {}
            approx = set()
            for m in models:
                mi = counted.model_input(m)
                sizes[m.id] = mi.tokens
                if mi.approximate or mi.uncounted or gaps:  # a part left out: the count is a floor
                    approx.add(m.id)
            out.append(RequestInput(label, sizes, frozenset(approx), plan.conversation.max_output_tokens))
    if not out:
        raise InputError(f"{source.label}: no requests to check")
    if missing_total:
        more = f" (and {missing_total - len(missing)} more)" if missing_total > len(missing) else ""
        warnings.append(f"{source.label}: {missing_total} part(s) not counted: {'; '.join(missing)}{more}")
    return RequestFile(source.label, out, batch)


# --- files -----------------------------------------------------------------------------------


def _walk(root: Path, budgets: Sequence[FileBudget]) -> list[str]:
    """Files below the budgets' literal prefixes, outside git: hidden directories skipped
    unless a pattern names them."""
    starts = sorted({globs.literal_prefix(p) for b in budgets for p in b.paths})
    found: set[str] = set()
    for start in starts:
        top = root / start if start else root
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
            here = Path(dirpath)
            for name in filenames:
                path = here / name
                if path.is_file():
                    found.add(path.relative_to(root).as_posix())
    return sorted(found)


def _relative(arg: str, root: Path) -> str | None:
    path = Path(arg).absolute()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None


@dataclass
class _Budget:
    index: int
    spec: FileBudget
    models: list[ModelPrice]
    output_tokens: int
    calls_per_month: int
    current: list[str]
    base: list[str]


def _models_for(project: Project, catalog: Catalog, settings: Settings, index: int, budget: FileBudget) -> list[ModelPrice]:
    if budget.models:
        patterns, key = budget.models, project.key("budgets", index, "models")
    elif settings.models.value:
        patterns = settings.models.value
        key = project.key("defaults", "models") if settings.models.source == "project" else None
    else:
        return catalog.defaults()
    try:
        return catalog.select(patterns)
    except UnknownModelError as exc:
        if key is None:
            raise
        raise ConfigError(f"{project.path}: {key}: {exc.message}", hint=exc.hint) from None


def _count_current(
    root: Path, files: Sequence[str], models: Sequence[ModelPrice], errors: EncodingErrors, skipped: list[str], warnings: list[str]
) -> dict[str, FileContent]:
    encodings = sorted({m.tokenizer.encoding for m in models})
    sources = []
    requests: list[tuple[Source, Shape]] = []
    for name in files:
        path = root / name
        try:
            with path.open("rb") as fh:
                head = fh.read(SNIFF_SIZE)
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror}") from None
        if inputs.looks_binary(head):
            skipped.append(f"{name}: not UTF-8 text, not checked")
            continue
        source = Source(name, path, size)
        shape = formats.sniff(source)
        if shape == "text":
            sources.append(source)
        else:
            requests.append((source, shape))
    found: dict[str, FileContent] = {c.source: c for c in measure.count_sources(sources, encodings, errors=errors)}
    for source, shape in requests:
        found[source.label] = _budgeted_requests(source, shape, models, errors, warnings)
    return found


def _count_base(
    repo: gitrepo.Repo,
    ref: str,
    blobs: Mapping[str, str],
    models: Sequence[ModelPrice],
    errors: EncodingErrors,
    skipped: list[str],
    warnings: list[str],
) -> dict[str, FileContent]:
    encodings = sorted({m.tokenizer.encoding for m in models})
    data = gitrepo.read_blobs(repo, blobs.values())
    texts: dict[str, str] = {}
    request_files: dict[str, tuple[bytes, Shape]] = {}
    for name, oid in blobs.items():
        raw = data[oid]
        if inputs.looks_binary(raw[:SNIFF_SIZE]):
            skipped.append(f"{ref}:{name}: not UTF-8 text, not checked")
            continue
        shape = formats.sniff_data(raw, name, whole=True)
        if shape != "text":
            request_files[name] = (raw, shape)
            continue
        try:
            texts[name] = raw.decode("utf-8", errors)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{ref}:{name}: invalid UTF-8 at byte {exc.start}",
                hint="pass --encoding-errors replace to read it with U+FFFD in place of bad bytes",
            ) from None

    def segments() -> Iterator[tuple[str, str]]:
        for name, text in texts.items():
            yield name, ""
            for segment in tokens.resegment([text]):
                yield name, segment

    counted = tokens.count_keyed(segments(), encodings, expected_chars=sum(len(t) for t in texts.values()))
    found: dict[str, FileContent] = {
        name: TextCount(source=name, chars=len(text), bytes=len(text.encode("utf-8", "surrogatepass")), tokens=counted[name])
        for name, text in texts.items()
    }
    if request_files:
        # The request parser streams files; the base revision's bytes go through a private
        # temporary file, labelled REF:path in any message.
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tokopt-base-") as tmp:
            for index, (name, (raw, shape)) in enumerate(request_files.items()):
                path = Path(tmp) / f"{index}{Path(name).suffix}"
                path.write_bytes(raw)
                source = Source(f"{ref}:{name}", path, len(raw))
                content = _budgeted_requests(source, shape, models, errors, warnings)
                found[name] = RequestFile(name, content.requests, content.batch)
    return found


# --- limits ----------------------------------------------------------------------------------


def _measure(model: ModelPrice, request: PricedRequest, calls_per_month: int) -> Measure:
    input_tokens, output_tokens = request.input_tokens[model.id], request.output_tokens
    cost = costing.cost_of(model, Usage(input_tokens=input_tokens, output_tokens=output_tokens), batch=request.batch)
    with decimal.localcontext(costing.MONEY_CONTEXT):
        share = Decimal(input_tokens + output_tokens) / Decimal(model.context_window)
    # shown rounded, as estimate shows it; the limit itself is compared exactly (_limit_checks)
    share = share.quantize(Decimal("0.000001"), rounding=decimal.ROUND_HALF_UP)
    return Measure(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        per_call_usd=cost.total_usd,
        monthly_usd=costing.times(cost.total_usd, calls_per_month),
        context_share=share,
    )


def _limit_checks(spec: FileBudget, model: ModelPrice, now: Measure, before: Measure | None) -> tuple[list[LimitCheck], Decimal | None]:
    checks = []

    def add(name: LimitName, limit: Decimal | int | None, actual: Decimal, ok: bool) -> None:
        if limit is not None:
            checks.append(LimitCheck(name=name, limit=Decimal(limit), actual=actual, ok=ok))

    tokens_in = now.input_tokens
    if spec.max_tokens is not None:
        add("max_tokens", spec.max_tokens, Decimal(tokens_in), tokens_in <= spec.max_tokens)
    if spec.max_cost_per_call is not None:
        add("max_cost_per_call", spec.max_cost_per_call, now.per_call_usd, now.per_call_usd <= spec.max_cost_per_call)
    if spec.max_monthly_cost is not None:
        add("max_monthly_cost", spec.max_monthly_cost, now.monthly_usd, now.monthly_usd <= spec.max_monthly_cost)
    if spec.max_context_share is not None:
        # compared without division, so exactly at the limit is exactly at the limit
        fits = Decimal(tokens_in + now.output_tokens) <= spec.max_context_share * model.context_window
        add("max_context_share", spec.max_context_share, now.context_share, fits)
    pct = None
    if before is not None and before.input_tokens > 0:
        grown = tokens_in - before.input_tokens
        with decimal.localcontext(costing.MONEY_CONTEXT):
            pct = (Decimal(grown * 100) / Decimal(before.input_tokens)).quantize(Decimal("0.0001"), rounding=decimal.ROUND_HALF_UP)
        if spec.max_increase_pct is not None:
            add("max_increase_pct", spec.max_increase_pct, pct, grown * 100 <= spec.max_increase_pct * before.input_tokens)
    return checks, pct


def _rows(
    b: _Budget, now: Mapping[str, FileContent], then: Mapping[str, FileContent] | None, same: set[str]
) -> Iterator[CheckRow]:
    own = b.spec.output_tokens is not None
    for name in sorted(set(b.current) | set(b.base)):
        cur = file_requests(now[name], b.models, b.output_tokens, own_output=own) if name in now and name in b.current else []
        old = (
            file_requests(then[name], b.models, b.output_tokens, own_output=own)
            if then is not None and name in then and name in b.base
            else []
        )
        if not cur and not old:
            continue  # skipped: not text
        old_by_label = {r.label: r for r in old}
        labels = [r.label for r in cur] + [r.label for r in old if r.label not in {c.label for c in cur}]
        cur_by_label = {r.label: r for r in cur}
        for label in labels:
            c, o = cur_by_label.get(label), old_by_label.get(label)
            for model in b.models:
                now_m = _measure(model, c, b.calls_per_month) if c else None
                old_m = _measure(model, o, b.calls_per_month) if o else None
                change: Change | None = None
                if then is not None:
                    if now_m is None:
                        change = "deleted"
                    elif old_m is None:
                        change = "new"
                    else:
                        change = "unchanged" if name in same else "changed"
                checks: list[LimitCheck] = []
                pct = None
                if now_m is not None:
                    checks, pct = _limit_checks(b.spec, model, now_m, old_m)
                delta_tokens = delta_usd = None
                if now_m is not None and old_m is not None:
                    delta_tokens = now_m.input_tokens - old_m.input_tokens
                    delta_usd = now_m.per_call_usd - old_m.per_call_usd
                elif old_m is not None:
                    delta_tokens, delta_usd = -old_m.input_tokens, -old_m.per_call_usd
                yield CheckRow(
                    budget=b.index,
                    file=name,
                    request=label,
                    model=model.id,
                    provider=model.provider,
                    approximate=model.approximate or any(model.id in r.approximate for r in (c, o) if r is not None),
                    batch=any(r.batch for r in (c, o) if r is not None),
                    calls_per_month=b.calls_per_month,
                    change=change,
                    current=now_m,
                    base=old_m,
                    delta_tokens=delta_tokens,
                    delta_usd=delta_usd,
                    increase_pct=pct,
                    checks=checks,
                    ok=all(ch.ok for ch in checks),
                )


# --- spend budgets ---------------------------------------------------------------------------


def check_spend(project: Project, ledger: Ledger, *, now: dt.datetime | None = None) -> tuple[list[SpendResult], list[str]]:
    """Each spend budget against the ledger's priced records in its scope; and warnings."""
    from tokopt.ledger import ALL_USERS, zone

    results = []
    warnings = []
    if not ledger.path.exists():
        warnings.append(f"no ledger at {ledger.path}: nothing is recorded, so spend budgets see $0")
    for index, spec in project.config.spend_budgets:
        key = project.key("budgets", index)
        tz = zone(spec.timezone)
        today = (now or dt.datetime.now(dt.timezone.utc)).astimezone(tz).date()
        since, until = spec.window(today)
        user = ALL_USERS if spec.user == "*" else spec.user
        try:
            spent = ledger.spend(user=user, run=spec.run, since=since, until=until, timezone=spec.timezone)
        except InputError as exc:
            where = f"{key}.run" if spec.run is not None else key
            raise ConfigError(f"{project.path}: {where}: {exc.message}", hint=exc.hint) from None
        label = spec.label
        if spent.unpriced_records:
            warnings.append(
                f"spend budget {label!r}: {spent.unpriced_records:,} recorded calls have no known price and are not in "
                "its total (see tokopt session report)"
            )
        results.append(
            SpendResult(
                index=index,
                name=label,
                key=key,
                max_spend=spec.max_spend,
                user=None if spec.user == "*" else (spec.user or ledger.user),
                run=spec.run,
                since=since,
                until=until,
                period=spec.period if spec.since is None and spec.until is None else "custom",
                timezone=spec.timezone,
                spent_usd=spent.cost_usd,
                records=spent.records,
                unpriced_records=spent.unpriced_records,
                estimated_records=spent.estimated_records,
                ok=spent.cost_usd <= spec.max_spend,
            )
        )
    return results, warnings


# --- the check -------------------------------------------------------------------------------


def check(
    project: Project,
    catalog: Catalog,
    settings: Settings,
    *,
    base: str | None = None,
    only: Sequence[str] | None = None,
    errors: EncodingErrors = "strict",
    ledger: Ledger | None = None,
    now: dt.datetime | None = None,
) -> CheckResult:
    """Evaluate every budget of `project` on the working tree (and against `base`, a git
    revision); spend budgets against `ledger` (default: the user's ledger) as of `now`."""
    cfg = project.config
    if not cfg.budgets:
        raise ConfigError(f"{project.path}: no budgets", hint=f"add a [[{project.key('budgets')}]] table, or run `tokopt init`")
    root = project.root
    file_specs = cfg.file_budgets
    repo = gitrepo.require(root, "--base") if base is not None else gitrepo.find(root) if file_specs else None
    if not file_specs:
        current_files = []
    elif repo is not None:
        current_files = gitrepo.working_files(repo)
    else:
        current_files = _walk(root, [spec for _, spec in file_specs])
    base_commit = gitrepo.resolve(repo, base) if base is not None and repo is not None else None
    base_blobs = gitrepo.tree_files(repo, base_commit) if base_commit is not None and repo is not None else {}
    if only is not None:
        for arg in only:
            # a file deleted since the base is still checked (as deleted); any other is a typo
            if not Path(arg).exists() and _relative(arg, root) not in base_blobs:
                raise InputError(f"file not found: {arg}")
        wanted = {r for r in (_relative(a, root) for a in only) if r is not None}
        current_files = [f for f in current_files if f in wanted]
        base_blobs = {f: o for f, o in base_blobs.items() if f in wanted}

    budgets = []
    for index, spec in file_specs:
        budgets.append(
            _Budget(
                index=index,
                spec=spec,
                models=_models_for(project, catalog, settings, index, spec),
                output_tokens=spec.output_tokens if spec.output_tokens is not None else settings.output_tokens.value,
                calls_per_month=spec.calls_per_month if spec.calls_per_month is not None else settings.calls.value,
                current=[f for f in current_files if spec.matches(f)],
                base=[f for f in base_blobs if spec.matches(f)],
            )
        )

    all_models = list({m.id: m for b in budgets for m in b.models}.values())
    skipped: list[str] = []
    counting: list[str] = []
    counted_now = _count_current(root, sorted({f for b in budgets for f in b.current}), all_models, errors, skipped, counting)
    then = None
    same: set[str] = set()
    if base_commit is not None and repo is not None:
        assert base is not None
        wanted_base = {f: base_blobs[f] for b in budgets for f in b.base}
        then = _count_base(repo, base, wanted_base, all_models, errors, skipped, counting)
        both = sorted(set(counted_now) & set(then))
        same = {f for f, oid in gitrepo.blob_ids(repo, both).items() if oid == base_blobs[f]}

    rows = [row for b in budgets for row in _rows(b, counted_now, then, same)]
    warnings = skipped + counting
    notes = list(project.notes)
    results = []
    for b in budgets:
        label = b.spec.label
        mine = [r for r in rows if r.budget == b.index]
        if not b.current and not b.base:
            warnings.append(f"budget {label!r} ({project.key('budgets', b.index)}) matches no files")
        if base is None and b.spec.max_increase_pct is not None:
            notes.append(f"budget {label!r}: max_increase_pct is checked only against a base (--base REF)")
        results.append(
            BudgetResult(
                index=b.index,
                name=label,
                key=project.key("budgets", b.index),
                paths=b.spec.paths,
                exclude=b.spec.exclude,
                models=[m.id for m in b.models],
                output_tokens=b.output_tokens,
                calls_per_month=b.calls_per_month,
                limits=b.spec.limits(),
                files=sorted(f for f in b.current if f in counted_now),
                ok=all(r.ok for r in mine),
            )
        )
    spend: list[SpendResult] = []
    ledger_path = None
    if cfg.spend_budgets:
        if ledger is None:
            from tokopt.ledger import Ledger

            ledger = Ledger()
        ledger_path = str(ledger.path)
        spend, spend_warnings = check_spend(project, ledger, now=now)
        warnings += spend_warnings
    prefix = ""
    if repo is not None:
        prefix = repo.prefix
    return CheckResult(
        ok=all(r.ok for r in rows) and all(r.ok for r in spend),
        spend=spend,
        ledger=ledger_path,
        config=str(project.path),
        root=str(root),
        repo_prefix=prefix,
        base=base,
        base_commit=base_commit,
        budgets=results,
        rows=rows,
        warnings=warnings,
        notes=notes,
    )
