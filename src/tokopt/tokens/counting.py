"""Exact token counts: Python for small work, tiktoken's Rust core for the rest, and every core
for large work.

Counts equal ``len(tiktoken.get_encoding(name).encode(text, disallowed_special=()))``:
special-token text such as ``<|endoftext|>`` inside a prompt is ordinary text here.

How much work there is decides how it is done (`expected_chars`, the characters of the whole job):

- small work is counted on the calling thread by the Python BPE (`pybpe`), which reads a few
  thousand ranks from the rank table instead of building tiktoken's encoder;
- medium work on the calling thread by tiktoken's Rust core;
- large work on a pool of threads, one per core, each with **its own** Rust core.

Why its own: tiktoken's pre-tokenizer is a fancy-regex program, and every clone of it (tiktoken
keeps 128 "thread-local" clones) shares one program, whose scratch space and whose delegate
regexes' caches sit in regex-automata pools. Such a pool serves the first thread that used it
from an "owner" slot, writing an atomic flag around every use, and every other thread from a
mutex-guarded stack. Two threads sharing one core therefore pay the stack path (about a quarter
more time per token) and, while the owner counts too, bounce the owner flag's cache line between
cores on every regex step: two threads at 185% CPU were slower than one. With a core per thread,
each thread owns its pools and takes the fast path, and nothing is shared but read-only data.
A core costs about 40 MB and 0.1 s to build (o200k_base), so only large work gets more than one.
The build holds the GIL, so it is done on the calling thread, one core first: the first segment,
longer than the others, is counted on it while the calling thread builds the rest.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tokopt.tokens import encodings
from tokopt.tokens.split import split_text

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    import tiktoken

# Work of fewer characters than this is counted by the Python BPE: building tiktoken's
# encoder (0.15-0.3 s) costs about as much as counting 1-2 MB of ASCII text in Python, whose
# memo of pieces makes many small prompts cheaper still. New non-ASCII text can be 5-10 times
# slower in Python (longer pieces, more merges): a job spends at most NON_ASCII_LOOKUPS rank
# lookups (about 0.1 s) on it there, then builds the encoder for the rest of it.
SMALL_TEXT_CHARS = 5 << 19
NON_ASCII_LOOKUPS = 100_000
# cl100k_base's encoder, half o200k_base's size, costs about 0.08 s to build, and counts a megabyte
# of mixed text in 0.065 s against Python's 0.17 s: past about 0.75 M characters it is cheaper
# (measured in fresh processes; benchmarks/bench_count.py shows the whole-process effect at 1 MB).
SMALL_TEXT_CHARS_BY_ENCODING = {"cl100k_base": 3 << 18}
# Work of at least this many characters is counted on all cores: the second encoder costs
# as much to build as counting about 6 MB on one core saves when shared by two.
PARALLEL_MIN_CHARS = 6 << 20
# Large texts are counted in segments of about this many characters (a few milliseconds of
# work each); the calling thread cuts the next ones while the pool counts.
SEGMENT_CHARS = 1 << 17
# The first segment of a large text is about this long: the first counting thread counts it in
# one call (about 0.03 s) while this thread builds the other threads' encoders (0.07-0.14 s,
# holding the GIL, so that no other Python code runs meanwhile: work in small calls would wait).
# Longer would hide more of the build but costs memory at the peak, while the ranks are held
# too: about 10 MB a million characters of mixed text (the text in 4-byte characters, a copy
# made cutting it, its UTF-8, the ids). 50 MB of o200k_base peaked at 143 MB with 512 K
# characters, 148 MB with 1 M (measured with benchmarks/bench_count.py's peak-memory step).
FIRST_SEGMENT_CHARS = 1 << 19

K = TypeVar("K", bound=Hashable)

_NO_SPECIAL: set[str] = set()
_local = threading.local()
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def native_counter(enc: tiktoken.Encoding | Any) -> Callable[[str], int]:
    """Count with tiktoken's Rust core without building a Python list of token ids.

    `encode_ordinary` returns a list of Python ints, made while holding the GIL: for big
    texts that is a third of the time, and it serialises the threads. The core's buffer
    encoder with no special token allowed is the same ordinary encoding (tiktoken's own
    `encode_to_numpy` uses it) and hands back one buffer of uint32s. Lone surrogates are
    repaired as `encode_ordinary` repairs them. Falls back to `encode_ordinary` when the
    core has no buffer encoder.
    """
    core = getattr(enc, "_core_bpe", enc)  # an Encoding, or its core itself (encodings.new_core)
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


def thread_counter(name: str) -> Callable[[str], int]:
    """This thread's own Rust counter of an encoding: one built for the pool and not yet taken
    (`_prepare`), or else one built here on its first use in this thread.

    The counter keeps only the core, not the Encoding, so the rank dict it was built from is
    freed once nothing else holds it."""
    counters: dict[str, Callable[[str], int]] = _local.__dict__.setdefault("counters", {})
    counter = counters.get(name)
    if counter is None:
        with _lock:
            spare = _spare.get(name)
            counter = spare.pop() if spare else None
        if counter is None:
            counter = native_counter(encodings.new_core(name))
        counters[name] = counter
        if threading.current_thread().name.startswith(_POOL_PREFIX):
            with _lock:
                _pool_has[name] = _pool_has.get(name, 0) + 1
    return counter


_POOL_PREFIX = "tokopt-count"
_spare: dict[str, list[Callable[[str], int]]] = {}  # built for pool threads that have none yet
_pool_has: dict[str, int] = {}  # pool threads with a counter of their own, per encoding


_building: dict[str, dict[bytes, int]] = {}  # the rank dict, while pool counters are still to build


def _prepare(name: str, *, first: bool = False) -> None:
    """Build, on this thread, the counters the pool's threads still lack for `name`, all from
    one rank dict, which is freed once they are built: that keeps the peak memory of a large
    count to the encoders themselves.

    `first`: only one, if the pool has none, so that counting can start; the rest are built by
    a later call while that one counts (a build holds the GIL, so this thread is the one to do
    it: a pool thread building its own would stop the others' handing back of results too)."""
    with _lock:
        missing = workers() - _pool_has.get(name, 0) - len(_spare.get(name, ()))
    if first and _pool_has.get(name, 0) + len(_spare.get(name, ())) > 0:
        missing = 0
    if missing <= 0:
        _building.pop(name, None)
        return
    ranks = _building.pop(name, None) or encodings.load_ranks(name)
    count = 1 if first else missing
    built = [native_counter(encodings.new_core(name, ranks)) for _ in range(count)]
    if count < missing:
        _building[name] = ranks
    del ranks
    with _lock:
        _spare.setdefault(name, []).extend(built)


def _has_native(name: str) -> bool:
    return name in _local.__dict__.get("counters", {})


def small_work(name: str, chars: int | None) -> bool:
    """Whether a job of `chars` characters in encoding `name` is counted by the Python BPE."""
    return chars is not None and chars < min(SMALL_TEXT_CHARS, SMALL_TEXT_CHARS_BY_ENCODING.get(name, SMALL_TEXT_CHARS))


def counter(name: str, small: bool) -> Callable[[str], int]:
    """A function that counts text in one encoding on this thread: Python for small work
    (unless this thread has its Rust counter already), else Rust."""
    if not small or _has_native(name):
        return thread_counter(name)
    from tokopt.tokens import pybpe

    bpe = pybpe.get(name)
    budget = [NON_ASCII_LOOKUPS]  # left for this counter (one job)

    def python_first(text: str) -> int:
        if text.isascii():
            return bpe.count(text)  # type: ignore[return-value]  # ASCII is never declined
        if budget[0] <= 0:
            return thread_counter(name)(text)
        before = bpe.lookups
        n = bpe.count(text)
        budget[0] -= bpe.lookups - before
        return thread_counter(name)(text) if n is None else n

    return python_first


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _executor() -> ThreadPoolExecutor:
    """The counting threads: one per core, kept for the life of the process, so that each
    builds its encoders once."""
    global _pool
    with _lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix=_POOL_PREFIX)
        return _pool


def _forget_pool() -> None:
    global _pool
    _pool = None
    _pool_has.clear()


if hasattr(os, "register_at_fork"):
    # A forked child has none of its parent's threads.
    os.register_at_fork(after_in_child=_forget_pool)


def _parallel(expected_chars: int | None) -> bool:
    return workers() > 1 and (expected_chars is None or expected_chars >= PARALLEL_MIN_CHARS)


def _count_list(count: Callable[[str], int], texts: Sequence[str]) -> list[int]:
    out = []
    for text in texts:
        if len(text) <= FIRST_SEGMENT_CHARS:
            out.append(count(text))
        else:
            # One huge text: count it in exact pieces, never as one buffer of every token id.
            out.append(sum(count(seg) for seg in split_text(text, SEGMENT_CHARS)))
    return out


class _Done:
    """The result of counting no text, as a future would give it."""

    def result(self) -> list[int]:
        return []


def _count_on_worker(name: str, texts: Sequence[str]) -> list[int]:
    return _count_list(thread_counter(name), texts)


def count(text: str, encoding: str) -> int:
    """Exact token count of `text` in one encoding."""
    return count_all(text, [encoding])[encoding]


def count_all(text: str, encodings: Sequence[str]) -> dict[str, int]:
    """Exact token counts of one text in each encoding; large texts are counted in parallel."""
    if not _parallel(len(text)):
        return {name: _count_list(counter(name, small_work(name, len(text))), [text])[0] for name in encodings}
    return count_keyed(((None, seg) for seg in split_text(text, SEGMENT_CHARS, FIRST_SEGMENT_CHARS)), encodings)[None]


def count_keyed(
    segments: Iterable[tuple[K, str]],
    encodings: Sequence[str],
    *,
    expected_chars: int | None = None,
) -> dict[K, dict[str, int]]:
    """Sum exact counts per key over (key, segment) pairs whose segments end at safe cuts.

    Every key seen gets an entry, even with only empty text.
    """
    totals: dict[K, dict[str, int]] = {}
    encs = tuple(encodings)

    def batches() -> Iterator[tuple[tuple[dict[str, int], K], list[str], tuple[str, ...]]]:
        for key, segment in segments:
            bucket = totals.setdefault(key, dict.fromkeys(encs, 0))
            yield (bucket, key), [segment], encs

    for (bucket, _), counts in count_batches(batches(), expected_chars=expected_chars):
        for name, (n,) in counts.items():
            bucket[name] += n
    return totals


def count_batches(
    batches: Iterable[tuple[K, Sequence[str], Sequence[str]]],
    *,
    expected_chars: int | None = None,
) -> Iterator[tuple[K, dict[str, list[int]]]]:
    """Exact counts of every text of each (key, texts, encodings) batch, in each of its encodings.

    Results come back in input order as {encoding: [count per text]}. `expected_chars` (the
    characters of all batches, if known) decides how: see the module's docstring. On the pool,
    one task counts a whole batch, so the cost of handing work to a thread is paid per batch, not
    per text; at most a few batches are in flight, so memory stays bounded however long the
    stream is, and the stream itself is pulled on this thread while the others count. This
    thread never counts while the pool does.
    """
    if not _parallel(expected_chars):
        counters: dict[str, Callable[[str], int]] = {}
        for key, texts, encs in batches:
            if not texts:  # nothing to count (a text whose counts were cached): no counter needed
                yield key, {name: [] for name in encs}
                continue
            result = {}
            for name in encs:
                c = counters.get(name)
                if c is None:
                    c = counters[name] = counter(name, small_work(name, expected_chars))
                result[name] = _count_list(c, texts)
            yield key, result
        return

    pool = _executor()
    prepared: set[str] = set()
    rest: list[str] = []  # encodings whose first counter is counting, the others not yet built
    in_flight: deque[tuple[Any, list[tuple[str, Future[list[int]] | _Done]]]] = deque()
    limit = 2 * workers()
    for key, texts, encs in batches:
        if not texts:  # nothing to count (a text whose counts were cached): no encoder needed
            in_flight.append((key, [(name, _Done()) for name in encs]))
            continue
        for name in encs:
            if name not in prepared:
                _prepare(name, first=True)
                prepared.add(name)
                rest.append(name)
        in_flight.append((key, [(name, pool.submit(_count_on_worker, name, texts)) for name in encs]))
        for name in rest:  # built while the first batch is counted
            _prepare(name)
        rest.clear()
        while len(in_flight) > limit:
            done_key, done = in_flight.popleft()
            yield done_key, {name: fut.result() for name, fut in done}
    while in_flight:
        done_key, done = in_flight.popleft()
        yield done_key, {name: fut.result() for name, fut in done}
