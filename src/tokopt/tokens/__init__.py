"""Offline, hash-verified OpenAI encodings and exact token counting, in parallel for large texts.

The only package that imports tiktoken. Its modules, each one job:

- `encodings`: the encodings shipped (rank files checked against tiktoken's pinned hashes) and
  tiktoken encoders built from them offline;
- `ranktable`: the ranks as a file looked up in place, tied to a pinned hash (small texts);
- `pybpe`: tiktoken's algorithm in Python over that table, for small texts;
- `split`: cutting texts where the pre-tokenizer cuts anyway, so segments add up exactly;
- `counting`: exact counts on this thread or on every core;
- `billing`, `tools`, `measure`: chat billing rules and counting whole inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from tokopt.tokens import split as _split
from tokopt.tokens.counting import (
    FIRST_SEGMENT_CHARS,
    PARALLEL_MIN_CHARS,
    SEGMENT_CHARS,
    SMALL_TEXT_CHARS,
    count,
    count_all,
    count_batches,
    count_keyed,
    native_counter,
    workers,
)
from tokopt.tokens.encodings import (
    ENCODINGS,
    SPECS,
    EncodingSpec,
    TokenizerDataError,
    export_tiktoken_cache,
    get_encoding,
    load_ranks,
)
from tokopt.tokens.split import find_cut, is_safe_cut, split_text

__all__ = [
    "ENCODINGS",
    "FIRST_SEGMENT_CHARS",
    "PARALLEL_MIN_CHARS",
    "SEGMENT_CHARS",
    "SMALL_TEXT_CHARS",
    "SPECS",
    "EncodingSpec",
    "TokenizerDataError",
    "count",
    "count_all",
    "count_batches",
    "count_keyed",
    "encode",
    "export_tiktoken_cache",
    "find_cut",
    "get_encoding",
    "is_safe_cut",
    "load_ranks",
    "native_counter",
    "pieces",
    "resegment",
    "split_text",
    "token_bytes",
    "workers",
]


def resegment(blocks: Iterable[str], target: int = SEGMENT_CHARS, first: int | None = None) -> Iterator[str]:
    """Turn text blocks as read from a stream into segments that end at safe cuts (the first
    one of about `first` characters, if given)."""
    return _split.resegment(blocks, target, first)


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
