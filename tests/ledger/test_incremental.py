"""Importing again: an unchanged log is not read, a grown one is read from where the last
import stopped (with the importers' state of that point), anything else is read whole."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.agent_files import gemini_json
from tests.conftest import PRICING_DIR
from tests.ledger_files import claude_code_assistant, claude_code_big, claude_code_user, codex_session_meta, codex_token_count, codex_turn_context
from tokopt.ledger import Ledger
from tokopt.pricing import load_catalog

CATALOG = load_catalog(PRICING_DIR)


def ledger(path: Path, user: str = "alice") -> Ledger:
    return Ledger(path, user=user, catalog=CATALOG)


def lines(*items) -> bytes:
    return b"".join(json.dumps(i).encode() + b"\n" for i in items)


def codex_lines(n: int) -> list[bytes]:
    """A Codex session: its meta and model, then n cumulative token counts."""
    out = [lines(codex_session_meta()), lines(codex_turn_context("gpt-5-codex"))]
    total = (0, 0, 0, 0)
    for i in range(n):
        total = (total[0] + 1000 + i, total[1] + 500, total[2] + 50 + i, total[3] + 10)
        out.append(lines(codex_token_count(total, None, f"2026-07-21T10:{i % 60:02d}:05Z")))
    return out


def totals(book: Ledger) -> tuple[int, int, int, int]:
    t = book.report(by="model", timezone="UTC").total
    return (t.records, t.input_tokens, t.output_tokens, t.cached_input_tokens)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "ledger.sqlite3"


def test_an_unchanged_log_is_not_read_and_nothing_is_written(db, tmp_path):
    log, _ = claude_code_big(tmp_path / "s.jsonl", 20)
    with ledger(db) as book:
        first = book.import_paths([str(log)])
        assert [f.status for f in first.files] == ["new"] and first.added == 20
        before = _states(db)
        again = book.import_paths([str(log)])
    assert [(f.status, f.lines) for f in again.files] == [("unchanged", 0)]
    assert _states(db) == before  # not even the file's state was written again


def _states(db: Path) -> list[tuple[object, ...]]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT * FROM import_files").fetchall()
    finally:
        conn.close()


def test_a_grown_claude_code_log_is_read_from_where_the_last_import_stopped(db, tmp_path):
    log = tmp_path / "s.jsonl"
    head = lines(claude_code_user(), claude_code_assistant(message_id="m1", request_id="r1", output_tokens=3))
    log.write_bytes(head)
    with ledger(db) as book:
        book.import_paths([str(log)])
        with log.open("ab") as f:
            f.write(lines(claude_code_assistant(message_id="m1", request_id="r1", output_tokens=640), claude_code_assistant(message_id="m2", request_id="r2", output_tokens=10)))
        grown = book.import_paths([str(log)])
        (f,) = grown.files
        assert (f.status, f.read_from, f.lines) == ("grown", len(head), 2)
        assert (grown.added, grown.updated) == (1, 1)  # the partial response got its final counts
        outputs = sorted(r.output_tokens for r in book.usage())
    assert outputs == [10, 640]


def test_a_grown_codex_log_keeps_the_running_totals_and_the_model(db, tmp_path):
    log = tmp_path / "rollout.jsonl"
    parts = codex_lines(6)
    log.write_bytes(b"".join(parts[:5]))
    with ledger(db) as book:
        book.import_paths([str(log)])
        log.write_bytes(b"".join(parts))
        grown = book.import_paths([str(log)])
        assert grown.files[0].status == "grown" and grown.added == 3
        records = book.usage()
    whole = Ledger(db.parent / "whole.sqlite3", user="alice", catalog=CATALOG)
    with whole:
        whole.import_paths([str(log)])
        assert totals(whole) == (6, sum(r.input_tokens for r in records), sum(r.output_tokens for r in records), sum(r.cached_input_tokens for r in records))
    assert {r.model for r in records} == {"gpt-5-codex"} and {r.session_id for r in records} == {"0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}


def test_a_rewritten_or_shortened_log_is_read_whole_again(db, tmp_path):
    log = tmp_path / "s.jsonl"
    log.write_bytes(lines(claude_code_assistant(message_id="m1", request_id="r1", output_tokens=10)))
    with ledger(db) as book:
        book.import_paths([str(log)])
        # the same size, other content: its tail no longer matches
        log.write_bytes(lines(claude_code_assistant(message_id="m9", request_id="r9", output_tokens=10)))
        changed = book.import_paths([str(log)])
        assert (changed.files[0].status, changed.added) == ("changed", 1)
        log.write_bytes(b"")
        assert book.import_paths([str(log)]).files[0].status == "changed"


def test_a_touched_log_is_read_from_its_end(db, tmp_path):
    log, _ = claude_code_big(tmp_path / "s.jsonl", 5)
    with ledger(db) as book:
        book.import_paths([str(log)])
        os.utime(log, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
        (f,) = book.import_paths([str(log)]).files
    assert (f.status, f.lines, f.read_from) == ("grown", 0, log.stat().st_size)


def test_a_half_written_last_line_is_read_again_when_it_is_whole(db, tmp_path):
    log = tmp_path / "s.jsonl"
    whole = lines(claude_code_assistant(message_id="m1", request_id="r1", output_tokens=10))
    last = lines(claude_code_assistant(message_id="m2", request_id="r2", output_tokens=20))
    log.write_bytes(whole + last[:40])  # the agent is still writing it
    with ledger(db) as book:
        first = book.import_paths([str(log)])
        assert (first.files[0].lines, first.files[0].garbage, first.added) == (1, 0, 1)  # the last line is left for later
        log.write_bytes(whole + last)
        second = book.import_paths([str(log)])
        assert (second.files[0].status, second.files[0].read_from, second.added, second.files[0].garbage) == ("grown", len(whole), 1, 0)


def test_line_numbers_go_on_across_imports(db, tmp_path):
    log = tmp_path / "s.jsonl"
    log.write_bytes(lines(claude_code_user(), claude_code_user()))
    with ledger(db) as book:
        book.import_paths([str(log)])
        with log.open("ab") as f:
            f.write(b"{broken\n")
        (f,) = book.import_paths([str(log)]).files
    assert f.garbage_examples == ["line 3: not JSON (expecting property name enclosed in double quotes)"]


def test_a_changed_json_document_is_read_whole(db, tmp_path):
    doc = gemini_json(tmp_path / ".gemini")
    with ledger(db) as book:
        book.import_paths([str(doc)])
        assert book.import_paths([str(doc)]).files[0].status == "unchanged"
        data = json.loads(doc.read_text())
        data["messages"][1]["tokens"]["output"] += 1
        doc.write_text(json.dumps(data))
        again = book.import_paths([str(doc)])
        assert (again.files[0].status, again.updated) == ("changed", 1)


def test_each_user_has_their_own_import_states(db, tmp_path):
    log, _ = claude_code_big(tmp_path / "s.jsonl", 3)
    with ledger(db) as alice:
        alice.import_paths([str(log)])
    with ledger(db, user="bob") as bob:
        first = bob.import_paths([str(log)])
    assert (first.files[0].status, first.added) == ("new", 3)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=4), seed=st.integers(0, 1000))
def test_importing_a_log_as_it_grows_gives_what_one_import_gives(tmp_path_factory, cuts, seed):
    base = tmp_path_factory.mktemp("grow")
    cc, _ = claude_code_big(base / "full.jsonl", 12, seed=seed)
    data = cc.read_bytes() + b"".join(codex_lines(8))
    log = base / "live.jsonl"
    with ledger(base / "grown.sqlite3") as book:
        for cut in sorted(cuts):
            log.write_bytes(data[: int(len(data) * cut)])
            book.import_paths([str(log)])
        log.write_bytes(data)
        book.import_paths([str(log)])
        grown = totals(book)
    with ledger(base / "once.sqlite3") as once:
        once.import_paths([str(log)])
        assert grown == totals(once)
