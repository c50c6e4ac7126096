"""`session export`: the ledger's records for other tools, one row per record.

- `csv`: the record columns below, in this order (the header is stable: new token kinds and
  fields are added, never renamed); times ISO-8601 UTC, money plain decimal text.
- `parquet` (pyarrow, the `parquet` extra): the same columns typed (timestamp UTC, int64 tokens,
  decimal(38, 18) USD), readable by DuckDB, pandas, Spark and warehouses.
- `focus`: FOCUS 1.3 (the FinOps Open Cost and Usage Specification) as CSV: one Usage charge
  per priced record, the model as the SKU and resource, its tokens as the consumed quantity,
  user, run, project and machine as tags. FOCUS costs are never null, and tokopt never shows
  an unknown price as $0, so records without a price are left out of it and counted.

Records are read in batches inside one read transaction, so an export is one snapshot, and
written to a temporary file renamed into place: a failed export leaves no partial file.
Exported costs add up to `session report`'s total exactly (Decimal, never float).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tokopt.errors import InputError, LedgerError
from tokopt.ledger.sqlitefile import money_text
from tokopt.ledger.store import Filters, Run, Store
from tokopt.usage import TOKEN_FIELDS, UsageRecord

FORMATS = ("csv", "parquet", "focus")
BATCH = 20_000
FOCUS_VERSION = "1.3"
PARQUET_EXTRA = "pip install 'tokopt[parquet]'"
# Parquet's money column: 38 digits, 18 after the point (exact for every price tokopt knows)
MONEY_PRECISION, MONEY_SCALE = 38, 18

CSV_COLUMNS: tuple[str, ...] = (
    "time", "user", "run_id", "run", "provider", "model", *TOKEN_FIELDS,
    "cost_usd", "pricing_as_of", "batch", "estimated", "source", "origin", "record_id", "pricing_version", "service_tier",
)  # fmt: skip


@dataclass(frozen=True)
class ExportSummary:
    format: str
    records: int  # rows written
    cost_usd: Decimal  # their total (priced records)
    unpriced_records: int  # in scope without a price (in csv/parquet with no cost; left out of focus)
    output: str | None  # the file written, or None for stdout


# -- reading -------------------------------------------------------------------------------------


class _Runs:
    """Runs by id, fetched once each."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.known: dict[str, Run | None] = {}

    def get(self, run_id: str | None) -> Run | None:
        if run_id is None:
            return None
        if run_id not in self.known:
            self.known[run_id] = self.store.get_run(run_id)
        return self.known[run_id]


def _batches(store: Store, filters: Filters) -> Iterator[list[UsageRecord]]:
    yield from store.usage_batches(filters, BATCH)


# -- csv -----------------------------------------------------------------------------------------


def _time(value: dt.datetime | None) -> str:
    assert value is not None
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def csv_row(r: UsageRecord, run: Run | None) -> list[str]:
    return [
        _time(r.time), r.user or "", r.run_id or "", run.name if run else "", r.provider or "", r.model,
        *[str(getattr(r, name)) for name in TOKEN_FIELDS],
        money_text(r.cost_usd) if r.cost_usd is not None else "",
        r.pricing_as_of.isoformat() if r.pricing_as_of else "",
        "true" if r.batch else "false", "true" if r.estimated else "false",
        r.source, r.origin or "", r.uid or "", r.pricing_version or "", r.service_tier or "",
    ]  # fmt: skip


def _write_csv(store: Store, filters: Filters, out: IO[str]) -> tuple[int, Decimal, int]:
    runs = _Runs(store)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n, cost, unpriced = 0, Decimal(0), 0
    for batch in _batches(store, filters):
        for r in batch:
            writer.writerow(csv_row(r, runs.get(r.run_id)))
            n += 1
            if r.cost_usd is None:
                unpriced += 1
            else:
                cost += r.cost_usd
    return n, cost, unpriced


# -- focus ---------------------------------------------------------------------------------------

# FOCUS 1.3 Cost and Usage columns that apply to a metered LLM API call, then tokopt's own
# (x_ prefixed, as the specification asks of custom columns). ProviderName and PublisherName
# (1.2, replaced in 1.3 by ServiceProviderName and HostProviderName) are kept for older readers.
FOCUS_COLUMNS: tuple[str, ...] = (
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingCurrency",
    "BillingAccountId", "BillingAccountName", "SubAccountId", "SubAccountName",
    "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
    "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "PricingCategory",
    "ServiceProviderName", "HostProviderName", "InvoiceIssuerName", "ProviderName", "PublisherName",
    "ServiceCategory", "ServiceSubcategory", "ServiceName",
    "ResourceId", "ResourceName", "ResourceType", "SkuId", "SkuPriceId",
    "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "Tags",
    *[f"x_{''.join(p.title() for p in name.split('_'))}" for name in TOKEN_FIELDS],
    "x_Batch", "x_Estimated", "x_Source", "x_PricingAsOf", "x_Machine", "x_RecordId", "x_PricingVersion", "x_ServiceTier",
)  # fmt: skip


def _focus_time(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month(t: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = t.astimezone(dt.timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def focus_row(r: UsageRecord, run: Run | None, ledger_id: str) -> list[str]:
    assert r.time is not None and r.cost_usd is not None
    cost = money_text(r.cost_usd)
    hour = r.time.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    period = _month(r.time)
    provider = r.provider or "unknown"
    tokens = r.input_tokens + r.output_tokens
    tags: dict[str, str] = {}
    if run is not None:
        tags.update(run.labels)
        tags.update({"run": run.name, "run_id": run.id})
    tags["user"] = r.user or ""
    if r.origin:
        tags["machine"] = r.origin
    project = tags.get("project")
    if project is not None:
        tags["project"] = project
    return [
        cost, cost, cost, cost, "USD",
        f"tokopt:{ledger_id}", "tokopt ledger", r.user or "", r.user or "",
        _focus_time(period[0]), _focus_time(period[1]), _focus_time(hour), _focus_time(hour + dt.timedelta(hours=1)),
        "Usage", "", f"{r.model} API usage: {r.input_tokens} input and {r.output_tokens} output tokens", "Usage-Based", "Standard",
        provider, provider, provider, provider, provider,
        "AI and Machine Learning", "Generative AI", f"{provider} API",
        f"{provider}/{r.model}", r.model, "Model", r.model, f"{r.model}@{r.pricing_as_of.isoformat() if r.pricing_as_of else ''}",
        str(tokens), "Tokens", str(tokens), "Tokens", json.dumps(tags, sort_keys=True, ensure_ascii=False),
        *[str(getattr(r, name)) for name in TOKEN_FIELDS],
        "true" if r.batch else "false", "true" if r.estimated else "false", r.source,
        r.pricing_as_of.isoformat() if r.pricing_as_of else "", r.origin or "", r.uid or "", r.pricing_version or "", r.service_tier or "",
    ]  # fmt: skip


def _write_focus(store: Store, filters: Filters, out: IO[str]) -> tuple[int, Decimal, int]:
    runs = _Runs(store)
    ledger_id = store.ledger_id
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FOCUS_COLUMNS)
    n, cost, unpriced = 0, Decimal(0), 0
    for batch in _batches(store, filters):
        for r in batch:
            if r.cost_usd is None:
                unpriced += 1
                continue
            writer.writerow(focus_row(r, runs.get(r.run_id), ledger_id))
            n += 1
            cost += r.cost_usd
    return n, cost, unpriced


# -- parquet -------------------------------------------------------------------------------------


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("--format parquet needs pyarrow, which is not installed", hint=PARQUET_EXTRA) from None
    return pyarrow


def parquet_schema(pa: Any) -> Any:
    fields = [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("user", pa.string(), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("run", pa.string()),
        pa.field("provider", pa.string()),
        pa.field("model", pa.string(), nullable=False),
        *[pa.field(name, pa.int64(), nullable=False) for name in TOKEN_FIELDS],
        pa.field("cost_usd", pa.decimal128(MONEY_PRECISION, MONEY_SCALE)),
        pa.field("pricing_as_of", pa.date32()),
        pa.field("batch", pa.bool_(), nullable=False),
        pa.field("estimated", pa.bool_(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("origin", pa.string()),
        pa.field("record_id", pa.string()),
        pa.field("pricing_version", pa.string()),
        pa.field("service_tier", pa.string()),
    ]
    return pa.schema(fields)


_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


def _money(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    exact = value.quantize(_QUANTUM)
    if exact != value:
        raise LedgerError(f"a cost of {money_text(value)} USD has more than {MONEY_SCALE} decimal places; Parquet would round it", hint="export it as csv")
    return exact


def _write_parquet(store: Store, filters: Filters, path: Path) -> tuple[int, Decimal, int]:
    pa = _pyarrow()
    import pyarrow.parquet as pq

    schema = parquet_schema(pa)
    runs = _Runs(store)
    n, cost, unpriced = 0, Decimal(0), 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for batch in _batches(store, filters):
            names = [run.name if (run := runs.get(r.run_id)) else None for r in batch]
            columns = {
                "time": [r.time for r in batch],
                "user": [r.user for r in batch],
                "run_id": [r.run_id for r in batch],
                "run": names,
                "provider": [r.provider for r in batch],
                "model": [r.model for r in batch],
                **{name: [getattr(r, name) for r in batch] for name in TOKEN_FIELDS},
                "cost_usd": [_money(r.cost_usd) for r in batch],
                "pricing_as_of": [r.pricing_as_of for r in batch],
                "batch": [r.batch for r in batch],
                "estimated": [r.estimated for r in batch],
                "source": [r.source for r in batch],
                "origin": [r.origin for r in batch],
                "record_id": [r.uid for r in batch],
                "pricing_version": [r.pricing_version for r in batch],
                "service_tier": [r.service_tier for r in batch],
            }
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))
            n += len(batch)
            for r in batch:
                if r.cost_usd is None:
                    unpriced += 1
                else:
                    cost += r.cost_usd
    return n, cost, unpriced


# -- the command's core --------------------------------------------------------------------------


def export(store: Store, fmt: str, filters: Filters, output: Path | None, stdout: IO[str]) -> ExportSummary:
    """Write the records in scope as `fmt` to `output` (a file, replaced whole) or `stdout`."""
    if fmt not in FORMATS:
        raise InputError(f"cannot export as {fmt}", hint=f"one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        _pyarrow()
        if output is None:
            raise InputError("--format parquet writes a file: name it with --output", hint="e.g. --output usage.parquet")
    if output is None:
        with store.read():
            write = _write_focus if fmt == "focus" else _write_csv
            n, cost, unpriced = write(store, filters, stdout)
        return ExportSummary(format=fmt, records=n, cost_usd=cost, unpriced_records=unpriced, output=None)
    if output.is_dir():
        raise InputError(f"--output is a directory: {output}", hint="name a file, e.g. usage.parquet")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    temp = Path(temp_name)
    try:
        with store.read():
            if fmt == "parquet":
                os.close(fd)
                n, cost, unpriced = _write_parquet(store, filters, temp)
            else:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                    write = _write_focus if fmt == "focus" else _write_csv
                    n, cost, unpriced = write(store, filters, out)
        os.replace(temp, output)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return ExportSummary(format=fmt, records=n, cost_usd=cost, unpriced_records=unpriced, output=str(output))


def export_command(
    location: str,
    fmt: str,
    output: Path | None,
    stdout: IO[str],
    *,
    user: str | None,
    all_users: bool,
    run: str | None,
    since: str | None,
    until: str | None,
    timezone: str | None,
) -> ExportSummary:
    """What `session export` runs: the records of the ledger at `location` in the scope its
    options name (as `session report` reads them), written as `fmt`."""
    from tokopt.ledger import reports
    from tokopt.ledger.records import current_user
    from tokopt.ledger.store import open_store
    from tokopt.ledger.timezones import parse_when, zone

    me = current_user(user)
    tz = zone(timezone)
    start, end = parse_when(since, tz), parse_when(until, tz, end=True)
    if start is not None and end is not None and start >= end:
        raise InputError("--since is not before --until")
    if fmt == "parquet":
        _pyarrow()
    store = open_store(location, create=False)
    try:
        with store.read():
            filters, _ = reports.scope(store, user=reports.ALL_USERS if all_users else None, me=me, run=run, since=start, until=end)
        return export(store, fmt, filters, output, stdout)
    finally:
        store.close()
