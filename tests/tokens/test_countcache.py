"""The count cache: an unchanged input is not counted again, and nothing but tokopt's own
entries (made with a key kept outside the cache directory) is ever believed."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat

import pytest

from tokopt import cachekey, paths
from tokopt.inputs import Source
from tokopt.tokens import countcache, measure

ENCODINGS = ("cl100k_base", "o200k_base")


@pytest.fixture
def on(monkeypatch, tmp_path):
    """The count cache on, in a cache directory of this test's own."""
    monkeypatch.setenv("TOKOPT_COUNT_CACHE", "1")
    monkeypatch.setenv("TOKOPT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TOKOPT_CACHE_KEY")  # the key in this test's data directory


def _file(tmp_path, name="big.txt", text=None):
    path = tmp_path / name
    text = text if text is not None else "The quick brown fox jumps over the lazy dog. naïve café 日本語\n" * 8000
    path.write_text(text, encoding="utf-8")
    return path, text


def _count(path, encodings=ENCODINGS, errors="strict"):
    """(counts, chars, bytes, how many progress reports): a cached count reports its bytes at once."""
    reports: list[int] = []
    (c,) = measure.count_sources([Source(path.name, path, path.stat().st_size)], encodings, errors=errors, on_bytes=reports.append)
    return c.tokens, c.chars, c.bytes, len(reports)


def _records():
    data = (paths.cache_dir() / "counts-v1.bin").read_bytes()
    return [list(r) for r in countcache._RECORD.iter_unpack(data)]


def _write(records):
    (paths.cache_dir() / "counts-v1.bin").write_bytes(b"".join(countcache._RECORD.pack(*r) for r in records))


def test_an_unchanged_file_is_read_from_the_cache_with_the_same_counts(tmp_path, on, reference):
    path, text = _file(tmp_path)
    assert path.stat().st_size >= countcache.MIN_BYTES and path.stat().st_size > 2 * (1 << 18)
    first = _count(path)
    assert first[0] == {e: len(reference[e].encode(text, disallowed_special=())) for e in ENCODINGS}
    assert first[3] > 1 and len(_records()) == 2  # read block by block; one entry per encoding
    again = _count(path)
    assert again[:3] == first[:3] and again[3] == 1  # one report: the file was not read to be counted
    path.write_text(text + "one more line\n", encoding="utf-8")
    changed = _count(path)
    assert changed[3] > 1 and changed[0]["o200k_base"] > first[0]["o200k_base"]


def test_a_cached_text_has_the_same_content_classes_and_loads_no_counter(tmp_path, on, monkeypatch):
    # Approximate models are priced from the text's content classes, found segment by segment:
    # a cached count reads the text again to find them, cut the same way (a longer first
    # segment included), and builds no counter (no rank table) for text it does not count.
    import tokopt.tokens as tokens_pkg
    from tokopt.requests.read import ReadOptions, open_inputs
    from tokopt.tokens import counting

    monkeypatch.setattr(counting, "SEGMENT_CHARS", 1000)
    monkeypatch.setattr(tokens_pkg, "SEGMENT_CHARS", 1000)
    monkeypatch.setattr(tokens_pkg, "FIRST_SEGMENT_CHARS", 9000)
    # long enough that a segment cut otherwise (past 64 K characters) would be sampled
    lines = ["Plain prose, a sentence of words and commas.\n", "def f(x):\n    return {'k': [x, 2]}\n", "日本語のテキストです。\n"]
    text = "".join(lines[(i // 97) % 3] for i in range(6000))
    path, _ = _file(tmp_path, text=text)

    def counted():
        opened = open_inputs([Source(path.name, path, path.stat().st_size)], ReadOptions())
        ((_, c),) = measure.count(opened, lambda _: ENCODINGS, classify=True)
        return c

    built = []
    counter = counting.counter
    monkeypatch.setattr(counting, "counter", lambda *a: built.append(a) or counter(*a))
    fresh = counted()
    assert built  # counted
    built.clear()
    again = counted()
    assert built == []  # answered from the cache: nothing counted, no counter made
    assert again.sums == fresh.sums and again.chars == fresh.chars
    assert again.mix == fresh.mix and again.mix


def test_entries_depend_on_how_the_text_was_decoded(tmp_path, on):
    path = tmp_path / "odd.txt"
    path.write_bytes(("word " * 5000).encode() + b"\xff\xfe tail")
    strict_error = pytest.raises(Exception, match="invalid UTF-8")
    with strict_error:
        _count(path)
    replaced = _count(path, errors="replace")
    assert _count(path, errors="replace")[3] == 1 and replaced[0] == _count(path, errors="replace")[0]
    with pytest.raises(Exception, match="invalid UTF-8"):
        _count(path)  # a cached count of the replaced text never answers a strict read


def test_an_entry_not_made_with_the_key_is_ignored(tmp_path, on):
    # Someone who can write the cache directory (a shared or CI-restored cache) rewrites the
    # counts; without the key, which lives in the data directory, no MAC they make verifies.
    path, _ = _file(tmp_path)
    first = _count(path)
    forged = []
    for key, tokens, chars, mac in _records():
        forged.append([key, 1, chars, hmac.new(os.urandom(32), key + (1).to_bytes(8, "little") + chars.to_bytes(8, "little"), hashlib.sha256).digest()])
    _write(forged)
    recount = _count(path)
    assert recount[:3] == first[:3] and recount[3] > 1  # counted again, not believed
    key_file = cachekey.key_path()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not key_file.is_relative_to(paths.cache_dir())


def test_a_new_key_makes_old_entries_unusable(tmp_path, on):
    path, _ = _file(tmp_path)
    _count(path)
    (cachekey.key_path()).write_bytes(b"short")  # damaged: a new key is made
    assert _count(path)[3] > 1
    assert _count(path)[3] == 1


def test_the_cache_stays_bounded(tmp_path, on, monkeypatch):
    monkeypatch.setattr(countcache, "MAX_RECORDS", 6)
    for i in range(10):
        path, _ = _file(tmp_path, f"p{i}.txt", f"prompt number {i}\n" * 2000)
        _count(path, ("o200k_base",))
    assert len(_records()) <= 6
    assert _count(path, ("o200k_base",))[3] == 1  # the newest stay


def test_small_files_and_a_turned_off_cache_write_nothing(tmp_path, on, monkeypatch):
    path, _ = _file(tmp_path, "small.txt", "short prompt\n")
    _count(path)
    assert not (paths.cache_dir() / "counts-v1.bin").exists()
    monkeypatch.setenv("TOKOPT_COUNT_CACHE", "0")
    big, _ = _file(tmp_path)
    _count(big)
    assert not (paths.cache_dir() / "counts-v1.bin").exists()


def test_no_key_no_cache(tmp_path, on, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("TOKOPT_HOME", str(blocker / "home"))  # neither the key nor the cache can be made
    monkeypatch.delenv("TOKOPT_CACHE_DIR")
    path, text = _file(tmp_path)
    assert _count(path)[3] > 1 and _count(path)[3] > 1


def test_a_cached_estimate_loads_no_tokenizer_in_a_fresh_process(tmp_path, on):
    # The whole command, as a user runs it twice on the same file: the second run answers from
    # the cache and imports neither the rank table nor any BPE (guards against their creeping
    # back onto this path).
    import ast
    import subprocess
    import sys

    path, _ = _file(tmp_path)
    code = (
        "import sys; from tokopt.fastpath import main\n"
        f"sys.argv = ['tokopt', 'estimate', '-f', 'json', {str(path)!r}]\n"
        "try: main()\n"
        "except SystemExit as e: assert not e.code, e.code\n"
        "print([m for m in ('tokopt.tokens.ranktable', 'tokopt.tokens.pybpe', 'tiktoken', 'regex') if m in sys.modules], file=sys.stderr)"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    loaded = [ast.literal_eval(r.stderr.strip().splitlines()[-1]) for r in runs]
    assert "tokopt.tokens.ranktable" in loaded[0]  # counted the first time
    assert loaded[1] == []
