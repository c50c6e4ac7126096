"""Where compiled genai-prices data is kept: a signed file in the user's cache directory, and
the data already loaded in this process.

The file is marshal, which is not safe on untrusted bytes, so it is read only when its MAC
verifies with the user's cache key (tokopt.cachekey). What upstream.py compiles is opaque here.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

PURPOSE = b"tokopt-genai-prices-cache"

Identity = tuple[int, int, int]


def path_for(sha256: str, fmt: int) -> Path:
    """The cache file of the data with this hash, in compiled format `fmt`."""
    from tokopt import paths

    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return paths.cache_dir() / f"genai-prices-{sha256[:24]}-{version}-v{fmt}.marshal"


def read(path: Path, sha256: str, key: bytes) -> list[dict[str, Any]] | None:
    """The compiled data, only if its MAC verifies with the user's cache key: a cache rewritten
    by someone without the key (a shared or CI-restored cache directory), even with a correct
    checksum, is never unmarshalled."""
    from tokopt import cachekey

    try:
        blob = path.read_bytes()
    except OSError:
        return None
    tag, payload = blob[:32], blob[32:]
    if not cachekey.verify(key, PURPOSE, payload, tag):
        return None
    try:
        data = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if type(data) is not dict or data.get("source_sha256") != sha256 or type(data.get("providers")) is not list:
        return None
    return data["providers"]


def write(path: Path, sha256: str, providers: list[dict[str, Any]], key: bytes) -> None:
    from tokopt import cachekey

    payload = marshal.dumps({"source_sha256": sha256, "providers": providers}, 4)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(cachekey.mac(key, PURPOSE, payload) + payload)
        os.replace(tmp, path)
    except OSError:
        # a read-only or full cache directory only costs speed next time
        tmp.unlink(missing_ok=True)


def identity(path: Path) -> Identity | None:
    """What tells one version of a file from another without reading it."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


# Data loaded in this process, by what it was loaded from: a program (or a test suite) that
# loads catalogs again and again unpacks each provider's models once, not on every load.
_LOADED: dict[tuple[Any, ...], Any] = {}


def loaded(info: Any, cache: Path, key: bytes | None) -> Any | None:
    """The data this process already loaded from `cache` as it is now, with this key."""
    seen = identity(cache)
    if key is None or seen is None:
        return None
    return _LOADED.get((info, cache, seen, key))


def keep(info: Any, cache: Path, key: bytes | None, data: Any) -> None:
    """Remember `data` (never changed once made) as loaded from `cache` as it is now."""
    now = identity(cache)
    if key is not None and now is not None:
        _LOADED.clear()  # one data set at a time: a long-lived process does not grow
        _LOADED[(info, cache, now, key)] = data


_HASHED: dict[Path, tuple[Identity | None, str]] = {}


def sha256_of(path: Path) -> str:
    """The file's SHA-256, hashed again only when the file is not the one hashed before."""
    seen = identity(path)
    hit = _HASHED.get(path)
    if seen is not None and hit is not None and hit[0] == seen:
        return hit[1]
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    _HASHED[path] = (seen, sha)
    return sha
