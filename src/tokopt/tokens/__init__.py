"""Offline, hash-verified OpenAI encodings and exact token counting, in parallel for large texts.

This is the only module that imports tiktoken. The BPE rank files ship inside the package
(`tokopt/data/*.tiktoken.gz`, the same bytes tiktoken downloads); before first use their
SHA-256 is checked against the hash tiktoken itself pins, and the parsed ranks are cached with
`marshal` (plain data, no code) in the user cache directory, keyed by that hash.

Counts equal ``len(tiktoken.get_encoding(name).encode(text, disallowed_special=()))``:
special-token text such as ``<|endoftext|>`` inside a prompt is ordinary text here.

Large texts are cut into segments only where the pre-tokenizer (the encoding's regex) would
start a new piece anyway, so the sum of the segment counts is the count of the whole.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import marshal
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import tiktoken


@dataclass(frozen=True)
class EncodingSpec:
    name: str
    sha256: str  # of the uncompressed rank file, as pinned in tiktoken_ext/openai_public.py
    n_ranks: int
    pat_str: str
    special_tokens: dict[str, int] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.name}.tiktoken.gz"


# pat_str and special tokens are tiktoken's own (tiktoken_ext/openai_public.py);
# tests/test_tokens.py checks them against the installed tiktoken.
SPECS: dict[str, EncodingSpec] = {
    "cl100k_base": EncodingSpec(
        name="cl100k_base",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        n_ranks=100256,
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
    "o200k_base": EncodingSpec(
        name="o200k_base",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        n_ranks=199998,
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
}

ENCODINGS: tuple[str, ...] = tuple(SPECS)

# Texts this long are counted in parallel, in segments of about SEGMENT_CHARS characters
# (small enough that the token lists in flight stay a few megabytes).
PARALLEL_MIN_CHARS = 1 << 18
SEGMENT_CHARS = 1 << 17
# Below this many characters a text is counted by the pure-Python BPE below: building
# tiktoken's Rust encoder costs as much as counting about half a megabyte in Python.
SMALL_TEXT_CHARS = 1 << 17

_CACHE_FORMAT = 1
_lock = threading.Lock()
_encodings: dict[str, tiktoken.Encoding] = {}


class TokenizerDataError(RuntimeError):
    """The bundled rank file is missing or does not match its pinned hash (a broken install)."""


def _bundled_bytes(spec: EncodingSpec) -> bytes:
    try:
        packed = resources.files("tokopt").joinpath("data", spec.filename).read_bytes()
    except FileNotFoundError:
        raise TokenizerDataError(f"tokenizer data missing from the installation: {spec.filename}") from None
    raw = gzip.decompress(packed)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        raise TokenizerDataError(f"{spec.filename}: sha256 {digest} does not match tiktoken's pinned {spec.sha256}")
    return raw


def _parse_ranks(raw: bytes) -> dict[bytes, int]:
    return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in raw.splitlines() if line)}


def _cache_path(spec: EncodingSpec) -> Path:
    from tokopt import paths

    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return paths.cache_dir() / f"{spec.name}-{spec.sha256[:16]}-{version}-v{_CACHE_FORMAT}.marshal"


def _read_cache(path: Path, spec: EncodingSpec) -> dict[bytes, int] | None:
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    digest, payload = blob[:32], blob[32:]
    if hashlib.sha256(payload).digest() != digest:
        return None
    try:
        ranks = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if type(ranks) is not dict or len(ranks) != spec.n_ranks:
        return None
    return ranks


def _write_cache(path: Path, ranks: dict[bytes, int]) -> None:
    payload = marshal.dumps(ranks, 4)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:
        # A read-only or full cache dir only costs speed on the next run.
        tmp.unlink(missing_ok=True)


def load_ranks(name: str) -> dict[bytes, int]:
    """The verified BPE ranks of an encoding, from the marshal cache when it is intact."""
    spec = SPECS[name]
    path = _cache_path(spec)
    ranks = _read_cache(path, spec)
    if ranks is None:
        ranks = _parse_ranks(_bundled_bytes(spec))
        if len(ranks) != spec.n_ranks:
            raise TokenizerDataError(f"{spec.filename}: {len(ranks)} ranks, expected {spec.n_ranks}")
        _write_cache(path, ranks)
    return ranks


def get_encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken Encoding built from the bundled data; never touches the network."""
    with _lock:
        enc = _encodings.get(name)
        if enc is None:
            import tiktoken

            spec = SPECS[name]
            enc = tiktoken.Encoding(
                name=spec.name,
                pat_str=spec.pat_str,
                mergeable_ranks=load_ranks(name),
                special_tokens=dict(spec.special_tokens),
            )
            _encodings[name] = enc
        return enc


# --- exact splitting -------------------------------------------------------------------------


_CUT_PUNCT = frozenset('!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~')


def is_safe_cut(text: str, i: int) -> bool:
    """True if both encodings' pre-tokenizers start a new piece at `text[i]` whatever follows.

    Three rules, each proven against whole-text counts by the property tests:
    - after a newline, before a character that is neither whitespace nor '/' (o200k's
      punctuation piece runs on through newlines into '/': ";\\n//" is one piece), or before
      a run of spaces and tabs that ends in such a character (an indented line);
    - between a letter and a space that is followed by a letter ("word| word");
    - between a letter or digit and ASCII punctuation other than the apostrophe ("x|,").
    """
    n = len(text)
    if i <= 0 or i >= n:
        return False
    prev, cur = text[i - 1], text[i]
    if prev == "\n":
        j = i
        while j < n and text[j] in " \t":
            j += 1
        return j < n and not text[j].isspace() and (j > i or text[j] != "/")
    if not prev.isalnum():
        return False
    if cur == " ":
        return prev.isalpha() and i + 1 < n and text[i + 1].isalpha()
    return cur in _CUT_PUNCT


_SCAN_WINDOW = 1 << 16


def find_cut(text: str, start: int, end: int) -> int:
    """The last safe cut in text[start:end] (preferring line breaks), or -1 if there is none.

    Only the last 64K characters of the range are searched.
    """
    floor = max(start, end - _SCAN_WINDOW)
    pos = end
    while True:
        nl = text.rfind("\n", floor, pos)
        if nl < 0:
            break
        if is_safe_cut(text, nl + 1):
            return nl + 1
        pos = nl
    for i in range(end, max(floor, 1) - 1, -1):
        if is_safe_cut(text, i):
            return i
    return -1


def split_text(text: str, target: int) -> list[str]:
    """Cut `text` into segments of about `target` characters, at safe cuts only."""
    segments = []
    start = 0
    n = len(text)
    while n - start > target:
        cut = find_cut(text, start + 1, start + target)
        if cut <= start:
            cut = find_cut(text, start + target, min(n - 1, start + 8 * target))
        if cut <= start:
            break
        segments.append(text[start:cut])
        start = cut
    segments.append(text[start:])
    return segments


def resegment(blocks: Iterable[str], target: int = SEGMENT_CHARS) -> Iterator[str]:
    """Turn text blocks as read from a stream into segments that end at safe cuts."""
    carry = ""
    for block in blocks:
        buf = carry + block if carry else block
        if len(buf) < target:
            carry = buf
            continue
        # The tail after the last safe cut waits for the next block: what follows decides
        # whether a cut near the end is safe.
        cut = find_cut(buf, 1, len(buf) - 1)
        if cut < 0:
            carry = buf
            continue
        yield from split_text(buf[:cut], target)
        carry = buf[cut:]
    if carry:
        yield from split_text(carry, target)


# --- counting ---------------------------------------------------------------------------------



# General categories whose regex class (not \p{L}, \p{N}, \p{M} or white space) stays the
# same when a newer Unicode version assigns the code point.
_SAFE_NEW_CATEGORIES = frozenset({"Sm", "Sc", "Sk", "So", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"})


@functools.lru_cache(maxsize=8192)
def _stable_char(char: str) -> bool:
    """True if every Unicode version since 3.2 puts `char` in the same pre-tokenizer class.

    tiktoken's Rust regex and Python's `regex` module carry their own Unicode tables, which
    differ for recently assigned characters (a letter to one is unassigned to the other).
    """
    import unicodedata

    now = unicodedata.category(char)
    return now in _SAFE_NEW_CATEGORIES or unicodedata.ucd_3_2_0.category(char) == now != "Cn"


class _PythonBPE:
    """tiktoken's algorithm in Python, for small texts: the same regex pieces, then for each
    piece the adjacent pair whose bytes have the lowest rank is merged until none can be
    (leftmost first on ties), exactly as tiktoken's `byte_pair_merge`. The property tests
    check it against tiktoken itself."""

    def __init__(self, spec: EncodingSpec) -> None:
        import regex

        self._pattern = regex.compile(spec.pat_str)
        self._ranks = load_ranks(spec.name)
        self._memo: dict[str, int] = {}

    def _merge(self, piece: bytes) -> int:
        ranks = self._ranks
        parts = [piece[i : i + 1] for i in range(len(piece))]
        while len(parts) > 1:
            best = best_at = -1
            for i in range(len(parts) - 1):
                rank = ranks.get(parts[i] + parts[i + 1])
                if rank is not None and (best < 0 or rank < best):
                    best, best_at = rank, i
            if best < 0:
                break
            parts[best_at : best_at + 2] = [parts[best_at] + parts[best_at + 1]]
        return len(parts)

    def count(self, text: str) -> int | None:
        """The count, or None for text with characters whose Unicode class is not settled."""
        if not text.isascii() and not all(_stable_char(c) for c in set(text)):
            return None
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # tiktoken's own fix-up for lone surrogates, applied to the whole text
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        memo, ranks = self._memo, self._ranks
        total = 0
        for piece in self._pattern.findall(text):
            n = memo.get(piece)
            if n is None:
                raw = piece.encode("utf-8")
                n = 1 if raw in ranks else self._merge(raw)
                if len(memo) < 100_000:
                    memo[piece] = n
            total += n
        return total


_python_bpe: dict[str, _PythonBPE] = {}
_NO_SPECIAL: set[str] = set()


def native_counter(enc: tiktoken.Encoding) -> Callable[[str], int]:
    """Count with tiktoken's Rust core without building a Python list of token ids.

    `encode_ordinary` returns a list of Python ints, made while holding the GIL: for big
    texts that is a third of the time, and it serialises the threads. The core's buffer
    encoder with no special token allowed is the same ordinary encoding (tiktoken's own
    `encode_to_numpy` uses it) and hands back one buffer of uint32s. Lone surrogates are
    repaired as `encode_ordinary` repairs them. Falls back to `encode_ordinary` when the
    core has no buffer encoder.
    """
    core = getattr(enc, "_core_bpe", None)
    to_buffer = getattr(core, "encode_to_tiktoken_buffer", None)
    if to_buffer is None:
        ordinary = enc.encode_ordinary
        return lambda text: len(ordinary(text))

    def count(text: str) -> int:
        try:
            return memoryview(to_buffer(text, _NO_SPECIAL)).nbytes // 4
        except UnicodeEncodeError:
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            return memoryview(to_buffer(text, _NO_SPECIAL)).nbytes // 4

    return count


def _counter(name: str, small: bool) -> Callable[[str], int]:
    """A function that counts text in one encoding: Python for small work, unless tiktoken's
    encoder is already built in this process, else tiktoken."""
    native: Callable[[str], int] | None = None

    def rust(text: str) -> int:
        nonlocal native
        if native is None:
            native = native_counter(get_encoding(name))
        return native(text)

    if not small or name in _encodings:
        return rust
    with _lock:
        bpe = _python_bpe.get(name)
        if bpe is None:
            bpe = _python_bpe[name] = _PythonBPE(SPECS[name])

    def python_first(text: str) -> int:
        n = bpe.count(text)
        return rust(text) if n is None else n

    return python_first


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def count(text: str, encoding: str) -> int:
    """Exact token count of `text` in one encoding."""
    return count_all(text, [encoding])[encoding]


def count_all(text: str, encodings: Sequence[str]) -> dict[str, int]:
    """Exact token counts of one text in each encoding; large texts are counted in parallel."""
    if len(text) < PARALLEL_MIN_CHARS:
        small = len(text) < SMALL_TEXT_CHARS
        return {name: _counter(name, small)(text) for name in encodings}
    return count_keyed(((None, seg) for seg in split_text(text, SEGMENT_CHARS)), encodings)[None]


K = TypeVar("K", bound=Hashable)


def count_keyed(
    segments: Iterable[tuple[K, str]],
    encodings: Sequence[str],
    *,
    expected_chars: int | None = None,
) -> dict[K, dict[str, int]]:
    """Sum exact counts per key over (key, segment) pairs whose segments end at safe cuts.

    Every key seen gets an entry, even with only empty text. When `expected_chars` says the
    work is small, it is done on this thread; otherwise on all cores: the Rust core of
    tiktoken releases the GIL, so threads scale without copying text to other processes. At
    most a few segments are in flight, so memory stays bounded however long the stream is.
    """
    totals: dict[K, dict[str, int]] = {}
    n_threads = workers()
    if (expected_chars is not None and expected_chars < PARALLEL_MIN_CHARS) or n_threads == 1:
        small = expected_chars is not None and expected_chars < SMALL_TEXT_CHARS
        counters = [(name, _counter(name, small)) for name in encodings]
        for key, segment in segments:
            bucket = totals.setdefault(key, dict.fromkeys(encodings, 0))
            for name, counter in counters:
                bucket[name] += counter(segment)
        return totals

    counters = [(name, _counter(name, False)) for name in encodings]
    in_flight: deque[tuple[dict[str, int], list[tuple[str, Future[int]]]]] = deque()
    limit = 2 * n_threads
    with ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="tokopt-count") as pool:
        for key, segment in segments:
            bucket = totals.setdefault(key, dict.fromkeys(encodings, 0))
            in_flight.append((bucket, [(name, pool.submit(counter, segment)) for name, counter in counters]))
            while len(in_flight) > limit:
                _collect(in_flight.popleft())
        while in_flight:
            _collect(in_flight.popleft())
    return totals


def _collect(item: tuple[dict[str, int], list[tuple[str, Future[int]]]]) -> None:
    bucket, futures = item
    for name, fut in futures:
        bucket[name] += fut.result()


def _count_list(counter: Callable[[str], int], texts: Sequence[str]) -> list[int]:
    out = []
    for text in texts:
        if len(text) < PARALLEL_MIN_CHARS:
            out.append(counter(text))
        else:
            # One huge text inside a batch: count it in exact pieces, never as one token list.
            out.append(sum(counter(seg) for seg in split_text(text, SEGMENT_CHARS)))
    return out


def count_batches(
    batches: Iterable[tuple[K, Sequence[str], Sequence[str]]],
    *,
    expected_chars: int | None = None,
) -> Iterator[tuple[K, dict[str, list[int]]]]:
    """Exact counts of every text of each (key, texts, encodings) batch, in each of its encodings.

    Results come back in input order as {encoding: [count per text]}. For many small texts
    (chat messages, batch-file lines): one task counts a whole batch, so the cost of handing
    work to a thread is paid per batch, not per text. Large work runs on all cores with at most
    a few batches in flight, so memory stays bounded however long the stream is; the stream
    itself is pulled on this thread while the others count.
    """
    n_threads = workers()
    if (expected_chars is not None and expected_chars < PARALLEL_MIN_CHARS) or n_threads == 1:
        small = expected_chars is not None and expected_chars < SMALL_TEXT_CHARS
        for key, texts, encodings in batches:
            yield key, {name: _count_list(_counter(name, small), texts) for name in encodings}
        return

    counters: dict[str, Callable[[str], int]] = {}
    in_flight: deque[tuple[K, list[tuple[str, Future[list[int]]]]]] = deque()
    limit = 2 * n_threads
    with ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="tokopt-count") as pool:
        for key, texts, encodings in batches:
            futures = []
            for name in encodings:
                counter = counters.get(name)
                if counter is None:
                    # Bound once: looking the encoder up per text would take a lock per text.
                    counter = counters[name] = native_counter(get_encoding(name))
                futures.append((name, pool.submit(_count_list, counter, texts)))
            in_flight.append((key, futures))
            while len(in_flight) > limit:
                done_key, done = in_flight.popleft()
                yield done_key, {name: fut.result() for name, fut in done}
        while in_flight:
            done_key, done = in_flight.popleft()
            yield done_key, {name: fut.result() for name, fut in done}


def encode(text: str, encoding: str) -> list[int]:
    """Token ids, special-token text encoded as ordinary text."""
    return get_encoding(encoding).encode_ordinary(text)


def token_bytes(encoding: str, ids: Sequence[int]) -> list[bytes]:
    enc = get_encoding(encoding)
    return [enc.decode_single_token_bytes(t) for t in ids]


def pieces(text: str, encoding: str) -> Iterator[tuple[str, int]]:
    """The text of each token with how many tokens it spans.

    A token can end inside a multi-byte character; such tokens are joined with the next
    ones until the bytes decode, so every piece is whole text.
    """
    enc = get_encoding(encoding)
    pending = b""
    n = 0
    for token in enc.encode_ordinary(text):
        pending += enc.decode_single_token_bytes(token)
        n += 1
        try:
            piece = pending.decode("utf-8")
        except UnicodeDecodeError:
            continue
        yield piece, n
        pending, n = b"", 0
    if pending:
        yield pending.decode("utf-8", "replace"), n


def export_tiktoken_cache(directory: Path) -> Path:
    """Fill a tiktoken download cache (TIKTOKEN_CACHE_DIR) from the bundled, verified data,
    so that tiktoken itself works offline: `tiktoken.get_encoding(name)` then reads it."""
    directory.mkdir(parents=True, exist_ok=True)
    for spec in SPECS.values():
        # tiktoken names a cached file by the sha1 of the URL it would download
        url = f"https://openaipublic.blob.core.windows.net/encodings/{spec.name}.tiktoken"
        target = directory / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists():
            target.write_bytes(_bundled_bytes(spec))
    return directory
