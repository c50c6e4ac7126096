"""Where compiled genai-prices data is kept: a signed file in the user's cache directory, and
the data already loaded in this process.

The file is marshal, which is not safe on untrusted bytes, so it is read only when its MAC
verifies with the user's cache key (tokopt.cachekey). What upstream.py compiles is opaque here.
"""

from __future__ import annotations

import hashlib
import marshal
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

    data = cachekey.read_marshalled(path, key, PURPOSE)
    if type(data) is not dict or data.get("source_sha256") != sha256 or type(data.get("providers")) is not list:
        return None
    return data["providers"]


def write(path: Path, sha256: str, providers: list[dict[str, Any]], key: bytes) -> None:
    from tokopt import cachekey

    cachekey.write_signed(path, key, PURPOSE, marshal.dumps({"source_sha256": sha256, "providers": providers}, 4))


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

# The hash of genai-prices' bundled data (1.6 MB) names its compiled cache and every price's
# data version; hashing it took about 1-4 ms of each run. A signed note in the cache directory
# keeps it with what tells one version of the file from another (inode, size, modification and
# change times: a file replaced or rewritten is hashed again). Its MAC is made with the user's
# cache key, so a note written by someone without the key is ignored.
HASH_NOTE = "data-sha256-v1.json"
HASH_PURPOSE = b"tokopt-data-sha256"


def _stamp(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _noted(path: Path, stamp: list[int], key: bytes) -> str | None:
    import json

    from tokopt import cachekey, paths

    payload = cachekey.read_signed(paths.cache_dir() / HASH_NOTE, key, HASH_PURPOSE)
    if payload is None:
        return None
    try:
        note = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(note, dict) or note.get("path") != str(path) or note.get("stamp") != stamp:
        return None
    sha = note.get("sha256")
    return sha if isinstance(sha, str) and len(sha) == 64 else None


def _note(path: Path, stamp: list[int], sha: str, key: bytes) -> None:
    import json

    from tokopt import cachekey, paths

    payload = json.dumps({"path": str(path), "stamp": stamp, "sha256": sha}).encode()
    cachekey.write_signed(paths.cache_dir() / HASH_NOTE, key, HASH_PURPOSE, payload)


def sha256_of(path: Path, key: bytes | None = None) -> str:
    """The file's SHA-256, hashed again only when the file is not the one hashed before (in this
    process, or, with the user's cache `key`, in an earlier run)."""
    seen = identity(path)
    hit = _HASHED.get(path)
    if seen is not None and hit is not None and hit[0] == seen:
        return hit[1]
    stamp = _stamp(path) if key is not None else None
    sha = _noted(path, stamp, key) if stamp is not None and key is not None else None
    if sha is None:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if stamp is not None and key is not None and stamp == _stamp(path):
            _note(path, stamp, sha, key)
    _HASHED[path] = (seen, sha)
    return sha
