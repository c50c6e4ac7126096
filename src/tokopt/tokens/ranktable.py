"""A rank table: token bytes -> rank, looked up in place in one file, without parsing it.

Counting a small prompt needs a few thousand rank lookups, not the 200,000-entry dict that
tiktoken builds; this table answers them from a 2-4 MB file read in a millisecond. The file is
derived from the verified bundled rank file (`build`) and kept in the user cache directory. It
is trusted only when its own blake2b hash equals the one pinned in `encodings.SPECS` (which a
test recomputes from the bundled data), so a cache that was rewritten, even with a matching
self-checksum, is never used: it is rebuilt.

Layout (unsigned 32-bit little-endian integers):

    header   magic b"TKRANKS1", n, slot_bits, blob_len, 12 zero bytes     (32 bytes)
    offsets  n + 1 of them: the token of rank r is blob[offsets[r]:offsets[r + 1]]
    slots    2**slot_bits of them: 0 for empty, else rank + 1. A token sits at the first free
             slot from crc32(token) & mask on (linear probing), inserted in rank order.
    blob     every token's bytes, in rank order
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import sys
import threading
import zlib
from array import array
from pathlib import Path

from tokopt.tokens.encodings import SPECS, EncodingSpec, TokenizerDataError, bundled_bytes, parse_rank_file

MAGIC = b"TKRANKS1"
_HEADER = struct.Struct("<8sIII12x")


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def _u32(data: bytes | memoryview) -> memoryview | array[int]:
    if sys.byteorder == "little":
        return memoryview(data).cast("I")
    values = array("I", bytes(data))
    values.byteswap()
    return values


class RankTable:
    """The ranks of one encoding, looked up in the file's bytes."""

    __slots__ = ("n", "_offsets", "_slots", "_blob", "_mask")

    def __init__(self, data: bytes) -> None:
        magic, n, slot_bits, blob_len = _HEADER.unpack_from(data)
        start = _HEADER.size
        slots_at = start + 4 * (n + 1)
        blob_at = slots_at + 4 * (1 << slot_bits)
        if magic != MAGIC or blob_at + blob_len != len(data) or array("I").itemsize != 4:
            raise TokenizerDataError("malformed rank table")
        self.n = n
        view = memoryview(data)
        self._offsets = _u32(view[start:slots_at])
        self._slots = _u32(view[slots_at:blob_at])
        self._blob = data[blob_at:]
        self._mask = (1 << slot_bits) - 1

    def rank(self, token: bytes) -> int | None:
        """The rank of `token`, or None when it is not a token."""
        slots, offsets, mask = self._slots, self._offsets, self._mask
        i = zlib.crc32(token) & mask
        size = len(token)
        while True:
            r = slots[i]
            if not r:
                return None
            start = offsets[r - 1]
            if offsets[r] - start == size and self._blob[start : start + size] == token:
                return r - 1
            i = (i + 1) & mask

    def token(self, rank: int) -> bytes:
        return self._blob[self._offsets[rank] : self._offsets[rank + 1]]

    def as_dict(self) -> dict[bytes, int]:
        """token bytes -> rank for every token, as tiktoken's encoder takes them."""
        offsets = self._offsets
        pieces = map(self._blob.__getitem__, map(slice, offsets[:-1], offsets[1:]))
        return dict(zip(pieces, range(self.n)))


def build(tokens: list[bytes]) -> bytes:
    """The table file of `tokens` (in rank order). Deterministic: same tokens, same bytes."""
    n = len(tokens)
    slot_bits = max(4, (2 * n - 1).bit_length())  # at most half full
    mask = (1 << slot_bits) - 1
    slots = array("I", bytes(4 * (mask + 1)))
    offsets = array("I", [0])
    blob = bytearray()
    crc32 = zlib.crc32
    for rank, token in enumerate(tokens):
        blob += token
        offsets.append(len(blob))
        i = crc32(token) & mask
        while slots[i]:
            i = (i + 1) & mask
        slots[i] = rank + 1
    if sys.byteorder != "little":
        offsets.byteswap()
        slots.byteswap()
    return _HEADER.pack(MAGIC, n, slot_bits, len(blob)) + offsets.tobytes() + slots.tobytes() + bytes(blob)


def build_from_bundled(spec: EncodingSpec) -> bytes:
    return build(parse_rank_file(bundled_bytes(spec), spec))


def cache_path(spec: EncodingSpec) -> Path:
    from tokopt import paths

    return paths.cache_dir() / f"{spec.name}-{spec.table_blake2b[:16]}.ranks"


def _read_trusted(path: Path, spec: EncodingSpec) -> bytes | None:
    """The cached table, only if it is exactly the table pinned for `spec`."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if digest(data) == spec.table_blake2b else None


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        # A read-only or full cache dir only costs speed on the next run.
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


_lock = threading.Lock()
_tables: dict[str, RankTable] = {}


def load(name: str, *, keep: bool = True) -> RankTable:
    """The verified rank table of an encoding: from the cache when it is the pinned table,
    else built from the bundled rank file (and cached). `keep`: held for later calls (the
    Python BPE looks ranks up in it); without, a table read for one use is freed after it."""
    with _lock:
        table = _tables.get(name)
        if table is not None:
            return table
        spec = SPECS[name]
        path = cache_path(spec)
        data = _read_trusted(path, spec)
        if data is None:
            data = build_from_bundled(spec)
            if digest(data) != spec.table_blake2b:
                raise TokenizerDataError(f"{spec.filename}: the rank table built from it does not match its pinned hash")
            _write(path, data)
        table = RankTable(data)
        if keep:
            _tables[name] = table
        return table


# --- the token list, for building tiktoken's encoder ---------------------------------------------
#
# tiktoken's encoder is built from a dict of every token; cutting 100,000-200,000 tokens out of
# the table takes 0.03-0.07 s, about as long as tiktoken's own encoder build. The tokens are
# therefore also kept as a marshalled list, which loads in a few milliseconds. marshal is not
# safe on untrusted bytes, so the file carries an HMAC made with the user's cache key
# (tokopt.cachekey) and is unmarshalled only when it verifies; it also names the pinned table it
# was cut from, so new tokenizer data never reads an old list.

TOKENS_PURPOSE = b"tokopt-rank-tokens"


def tokens_path(spec: EncodingSpec) -> Path:
    from tokopt import paths

    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return paths.cache_dir() / f"{spec.name}-{spec.table_blake2b[:16]}-{version}.tokens"


def cached_tokens(name: str, key: bytes | None) -> list[bytes] | None:
    """The tokens of `name` in rank order from the signed list, or None (no list, or one that
    does not verify with `key`)."""
    from tokopt import cachekey

    spec = SPECS[name]
    if key is None:
        return None
    data = cachekey.read_marshalled(tokens_path(spec), key, TOKENS_PURPOSE)
    if type(data) is not tuple or len(data) != 2 or data[0] != spec.table_blake2b:
        return None
    tokens = data[1]
    if type(tokens) is not list or len(tokens) != spec.n_ranks:
        return None
    return tokens


def keep_tokens(name: str, tokens: list[bytes], key: bytes | None) -> None:
    """Write the signed token list (a cache that cannot be written only costs speed)."""
    import marshal

    from tokopt import cachekey

    if key is None:
        return
    spec = SPECS[name]
    cachekey.write_signed(tokens_path(spec), key, TOKENS_PURPOSE, marshal.dumps((spec.table_blake2b, tokens), 4))


def tokens_in_order(name: str) -> list[bytes]:
    """Every token of `name`, in rank order: from the signed list, else cut from the verified
    table (and the list written for next time)."""
    from tokopt import cachekey

    key = cachekey.user_key()
    tokens = cached_tokens(name, key)
    if tokens is None:
        table = load(name, keep=False)
        offsets, blob = table._offsets, table._blob
        tokens = list(map(blob.__getitem__, map(slice, offsets[:-1], offsets[1:])))
        keep_tokens(name, tokens, key)
    return tokens
