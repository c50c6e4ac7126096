"""Approximate counts that say how sure they are: a text's content classes, and a count with its band.

Providers that publish no tokenizer are counted as o200k_base × a measured ratio, and the
ratio depends on what the text is (Claude Opus 4.7 inflates English prose far more than code
or Chinese; Gemini's vocabulary splits every digit). So an approximate count is

    count = base × Σ share_c × factor_c        low = base × Σ share_c × low_c        high = … high_c

where `base` is the exact o200k_base count, `share_c` the part of it that content class `c`
makes up, and `factor_c` (with its band `low_c`..`high_c`, the spread of the measurements)
comes from the pricing data (pricing/families.toml; `tokopt calibrate` writes your own). The
band holds the point estimate by construction: every weighted mean of values between their
lows and highs lies between the weighted lows and highs.

`classify(text)` finds the shares. It must cost a small fraction of counting (it runs on every
approximate count, 100 MB batch files too), so it does no per-character Python and no regular
expressions: only C-level byte operations (`count`, `translate`, `find`) on the text's UTF-8
bytes, cut into blocks at blank lines (paragraphs, functions) or at most about 4 KB. It is deterministic: the same text always
gives the same shares.

- A block is JSON when quotes are dense and many of them open keys (`"key":`), code when
  symbols such as `{ } ( ) ; = < > _` make up one byte in 30 or more, else prose.
- Digits are a class wherever they are (vocabularies split digit strings very differently).
- Runs of white space (blank lines, indentation, alignment) are a class in prose blocks; in
  code and JSON they stay with the block, as the code and JSON measurements include their
  indentation.
- Non-ASCII characters are classed by their UTF-8 lead byte: CJK ideographs, Hangul and CJK
  punctuation (cjk; japanese when the text has kana), Greek, Cyrillic, Hebrew, Arabic, Indic,
  Thai and other scripts (other_scripts); Latin letters with accents and typographic
  punctuation stay with prose. The spaces and ASCII punctuation of a block written mostly in
  such characters go with them.

A class's share of the base count is its characters over the characters per o200k_base
token that class has (measured here on samples, `CHARS_PER_TOKEN`); white space counts its
runs instead, about one token each.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from tokopt.pricing.model import CONTENT_CLASSES

if TYPE_CHECKING:
    from tokopt.pricing.model import Tokenizer

PROSE, CODE, JSON, CJK, JAPANESE, OTHER_SCRIPTS, DIGITS, WHITESPACE = range(len(CONTENT_CLASSES))
N_CLASSES = len(CONTENT_CLASSES)

# o200k_base characters per token of each class (white space: runs per token), counted with
# o200k_base on samples of each (benchmarks/bench_approx.py prints them): they only set each
# class's weight, the count itself is the exact base count.
CHARS_PER_TOKEN: tuple[Decimal, ...] = tuple(
    Decimal(v) for v in ("4.7", "4.0", "4.0", "1.3", "1.4", "3.6", "2.5", "1")
)

# A block ends at the first blank line after MIN_BLOCK bytes (paragraphs, functions), else at
# the first line end after BLOCK bytes.
MIN_BLOCK = 512
BLOCK = 4096


def _table(pairs: dict[bytes, int], default: int) -> bytes:
    table = bytearray([default]) * 256
    for chars, value in pairs.items():
        for b in chars:
            table[b] = value
    return bytes(table)


# Every byte to what the block rules look at: digits to "0", code symbols to "{", quotes,
# colons, spaces and line ends to themselves, any other ASCII to "a", any non-ASCII byte to "~".
_BLOCK_TABLE = _table(
    {b"0123456789": ord("0"), b"{}();=<>[]_\\|&*+$": ord("{"), **{bytes([c]): c for c in b'": \n'}, bytes(range(0x80, 0x100)): ord("~")},
    ord("a"),
)
# UTF-8 lead bytes to what they start: "c" CJK (U+3000..U+D7FF: CJK punctuation, kana, Hangul,
# ideographs; U+F000..U+FFFF: compatibility ideographs, full-width forms), "s" other scripts
# (U+0370..U+07FF: Greek to NKo; U+0800..U+1FFF: Indic, Thai, Tibetan, Georgian, Khmer, ...),
# "l" the rest (Latin letters with accents, typographic punctuation, symbols, emoji); ASCII and
# continuation bytes to ".".
_LEAD_TABLE = _table(
    {
        bytes(range(0xC0, 0x100)): ord("l"),
        bytes(range(0xCD, 0xE2)): ord("s"),
        bytes([*range(0xE3, 0xEE), 0xEF]): ord("c"),
    },
    ord("."),
)
_KANA = (b"\xe3\x81", b"\xe3\x82", b"\xe3\x83")  # U+3040..U+30FF: hiragana and katakana
_ROUNDING = decimal.Context(prec=40)


class Mix:
    """How much of a text each content class is: characters per class (runs for white space,
    in `CONTENT_CLASSES` order)."""

    __slots__ = ("counts", "_weights")

    def __init__(self, counts: Sequence[int] | None = None) -> None:
        self.counts = list(counts) if counts is not None else [0] * N_CLASSES
        self._weights: tuple[tuple[int, int], ...] | None = None

    def add(self, other: Mix) -> None:
        counts = self.counts
        for i, n in enumerate(other.counts):
            counts[i] += n
        self._weights = None

    def nonzero_weights(self) -> tuple[tuple[int, int], ...]:
        """(class index, weight) of the classes the text has (kept until the mix changes)."""
        if self._weights is None:
            self._weights = tuple((i, n * w) for i, (n, w) in enumerate(zip(self.counts, _WEIGHTS)) if n)
        return self._weights

    def __bool__(self) -> bool:
        return any(self.counts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mix) and self.counts == other.counts

    def __repr__(self) -> str:
        return f"Mix({self.as_dict()})"

    def as_dict(self) -> dict[str, int]:
        return {name: n for name, n in zip(CONTENT_CLASSES, self.counts) if n}

    def weights(self) -> list[int]:
        """Each class's weight in integers, proportional to its share of the o200k_base count."""
        return [n * w for n, w in zip(self.counts, _WEIGHTS)]

    def shares(self) -> list[Decimal]:
        """Each class's estimated share of the text's o200k_base tokens (they add up to 1)."""
        with decimal.localcontext(_ROUNDING):
            weights = [Decimal(n) / cpt for n, cpt in zip(self.counts, CHARS_PER_TOKEN)]
            total = sum(weights, Decimal(0))
            if not total:
                return [Decimal(0)] * N_CLASSES
            return [w / total for w in weights]


def classify(text: str) -> Mix:
    """The content classes of `text` (see the module's docstring)."""
    counts = [0] * N_CLASSES
    if not text:
        return Mix(counts)
    raw = text.encode("utf-8", "surrogatepass")
    ascii_only = len(raw) == len(text)
    among_script = _blocks(raw, ascii_only, counts)
    if not ascii_only:
        _non_ascii(raw, counts, among_script)
    return Mix(counts)


# A long text is classified on a sample: the first SAMPLE_WINDOW characters of every
# SAMPLE_STRIDE, counts scaled to the whole. Content changes slowly over tens of kilobytes, and
# counting runs on every core while this runs on one: a quarter of the work keeps it in step.
SAMPLE_WINDOW = 8192
SAMPLE_STRIDE = 32768


def classify_sampled(text: str) -> Mix:
    """The content classes of a long text from evenly spread windows of it (deterministic)."""
    n = len(text)
    if n <= 2 * SAMPLE_STRIDE:
        return classify(text)
    mix = Mix()
    sampled = 0
    for start in range(0, n, SAMPLE_STRIDE):
        window = text[start : start + SAMPLE_WINDOW]
        sampled += len(window)
        mix.add(classify(window))
    return Mix([c * n // sampled for c in mix.counts])


def classify_all(texts: Iterable[str]) -> Mix:
    """The content classes of several texts taken as one (the texts of a request)."""
    return classify("\n".join(texts))


def _blocks(raw: bytes, ascii_only: bool, counts: list[int]) -> int:
    """Classes the ASCII of each block; returns the ASCII bytes of blocks that are mostly
    another script (the spaces and punctuation between its words), for `_non_ascii`."""
    cat = raw.translate(_BLOCK_TABLE)
    n = len(cat)
    pos = 0
    among_script = 0
    while pos < n:
        end = cat.find(b"\n\n", pos + MIN_BLOCK, pos + BLOCK)
        if end < 0:
            end = cat.find(b"\n", pos + BLOCK)
        end = n if end < 0 else end + 1
        block = cat[pos:end]
        pos = end
        size = len(block)
        count = block.count
        digits = count(b"0")
        counts[DIGITS] += digits
        rest = size - digits
        if not ascii_only:
            high = count(b"~")
            rest -= high
            if high >= rest:
                among_script += rest
                continue
        quotes = count(b'"')
        keys = count(b'":') if quotes else 0
        if keys >= 2 and 4 * keys >= quotes and 24 * quotes >= size:
            counts[JSON] += rest
        elif 30 * count(b"{") >= size:
            counts[CODE] += rest
        else:
            # runs of white space: blank lines, runs of spaces before a word (indentation,
            # alignment), and one more per 128 spaces (o200k_base's longest space token)
            blank = count(b"\n\n")
            pairs = count(b"  ")
            counts[WHITESPACE] += blank + count(b"  a") + pairs // 64
            counts[PROSE] += max(0, rest - 2 * (blank + pairs))
    return among_script


def _non_ascii(raw: bytes, counts: list[int], among_script: int) -> None:
    leads = raw.translate(_LEAD_TABLE)
    cjk = leads.count(b"c")
    scripts = leads.count(b"s")
    latin = leads.count(b"l")
    japanese = cjk and any(k in raw for k in _KANA)
    # The ASCII of blocks written mostly in other scripts (spaces, punctuation, a few words)
    # goes with those scripts, in proportion, weighed as ASCII: a class's count is characters
    # of its own kind, so n ASCII characters count as n × that class's CHARS_PER_TOKEN / prose's.
    letters = cjk + scripts + latin
    if among_script and letters:
        to_cjk = among_script * cjk // letters
        to_scripts = among_script * scripts // letters
        cjk += int(to_cjk * CHARS_PER_TOKEN[CJK] / CHARS_PER_TOKEN[PROSE])
        scripts += int(to_scripts * CHARS_PER_TOKEN[OTHER_SCRIPTS] / CHARS_PER_TOKEN[PROSE])
        latin += among_script - to_cjk - to_scripts
    counts[JAPANESE if japanese else CJK] += cjk
    counts[OTHER_SCRIPTS] += scripts
    counts[PROSE] += latin


# --- counts with their band ------------------------------------------------------------------


class Approx(NamedTuple):
    """An approximate count and its band: low <= tokens <= high."""

    tokens: int
    low: int
    high: int


def factors(tokenizer: Tokenizer, mix: Mix | None) -> tuple[Decimal, Decimal, Decimal]:
    """(factor, low, high) for a text of this content: the classes' factors weighted by their
    shares; the overall factor and band when the content is not known or the tokenizer has
    no factors per class."""
    if mix is None or not tokenizer.classes or not mix:
        return tokenizer.factor, tokenizer.lo, tokenizer.hi
    factor = low = high = Decimal(0)
    with decimal.localcontext(_ROUNDING):
        for name, share in zip(CONTENT_CLASSES, mix.shares()):
            if share:
                cf = tokenizer.class_factor(name)
                factor += share * cf.factor
                low += share * cf.lo
                high += share * cf.hi
    return factor, low, high


def estimate(tokenizer: Tokenizer, base: int, mix: Mix | None = None) -> Approx:
    """The approximate count of a text whose base-encoding count is `base`: the point estimate
    rounded half up (as a single factor always was), the band's ends rounded outwards.

    Exact rational arithmetic in integers (it runs for every text on every approximate model):
    a class's weight is its characters × `_WEIGHTS` (CHARS_PER_TOKEN's inverse, scaled to
    integers), a factor is counted in ten-thousandths."""
    found = _TABLES.get(id(tokenizer))
    table = found[1] if found is not None and found[0] is tokenizer else _table(tokenizer)
    weights = mix.nonzero_weights() if mix is not None and tokenizer.classes else None
    if table is None or base < 0 or weights == ():
        return _estimate_decimal(tokenizer, base, mix)
    factor, low, high = table
    if weights is None:
        num, lo, hi, den = factor[-1], low[-1], high[-1], _UNIT
    else:
        num = lo = hi = total = 0
        for i, w in weights:
            num += w * factor[i]
            lo += w * low[i]
            hi += w * high[i]
            total += w
        den = total * _UNIT
    tokens = (2 * base * num + den) // (2 * den)
    return Approx(tokens, min(base * lo // den, tokens), max(-(-base * hi // den), tokens))


_UNIT = 10_000  # factors in ten-thousandths
_TENTHS = tuple(int(c * 10) for c in CHARS_PER_TOKEN)
_WEIGHTS = tuple(math.lcm(*_TENTHS) // t for t in _TENTHS)
_TABLES: dict[int, tuple[Tokenizer, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None]] = {}


def _table(tokenizer: Tokenizer) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None:
    """(factors, lows, highs) per class, then the overall one, in ten-thousandths; None when a
    factor has more decimals than that (then `_estimate_decimal` computes). Made once per
    tokenizer object, kept by its id (with the object, so that an id reused is not confused)."""
    rows: list[list[int]] = [[], [], []]
    overall = (tokenizer.factor, tokenizer.lo, tokenizer.hi)
    table: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None
    try:
        for name in CONTENT_CLASSES:
            cf = tokenizer.class_factor(name)
            for row, value in zip(rows, (cf.factor, cf.lo, cf.hi)):
                row.append(_units(value))
        for row, value in zip(rows, overall):
            row.append(_units(value))
        table = (tuple(rows[0]), tuple(rows[1]), tuple(rows[2]))
    except ValueError:
        table = None
    if len(_TABLES) > 1024:
        _TABLES.clear()
    _TABLES[id(tokenizer)] = (tokenizer, table)
    return table


def _units(value: Decimal) -> int:
    scaled = value * _UNIT
    if scaled != scaled.to_integral_value():
        raise ValueError(value)
    return int(scaled)


def _estimate_decimal(tokenizer: Tokenizer, base: int, mix: Mix | None) -> Approx:
    factor, low, high = factors(tokenizer, mix)
    with decimal.localcontext(_ROUNDING) as ctx:
        b = Decimal(base)
        ctx.rounding = decimal.ROUND_HALF_UP
        tokens = int((b * factor).to_integral_value())
        ctx.rounding = decimal.ROUND_FLOOR
        lo = int((b * low).to_integral_value())
        ctx.rounding = decimal.ROUND_CEILING
        hi = int((b * high).to_integral_value())
    return Approx(tokens, min(lo, tokens), max(hi, tokens))


def band_pct(tokens: int, low: int, high: int) -> int:
    """The band as one percentage of the count, the wider side, rounded up: `±6%`."""
    if tokens <= 0:
        return 0
    wider = max(tokens - low, high - tokens)
    return -(-wider * 100 // tokens)
