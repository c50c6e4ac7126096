"""The rank table: every rank found in place, and a cache trusted only if it is the pinned table."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest

from tokopt import tokens
from tokopt.tokens import encodings, ranktable

ENCODINGS = ("cl100k_base", "o200k_base")


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """An empty cache directory and no table loaded in this process."""
    monkeypatch.setenv("TOKOPT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(ranktable, "_tables", {})
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def built(tmp_path_factory, session_dir) -> dict[str, bytes]:
    """cl100k_base's cache files (the table and the signed token list) as tokopt writes them,
    built once for the module (a build takes 0.08 s): tests that damage them start from a copy."""
    cache = tmp_path_factory.mktemp("built") / "cache"
    with pytest.MonkeyPatch.context() as m:  # before this test's own environment is set
        m.setenv("TOKOPT_CACHE_DIR", str(cache))
        m.setenv("TOKOPT_CACHE_KEY", str(session_dir / "cache.key"))  # the key every test signs with
        m.setattr(ranktable, "_tables", {})
        encodings.load_ranks("cl100k_base")
    return {p.name: p.read_bytes() for p in cache.iterdir()}


@pytest.fixture
def seeded(fresh, built) -> Path:
    """`fresh`, holding the cache files tokopt wrote for cl100k_base; none is loaded yet."""
    fresh.mkdir(parents=True)
    for name, data in built.items():
        (fresh / name).write_bytes(data)
    return fresh


@pytest.mark.parametrize("name", ENCODINGS)
def test_the_table_built_from_the_bundled_data_is_the_pinned_one(name):
    spec = tokens.SPECS[name]
    assert ranktable.digest(ranktable.build_from_bundled(spec)) == spec.table_blake2b


@pytest.mark.parametrize("name", ENCODINGS)
def test_every_token_has_its_rank_and_nothing_else_has_one(name, reference):
    table = ranktable.load(name)
    ranks = reference[name]._mergeable_ranks
    assert table.n == len(ranks)
    assert all(table.rank(token) == rank for token, rank in ranks.items())
    assert all(table.token(rank) == token for token, rank in list(ranks.items())[::97])
    for token in list(ranks)[::101]:
        for other in (token + b"\x00\xff", b"\xff\xfe" + token):
            assert table.rank(other) == ranks.get(other)
    assert table.as_dict() == ranks


def test_the_table_is_cached_and_read_back(fresh):
    first = ranktable.load("cl100k_base")
    path = ranktable.cache_path(tokens.SPECS["cl100k_base"])
    assert path.parent == fresh and path.is_file()
    ranktable._tables.clear()
    again = ranktable.load("cl100k_base")
    assert again is not first and again.rank(b"hello") == first.rank(b"hello") is not None


def _forge(data: bytes, token: bytes) -> bytes:
    """The table with `token`'s bytes overwritten, as someone who can write the cache could."""
    table = ranktable.RankTable(data)
    rank = table.rank(token)
    _, n, slot_bits, blob_len = struct.unpack_from("<8sIII", data)
    blob_at = len(data) - blob_len
    start = blob_at + struct.unpack_from("<I", data, 32 + 4 * rank)[0]
    return data[:start] + b"\x01" * len(token) + data[start + len(token) :]


def test_a_rewritten_cache_is_never_trusted_and_is_rebuilt(seeded, reference):
    # Issue 12: a cache rewritten with other ranks, its checksum recomputed, changed counts. The
    # table is trusted only when it hashes to the value pinned in the source: no checksum an
    # attacker can compute is consulted.
    text = "hello world, hello tokens"
    expected = len(reference["cl100k_base"].encode(text))
    path = ranktable.cache_path(tokens.SPECS["cl100k_base"])
    good = path.read_bytes()
    forged = _forge(good, b" world")
    assert ranktable.RankTable(forged).rank(b" world") is None  # the forgery would change counts
    path.write_bytes(forged)
    ranktable._tables.clear()
    from tokopt.tokens import pybpe

    assert pybpe.PythonBPE(tokens.SPECS["cl100k_base"]).count(text) == expected
    assert path.read_bytes() == good  # rebuilt


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_damaged_cache_is_rebuilt(seeded, damage):
    path = ranktable.cache_path(tokens.SPECS["cl100k_base"])
    good = path.read_bytes()
    bad = {
        "truncate": good[: len(good) // 2],
        "flip": good[:1000] + bytes([good[1000] ^ 1]) + good[1001:],
        "garbage": b"\x00" * 64,
        "empty": b"",
    }[damage]
    path.write_bytes(bad)
    ranktable._tables.clear()
    assert ranktable.load("cl100k_base").rank(b"hello") is not None
    assert path.read_bytes() == good


def test_an_unwritable_cache_directory_only_costs_speed(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("TOKOPT_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(ranktable, "_tables", {})
    assert ranktable.load("cl100k_base").rank(b"hello") is not None


def test_a_table_that_does_not_match_its_pin_after_a_build_is_an_error(fresh, monkeypatch):
    spec = tokens.SPECS["cl100k_base"]
    wrong = encodings.EncodingSpec(**{**spec.__dict__, "table_blake2b": "0" * 64})
    monkeypatch.setitem(tokens.SPECS, "cl100k_base", wrong)
    with pytest.raises(tokens.TokenizerDataError, match="pinned hash"):
        ranktable.load("cl100k_base")


def test_build_is_deterministic_and_round_trips_a_small_vocabulary():
    vocab = [bytes([i]) for i in range(256)] + [b"ab", b"abc", b" the", b"\x00\x00"]
    data = ranktable.build(vocab)
    assert data == ranktable.build(list(vocab))
    table = ranktable.RankTable(data)
    assert [table.rank(t) for t in vocab] == list(range(len(vocab)))
    assert table.rank(b"abcd") is None and table.as_dict() == {t: i for i, t in enumerate(vocab)}
    with pytest.raises(tokens.TokenizerDataError):
        ranktable.RankTable(data[:-1])


def test_rank_file_lines_are_base64_tokens():
    raw = b"".join(base64.b64encode(t) + b" %d\n" % i for i, t in enumerate([b"a", b"b", b"ab"]))
    spec = encodings.EncodingSpec(name="x", sha256="", n_ranks=3, pat_str="")
    assert encodings.parse_rank_file(raw, spec) == [b"a", b"b", b"ab"]


def test_a_well_formed_table_of_other_ranks_is_never_trusted(fresh, reference):
    # A forger who writes a complete, self-consistent table (every offset, slot and length
    # agreeing, as well formed as tokopt's own, the equivalent of recomputing a self-checksum)
    # with two ranks swapped is still not believed: the only hash consulted is the one pinned in
    # the source for the data the table is built from, so the table is rebuilt from that data.
    spec = tokens.SPECS["cl100k_base"]
    vocab = encodings.parse_rank_file(encodings.bundled_bytes(spec), spec)
    hello, world = vocab.index(b"hello"), vocab.index(b" world")
    vocab[hello], vocab[world] = vocab[world], vocab[hello]
    forged = ranktable.build(vocab)
    assert ranktable.RankTable(forged).rank(b" world") == hello  # usable, with other ranks
    path = ranktable.cache_path(spec)
    path.parent.mkdir(parents=True)
    path.write_bytes(forged)  # there before tokopt ever wrote the cache
    table = ranktable.load("cl100k_base")
    assert table.rank(b" world") == world and table.rank(b"hello") == hello
    assert ranktable.digest(path.read_bytes()) == spec.table_blake2b  # replaced by the real table
    ranktable._tables.clear()
    text = "hello world, hello tokens"
    from tokopt.tokens import pybpe

    assert pybpe.PythonBPE(spec).count(text) == len(reference["cl100k_base"].encode(text))


# --- the signed token list that tiktoken's encoder is built from ---------------------------------


def test_the_encoder_s_ranks_come_from_the_signed_token_list_and_equal_tiktoken_s(fresh, reference):
    spec = tokens.SPECS["cl100k_base"]
    first = encodings.load_ranks("cl100k_base")  # cut from the table; the list is written
    path = ranktable.tokens_path(spec)
    assert path.exists()
    ranktable._tables.clear()
    ranktable.cache_path(spec).unlink()  # the second load reads the list alone
    again = encodings.load_ranks("cl100k_base")
    assert not ranktable.cache_path(spec).exists()
    assert first == again == reference["cl100k_base"]._mergeable_ranks
    assert list(again.values()) == list(range(spec.n_ranks))


@pytest.mark.parametrize("change", ["one token", "the mac", "a list signed with another key", "another table's list"])
def test_a_token_list_that_does_not_verify_is_never_unmarshalled(seeded, reference, change, monkeypatch):
    import marshal

    from tokopt import cachekey

    spec = tokens.SPECS["cl100k_base"]
    path = ranktable.tokens_path(spec)
    good = path.read_bytes()
    key = cachekey.user_key()
    listed = marshal.loads(good[32:])[1]
    forged_tokens = [b" world" if t == b" hello" else t for t in listed]
    if change == "one token":  # the MAC no longer matches
        payload = marshal.dumps((spec.table_blake2b, forged_tokens), 4)
        bad = good[:32] + payload
    elif change == "the mac":
        bad = bytes([good[0] ^ 1]) + good[1:]
    elif change == "a list signed with another key":
        payload = marshal.dumps((spec.table_blake2b, forged_tokens), 4)
        bad = cachekey.mac(b"k" * 32, ranktable.TOKENS_PURPOSE, payload) + payload
    else:  # signed with the user's key, but cut from other data than the pinned table
        payload = marshal.dumps(("0" * 64, forged_tokens), 4)
        bad = cachekey.mac(key, ranktable.TOKENS_PURPOSE, payload) + payload
    path.write_bytes(bad)
    loads = []
    monkeypatch.setattr(marshal, "loads", lambda data, _real=marshal.loads: loads.append(1) or _real(data))
    ranks = encodings.load_ranks("cl100k_base")
    assert ranks == reference["cl100k_base"]._mergeable_ranks
    assert path.read_bytes() == good  # cut again from the table and written again
    if change != "another table's list":
        assert loads == []  # refused on its MAC, before any unmarshalling
