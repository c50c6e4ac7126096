"""Token counts equal tiktoken's, on any input, however the text is split and on whichever thread."""

from __future__ import annotations

import random
import string
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt import tokens
from tokopt.tokens import counting, pybpe
from tests.helpers import python_output

ENCODINGS = ("cl100k_base", "o200k_base")


def ref_count(reference, name: str, text: str) -> int:
    return len(reference[name].encode(text, disallowed_special=()))


# --- counts are exact ------------------------------------------------------------------------

SAMPLES = [
    "",
    "hello world",
    "Hello, world! <|endoftext|> and <|endofprompt|> are just text here.",
    "<|fim_prefix|>def f():<|fim_suffix|>",
    "日本語のテキストと中文文本，还有한국어 텍스트.",
    "emoji 👩‍👩‍👧‍👦 🇺🇳 ✨ mixed with text",
    '{"a": [1, 2, 3], "b": {"c": null, "d": "e"}}',
    "def f(x):\n    return x ** 2  # square\n\n\nclass A:\n\tpass\n",
    "line one\r\nline two\r\n\r\nline three",
    "   leading and trailing spaces   \n\n  ",
    ";\n//comment\n/* block */",
    "1234567890 3.14159 -42 1e10",
    "don't won't I'm you're they've we'll he'd",
    "\u0301\u0301e\u0301 combining marks",
    "\x00\x01\x1c\x1d\x85\u2028\u2029 odd controls",
]


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("name", ENCODINGS)
def test_count_equals_tiktoken_on_samples(reference, name, text):
    assert tokens.count(text, name) == ref_count(reference, name, text)


@settings(max_examples=300)
@given(text=st.text())
def test_count_equals_tiktoken_on_arbitrary_unicode(reference, text):
    for name in ENCODINGS:
        assert tokens.count(text, name) == ref_count(reference, name, text)


# Big texts and batches are counted by tiktoken's Rust core through a buffer, not a list of
# ints; it must be the very same ordinary encoding, special-token text and surrogates included.
@settings(max_examples=300)
@given(text=st.text(alphabet=st.characters(codec=None, exclude_categories=())) | st.sampled_from(SAMPLES))
def test_native_counter_equals_tiktoken(reference, text):
    for name in ENCODINGS:
        counter = tokens.native_counter(tokens.get_encoding(name))
        assert counter(text) == ref_count(reference, name, text)
        assert counter(text + "<|endoftext|>" + text) == ref_count(reference, name, text + "<|endoftext|>" + text)


# Small texts are counted by tokopt's Python BPE (building tiktoken's encoder would cost
# more than the count); it must agree with tiktoken on everything, surrogates included.
class _Lazy(dict):
    def __missing__(self, name):
        self[name] = bpe = pybpe.PythonBPE(tokens.SPECS[name])
        return bpe


PYTHON_BPE = _Lazy()


@pytest.mark.parametrize("text", SAMPLES + ["\ud83d\ude00 paired", "lone \ud800 surrogate", "x\udfff"])
@pytest.mark.parametrize("name", ENCODINGS)
def test_python_bpe_equals_tiktoken_on_samples(reference, name, text):
    assert PYTHON_BPE[name].count(text) == ref_count(reference, name, text)


def test_python_bpe_declines_characters_newer_than_its_unicode_tables(reference):
    # U+3D5E7 is unassigned in some Unicode tables and a letter in others; tiktoken's Rust
    # regex and Python's regex module would cut "\U0003d5e7[I" differently.
    text = "\U0003d5e7[I"
    assert PYTHON_BPE["o200k_base"].count(text) is None
    assert counting.counter("o200k_base", small=True)(text) == ref_count(reference, "o200k_base", text)


@settings(max_examples=500)
@given(text=st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_python_bpe_equals_tiktoken_or_declines_on_arbitrary_unicode(reference, text):
    for name in ENCODINGS:
        n = PYTHON_BPE[name].count(text)
        assert n is None or n == ref_count(reference, name, text)


@settings(max_examples=300)
@given(text=st.text(alphabet=st.characters(codec=None, categories=("L", "M", "N", "P", "S", "Z"))))
def test_python_bpe_counts_assigned_text(reference, text):
    # Text from scripts in use for decades is counted, not declined.
    text = "".join(c for c in text if pybpe.stable_char(c))
    for name in ENCODINGS:
        assert PYTHON_BPE[name].count(text) == ref_count(reference, name, text)


def test_python_bpe_equals_tiktoken_on_a_real_mixed_document(reference):
    text = _corpus(200_000, seed=3)
    for name in ENCODINGS:
        assert PYTHON_BPE[name].count(text) == ref_count(reference, name, text)


# Texts built from the characters that matter to the pre-tokenizer's piece boundaries.
_edgy = st.lists(
    st.sampled_from(list("ab AZé1 2\n\r\t/;,.'\"{}()-_:") + ["  ", "\n\n", "//", "'s", "日本", "👍", "\u0301", "\u00a0"]),
    max_size=30,
).map("".join)


@settings(max_examples=400)
@given(text=_edgy)
def test_every_safe_cut_of_small_documents_is_exact(reference, text):
    for name in ENCODINGS:
        whole = ref_count(reference, name, text)
        for i in range(1, len(text)):
            if tokens.is_safe_cut(text, i):
                parts = ref_count(reference, name, text[:i]) + ref_count(reference, name, text[i:])
                assert parts == whole, (name, text, i)


@settings(max_examples=150)
@given(
    text=st.text(max_size=300),
    sizes=st.lists(st.integers(1, 64), min_size=1, max_size=20),
    first=st.none() | st.integers(1, 100),
)
def test_resegmenting_arbitrary_blocks_is_exact(reference, text, sizes, first):
    blocks, pos, k = [], 0, 0
    while pos < len(text):
        size = sizes[k % len(sizes)]
        blocks.append(text[pos : pos + size])
        pos += size
        k += 1
    segments = list(tokens.resegment(blocks, target=16, first=first))
    assert "".join(segments) == text
    for name in ENCODINGS:
        assert sum(ref_count(reference, name, s) for s in segments) == ref_count(reference, name, text)
    whole = tokens.split_text(text, 16, first)
    assert "".join(whole) == text
    for name in ENCODINGS:
        assert sum(ref_count(reference, name, s) for s in whole) == ref_count(reference, name, text)


def test_the_first_segment_is_the_long_one():
    text = _corpus(200_000)
    for segments in (tokens.split_text(text, 2000, 50_000), list(tokens.resegment([text[i : i + 7000] for i in range(0, len(text), 7000)], 2000, 50_000))):
        assert "".join(segments) == text
        assert 40_000 < len(segments[0]) <= 50_000
        assert all(len(s) <= 2000 for s in segments[1:-1])


def _corpus(n_chars: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    words = ["alpha", "beta", "日本語", "ünïcödé", "x", "42", "3.14", "👍", "don't", "//", "{", "}", ";"]
    out, size = [], 0
    while size < n_chars:
        kind = rng.random()
        if kind < 0.1:
            piece = "\n" + " " * rng.choice([0, 2, 4, 8]) + rng.choice(["def ", "/", "# ", "- ", ""])
        elif kind < 0.15:
            piece = rng.choice(string.punctuation)
        else:
            piece = rng.choice(words) + rng.choice([" ", "", ", ", ".\n", "\t"])
        out.append(piece)
        size += len(piece)
    return "".join(out)


@pytest.fixture
def parallel_at(monkeypatch):
    """Count on the pool from `n` characters on (instead of megabytes), in small segments."""

    def set_threshold(n: int, segment: int = 4096) -> None:
        monkeypatch.setattr(counting, "PARALLEL_MIN_CHARS", n)
        monkeypatch.setattr(counting, "SEGMENT_CHARS", segment)
        monkeypatch.setattr(counting, "FIRST_SEGMENT_CHARS", 4 * segment)
        monkeypatch.setattr(tokens, "FIRST_SEGMENT_CHARS", 4 * segment)
        monkeypatch.setattr(counting, "_building", {})
        monkeypatch.setattr(counting, "workers", lambda: 2)
        monkeypatch.setattr(counting, "_pool", None)  # a pool of two threads, whatever this machine has
        monkeypatch.setattr(counting, "_pool_has", {})
        monkeypatch.setattr(counting, "_spare", {})

    return set_threshold


def test_large_text_counted_in_parallel_equals_whole(reference, parallel_at):
    parallel_at(50_000)
    text = _corpus(150_000)
    segments = tokens.split_text(text, 2000)
    assert len(segments) > 4 and "".join(segments) == text
    for name in ENCODINGS:
        assert tokens.count(text, name) == ref_count(reference, name, text)
        keyed = tokens.count_keyed(((i % 3, s) for i, s in enumerate(segments)), [name])
        assert sum(v[name] for v in keyed.values()) == ref_count(reference, name, text)
        assert keyed[1][name] == sum(ref_count(reference, name, s) for s in segments[1::3])


def test_batches_count_the_same_on_the_pool_and_on_this_thread(reference, parallel_at):
    texts = [_corpus(n, seed=n) for n in (0, 10, 3000, 20_000)] + ["x" * 9000 + " end"]
    batches = [(k, texts[k:], ENCODINGS[: 1 + k % 2]) for k in range(len(texts))]
    here = list(tokens.count_batches(batches, expected_chars=10))
    parallel_at(0)
    pooled = list(tokens.count_batches(batches, expected_chars=10))
    assert here == pooled
    for key, counts in pooled:
        for name, values in counts.items():
            assert values == [ref_count(reference, name, t) for t in texts[key:]]


def test_each_counting_thread_has_its_own_encoder_and_this_thread_counts_none(parallel_at):
    # Threads sharing one tiktoken core share its regex pools, and contend for them (see
    # tokens.counting): every pool thread must count with a core of its own.
    parallel_at(0)
    name = "cl100k_base"
    caller_has_native = []

    def caller():  # a fresh thread: no encoder of its own yet
        list(tokens.count_batches([(i, ["some text " * 500], [name]) for i in range(8)], expected_chars=None))
        caller_has_native.append(counting._has_native(name))

    thread = threading.Thread(target=caller)
    thread.start()
    thread.join()
    assert caller_has_native == [False]
    both = threading.Barrier(2, timeout=30)

    def core_of_this_thread():
        both.wait()  # the two tasks run at once, so on both threads
        return threading.get_ident(), counting.thread_counter(name)

    pool = counting._executor()
    (t1, c1), (t2, c2) = (f.result() for f in [pool.submit(core_of_this_thread) for _ in range(2)])
    assert t1 != t2 and c1 is not c2


def test_the_first_batch_counts_while_the_other_encoders_are_built(reference, parallel_at, monkeypatch):
    # Building an encoder holds the GIL for 0.07-0.14 s: one is built, the first batch goes to
    # the pool, and only then are the other threads' encoders built (from the same ranks).
    parallel_at(0)
    events: list[str] = []
    new_core, load_ranks = counting.encodings.new_core, counting.encodings.load_ranks
    monkeypatch.setattr(counting.encodings, "new_core", lambda *a, **k: events.append("build") or new_core(*a, **k))
    monkeypatch.setattr(counting.encodings, "load_ranks", lambda name: events.append("ranks") or load_ranks(name))
    pool = counting._executor()

    class Recorder:
        def submit(self, *args):
            events.append("submit")
            return pool.submit(*args)

    monkeypatch.setattr(counting, "_executor", Recorder)
    texts = [_corpus(5000, seed=k) for k in range(4)]
    got = list(tokens.count_batches([(k, [t], ["o200k_base"]) for k, t in enumerate(texts)], expected_chars=None))
    assert events == ["ranks", "build", "submit", "build", "submit", "submit", "submit"]
    assert got == [(k, {"o200k_base": [ref_count(reference, "o200k_base", t)]}) for k, t in enumerate(texts)]
    assert counting._building == {}  # the ranks are not kept


def test_a_line_with_no_safe_cut_is_counted_whole(reference, parallel_at):
    parallel_at(1000)
    text = "\u00a0" * 20_005
    assert tokens.split_text(text, 1000) == [text]
    assert tokens.count(text, "o200k_base") == ref_count(reference, "o200k_base", text)


def _mixed_text(n_bytes: int) -> str:
    """Real-looking text of several scripts and shapes: prose, code, JSON, CJK, emoji, CRLF."""
    rng = random.Random(50)
    blocks = [
        _corpus(40_000, seed=1),
        "def handler(event, context):\n    return {'status': 200, \"body\": json.dumps(event)}\n\n",
        '{"messages": [{"role": "user", "content": "Summarise: naïve café, 日本語のテキスト"}]}\r\n',
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20 + "\n\n",
        "中文文本，还有한국어 텍스트와 العربية и русский текст. 👩‍👩‍👧‍👦 🇺🇳 ✨\n",
        "   indented\n\t\ttabs\n;\n//comment\n/* block */\n" + "1234567890 " * 30 + "\n",
        "<|endoftext|> special text is ordinary; ok?!\u00a0\u2028 end\n",
    ]
    out, size = [], 0
    while size < n_bytes:
        block = rng.choice(blocks)
        out.append(block)
        size += len(block.encode())
    return "".join(out)


@pytest.mark.slow
def test_fifty_megabytes_of_mixed_text_on_every_core_count_exactly(reference, tmp_path):
    # The parallel path as the commands take it: a 50 MB file read in blocks, cut at safe cuts,
    # counted on the pool in both encodings at once. The reference is tiktoken's own core.
    # Counting all 50 MB again with tiktoken doubled this test's time, so the text is one mixed
    # unit of about 1 MB repeated, and tiktoken counts the unit and the unit twice over: its
    # pieces come from a regex with no lookbehind whose every alternative scans a run of letters,
    # of digits, of whitespace or of other characters (plus one character of lookahead), and the
    # unit holds all four, so no scan reaches through a whole unit. Hence when tiktoken encodes
    # the unit twice over as the unit's tokens twice (asserted), every repeat starts a piece and
    # the whole text is the unit's tokens repeated. The product's cuts, 128 K characters apart,
    # still fall at hundreds of different places in the unit (its length is no multiple of
    # theirs), and it counts every one of the 50 MB.
    from tokopt.inputs import Source
    from tokopt.tokens import measure

    unit = "Unit " + _mixed_text(1 << 20) + "\n"  # a word after a line break starts a piece
    repeats = -(-(50 << 20) // len(unit.encode()))
    assert len(unit) % counting.SEGMENT_CHARS and not set("a1 ;") - set(unit)
    text = unit * repeats
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8", newline="")
    assert counting._parallel(len(text)) and path.stat().st_size >= 50 << 20
    (counted,) = measure.count_sources([Source("big.txt", path, path.stat().st_size)], ENCODINGS)

    def unit_tokens(name: str) -> int:  # tiktoken releases the GIL: both references at once
        core = reference[name]._core_bpe
        once = bytes(core.encode_to_tiktoken_buffer(unit, set()))
        twice_over = bytes(core.encode_to_tiktoken_buffer(unit + unit, set())) == once + once
        assert twice_over, f"{name}: a piece spans two units; the repeats are no reference"
        return len(once) // 4

    with ThreadPoolExecutor(len(ENCODINGS)) as pool:
        expected = {name: repeats * n for name, n in zip(ENCODINGS, pool.map(unit_tokens, ENCODINGS), strict=True)}
    assert {name: counted.tokens[name] for name in ENCODINGS} == expected
    assert counted.chars == len(text)


def test_pieces_rejoin_to_the_text_and_count_the_tokens(reference):
    text = "naïve café 日本語 👩‍👩‍👧‍👦 done"
    pieces = list(tokens.pieces(text, "o200k_base"))
    assert "".join(p for p, _ in pieces) == text
    assert sum(n for _, n in pieces) == ref_count(reference, "o200k_base", text)


def test_special_token_text_is_ordinary():
    ids = tokens.encode("<|endoftext|>", "cl100k_base")
    assert 100257 not in ids and len(ids) > 1


def test_new_non_ascii_text_beyond_a_budget_goes_to_tiktoken_and_counts_the_same(reference, monkeypatch):
    monkeypatch.setattr(counting, "NON_ASCII_LOOKUPS", 50)
    texts = ["ascii only, many words", "日本語のテキスト、ひらがなとカタカナ", "Русский текст и ещё слова", "ελληνικά κείμενα", "plain again"]
    got: list = []

    def job():  # a fresh thread: no tiktoken encoder of its own yet
        count = counting.counter("o200k_base", small=True)
        got.extend(count(t) for t in texts)
        got.append(counting._has_native("o200k_base"))

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert got[:-1] == [ref_count(reference, "o200k_base", t) for t in texts]
    assert got[-1] is True  # the budget ran out: the rest went to tiktoken's core


def test_a_counting_core_is_tiktoken_s_own_loaded_without_its_package():
    # tiktoken's package imports (concurrent.futures, logging, its registry) cost about 0.01 s
    # that counting does not need; a later `import tiktoken` uses the same extension module.
    code = (
        "import sys\n"
        "from tokopt.tokens import counting, encodings\n"
        "text = 'naïve café <|endoftext|> def f(x): return x\\n' * 50\n"
        "n = counting.native_counter(encodings.new_core('cl100k_base'))(text)\n"
        "alone = ('tiktoken' in sys.modules, 'tiktoken._tiktoken' in sys.modules)\n"
        "import tiktoken\n"
        "enc = encodings.get_encoding('cl100k_base')\n"
        "print(n, len(enc.encode(text, disallowed_special=())), alone, tiktoken.core._tiktoken is sys.modules['tiktoken._tiktoken'])\n"
    )
    n, expected, alone_a, alone_b, shared = python_output(code).replace("(", " ").replace(")", " ").replace(",", " ").split()
    assert n == expected and int(n) > 500
    assert (alone_a, alone_b, shared) == ("False", "True", "True")
