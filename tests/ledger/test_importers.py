"""Every importer on realistic files: duplicates, streaming partials, missing fields, unknown
models and garbage lines."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger_files import (
    anthropic_message,
    claude_code_assistant,
    claude_code_user,
    codex_session_meta,
    codex_token_count,
    codex_turn_context,
    gemini_response,
    openai_chat,
    openai_response,
    write_jsonl,
)
from tokopt.ledger import importers
from tokopt.ledger.importers.base import parse_time
from tokopt.errors import InputError


class Read:
    """One file read on its own: its tally (lines, garbage, ...) and its records."""

    def __init__(self, imported):
        (self.file,) = imported.files
        self.records = imported.records

    def __getattr__(self, name):
        return getattr(self.file, name)


def read(path):
    return Read(importers.read_sources([importers.ImportSource(str(path), path)]))


def by_key(result):
    return {r.dedupe_key: r for r in result.records}


def log_format(rec):
    return rec.source.removeprefix("import:")


# -- Claude Code ----------------------------------------------------------------------------------


def test_claude_code_counts_each_response_once_with_its_largest_counts(tmp_path):
    lines = [
        claude_code_user(),
        # one response, three lines: a streaming partial (output 1), then two content blocks
        claude_code_assistant(message_id="msg_A", request_id="req_A", input_tokens=3, cache_write=1523, cache_read=17630, output_tokens=1),
        claude_code_assistant(message_id="msg_A", request_id="req_A", input_tokens=3, cache_write=1523, cache_read=17630, output_tokens=412),
        claude_code_assistant(message_id="msg_A", request_id="req_A", input_tokens=3, cache_write=1523, cache_read=17630, output_tokens=412),
        claude_code_user("and now?"),
        claude_code_assistant(message_id="msg_B", request_id="req_B", input_tokens=6, cache_read=19153, output_tokens=88, write_1h=500, timestamp="2026-07-20T09:13:10.000Z"),
        {"type": "summary", "summary": "Fixing test_parse", "leafUuid": "x"},
    ]
    result = read(write_jsonl(tmp_path / "session.jsonl", lines))
    assert result.format == "claude-code" and result.garbage == 0
    records = by_key(result)
    assert set(records) == {"claude-code:msg_A:req_A", "claude-code:msg_B:req_B"}
    a = records["claude-code:msg_A:req_A"]
    # Anthropic's input_tokens exclude cache reads and writes; tokopt's input is the whole prompt
    assert (a.input_tokens, a.cached_input_tokens, a.cache_write_tokens, a.output_tokens) == (3 + 1523 + 17630, 17630, 1523, 412)
    assert a.provider == "anthropic" and a.model == "claude-sonnet-4-5-20250929"
    assert a.time == dt.datetime(2026, 7, 20, 9, 12, 33, 512000, tzinfo=dt.timezone.utc)
    b = records["claude-code:msg_B:req_B"]
    assert (b.input_tokens, b.cache_write_tokens, b.cache_write_1h_tokens) == (6 + 19153 + 500, 0, 500)
    assert result.duplicates == 2


def test_claude_code_missing_fields_garbage_and_synthetic_lines(tmp_path):
    no_request = claude_code_assistant(message_id="msg_C", request_id=None, output_tokens=50)
    no_ids = claude_code_assistant(message_id=None, request_id=None, output_tokens=7)
    no_cache_split = claude_code_assistant(message_id="msg_D", request_id="req_D", cache_write=100, output_tokens=9)
    del no_cache_split["message"]["usage"]["cache_creation"]
    sparse = claude_code_assistant(message_id="msg_E", request_id="req_E")
    sparse["message"]["usage"] = {"input_tokens": 10, "output_tokens": 2}  # no cache fields at all
    synthetic = claude_code_assistant(message_id="msg_F", request_id="req_F", model="<synthetic>", input_tokens=0, output_tokens=0)
    bad_count = claude_code_assistant(message_id="msg_G", request_id="req_G")
    bad_count["message"]["usage"]["output_tokens"] = "many"
    path = write_jsonl(
        tmp_path / "s.jsonl",
        [no_request, no_ids, no_cache_split, sparse, synthetic, bad_count],
        garbage={1: "{not json", 3: '{"type": "assistant", "message": {"id": "msg_H", "usage": {"input_t'},
    )
    result = read(path)
    keys = set(by_key(result))
    assert "claude-code:msg_C:" in keys
    assert any(k.startswith("claude-code:uuid:") for k in keys)
    assert {"claude-code:msg_D:req_D", "claude-code:msg_E:req_E"} <= keys
    assert not any("msg_F" in k for k in keys)  # zero usage bills nothing
    d = by_key(result)["claude-code:msg_D:req_D"]
    assert (d.cache_write_tokens, d.cache_write_1h_tokens, d.input_tokens) == (100, 0, 104)
    assert result.garbage == 3
    assert [e.split(":")[0] for e in result.garbage_examples] == ["line 2", "line 5", "line 8"]
    assert "not a token count" in result.garbage_examples[2]


def test_claude_code_resumed_session_in_two_files_is_merged_by_the_ledger(tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [claude_code_assistant(message_id="m1", request_id="r1", output_tokens=5)])
    second = write_jsonl(
        tmp_path / "b.jsonl",
        [
            claude_code_assistant(message_id="m1", request_id="r1", output_tokens=30),
            claude_code_assistant(message_id="m2", request_id="r2", output_tokens=3),
        ],
    )
    keys_a, keys_b = set(by_key(read(first))), set(by_key(read(second)))
    assert keys_a & keys_b == {"claude-code:m1:r1"}
    # read together, as one import: the response once, with its largest counts and first time
    both = importers.read_sources([importers.ImportSource(str(p), p) for p in (first, second)])
    assert [(f.records, f.duplicates) for f in both.files] == [(1, 0), (2, 1)]
    m1 = {r.dedupe_key: r for r in both.records}["claude-code:m1:r1"]
    assert m1.output_tokens == 30 and len(both.records) == 2


# -- Codex CLI ------------------------------------------------------------------------------------


def test_codex_cumulative_totals_become_deltas(tmp_path):
    lines = [
        codex_session_meta(),
        codex_turn_context("gpt-5-codex"),
        {"timestamp": "2026-07-21T10:00:02.000Z", "type": "response_item", "payload": {"type": "message", "role": "user", "content": []}},
        {"timestamp": "2026-07-21T10:00:03.000Z", "type": "event_msg", "payload": {"type": "token_count", "info": None, "rate_limits": {}}},
        codex_token_count((12000, 8000, 500, 300), None, "2026-07-21T10:00:05.000Z"),
        codex_token_count((12000, 8000, 500, 300), None, "2026-07-21T10:00:05.500Z"),  # repeated: no new usage
        codex_token_count((25000, 20000, 900, 400), (13000, 12000, 400, 100), "2026-07-21T10:01:00.000Z"),
        codex_turn_context("gpt-5.1-codex-max"),
        codex_token_count((40000, 30000, 1500, 700), (15000, 10000, 600, 300), "2026-07-21T10:02:00.000Z"),
    ]
    result = read(write_jsonl(tmp_path / "rollout-2026-07-21T10-00-00-0199a1b2.jsonl", lines, garbage={4: "\x00\x01 truncated"}))
    assert result.format == "codex" and result.garbage == 1
    recs = sorted(result.records, key=lambda r: r.time)
    assert [(r.input_tokens, r.cached_input_tokens, r.output_tokens, r.reasoning_tokens) for r in recs] == [
        (12000, 8000, 500, 300),
        (13000, 12000, 400, 100),
        (15000, 10000, 600, 300),
    ]
    assert [r.model for r in recs] == ["gpt-5-codex", "gpt-5-codex", "gpt-5.1-codex-max"]
    assert all(r.provider == "openai" and r.dedupe_key.startswith("codex:0199a1b2-") for r in recs)
    # the sum of the deltas is the session's last cumulative total
    assert sum(r.input_tokens for r in recs) == 40000 and sum(r.output_tokens for r in recs) == 1500


def test_codex_totals_that_go_back_use_the_events_own_usage(tmp_path):
    lines = [
        codex_session_meta(),
        codex_turn_context(),
        codex_token_count((5000, 0, 100, 0), None, "2026-07-21T10:00:05.000Z"),
        codex_token_count((800, 0, 20, 0), (800, 0, 20, 0), "2026-07-21T10:05:00.000Z"),  # totals reset
    ]
    recs = read(write_jsonl(tmp_path / "r.jsonl", lines)).records
    assert sorted((r.input_tokens, r.output_tokens) for r in recs) == [(800, 20), (5000, 100)]


def test_codex_without_a_model_is_kept_as_unknown(tmp_path):
    recs = read(write_jsonl(tmp_path / "r.jsonl", [codex_session_meta(), codex_token_count((10, 0, 5, 0), None, "2026-07-21T10:00:00Z")])).records
    assert [r.model for r in recs] == ["unknown"]


# -- API responses --------------------------------------------------------------------------------


def test_openai_chat_and_responses_with_cached_and_reasoning_subsets(tmp_path):
    chunk_without_usage = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [], "usage": None}
    items = [
        openai_chat("chatcmpl-1", prompt=2006, completion=300, cached=1920, reasoning=0),
        chunk_without_usage,
        {**openai_chat("chatcmpl-2", model="gpt-4o", prompt=50, completion=10), "object": "chat.completion.chunk", "choices": []},
        openai_response("resp_1", inp=10000, out=2500, cached=8000, reasoning=2000),
        {"type": "response.completed", "sequence_number": 40, "response": openai_response("resp_2", model="o3", inp=300, out=900, reasoning=640)},
        openai_chat("chatcmpl-1", prompt=2006, completion=300, cached=1920),  # logged twice
    ]
    result = read(write_jsonl(tmp_path / "openai.jsonl", items))
    recs = by_key(result)
    assert set(recs) == {"openai:chatcmpl-1", "openai:chatcmpl-2", "openai:resp_1", "openai:resp_2"}
    one = recs["openai:chatcmpl-1"]
    assert (log_format(one), one.input_tokens, one.cached_input_tokens, one.output_tokens) == ("openai-chat", 2006, 1920, 300)
    assert one.time == dt.datetime.fromtimestamp(1784541600, dt.timezone.utc)
    r1 = recs["openai:resp_1"]
    assert (log_format(r1), r1.input_tokens, r1.cached_input_tokens, r1.output_tokens, r1.reasoning_tokens) == ("openai-responses", 10000, 8000, 2500, 2000)
    assert recs["openai:resp_2"].model == "o3"
    assert result.duplicates == 1


def test_openai_batch_output_is_priced_as_batch(tmp_path):
    line = {
        "id": "batch_req_1",
        "custom_id": "request-1",
        "response": {"status_code": 200, "request_id": "req_x", "body": openai_chat("chatcmpl-b1", model="gpt-4.1-mini", prompt=120, completion=40)},
        "error": None,
    }
    failed = {"id": "batch_req_2", "custom_id": "request-2", "response": None, "error": {"code": "rate_limit", "message": "x"}}
    (rec,) = read(write_jsonl(tmp_path / "batch_output.jsonl", [line, failed])).records
    assert rec.batch and rec.input_tokens == 120 and log_format(rec) == "openai-chat"


def test_openai_service_tier_is_read_and_the_default_tier_is_standard(tmp_path):
    items = [
        {**openai_response("resp_f", model="gpt-5.5", inp=1000, out=100), "service_tier": "flex"},
        {**openai_chat("chatcmpl-p", model="gpt-5.5", prompt=1000, completion=100), "service_tier": "priority"},
        openai_chat("chatcmpl-d", prompt=10, completion=1),  # says "default"
        openai_response("resp_n", inp=10, out=1),  # names none
        {**openai_response("resp_bad", inp=10, out=1), "service_tier": "flex\x1b[31m"},  # not a tier name: garbage
    ]
    result = read(write_jsonl(tmp_path / "tiers.jsonl", items))
    tiers = {key: rec.service_tier for key, rec in by_key(result).items()}
    assert tiers == {"openai:resp_f": "flex", "openai:chatcmpl-p": "priority", "openai:chatcmpl-d": None, "openai:resp_n": None}
    assert result.garbage == 1


def test_deepseek_cache_hits_in_openai_format(tmp_path):
    obj = {"id": "ds-1", "object": "chat.completion", "model": "deepseek-chat", "usage": {"prompt_tokens": 1000, "completion_tokens": 20, "prompt_cache_hit_tokens": 640, "prompt_cache_miss_tokens": 360}}
    (rec,) = read(write_jsonl(tmp_path / "d.jsonl", [obj])).records
    assert (rec.input_tokens, rec.cached_input_tokens) == (1000, 640)


def test_anthropic_messages_streams_and_batches(tmp_path):
    items = [
        anthropic_message("msg_1", inp=20, out=300, read=10000, write=2000, write_1h=1000),
        # a logged stream: message_start, then deltas with the growing output count
        {"type": "message_start", "message": {**anthropic_message("msg_2", inp=15, out=1, read=500), "content": []}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "message_delta", "delta": {"stop_reason": None}, "usage": {"output_tokens": 40}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 95}},
        {"type": "message_stop"},
        # a Message Batches result line
        {"custom_id": "q1", "result": {"type": "succeeded", "message": anthropic_message("msg_3", model="claude-haiku-4-5", inp=900, out=80)}},
        {"custom_id": "q2", "result": {"type": "errored", "error": {"type": "overloaded_error"}}},
    ]
    result = read(write_jsonl(tmp_path / "anthropic.jsonl", items))
    recs = by_key(result)
    m1 = recs["anthropic:msg_1"]
    assert (m1.input_tokens, m1.cached_input_tokens, m1.cache_write_tokens, m1.cache_write_1h_tokens) == (13020, 10000, 2000, 1000)
    m2 = recs["anthropic:msg_2"]
    assert (m2.input_tokens, m2.output_tokens) == (515, 95)
    assert recs["anthropic:msg_3"].batch and not m1.batch
    assert result.garbage == 0 and result.format == "anthropic"


def test_an_anthropic_stream_without_a_message_id_is_one_record(tmp_path):
    start = anthropic_message("x", inp=15, out=1)
    del start["id"]
    items = [
        {"type": "message_start", "message": start},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 70}},
    ]
    (rec,) = read(write_jsonl(tmp_path / "s.jsonl", items)).records
    assert (rec.input_tokens, rec.output_tokens) == (15, 70)


def test_a_pretty_printed_response_document_and_an_array(tmp_path):
    doc = tmp_path / "response.json"
    doc.write_text(json.dumps(anthropic_message("msg_9", inp=10, out=5), indent=2))
    assert [r.dedupe_key for r in read(doc).records] == ["anthropic:msg_9"]
    arr = tmp_path / "responses.json"
    arr.write_text(json.dumps([openai_response("resp_a", inp=1, out=1), openai_response("resp_b", inp=2, out=2)], indent=1))
    assert sorted(r.dedupe_key for r in read(arr).records) == ["openai:resp_a", "openai:resp_b"]


def test_gemini_usage_metadata_thoughts_are_output_and_cache_is_part_of_prompt(tmp_path):
    items = [
        gemini_response("r-1", prompt=12000, candidates=400, cached=8000, thoughts=1200),
        # a stream of the same response: running counts, the last one the largest
        gemini_response("r-2", model="gemini-2.5-pro", prompt=300, candidates=10),
        gemini_response("r-2", model="gemini-2.5-pro", prompt=300, candidates=250, thoughts=90),
        {"timestamp": "2026-07-22T08:00:00Z", "response": gemini_response(None, prompt=5, candidates=5)},
        {**gemini_response("r-4", prompt=20, candidates=1), "usageMetadata": {"promptTokenCount": -3}},
    ]
    result = read(write_jsonl(tmp_path / "gemini.jsonl", items))
    recs = by_key(result)
    r1 = recs["gemini:r-1"]
    assert (r1.input_tokens, r1.cached_input_tokens, r1.output_tokens, r1.reasoning_tokens) == (12000, 8000, 1600, 1200)
    r2 = recs["gemini:r-2"]
    assert (r2.output_tokens, r2.reasoning_tokens) == (340, 90)
    wrapped = [r for k, r in recs.items() if "sha256" in k]
    assert len(wrapped) == 1 and wrapped[0].time == dt.datetime(2026, 7, 22, 8, tzinfo=dt.timezone.utc)
    assert result.garbage == 1 and "negative" in result.garbage_examples[0]


def test_identical_responses_without_ids_count_as_separate_calls_in_order(tmp_path):
    same = gemini_response(None, prompt=10, candidates=3)
    result = read(write_jsonl(tmp_path / "g.jsonl", [same, same, same]))
    assert len(result.records) == 3
    again = read(write_jsonl(tmp_path / "g2.jsonl", [same, same, same]))
    assert sorted(r.dedupe_key for r in again.records) == sorted(r.dedupe_key for r in result.records)


def test_cached_larger_than_input_is_garbage(tmp_path):
    result = read(write_jsonl(tmp_path / "x.jsonl", [openai_chat("c-1", prompt=10, completion=1, cached=50)]))
    assert result.records == [] and result.garbage == 1 and "exceed" in result.garbage_examples[0]


def test_unrecognised_and_unreadable_files(tmp_path):
    other = write_jsonl(tmp_path / "other.jsonl", [{"hello": "world"}, [1, 2]])
    result = read(other)
    assert result.records == [] and result.format == "unrecognised" and result.garbage == 1
    binary = tmp_path / "blob.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage\n\x89PNG\r\n")
    result = read(binary)
    assert result.format == "unreadable" and result.garbage == 2


def test_expand_paths_walks_directories_and_rejects_missing(tmp_path):
    project = tmp_path / "projects" / "-home-dev-project"
    project.mkdir(parents=True)
    write_jsonl(project / "a.jsonl", [])
    (project / "notes.txt").write_text("skip me")
    found, problems = importers.expand_paths([str(tmp_path / "projects")])
    assert [s.path.name for s in found if s.path] == ["a.jsonl"] and problems == []
    with pytest.raises(InputError, match="file not found"):
        importers.expand_paths([str(tmp_path / "missing.jsonl")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no usage logs"):
        importers.expand_paths([str(tmp_path / "empty")])
    # a missing or empty path beside one with logs is a problem to warn of, not an error
    found, problems = importers.expand_paths([str(tmp_path / "missing.jsonl"), str(tmp_path / "projects"), str(tmp_path / "empty")])
    assert [s.path.name for s in found if s.path] == ["a.jsonl"]
    assert problems == [f"file not found: {tmp_path / 'missing.jsonl'}", f"no usage logs (*.jsonl, *.json) in directory: {tmp_path / 'empty'}"]
    with pytest.raises(InputError, match=r"nothing to import: file not found: .*; no usage logs"):
        importers.expand_paths([str(tmp_path / "missing.jsonl"), str(tmp_path / "empty")])


def test_parse_time_forms():
    utc = dt.timezone.utc
    assert parse_time("2026-07-20T09:12:33.123456789Z") == dt.datetime(2026, 7, 20, 9, 12, 33, 123456, tzinfo=utc)
    assert parse_time("2026-07-20T11:12:33+02:00") == dt.datetime(2026, 7, 20, 9, 12, 33, tzinfo=utc)
    assert parse_time("2026-07-20 09:12:33") == dt.datetime(2026, 7, 20, 9, 12, 33, tzinfo=utc)
    assert parse_time(0) == dt.datetime(1970, 1, 1, tzinfo=utc)
    assert parse_time("yesterday") is None and parse_time(True) is None


def test_a_log_directory_is_walked_once_with_its_hidden_entries_and_no_symlink_loop(tmp_path):
    import os

    from tokopt.ledger.importers import expand_paths

    logs = tmp_path / "logs"
    (logs / "b" / ".hidden").mkdir(parents=True)
    for name in ("z.jsonl", "b/a.json", "b/.hidden/c.ndjson", "b/notes.txt", ".top.log"):
        (logs / name).write_text("{}\n")
    os.symlink(".", logs / "b" / "again")  # not walked into: each log is read once
    os.symlink("nowhere.jsonl", logs / "broken.jsonl")
    sources, problems = expand_paths([str(logs)])
    found = [s.path.relative_to(logs).as_posix() for s in sources if s.path]
    assert found == [".top.log", "b/.hidden/c.ndjson", "b/a.json", "z.jsonl"]
    assert problems == [f"cannot read {logs / 'broken.jsonl'}: No such file or directory"]  # named, not skipped silently


def test_lines_are_parsed_as_json_loads_parses_them(tmp_path):
    """The reader decodes UTF-8 text itself (the common case, faster); a line json.loads reads
    otherwise (a byte-order mark) is still read, and a bad one is garbage with json.loads' reason."""
    ok = claude_code_assistant(message_id="msg_A", request_id="req_A", output_tokens=5)
    bom = claude_code_assistant(message_id="msg_B", request_id="req_B", output_tokens=6)
    latin = claude_code_assistant(message_id="msg_C", request_id="req_C", output_tokens=7)
    latin["cwd"] = "/home/café"
    lines = [
        b"\xef\xbb\xbf" + json.dumps(bom).encode(),
        json.dumps(ok, ensure_ascii=False).encode(),
        json.dumps(latin, ensure_ascii=False).encode("latin-1"),
        b'{"type": "assistant", "usage": 1',
    ]
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = read(path)
    assert set(by_key(result)) == {"claude-code:msg_A:req_A", "claude-code:msg_B:req_B"}
    assert result.garbage == 2
    for line_no, raw in ((3, lines[2]), (4, lines[3])):
        with pytest.raises(ValueError) as caught:
            json.loads(raw)
        reason = "invalid UTF-8" if isinstance(caught.value, UnicodeDecodeError) else caught.value.msg.lower()
        assert f"line {line_no}: not JSON ({reason})" in result.garbage_examples
    # around the object: JSON whitespace is read (a CRLF file's \r too), anything else is extra data
    spaced = [claude_code_assistant(message_id=f"msg_{n}", request_id=f"req_{n}", output_tokens=8) for n in "DEFGH"]
    lines = [
        json.dumps(spaced[0]).encode() + b"\r",
        b" \t" + json.dumps(spaced[1]).encode() + b" \r",
        json.dumps(spaced[2]).encode() + b"\x0c",
        json.dumps(spaced[3]).encode() + b' {"usage": 1}',
        json.dumps(spaced[4]).encode() + b"\r\r  ",
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = read(path)
    assert set(by_key(result)) == {"claude-code:msg_D:req_D", "claude-code:msg_E:req_E", "claude-code:msg_H:req_H"}
    assert result.garbage == 2 and result.garbage_examples == ["line 3: not JSON (extra data)", "line 4: not JSON (extra data)"]


@settings(max_examples=200, deadline=None)
@given(when=st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31)), at=st.integers(0, 22), junk=st.sampled_from(["x", "1", "+", " ", "Z"]))
def test_agent_timestamps_read_as_every_other_form(when, at, junk):
    """`2026-06-01T09:14:03.120Z`, the form agents write, is read directly; the same time
    written with an explicit offset reads the same, and so does one with a character changed."""
    text = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    assert parse_time(text) == parse_time(text[:-1] + "+00:00") == when.replace(microsecond=when.microsecond // 1000 * 1000, tzinfo=dt.timezone.utc)
    changed = text[:at] + junk + text[at + 1 :]
    assert parse_time(changed) == parse_time(changed[:-1] + "+00:00")


_COUNT = st.one_of(st.integers(0, 10**7), st.none())
_N = st.integers(0, 10**7)
_WRITES = st.fixed_dictionaries({"ephemeral_5m_input_tokens": _N, "ephemeral_1h_input_tokens": _N})
_FIELDS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens")


@settings(max_examples=200, deadline=None)
@given(
    usage=st.one_of(
        # as Claude Code writes it: every count, with or without the 5m/1h split
        st.fixed_dictionaries({f: _N for f in _FIELDS}, optional={"cache_creation": st.one_of(st.none(), _WRITES)}),
        # anything else: missing and null counts
        st.fixed_dictionaries(
            {}, optional={**{f: _COUNT for f in _FIELDS}, "cache_creation": st.one_of(st.none(), st.fixed_dictionaries({}, optional={"ephemeral_5m_input_tokens": _COUNT, "ephemeral_1h_input_tokens": _COUNT}))}
        ),
    )
)
def test_anthropic_counts_read_whole_counts_as_their_float_spelling(usage):
    # whole ints take a shortcut; the same counts written as floats (2.0) are read field by field
    from tokopt.ledger.importers.anthropic import anthropic_counts

    def floats(value):
        if isinstance(value, dict):
            return {k: floats(v) for k, v in value.items()}
        return float(value) if isinstance(value, int) else value

    assert anthropic_counts(usage) == anthropic_counts(floats(usage))
