"""Suggestions: every figure recomputed here from the catalog's prices and tiktoken's counts."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt import inputs, optimize, pricing
from tokopt.errors import InputError, UnknownModelError
from tokopt.pricing.model import ModelPrice

from .conftest import PRICING_DIR

M = Decimal(1_000_000)


@pytest.fixture(scope="module")
def catalog() -> pricing.Catalog:
    return pricing.load_catalog(PRICING_DIR)


def run(paths: list[Path], catalog: pricing.Catalog, **opts: object) -> optimize.SuggestReport:
    sources = inputs.expand([str(p) for p in paths]).sources
    work, s = optimize.prepare(sources, catalog, optimize.Options(**opts))  # type: ignore[arg-type]
    return optimize.suggest(work, s, inputs=[x.label for x in sources])


def by_id(report: optimize.SuggestReport) -> dict[str, optimize.Suggestion]:
    return {s.id: s for s in report.suggestions}


def usd(tokens: int, price: Decimal) -> Decimal:
    return Decimal(tokens) * price / M


def scaled(model: ModelPrice, raw: int) -> int:
    if model.tokenizer.exact:
        return raw
    return int((Decimal(raw) * model.tokenizer.factor).to_integral_value(rounding=ROUND_HALF_UP))


def check_invariants(report: optimize.SuggestReport) -> None:
    costs = [s.cost_saved_per_call for s in report.suggestions]
    assert all(c > 0 for c in costs)
    # per-call suggestions first, then those per run of a conversation; each sorted by savings
    scopes = [s.scope for s in report.suggestions]
    assert scopes == sorted(scopes, key=lambda x: x != "call")
    for scope in ("call", "run"):
        mine = [s.cost_saved_per_call for s in report.suggestions if s.scope == scope]
        assert mine == sorted(mine, reverse=True)
    for s in report.suggestions:
        assert s.tokens_saved >= 0
        assert s.cost_saved_total == s.cost_saved_per_call * report.calls
        assert (s.confidence == "estimated") == (s.assumption is not None)


# --- segments and rewrites ---------------------------------------------------------------------

LINES = st.sampled_from(
    [
        "",
        "   ",
        "word word word",
        "Some instruction, with punctuation.  ",
        "        deeply indented line",
        "    four spaces",
        "\t tab then space ",
        "==========",
        "----------------",
        "// a comment line",
        "/path/like",
        "```",
        "```json",
        '{"a": 1,   "b": [1, 2]}',
        "A paragraph that is long enough to be a duplicate when it appears again later.",
        "x" * 50,
        "ünïcödé tëxt — dashes",
    ]
)


@settings(max_examples=60)
@given(st.lists(LINES, max_size=400), st.sampled_from(["\n", "\r\n"]), st.integers(64, 600))
def test_segments_and_rewrites_count_exactly(reference, lines: list[str], newline: str, target: int) -> None:
    text = newline.join(lines)
    segs = optimize.segment(text, target)
    assert "".join(segs) == text
    enc = reference["o200k_base"]
    prompt = optimize.TextPrompt("t", text, segs, [{"o200k_base": len(enc.encode_ordinary(s))} for s in segs])
    assert prompt.raw("o200k_base") == len(enc.encode_ordinary(text))
    measured, whole = optimize.measure_rewrites(prompt, "o200k_base")
    for item in measured:
        rw = item.rewrite
        if rw.per_segment:
            fresh = {r.id: r for r in optimize.rewrites(text)}[rw.id]
            new_text = "".join(fresh.apply(s) for s in segs)
        else:
            new_text = whole[rw.id]
        assert item.before == len(enc.encode_ordinary(text))
        assert item.after == len(enc.encode_ordinary(new_text)), rw.id


def test_rewrites_keep_meaning() -> None:
    pretty = json.dumps({"a": [1, 2.50, 1e5], "s": "two  spaces\n"}, indent=4)
    assert json.loads(optimize.minify_json(pretty)) == json.loads(pretty)
    assert "2.5" in optimize.minify_json(pretty) and "1e+05" not in optimize.minify_json(pretty)
    fenced = "Data:\n```json\n" + pretty + "\n```\nThanks\n"
    out = optimize.minify_json(fenced)
    assert out == "Data:\n```json\n" + json.dumps(json.loads(pretty), ensure_ascii=False, separators=(",", ":")) + "\n```\nThanks\n"
    assert optimize.strip_trailing("a  \nb\t\r\nc ") == "a\nb\r\nc"
    assert optimize.collapse_blank_lines("a\n\n\n\nb\r\n \r\n\r\n\r\nc") == "a\n\nb\r\n\r\nc"
    assert optimize.shorten_separators("=======\n  -----\n----\n") == "===\n  ---\n----\n"
    para = "This paragraph is long enough to count as a duplicate of another one."
    dedup = optimize.Dedup()
    assert dedup(f"{para}\n\nmiddle\n\n{para}\n\nend\n") == f"{para}\n\nmiddle\n\nend\n"
    code = optimize.Dedup()
    assert code(f"```\n{para}\n```\n```\n{para}\n```\n") == f"```\n{para}\n```\n```\n{para}\n```\n"


# --- the rules, figure by figure ---------------------------------------------------------------


def test_formatting_and_duplicates_figures(tmp_path: Path, catalog, reference) -> None:
    para = "Always answer in English and cite the section of the policy that applies to the case."
    text = "Rules:   \n\n\n\n" + para + "\n\n==========\n\n" + para + "\n\nQuestion: can I return the item?\n"
    path = tmp_path / "p.txt"
    path.write_text(text, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.4", calls=250)
    check_invariants(report)
    found = by_id(report)
    model = catalog.get("gpt-5.4")
    enc = reference["o200k_base"]
    base = len(enc.encode_ordinary(text))
    assert report.input_tokens == base
    expected = {
        "format.trailing-spaces": text.replace("Rules:   ", "Rules:"),
        "format.blank-lines": text.replace("Rules:   \n\n\n\n", "Rules:   \n\n"),
        "format.separators": text.replace("==========", "==="),
        "duplicates.paragraphs": text.replace(para + "\n\nQuestion", "Question"),
    }
    for rid, new_text in expected.items():
        saved = base - len(enc.encode_ordinary(new_text))
        if saved <= 0:
            assert rid not in found
            continue
        s = found[rid]
        assert s.tokens_saved == saved
        assert s.cost_saved_per_call == usd(saved, model.input)
        assert s.cost_saved_total == usd(saved, model.input) * 250
        assert s.confidence == "exact" and s.assumption is None and s.rewrite
    assert "duplicates.paragraphs" in found


def test_cheaper_models_figures(tmp_path: Path, catalog, reference) -> None:
    path = tmp_path / "p.txt"
    text = "Summarise the following report in three bullet points.\n" * 40
    path.write_text(text, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.5", output_tokens=800, calls=10)
    check_invariants(report)
    target = catalog.get("gpt-5.5")
    raw = len(reference["o200k_base"].encode_ordinary(text))
    base = usd(raw, target.input) + usd(800, target.output)
    assert report.cost_per_call == base
    models = [s for s in report.suggestions if s.rule == "cheaper-model"]
    assert models
    for s in models:
        m = catalog.get(s.target)
        assert s.model == "gpt-5.5" and s.target != "gpt-5.5"
        assert m.tier.rank >= target.tier.rank - 1
        assert s.trade_off == (m.tier.rank < target.tier.rank)
        tokens = scaled(m, raw)
        assert tokens + 800 <= m.context_window and 800 <= m.max_output
        assert s.cost_saved_per_call == base - (usd(tokens, m.input) + usd(800, m.output))
        assert s.confidence == ("exact" if m.tokenizer.exact else "estimated")
    same = [s for s in models if not s.trade_off]
    lower = [s for s in models if s.trade_off]
    assert len(same) <= optimize.MAX_SAME_TIER and len(lower) <= optimize.MAX_LOWER_TIER
    # cheapest first within each group: the same order as by saving
    assert [s.cost_saved_per_call for s in same] == sorted((s.cost_saved_per_call for s in same), reverse=True)


def test_batch_and_output_figures(tmp_path: Path, catalog, reference) -> None:
    path = tmp_path / "p.txt"
    text = "Write a long essay about tokens.\n"
    path.write_text(text, encoding="utf-8")
    report = run([path], catalog, target="gpt-5.4", output_tokens=3001, calls=7)
    check_invariants(report)
    found = by_id(report)
    m = catalog.get("gpt-5.4")
    raw = len(reference["o200k_base"].encode_ordinary(text))
    base = usd(raw, m.input) + usd(3001, m.output)
    batch = usd(raw, m.batch_input) + usd(3001, m.batch_output)
    assert found["batch"].cost_saved_per_call == base - batch
    assert found["batch"].confidence == "estimated" and "not interactive" in found["batch"].assumption
    cap = found["output.cap"]
    assert "1,500 tokens" in cap.title
    assert cap.cost_saved_per_call == usd(3001 - 1500, m.output)
    assert cap.cost_saved_total == usd(3001 - 1500, m.output) * 7


def test_caching_shared_prefix_openai(tmp_path: Path, catalog, reference) -> None:
    shared = "You are a support agent for ACME. Follow the policy below exactly.\n" * 120
    texts = [shared + f"Customer {i}: where is my order number {i * 17}?\n" for i in range(4)]
    paths = []
    for i, t in enumerate(texts):
        p = tmp_path / f"p{i}.txt"
        p.write_text(t, encoding="utf-8")
        paths.append(p)
    report = run(paths, catalog, target="gpt-5.4", output_tokens=100)
    check_invariants(report)
    s = by_id(report)["cache.prefix"]
    m = catalog.get("gpt-5.4")
    prefix = len(reference["o200k_base"].encode_ordinary(shared))
    cached = prefix // 128 * 128
    assert f"{prefix:,} tokens" in s.title
    assert s.tokens_saved == 3 * cached
    assert s.cost_saved_per_call == 3 * usd(cached, m.input - m.cached_input)
    assert s.confidence == "estimated" and "cache" in s.assumption


def test_caching_anthropic_write_premium_and_reorder(tmp_path: Path, catalog, reference) -> None:
    shared = "Reference material that every request repeats, word for word, at length.\n" * 150
    texts = [f"Ticket {i}: the printer on floor {i} is jammed again.\n" + shared for i in range(3)]
    paths = []
    for i, t in enumerate(texts):
        p = tmp_path / f"t{i}.txt"
        p.write_text(t, encoding="utf-8")
        paths.append(p)
    report = run(paths, catalog, target="claude-sonnet-4-6", output_tokens=50)
    check_invariants(report)
    found = by_id(report)
    assert "cache.prefix" not in found  # they share nothing at the start
    s = found["cache.reorder"]
    m = catalog.get("claude-sonnet-4-6")
    suffix = scaled(m, len(reference["o200k_base"].encode_ordinary(shared)))
    saved = 2 * usd(suffix, m.input - m.cached_input) - usd(suffix, m.cache_write - m.input)
    assert s.cost_saved_per_call == saved
    assert "$" + str(m.cache_write) in s.assumption


def test_conversation_caching_and_growth(tmp_path: Path, catalog, reference) -> None:
    enc = reference["o200k_base"]
    messages = [{"role": "system", "content": "You are terse. " * 200}]
    for i in range(6):
        messages.append({"role": "user", "content": f"Question {i}: " + "tell me more " * 60})
        messages.append({"role": "assistant", "content": f"Answer {i}: " + "here is more " * 90})
    messages.append({"role": "user", "content": "And finally?"})
    path = tmp_path / "conv.json"
    path.write_text(json.dumps({"model": "gpt-5.4", "messages": messages, "max_tokens": 300}), encoding="utf-8")
    report = run([path], catalog)
    check_invariants(report)
    assert report.model == "gpt-5.4" and report.model_from == "request" and report.output_from == "request"
    m = catalog.get("gpt-5.4")
    own = [3 + len(enc.encode_ordinary(x["role"])) + len(enc.encode_ordinary(x["content"])) for x in messages]
    content = [len(enc.encode_ordinary(x["content"])) for x in messages]
    fixed = 3
    calls = []  # (input, kept input, output)
    for j in range(len(messages) + 1):
        if j < len(messages) and messages[j]["role"] != "assistant":
            continue
        history = [k for k in range(1, j)]
        kept = fixed + own[0] + sum(own[k] for k in history[-optimize.HISTORY_KEEP :])
        calls.append((fixed + sum(own[:j]), kept, content[j] if j < len(messages) else 300))
    growth = by_id(report)["history.window"]
    plain = sum(usd(i, m.input) + usd(o, m.output) for i, _, o in calls)
    short = sum(usd(k, m.input) + usd(o, m.output) for _, k, o in calls)
    assert growth.cost_saved_per_call == plain - short
    assert growth.tokens_saved == sum(i - k for i, k, _ in calls)
    assert f"last {optimize.HISTORY_KEEP} messages" in growth.title
    assert growth.scope == "run" and growth.run_calls == len(calls)
    cache = by_id(report)["cache.turns"]
    previous = 0
    saved = Decimal(0)
    for i, _, _ in calls:
        c = min(previous // 128 * 128 if previous >= 1024 else 0, i)
        saved += usd(c, m.input - m.cached_input)
        previous = i
    assert cache.cost_saved_per_call == saved
    assert cache.scope == "run" and cache.run_calls == len(calls)
    assert all(s.scope == "call" for s in report.suggestions if s.id not in ("history.window", "cache.turns"))


def test_request_file_shared_messages(tmp_path: Path, catalog, reference) -> None:
    enc = reference["o200k_base"]
    system = "Classify the sentiment of the review. Answer with one word. " * 100
    path = tmp_path / "requests.jsonl"
    lines = [
        json.dumps({"model": "gpt-5.4-mini", "messages": [{"role": "system", "content": system}, {"role": "user", "content": f"Review {i}: fine."}]})
        for i in range(5)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run([path], catalog, output_tokens=5)
    check_invariants(report)
    m = catalog.get("gpt-5.4-mini")
    prefix = 3 + len(enc.encode_ordinary("system")) + len(enc.encode_ordinary(system))
    cached = prefix // 128 * 128
    s = by_id(report)["cache.prefix"]
    assert s.cost_saved_per_call == 4 * usd(cached, m.input - m.cached_input)
    assert "batch" in by_id(report)  # a request file is not a batch file


def test_long_context_split(tmp_path: Path, catalog, reference) -> None:
    pricing_file = tmp_path / "lc.toml"
    pricing_file.write_text(
        'provider = "acme"\nas_of = 2026-01-01\nsource = "test"\n[models."acme-lc"]\ntier = "strong"\n'
        "context_window = 100000\nmax_output = 1000\ninput = 1.00\noutput = 4.00\n"
        'tokenizer = { encoding = "o200k_base", exact = true }\n'
        "long_context = { threshold = 1000, input = 2.00, output = 8.00 }\n",
        encoding="utf-8",
    )
    cat = pricing.load_catalog(PRICING_DIR, [pricing_file])
    text = "Numbers and words, 1 2 3, over and over.\n" * 300
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    report = run([path], cat, target="acme-lc", output_tokens=101, candidates=["acme-lc"])
    check_invariants(report)
    n = len(reference["o200k_base"].encode_ordinary(text))
    parts = -(-n // 1000)
    assert parts > 1
    s = by_id(report)["long-context.split"]
    before = usd(n, Decimal(2)) + usd(101, Decimal(8))
    after = sum(
        usd(n // parts + (1 if p < n % parts else 0), Decimal(1)) + usd(101 // parts + (1 if p < 101 % parts else 0), Decimal(4))
        for p in range(parts)
    )
    assert s.cost_saved_per_call == before - after
    assert f"{parts} parts" in s.title


@settings(max_examples=25)
@given(st.lists(LINES, max_size=60), st.integers(0, 5000), st.sampled_from(["gpt-5.4", "claude-haiku-4-5", "gemini-2.5-flash"]))
def test_never_a_saving_of_zero_or_less(tmp_path_factory, lines: list[str], out: int, target: str) -> None:
    cat = pricing.load_catalog(PRICING_DIR)
    d = tmp_path_factory.mktemp("h")
    a, b = d / "a.txt", d / "b.txt"
    a.write_text("\n".join(lines), encoding="utf-8")
    b.write_text("\n".join(reversed(lines)), encoding="utf-8")
    report = run([a, b], cat, target=target, output_tokens=out, calls=3, input_format="text")
    check_invariants(report)


# --- inputs, errors, --write -------------------------------------------------------------------


def test_target_model_errors(tmp_path: Path, catalog) -> None:
    path = tmp_path / "p.txt"
    path.write_text("hi\n", encoding="utf-8")
    with pytest.raises(UnknownModelError) as err:
        run([path], catalog, target="gpt-5.44")
    assert "gpt-5.4" in (err.value.hint or "")
    chat = tmp_path / "c.json"
    chat.write_text(json.dumps({"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}), encoding="utf-8")
    with pytest.raises(InputError, match="has no price"):
        run([chat], catalog)
    report = run([path], catalog)
    assert report.model == catalog.defaults()[0].id and report.model_from == "default"


def test_write_rewritten(tmp_path: Path, catalog, reference) -> None:
    para = "A paragraph that is long enough to be a duplicate when it appears again later."
    text = f"Intro   \r\n\r\n\r\n\r\n{para}\r\n\r\n{para}\r\n\r\n```json\r\n{{\r\n  \"a\": 1\r\n}}\r\n```\r\n        indented stays\r\n"
    src = tmp_path / "p.txt"
    src.write_bytes(text.encode("utf-8"))
    sources = inputs.expand([str(src)]).sources
    work, s = optimize.prepare(sources, catalog, optimize.Options(target="gpt-5.4"))
    out = tmp_path / "out.txt"
    result = optimize.write_rewritten(work, sources, out, s.model)
    written = out.read_bytes().decode("utf-8")
    assert src.read_bytes() == text.encode("utf-8")
    assert written == 'Intro\r\n\r\n' + para + '\r\n\r\n```json\r\n{"a":1}\r\n```\r\n        indented stays\r\n'
    enc = reference["o200k_base"]
    assert result.tokens_before == len(enc.encode_ordinary(text))
    assert result.tokens_after == len(enc.encode_ordinary(written))
    with pytest.raises(InputError, match="overwrite the input"):
        optimize.write_rewritten(work, sources, src, s.model)


def test_anthropic_request_file_where_to_cache(tmp_path: Path, catalog, reference) -> None:
    system = "You grade essays against the rubric below, criterion by criterion. " * 120
    path = tmp_path / "requests.jsonl"
    lines = [
        json.dumps(
            {
                "model": "claude-sonnet-4-6",
                "max_tokens": 200,
                "system": system,
                "messages": [{"role": "user", "content": f"Essay {i}: short."}],
            }
        )
        for i in range(3)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run([path], catalog)
    check_invariants(report)
    m = catalog.get("claude-sonnet-4-6")
    s = by_id(report)["cache.prefix"]
    assert "cache_control on the last block of message 1 (system)" in s.detail
    prefix = scaled(m, len(reference["o200k_base"].encode_ordinary(system))) + 3
    assert s.cost_saved_per_call == 2 * usd(prefix, m.input - m.cached_input) - usd(prefix, m.cache_write - m.input)
    # marked already: nothing to suggest, and a note says why
    marked = [
        json.dumps(
            {
                "model": "claude-sonnet-4-6",
                "max_tokens": 200,
                "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
                "messages": [{"role": "user", "content": f"Essay {i}: short."}],
            }
        )
        for i in range(3)
    ]
    path.write_text("\n".join(marked) + "\n", encoding="utf-8")
    report = run([path], catalog)
    assert "cache.prefix" not in by_id(report)
    assert any("already mark cache breakpoints" in n for n in report.notes)


def test_request_file_reorder_the_first_message(tmp_path: Path, catalog, reference) -> None:
    static = "Follow these extraction rules for every field of the invoice, in order. " * 120
    path = tmp_path / "requests.jsonl"
    lines = [
        json.dumps({"model": "gpt-5.4", "messages": [{"role": "system", "content": f"Today is 2026-11-{i + 10}.\n" + static}, {"role": "user", "content": "Invoice"}]})
        for i in range(4)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run([path], catalog, output_tokens=20)
    check_invariants(report)
    m = catalog.get("gpt-5.4")
    suffix = len(reference["o200k_base"].encode_ordinary(static))
    s = by_id(report)["cache.reorder"]
    assert s.cost_saved_per_call == 3 * usd(suffix // 128 * 128, m.input - m.cached_input)


def test_duplicates_across_messages(tmp_path: Path, catalog, reference) -> None:
    enc = reference["o200k_base"]
    doc = "The contract renews every year on the first of March unless either side cancels in writing."
    messages = [
        {"role": "user", "content": f"Here is the clause:\n\n{doc}\n\nIs it fair?"},
        {"role": "assistant", "content": "It is a common clause."},
        {"role": "user", "content": f"Again, the clause:\n\n{doc}\n\nWhat if I forget to cancel?"},
    ]
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"model": "gpt-5.4", "messages": messages}), encoding="utf-8")
    report = run([path], catalog, output_tokens=10)
    check_invariants(report)
    s = by_id(report)["duplicates.paragraphs"]
    last = messages[2]["content"]
    saved = len(enc.encode_ordinary(last)) - len(enc.encode_ordinary(last.replace(doc + "\n\n", "")))
    assert s.tokens_saved == saved
    assert s.cost_saved_per_call == usd(saved, catalog.get("gpt-5.4").input)
