"""The user's cache key: what makes a file in the cache directory trustworthy.

The cache directory is untrusted storage: it may be shared, or restored from a CI cache that a
pull request wrote. Whatever tokopt keeps there and would believe (counts, the compiled price
data) carries an HMAC-SHA256 made with a random key that lives outside it, in the user's data
directory, readable by the user alone. Someone who can rewrite the cache but not read the key
cannot make an entry that verifies, however they recompute its checksums. A key that cannot be
read or made turns the caches off (they only cost speed).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

KEY_FILE = "cache.key"


def key_path() -> Path:
    from tokopt import paths

    value = os.environ.get(paths.ENV_CACHE_KEY)
    return Path(value).expanduser() if value else paths.data_dir() / KEY_FILE


def user_key() -> bytes | None:
    """The key: 32 random bytes, made on first use (or when what is there is not a key),
    readable by the user alone; None when it can be neither read nor made."""
    path = key_path()
    try:
        data = path.read_bytes()
        if len(data) == 32:
            return data
    except FileNotFoundError:
        pass
    except OSError:
        return None
    secret = os.urandom(32)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secret)
        finally:
            os.close(fd)
        os.replace(tmp, path)  # a new key: whatever was made with an old one no longer verifies
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return None
    return secret


def mac(key: bytes, purpose: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of `data` for one use of the key (`purpose` keeps uses apart)."""
    import hashlib
    import hmac

    return hmac.new(key, purpose + b"\0" + data, hashlib.sha256).digest()


def verify(key: bytes, purpose: bytes, data: bytes, tag: bytes) -> bool:
    import hmac

    return hmac.compare_digest(tag, mac(key, purpose, data))


def read_signed(path: Path, key: bytes, purpose: bytes) -> bytes | None:
    """The payload of a file `write_signed` made with `key` for `purpose`; None when there is no
    such file, it cannot be read, or it does not verify (then it is never parsed)."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    tag, payload = blob[:32], blob[32:]
    return payload if verify(key, purpose, payload, tag) else None


def read_marshalled(path: Path, key: bytes, purpose: bytes) -> Any:
    """The value marshalled into a signed file (`read_signed`); None when there is none, or
    when what verifies does not unmarshal (another Python's format)."""
    import marshal

    payload = read_signed(path, key, purpose)
    if payload is None:
        return None
    try:
        return marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None


def write_signed(path: Path, key: bytes, purpose: bytes, payload: bytes) -> None:
    """`payload` behind its MAC, written whole (a temporary file renamed over `path`). A
    read-only or full cache directory only costs speed next time: nothing is raised."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(mac(key, purpose, payload) + payload)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
