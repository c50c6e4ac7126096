"""The bundled rank files are tiktoken's, verified against the hashes tiktoken pins."""

from __future__ import annotations

import pytest

from tokopt import tokens
from tokopt.tokens import encodings

ENCODINGS = ("cl100k_base", "o200k_base")


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
        encodings.bundled_bytes(wrong)


def test_ranks_out_of_order_are_refused():
    spec = tokens.SPECS["cl100k_base"]
    with pytest.raises(tokens.TokenizerDataError, match="rank 5, expected 1"):
        encodings.parse_rank_file(b"YQ== 0\nYg== 5\n", spec)


def test_each_encoding_object_has_its_own_core():
    a, b = encodings.new_encoding("cl100k_base"), encodings.new_encoding("cl100k_base")
    assert a._core_bpe is not b._core_bpe
    assert tokens.get_encoding("cl100k_base") is tokens.get_encoding("cl100k_base")
