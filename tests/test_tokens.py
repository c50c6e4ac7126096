"""Token counts equal tiktoken's, on any input, however the text is split."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt import tokens

ENCODINGS = ("cl100k_base", "o200k_base")


def ref_count(reference, name: str, text: str) -> int:
    return len(reference[name].encode(text, disallowed_special=()))


# --- the bundled data is tiktoken's --------------------------------------------------------


@pytest.mark.parametrize("name", ENCODINGS)
def test_specs_match_tiktoken_constructors(name, monkeypatch):
    import tiktoken_ext.openai_public as public

    pinned = {}

    def capture(blobpath, expected_hash=None):
        pinned["hash"] = expected_hash
        return tokens.load_ranks(name)

    monkeypatch.setattr(public, "load_tiktoken_bpe", capture)
    theirs = getattr(public, name)()
    spec = tokens.SPECS[name]
    assert spec.pat_str == theirs["pat_str"]
    assert spec.special_tokens == theirs["special_tokens"]
    assert spec.sha256 == pinned["hash"]


@pytest.mark.parametrize("name", ENCODINGS)
def test_bundled_ranks_verify_and_equal_tiktokens(name, reference):
    ranks = tokens.load_ranks(name)
    assert len(ranks) == tokens.SPECS[name].n_ranks
    assert ranks == reference[name]._mergeable_ranks


def test_tampered_hash_is_refused():
    spec = tokens.SPECS["cl100k_base"]
    wrong = tokens.EncodingSpec(name=spec.name, sha256="0" * 64, n_ranks=spec.n_ranks, pat_str=spec.pat_str)
    with pytest.raises(tokens.TokenizerDataError, match="does not match"):
        tokens._bundled_bytes(wrong)


def test_marshal_cache_is_written_and_a_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKOPT_CACHE_DIR", str(tmp_path / "cache"))
    spec = tokens.SPECS["cl100k_base"]
    path = tokens._cache_path(spec)
    assert not path.exists()
    first = tokens.load_ranks("cl100k_base")
    assert path.exists()
    blob = bytearray(path.read_bytes())
    blob[100] ^= 0xFF
    path.write_bytes(bytes(blob))
    assert tokens._read_cache(path, spec) is None
    assert tokens.load_ranks("cl100k_base") == first
    assert tokens._read_cache(path, spec) == first


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
PYTHON_BPE = {name: tokens._PythonBPE(tokens.SPECS[name]) for name in ENCODINGS}


@pytest.mark.parametrize("text", SAMPLES + ["\ud83d\ude00 paired", "lone \ud800 surrogate", "x\udfff"])
@pytest.mark.parametrize("name", ENCODINGS)
def test_python_bpe_equals_tiktoken_on_samples(reference, name, text):
    assert PYTHON_BPE[name].count(text) == ref_count(reference, name, text)


def test_python_bpe_declines_characters_newer_than_its_unicode_tables(reference):
    # U+3D5E7 is unassigned in some Unicode tables and a letter in others; tiktoken's Rust
    # regex and Python's regex module would cut "\U0003d5e7[I" differently.
    text = "\U0003d5e7[I"
    assert PYTHON_BPE["o200k_base"].count(text) is None
    assert tokens._counter("o200k_base", small=True)(text) == ref_count(reference, "o200k_base", text)


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
    text = "".join(c for c in text if tokens._stable_char(c))
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
@given(text=st.text(max_size=300), sizes=st.lists(st.integers(1, 64), min_size=1, max_size=20))
def test_resegmenting_arbitrary_blocks_is_exact(reference, text, sizes):
    blocks, pos, k = [], 0, 0
    while pos < len(text):
        size = sizes[k % len(sizes)]
        blocks.append(text[pos : pos + size])
        pos += size
        k += 1
    segments = list(tokens.resegment(blocks, target=16))
    assert "".join(segments) == text
    for name in ENCODINGS:
        assert sum(ref_count(reference, name, s) for s in segments) == ref_count(reference, name, text)


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


def test_large_text_counted_in_parallel_equals_whole(reference):
    text = _corpus(3 * tokens.PARALLEL_MIN_CHARS)
    segments = tokens.split_text(text, tokens.SEGMENT_CHARS // 8)
    assert len(segments) > 4 and "".join(segments) == text
    for name in ENCODINGS:
        assert tokens.count(text, name) == ref_count(reference, name, text)
        keyed = tokens.count_keyed(((i % 3, s) for i, s in enumerate(segments)), [name])
        assert sum(v[name] for v in keyed.values()) == ref_count(reference, name, text)


def test_a_line_with_no_safe_cut_is_counted_whole(reference):
    text = "\u00a0" * (tokens.PARALLEL_MIN_CHARS + 5)
    assert tokens.split_text(text, 1000) == [text]
    assert tokens.count(text, "o200k_base") == ref_count(reference, "o200k_base", text)


def test_pieces_rejoin_to_the_text_and_count_the_tokens(reference):
    text = "naïve café 日本語 👩‍👩‍👧‍👦 done"
    pieces = list(tokens.pieces(text, "o200k_base"))
    assert "".join(p for p, _ in pieces) == text
    assert sum(n for _, n in pieces) == ref_count(reference, "o200k_base", text)


def test_special_token_text_is_ordinary():
    ids = tokens.encode("<|endoftext|>", "cl100k_base")
    assert 100257 not in ids and len(ids) > 1
