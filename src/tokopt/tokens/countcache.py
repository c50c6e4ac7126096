"""A cache of exact counts, so that an input read again unchanged is not counted again.

An entry says: the bytes with this hash, decoded with these rules, hold N characters and T
tokens in this encoding (whose rank data is pinned by its hash). Only plain-text inputs of at
least MIN_BYTES are cached: below that, counting costs less than looking up.

Safe against tampering: the cache directory is treated as untrusted storage (it may be shared,
or restored from a CI cache that a pull request wrote). Every entry carries an HMAC-SHA256 made
with the user's cache key (`tokopt.cachekey`), which lives outside it, in the user's data
directory, readable by the user alone; an entry whose MAC does not verify is ignored, and a key
that cannot be read or made turns the cache off. An entry is also tied to the pinned hash of the rank data its count was
made with, so new tokenizer data never reads old counts.

Bounded: the entries live in one file of fixed-size records; past MAX_RECORDS it is rewritten
with the newest half. Appends of one record are atomic on local file systems, and a rewrite
replaces the file atomically; a record lost to a race only costs a count.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
from pathlib import Path

from tokopt.tokens.encodings import SPECS

MIN_BYTES = 16 << 10
MAX_RECORDS = 4096
_VERSION = b"tokopt-count-cache-1"
# key (32), tokens, chars, mac (32)
_RECORD = struct.Struct("<32sQQ32s")
_DISABLED = {"0", "off", "false", "no"}


def enabled() -> bool:
    from tokopt import paths

    return os.environ.get(paths.ENV_COUNT_CACHE, "").strip().lower() not in _DISABLED


def content_hash(path: Path) -> bytes:
    """blake2b of a file's bytes."""
    import hashlib

    digest = hashlib.blake2b(digest_size=32)
    with open(path, "rb", buffering=0) as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.digest()


class CountCache:
    """Verified entries of one cache file, loaded on first use."""

    def __init__(self, path: Path, secret: bytes) -> None:
        import hashlib
        import hmac

        self._hashlib, self._hmac = hashlib, hmac
        self.path = path
        self._secret = secret
        self._entries: dict[bytes, tuple[int, int, bytes]] | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls) -> CountCache | None:
        """The user's cache, or None when it is turned off or its key cannot be had."""
        if not enabled():
            return None
        from tokopt import cachekey, paths

        secret = cachekey.user_key()
        if secret is None:
            return None
        return cls(paths.cache_dir() / "counts-v1.bin", secret)

    def key(self, digest: bytes, encoding: str, errors: str) -> bytes:
        return self._hashlib.blake2b(b"\0".join([_VERSION, digest, encoding.encode(), SPECS[encoding].sha256.encode(), errors.encode()]), digest_size=32).digest()

    def _mac(self, key: bytes, tokens: int, chars: int) -> bytes:
        return self._hmac.new(self._secret, _RECORD.pack(key, tokens, chars, b"")[:48], self._hashlib.sha256).digest()

    def _load(self) -> dict[bytes, tuple[int, int, bytes]]:
        if self._entries is None:
            entries: dict[bytes, tuple[int, int, bytes]] = {}
            try:
                data = self.path.read_bytes()
            except OSError:
                data = b""
            for key, tokens, chars, mac in _RECORD.iter_unpack(data[: len(data) - len(data) % _RECORD.size]):
                entries[key] = (tokens, chars, mac)  # a later record for a key wins
            self._entries = entries
        return self._entries

    def get(self, digest: bytes, encoding: str, errors: str) -> tuple[int, int] | None:
        """(tokens, chars), only from an entry whose MAC verifies."""
        key = self.key(digest, encoding, errors)
        with self._lock:
            found = self._load().get(key)
        if found is None:
            return None
        tokens, chars, mac = found
        if not self._hmac.compare_digest(mac, self._mac(key, tokens, chars)):
            return None
        return tokens, chars

    def put(self, digest: bytes, encoding: str, errors: str, tokens: int, chars: int) -> None:
        key = self.key(digest, encoding, errors)
        record = _RECORD.pack(key, tokens, chars, self._mac(key, tokens, chars))
        with self._lock:
            entries = self._load()
            entries[key] = (tokens, chars, record[48:])
            with contextlib.suppress(OSError):  # a cache that cannot be written only costs speed
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if len(entries) > MAX_RECORDS:
                    self._rewrite(entries)
                    return
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, record)
                finally:
                    os.close(fd)

    def _rewrite(self, entries: dict[bytes, tuple[int, int, bytes]]) -> None:
        """Keep the newest half of the entries (a dict keeps the order they were written in)."""
        keep = list(entries.items())[-(MAX_RECORDS // 2) :]
        entries.clear()
        entries.update(keep)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_bytes(b"".join(_RECORD.pack(k, t, c, m) for k, (t, c, m) in keep))
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
