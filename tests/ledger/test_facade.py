"""The ledger as apps and commands use it: users, runs, pricing, imports, reports, and what must
hold under concurrency and when a process is killed."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import pkgutil
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import PRICING_DIR, REPO
from tests.ledger_files import (
    anthropic_message,
    claude_code_assistant,
    claude_code_big,
    gemini_response,
    openai_chat,
    openai_response,
    stop,
    write_jsonl,
)
import tokopt.ledger
from tokopt import tokens
from tokopt.ledger import importers
from tokopt.ledger import sqlite as sqlite_store
from tokopt.costing import cost_of
from tokopt.errors import InputError
from tokopt.ledger import ALL_USERS, Ledger
from tokopt.usage import Usage
from tokopt.pricing import load_catalog

CATALOG = load_catalog(PRICING_DIR)
UTC = dt.timezone.utc


@pytest.fixture
def path(ledger_location):
    """A fresh ledger: each test runs once on an SQLite file and once on PostgreSQL."""
    return ledger_location


@pytest.fixture
def sqlite_path(tmp_path):
    return tmp_path / "ledger.sqlite3"


def is_postgres(location) -> bool:
    return isinstance(location, str) and location.startswith("postgresql://")


def sql(location, query):
    """Rows of a query on the ledger's own database, outside tokopt."""
    if is_postgres(location):
        import psycopg

        with psycopg.connect(location) as conn:
            return conn.execute(query).fetchall()
    db = sqlite3.connect(location)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def ledger(path, user="alice"):
    return Ledger(path, user=user, catalog=CATALOG)


def price(model, **usage):
    return cost_of(CATALOG.get(model), Usage(**usage)).total_usd


# -- users and runs -----------------------------------------------------------------------


def test_users_are_isolated(path):
    with ledger(path, "alice") as a, ledger(path, "bob") as b:
        a.record(model="gpt-5.5", input_tokens=1000, output_tokens=100)
        a.record(model="gpt-5.5", input_tokens=2000, output_tokens=100)
        b.record(model="claude-opus-4-8", input_tokens=50_000, output_tokens=9000)
        report_a = a.report(by="user")
        assert [r.key["user"] for r in report_a.rows] == ["alice"] and report_a.total.records == 2
        for by in ("model", "run", "day", "provider"):
            assert a.report(by=by).total.records == 2
        assert {r.key["model"] for r in a.report(by="model").rows} == {"gpt-5.5"}
        assert b.spend().records == 1 and b.spend().cost_usd == price("claude-opus-4-8", input_tokens=50_000, output_tokens=9000)
        assert a.spend(user="bob").records == 1  # asked for by name
        everyone = a.report(by="user", user=ALL_USERS)
        assert {r.key["user"]: r.sums.records for r in everyone.rows} == {"alice": 2, "bob": 1}
        assert all(row.user == "alice" for row in a.usage())


def test_runs_never_mix_and_the_current_run_takes_new_records(path, monkeypatch):
    with ledger(path) as book:
        first = book.start_run("eval-a", {"branch": "main"})
        book.record(model="gpt-5.5", input_tokens=100, output_tokens=1)
        second = book.start_run("eval-b")
        book.record(model="gpt-5.5", input_tokens=200, output_tokens=2)
        book.record(model="gpt-5.5", input_tokens=300, output_tokens=3, run="eval-a")  # by name
        assert book.current_run().id == second.id
        monkeypatch.setenv("TOKOPT_RUN", first.id)
        book.record(model="gpt-5.5", input_tokens=400, output_tokens=4)  # TOKOPT_RUN wins over the current run
        monkeypatch.delenv("TOKOPT_RUN")
        book.end_run()
        assert book.current_run() is None
        book.record(model="gpt-5.5", input_tokens=500, output_tokens=5)  # no run at all

        assert [r.input_tokens for r in book.usage(run="eval-a")] == [100, 300, 400]
        assert [r.input_tokens for r in book.usage(run=second.id)] == [200]
        by_run = {r.key["run_id"]: r.sums.input_tokens for r in book.report(by="run").rows}
        assert by_run == {first.id: 800, second.id: 200, None: 500}
        assert book.report(by="model", run="eval-b").total.input_tokens == 200
        listing = {item.run.name: item for item in book.runs()}
        assert listing["eval-a"].sums.records == 3 and listing["eval-a"].run.labels == {"branch": "main"}
        assert listing["eval-b"].run.ended_at is not None and not listing["eval-b"].current


def test_a_new_run_name_starts_a_run_and_other_users_runs_are_off_limits(path):
    with ledger(path, "alice") as a, ledger(path, "bob") as b:
        a.record(model="gpt-5.5", input_tokens=10, output_tokens=1, run="ci-1234")
        (run,) = [item.run for item in a.runs()]
        assert run.name == "ci-1234" and any("started run" in n for n in a.notices)
        with pytest.raises(InputError, match="belongs to alice"):
            b.record(model="gpt-5.5", input_tokens=10, output_tokens=1, run=run.id)
        with pytest.raises(InputError, match="no run"):
            b.report(run="ci-1234")
        with pytest.raises(InputError, match="no current run"):
            b.end_run()


def test_deleting_a_run_takes_its_records_and_nothing_else(path):
    with ledger(path) as book:
        keep = book.start_run("keep")
        book.record(model="gpt-5.5", input_tokens=10, output_tokens=1)
        gone = book.start_run("gone")
        book.record(model="gpt-5.5", input_tokens=20, output_tokens=1)
        book.record(model="gpt-5.5", input_tokens=30, output_tokens=1)
        run, n = book.delete_run("gone")
        assert (run.id, n) == (gone.id, 2)
        assert book.current_run() is None
        assert [item.run.id for item in book.runs()] == [keep.id]
        assert book.spend().records == 1


def test_the_run_context_manager_records_into_its_run_and_ends_it(path):
    with ledger(path) as book:
        outside = book.start_run("interactive")
        with book.run("batch-job", labels={"model": "gpt-5.5"}) as run:
            run.record(model="gpt-5.5", input_tokens=1000, output_tokens=10)
            run.record_response(openai_response("resp_ctx", inp=50, out=5))
            assert run.spend().records == 2
        assert book.current_run().id == outside.id  # a `with` run never takes over the current run
        (listing,) = [i for i in book.runs() if i.run.id == run.id]
        assert listing.run.ended_at is not None and listing.sums.records == 2


# -- recording and pricing ------------------------------------------------------------------


def test_record_prices_with_cost_of_and_keeps_decimal_text_with_as_of(path):
    with ledger(path) as book:
        row = book.record(
            model="claude-opus-4-7-20260416",  # a dated snapshot, resolved by its alias
            input_tokens=120_000,
            cached_input_tokens=100_000,
            cache_write_tokens=10_000,
            cache_write_1h_tokens=5_000,
            output_tokens=4000,
            reasoning_tokens=1000,
        )
    model = CATALOG.get("claude-opus-4-7")
    expected = cost_of(model, Usage(input_tokens=120_000, cached_input_tokens=100_000, cache_write_tokens=10_000, cache_write_1h_tokens=5_000, output_tokens=4000))
    assert row.model == "claude-opus-4-7" and row.provider == "anthropic"
    assert row.cost_usd == expected.total_usd and row.pricing_as_of == model.as_of
    if is_postgres(path):  # exact numeric
        ((text, kind),) = sql(path, "SELECT cost_usd::text, pg_typeof(cost_usd)::text FROM usage")
        assert kind == "numeric" and Decimal(text) == expected.total_usd
    else:
        ((text, kind),) = sql(path, "SELECT cost_usd, typeof(cost_usd) FROM usage")
        assert kind == "text" and Decimal(text) == expected.total_usd


@pytest.mark.parametrize(
    "name, expected",
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("openai/gpt-5.5", "gpt-5.5"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        # a hosted id is priced at its host's price, under the host's name
        ("claude-sonnet-4-5@20250929", "vertex_ai/claude-sonnet-4-5"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock/regional.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("GPT-5.5", "gpt-5.5"),
    ],
)
def test_model_names_from_logs_resolve_through_the_catalog(path, name, expected):
    with ledger(path) as book:
        assert book.record(model=name, input_tokens=10, output_tokens=1).model == expected


def test_an_unknown_model_is_kept_unpriced_never_zero(path):
    with ledger(path) as book:
        book.record(model="gpt-5.5", input_tokens=1000, output_tokens=10)
        row = book.record(model="acme-llm-7", input_tokens=10_000, output_tokens=500, provider="acme")
        assert row.cost_usd is None and row.pricing_as_of is None and row.provider == "acme"
        report = book.report(by="model")
        unknown = next(r for r in report.rows if r.key["model"] == "acme-llm-7")
        assert unknown.sums.cost_usd is None and unknown.sums.unpriced_records == 1
        assert report.rows[-1] is unknown  # unknown costs sort after every known one
        assert [(u.model, u.records) for u in report.unpriced] == [("acme-llm-7", 1)]
        assert report.total.cost_usd == price("gpt-5.5", input_tokens=1000, output_tokens=10)
        assert report.total.unpriced_records == 1
        only_unknown = book.report(by="day", run=None, since="2000-01-01")
        assert only_unknown.total.records == 2
        spend = book.spend()
        assert (spend.records, spend.unpriced_records) == (2, 1)


def test_invalid_usage_is_an_input_error_and_records_nothing(path):
    with ledger(path) as book:
        with pytest.raises(InputError, match="exceed the input tokens"):
            book.record(model="gpt-5.5", input_tokens=10, cached_input_tokens=20)
        with pytest.raises(InputError, match="reasoning tokens"):
            book.record(model="gpt-5.5", input_tokens=10, output_tokens=1, reasoning_tokens=5)
        with pytest.raises(InputError, match="input_tokens"):
            book.record(model="gpt-5.5", input_tokens=-1)
        with pytest.raises(InputError, match="invalid usage record"):
            book.record_many([{"model": "gpt-5.5", "input": 5}, {"model": "gpt-5.5", "tokens": 5}])
        assert book.spend().records == 0


def test_the_prompt_is_hashed_and_never_stored(path):
    secret = "Summarise the merger plan for ACME-7731 in three bullets."
    with ledger(path) as book:
        row = book.record(model="gpt-5.5", input_tokens=12, output_tokens=3, prompt=secret)
    assert row.prompt_hash.startswith("sha256:") and len(row.prompt_hash) == 71
    book.close()
    if is_postgres(path):
        raw = "".join(str(r) for table in ("usage", "runs", "tokopt_ledger") for r in sql(path, f"SELECT t::text FROM {table} t")).encode()
        assert row.prompt_hash.encode() in raw
    else:
        raw = b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))
    assert b"ACME-7731" not in raw and b"merger" not in raw


def test_an_estimate_from_a_prompt_file_is_counted_exactly_and_marked(path, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("You are terse.\nList three prime numbers.\n" * 20, encoding="utf-8")
    with ledger(path) as book:
        row = book.record_estimate(model="gpt-5.5", prompt_file=prompt, output_tokens=50)
        approx = book.record_estimate(model="claude-opus-4-8", prompt_file=prompt)
    assert row.estimated and row.input_tokens == tokens.count(prompt.read_text(), "o200k_base")
    assert row.cost_usd == price("gpt-5.5", input_tokens=row.input_tokens, output_tokens=50)
    assert approx.input_tokens > row.input_tokens  # the catalog's approximation for Claude
    assert book.report().total.estimated_records == 2


def test_record_response_and_its_dedupe(path):
    with ledger(path) as book:
        (row,) = book.record_response(anthropic_message("msg_r1", inp=10, out=5, read=1000, write=200))
        assert (row.input_tokens, row.cached_input_tokens, row.cache_write_tokens) == (1210, 1000, 200)
        book.record_response(anthropic_message("msg_r1", inp=10, out=5, read=1000, write=200))
        assert book.spend().records == 1
        with pytest.raises(InputError, match="no usage"):
            book.record_response({"id": "x", "object": "chat.completion", "choices": []})


# -- imports ----------------------------------------------------------------------------------


def _mixed_logs(tmp_path: Path) -> list[str]:
    cc = write_jsonl(
        tmp_path / "cc.jsonl",
        [
            claude_code_assistant(message_id="m1", request_id="r1", cache_read=5000, output_tokens=3),
            claude_code_assistant(message_id="m1", request_id="r1", cache_read=5000, output_tokens=300),
            claude_code_assistant(message_id="m2", request_id="r2", model="claude-nova-9", output_tokens=20),
        ],
        garbage={1: "not json at all"},
    )
    api = write_jsonl(
        tmp_path / "api.jsonl",
        [openai_chat("c1", prompt=1000, completion=100, cached=800), gemini_response("g1", prompt=400, candidates=50, thoughts=25)],
    )
    return [str(cc), str(api)]


def test_an_imported_flex_or_priority_call_is_priced_on_its_tier(path, tmp_path):
    nov = {"created_at": 1795000000}  # 2026-11-19: the data prices gpt-5.5's tiers apart by then
    log = write_jsonl(
        tmp_path / "tiers.jsonl",
        [
            {**openai_response("resp_f", model="gpt-5.5", inp=100_000, out=10_000, cached=50_000), **nov, "service_tier": "flex"},
            {**openai_response("resp_p", model="gpt-4o", inp=1_000, out=100), **nov, "service_tier": "priority"},
            {**openai_response("resp_x", model="gpt-4o", inp=1_000, out=100), **nov, "service_tier": "flex"},  # gpt-4o has no flex price
        ],
    )
    with ledger(path) as book:
        book.import_paths([str(log)])
        rows = {r.dedupe_key: r for r in book.usage()}
    for key, model, tier in [("openai:resp_f", "gpt-5.5", "flex"), ("openai:resp_p", "gpt-4o", "priority")]:
        row = rows[key]
        at = CATALOG.get_at(model, row.time)
        counts = Usage(input_tokens=row.input_tokens, cached_input_tokens=row.cached_input_tokens, output_tokens=row.output_tokens)
        assert row.service_tier == tier and row.cost_usd == cost_of(at.at_service_tier(tier), counts).total_usd
        assert row.cost_usd != cost_of(at, counts).total_usd  # not the standard price
    # a tier the model has no price for: unpriced, never the standard price
    assert (rows["openai:resp_x"].cost_usd, rows["openai:resp_x"].service_tier) == (None, "flex")


def test_importing_the_same_files_twice_adds_nothing(path, tmp_path):
    files = _mixed_logs(tmp_path)
    with ledger(path) as book:
        first = book.import_paths(files)
        assert (first.records, first.added, first.updated, first.unchanged) == (4, 4, 0, 0)
        assert [f.garbage for f in first.files] == [1, 0]
        assert [(u.model, u.records) for u in first.unpriced] == [("claude-nova-9", 1)]
        before = book.report(by="model")
        second = book.import_paths(files)
        # unchanged files are not read again at all
        assert [f.status for f in second.files] == ["unchanged", "unchanged"]
        assert (second.records, second.added, second.updated, second.unchanged) == (0, 0, 0, 0)
        assert book.report(by="model") == before


def test_an_import_leaves_garbage_collection_as_it_found_it(sqlite_path, tmp_path):
    # an import runs without cyclic collection, and gives it back as it was (after a failed import too)
    import gc

    files = _mixed_logs(tmp_path)
    states = []
    with ledger(sqlite_path) as book:
        try:
            for enabled in (True, False):
                (gc.enable if enabled else gc.disable)()
                book.import_paths(files)
                states.append(gc.isenabled())
            gc.enable()
            with pytest.raises(InputError):
                book.import_paths([str(tmp_path / "missing.jsonl")])
            states.append(gc.isenabled())
        finally:
            gc.enable()
    assert states == [True, False, True]


def test_an_import_reports_every_byte_it_reads(path, tmp_path):
    files = _mixed_logs(tmp_path)
    seen: list[int] = []
    with ledger(path) as book:
        book.import_paths(files, on_bytes=seen.append)
    assert sum(seen) == sum(Path(f).stat().st_size for f in files)


def test_a_grown_transcript_updates_its_partial_response(path, tmp_path):
    log = tmp_path / "live.jsonl"
    with ledger(path) as book:
        write_jsonl(log, [claude_code_assistant(message_id="m1", request_id="r1", output_tokens=3)])
        book.import_paths([str(log)])
        write_jsonl(
            log,
            [
                claude_code_assistant(message_id="m1", request_id="r1", output_tokens=3),
                claude_code_assistant(message_id="m1", request_id="r1", output_tokens=640),
                claude_code_assistant(message_id="m2", request_id="r2", output_tokens=10),
            ],
        )
        again = book.import_paths([str(log)])
        assert (again.added, again.updated) == (1, 1)
        assert sorted(r.output_tokens for r in book.usage()) == [10, 640]
        usage = book.usage()[0]
        assert usage.cost_usd == price("claude-sonnet-4-5", input_tokens=usage.input_tokens, output_tokens=640)


def test_an_import_goes_to_the_chosen_run(path, tmp_path):
    files = _mixed_logs(tmp_path)
    with ledger(path) as book:
        summary = book.import_paths(files, run="imported-logs")
        assert summary.run is not None and summary.run.name == "imported-logs"
        assert book.spend(run="imported-logs").records == 4


def test_nothing_readable_is_fatal_but_garbage_among_usage_is_not(path, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text("garbage\n{\n\x00\n")
    with ledger(path) as book:
        with pytest.raises(InputError, match="nothing could be read.*3 unreadable lines"):
            book.import_paths([str(junk)])
        summary = book.import_paths([str(junk), *_mixed_logs(tmp_path)])
        assert summary.added == 4 and summary.files[0].garbage == 3


# -- reports ----------------------------------------------------------------------------------


def test_reading_never_creates_the_ledger(path):
    book = ledger(path)
    assert book.report().total.records == 0 and book.runs() == [] and book.spend().cost_usd == 0
    assert not book.exists()
    if is_postgres(path):
        assert sql(path, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()") == [(0,)]
    else:
        assert not path.exists()


def test_an_old_ledger_is_migrated_and_the_ledger_says_so(sqlite_path):
    path = sqlite_path
    from tokopt.ledger import migrations

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    migrations.migrate(db, upto=1)
    db.execute("COMMIT")
    db.close()
    book = ledger(path)
    assert book.report().total.records == 0
    assert any("migrated ledger" in n and ".bak" in n for n in book.notices)


@st.composite
def calls(draw):
    model = draw(st.sampled_from(["gpt-5.5", "claude-opus-4-8", "gemini-2.5-pro", "deepseek-chat", "gpt-5.4-mini", "not-a-model"]))
    inp = draw(st.integers(0, 2_000_000))
    cached = draw(st.integers(0, inp))
    write = draw(st.integers(0, inp - cached))
    write_1h = draw(st.integers(0, inp - cached - write))
    out = draw(st.integers(0, 200_000))
    return dict(
        model=model,
        input_tokens=inp,
        cached_input_tokens=cached,
        cache_write_tokens=write,
        cache_write_1h_tokens=write_1h,
        output_tokens=out,
        reasoning_tokens=draw(st.integers(0, out)),
        batch=draw(st.booleans()),
        time=draw(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(UTC))),
    )


@settings(max_examples=60)
@given(batch=st.lists(calls(), min_size=1, max_size=8))
def test_recorded_calls_read_back_with_cost_of_prices(shared_ledger_location, batch):
    path = shared_ledger_location
    user = f"u{os.urandom(6).hex()}"
    with Ledger(path, user=user, catalog=CATALOG) as book:
        written = book.record_many(batch)
        back = sorted(book.usage(), key=lambda r: r.id)  # usage() lists by time
        report = book.report(by="model")
    assert back == written
    expected_total = Decimal(0)
    for call, row in zip(batch, back):
        counts = {k: call[k] for k in ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens")}
        assert {k: getattr(row, k) for k in counts} == counts and row.reasoning_tokens == call["reasoning_tokens"]
        assert row.time == call["time"] and row.user == user
        model = CATALOG.find(call["model"])
        if model is None:
            assert row.cost_usd is None and row.model == call["model"]
        elif call["batch"] and not model.has_batch:
            # a batch call on a model with no batch price: unpriced, never at the standard rate
            assert row.cost_usd is None and row.model == model.id and row.batch
        else:
            model = CATALOG.get_at(model.id, call["time"])  # a record is priced at its own time
            assert row.cost_usd == cost_of(model, Usage(**counts), batch=call["batch"]).total_usd
            assert row.pricing_version == model.data_version and row.pricing_version.startswith("gp:")
            expected_total += row.cost_usd
    unpriced = sum(1 for c in batch if (m := CATALOG.find(c["model"])) is None or (c["batch"] and not m.has_batch))
    # nothing priced: the total is unknown, never $0
    assert report.total.cost_usd == (expected_total if unpriced < len(batch) else None)
    assert (report.total.records, report.total.unpriced_records) == (len(batch), unpriced)


def test_the_ledger_core_imports_neither_typer_nor_rich_and_import_tokopt_stays_light():
    from tests.test_project import python

    core = [f"tokopt.ledger.{m.name}" for m in pkgutil.iter_modules(tokopt.ledger.__path__)]
    core += [f"tokopt.ledger.importers.{m.name}" for m in pkgutil.iter_modules(importers.__path__)]
    core += ["tokopt.ledger", "tokopt.render.session"]
    assert {"tokopt.ledger.facade", "tokopt.ledger.sqlite", "tokopt.ledger.importers.codex"} <= set(core)
    r = python("-c", f"import sys; [__import__(m) for m in {core!r}]; print(sorted(m for m in ('typer', 'rich') if m in sys.modules))")
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr
    r = python("-c", "import sys, tokopt; print(sorted(m for m in ('sqlite3', 'pydantic') if m in sys.modules)); from tokopt import Ledger; print(Ledger.__module__)")
    assert r.stdout.split("\n")[:2] == ["[]", "tokopt.ledger.facade"], r.stderr


# -- must hold: concurrency and a killed import ---------------------------------------------


def _record_500(path: str, user: str, run: str, start) -> None:  # runs in a child process
    start.wait(60)  # a barrier: every process is here, then all go at once
    with Ledger(path, user=user, catalog=load_catalog(PRICING_DIR)) as book:
        for n in range(500):
            book.record(model="gpt-5.5" if n % 2 else "claude-haiku-4-5", input_tokens=100 + n, output_tokens=n % 7, run=run)


def test_eight_processes_recording_500_each_lose_nothing(path):
    # Fresh processes that share nothing with this one (not fork: this process may hold threads
    # and connections), started by a fork server that has imported the ledger and the pricing
    # once, rather than eight interpreters importing them each (most of this test's time).
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tokopt.ledger", "tokopt.pricing", "tokopt.pricing.catalog", "tokopt.ledger.sqlite", "tokopt.ledger.postgres", __name__])
    start = ctx.Barrier(9)
    workers = [ctx.Process(target=_record_500, args=(str(path), f"user{i % 3}", f"worker-{i}", start)) for i in range(8)]
    for w in workers:
        w.start()
    start.wait(60)  # every process has reached the start line (not a guessed 0.5 s): all go together
    for w in workers:
        w.join(300)
    assert [w.exitcode for w in workers] == [0] * 8
    book = ledger(path, "someone")
    total = book.spend(user=ALL_USERS)
    assert total.records == 4000
    one = sum(price("gpt-5.5" if n % 2 else "claude-haiku-4-5", input_tokens=100 + n, output_tokens=n % 7) for n in range(500))
    assert total.cost_usd == 8 * one
    runs = book.report(by="run", user=ALL_USERS).rows
    assert len(runs) == 8 and all(r.sums.records == 500 for r in runs)
    if is_postgres(path):
        assert sql(path, "SELECT count(*), count(DISTINCT uid), count(DISTINCT seq) FROM usage") == [(4000, 4000, 4000)]
    else:
        assert sql(path, "PRAGMA integrity_check") == [("ok",)]


def _import_process(path: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TOKOPT_LEDGER": str(path), "TOKOPT_USER": "alice", "PYTHONPATH": str(REPO / "src")}
    code = "import sys; from tokopt.cli import main; sys.argv = ['tokopt', 'session', 'import', sys.argv[1], '-f', 'json']; main()"
    return subprocess.Popen([sys.executable, "-c", code, str(log)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _totals(path: Path):
    book = ledger(path)
    report = book.report(by="model")
    return report.total, sorted((tuple(r.key.values()), r.sums) for r in report.rows)


def _wal_has_a_commit(wal: Path) -> bool:
    """Whether a WAL file ends a transaction (SQLite's WAL format: a 32-byte header, then frames
    of a 24-byte header and a page; a frame whose bytes 4-8 are not zero is a commit, and only
    frames that carry the header's salts belong to the current log)."""
    with wal.open("rb") as f:
        header = f.read(32)
        if len(header) < 32:
            return False
        page = int.from_bytes(header[8:12], "big")
        while len(frame := f.read(24)) == 24 and frame[8:16] == header[16:24]:
            if int.from_bytes(frame[4:8], "big"):
                return True
            f.seek(page, os.SEEK_CUR)
    return False


def _kill_while_writing(path: Path, big: Path) -> bool:
    """Start an import of `big` and SIGKILL it in the middle of writing its transaction (the WAL
    has grown, and no commit frame is in it yet). The import is stopped (SIGSTOP) while that is
    checked, so the kill cannot land after a commit it did not see. False if the import
    committed first (a slow test machine): the caller tries again on a fresh ledger."""
    wal = Path(str(path) + "-wal")
    proc = _import_process(path, big)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 256 * 1024:  # the import's pages are being written
            stop(proc)
            if _wal_has_a_commit(wal):
                proc.send_signal(signal.SIGCONT)
                assert proc.wait() == 0, proc.stderr.read().decode()  # type: ignore[union-attr]
                return False
            proc.send_signal(signal.SIGKILL)
            assert proc.wait() == -signal.SIGKILL
            return True
        time.sleep(0.0005)  # the commit writes ~0.7 MB of WAL per 1,000 records in ~1 ms per MB
    raise AssertionError("the import finished before it could be killed: " + proc.stderr.read().decode())  # type: ignore[union-attr]


def test_an_import_killed_while_writing_leaves_the_ledger_as_it_was(tmp_path):
    small = write_jsonl(tmp_path / "earlier.jsonl", [openai_chat("c-earlier", prompt=500, completion=20)])
    # 10,000 records: a big write (over sqlite._BIG_WRITE), whose pages stay in memory until the
    # commit writes them, ~7 MB of WAL in ~10 ms, polled every 0.5 ms (30,000 took 6 s)
    big, expected = claude_code_big(tmp_path / "big.jsonl", 10_000, lines_per_response=2)
    assert expected["records"] > sqlite_store._BIG_WRITE
    for attempt in range(5):
        path = tmp_path / f"ledger-{attempt}.sqlite3"
        with ledger(path) as book:
            book.import_paths([str(small)])
        before = _totals(path)
        if _kill_while_writing(path, big):
            break
    else:
        raise AssertionError("each of 5 imports committed before it could be stopped")

    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _totals(path) == before

    # the same import run again, to the end, gives what a clean import gives
    rerun = _import_process(path, big)
    assert rerun.wait() == 0, rerun.stderr.read().decode()
    clean = tmp_path / "clean.sqlite3"
    with ledger(clean) as book:
        book.import_paths([str(small)])
        book.import_paths([str(big)])
    assert _totals(path) == _totals(clean)
    total, _ = _totals(path)
    assert total.records == expected["records"] + 1
    assert total.output_tokens == expected["output"] + 20
