"""tiktoken's algorithm in Python, for small texts, where building tiktoken's encoder would
cost more than the count: the same regex pieces, then for each piece the adjacent pair whose
bytes have the lowest rank is merged until none can be (leftmost first on ties), exactly as
tiktoken's `byte_pair_merge`. Ranks are looked up in the rank table file, so a small prompt
never builds the whole table. The property tests check it against tiktoken itself.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from typing import Any

from tokopt.tokens import ranktable
from tokopt.tokens.encodings import SPECS, EncodingSpec

# General categories whose regex class (not \p{L}, \p{N}, \p{M} or white space) stays the
# same when a newer Unicode version assigns the code point.
_SAFE_NEW_CATEGORIES = frozenset({"Sm", "Sc", "Sk", "So", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"})

_MEMO_LIMIT = 100_000

# The pre-tokenizers restricted to ASCII text, for Python's own `re`: on ASCII, \p{L} is
# [A-Za-z], \p{Lu} [A-Z], \p{Ll} [a-z], \p{N} [0-9], \p{Lt}, \p{Lm}, \p{Lo} and \p{M} are
# empty, and \s (Unicode White_Space, as tiktoken's Rust regex reads it; Python's \s would
# also match \x1c-\x1f) is [\t\n\v\f\r ]. Most prompts are ASCII, and importing the
# `regex` module costs more than counting a small prompt; other text uses the full pattern.
# A test checks that both split ASCII text identically.
_WS = r"[\t\n\x0b\x0c\r ]"
_NOT_WS = r"[^\t\n\x0b\x0c\r ]"
_CONTRACTIONS = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
ASCII_PATTERNS: dict[str, str] = {
    "o200k_base": "|".join(
        [
            rf"[^\r\nA-Za-z0-9]?[A-Z]*[a-z]+{_CONTRACTIONS}?",
            rf"[^\r\nA-Za-z0-9]?[A-Z]+[a-z]*{_CONTRACTIONS}?",
            r"[0-9]{1,3}",
            r" ?[^\t\n\x0b\x0c\r A-Za-z0-9]+[\r\n/]*",
            rf"{_WS}*[\r\n]+",
            rf"{_WS}+(?!{_NOT_WS})",
            rf"{_WS}+",
        ]
    ),
    # possessive quantifiers: Python 3.11 or later
    "cl100k_base": "|".join(
        [
            r"'(?i:[sdmt]|ll|ve|re)",
            r"[^\r\nA-Za-z0-9]?+[A-Za-z]++",
            r"[0-9]{1,3}+",
            r" ?[^\t\n\x0b\x0c\r A-Za-z0-9]++[\r\n]*+",
            rf"{_WS}++\Z",
            rf"{_WS}*[\r\n]",
            rf"{_WS}+(?!{_NOT_WS})",
            rf"{_WS}",
        ]
    ),
}


@functools.lru_cache(maxsize=8192)
def stable_char(char: str) -> bool:
    """True if every Unicode version since 3.2 puts `char` in the same pre-tokenizer class.

    tiktoken's Rust regex and Python's `regex` module carry their own Unicode tables, which
    differ for recently assigned characters (a letter to one is unassigned to the other).
    """
    import unicodedata

    now = unicodedata.category(char)
    return now in _SAFE_NEW_CATEGORIES or unicodedata.ucd_3_2_0.category(char) == now != "Cn"


class PythonBPE:
    """Counts one encoding's tokens in Python; `count` declines text it cannot be sure of."""

    def __init__(self, spec: EncodingSpec) -> None:
        self._spec = spec
        self._unicode_pattern: Any = None
        ascii_pattern = ASCII_PATTERNS.get(spec.name)
        self._ascii_pattern = re.compile(ascii_pattern) if ascii_pattern and sys.version_info >= (3, 11) else None
        self._table = ranktable.load(spec.name)
        self._memo: dict[str, int] = {}  # piece -> its number of tokens
        self._ranks: dict[bytes, int | None] = {}  # byte string -> rank, None if not a token
        self.lookups = 0  # ranks looked up in the table so far: the measure of work done

    def _rank(self, part: bytes) -> int | None:
        ranks = self._ranks
        if part in ranks:
            return ranks[part]
        self.lookups += 1
        rank = self._table.rank(part)
        if len(ranks) < _MEMO_LIMIT:
            ranks[part] = rank
        return rank

    def _merge(self, piece: bytes) -> int:
        """How many tokens `piece` becomes. Part k is piece[bounds[k]:bounds[k + 1]] and
        pair[k] the rank of parts k and k + 1 joined; a merge recomputes only its neighbours."""
        rank = self._rank
        bounds = list(range(len(piece) + 1))
        pair = [rank(piece[i : i + 2]) for i in range(len(piece) - 1)]
        while True:
            best = at = -1
            for i, r in enumerate(pair):
                if r is not None and (best < 0 or r < best):
                    best, at = r, i
            if at < 0:
                return len(bounds) - 1
            del bounds[at + 1]
            del pair[at]
            if at > 0:
                pair[at - 1] = rank(piece[bounds[at - 1] : bounds[at + 1]])
            if at < len(pair):
                pair[at] = rank(piece[bounds[at] : bounds[at + 2]])

    def pattern(self, text: str) -> Any:
        """The pre-tokenizer for `text`: Python's `re` for ASCII text, else the `regex` module."""
        if self._ascii_pattern is not None and text.isascii():
            return self._ascii_pattern
        if self._unicode_pattern is None:
            import regex

            self._unicode_pattern = regex.compile(self._spec.pat_str)
        return self._unicode_pattern

    def count(self, text: str) -> int | None:
        """The count, or None for text with characters whose Unicode class is not settled."""
        if not text.isascii():
            if not all(stable_char(c) for c in set(text)):
                return None
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                # tiktoken's own fix-up for lone surrogates, applied to the whole text
                text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        memo = self._memo
        total = 0
        for piece in self.pattern(text).findall(text):
            n = memo.get(piece)
            if n is None:
                raw = piece.encode("utf-8")
                n = 1 if self._rank(raw) is not None else self._merge(raw)
                if len(memo) < _MEMO_LIMIT:
                    memo[piece] = n
            total += n
        return total


_lock = threading.Lock()
_instances: dict[str, PythonBPE] = {}


def get(name: str) -> PythonBPE:
    with _lock:
        bpe = _instances.get(name)
        if bpe is None:
            bpe = _instances[name] = PythonBPE(SPECS[name])
        return bpe
