"""Usage of API calls: the token kinds, the one usage record, and the money types every layer shares.

`Usage` declares each token kind once, as a field with what pricing needs to know about it
(`TOKEN_KINDS`). Costing, the ledger's columns and sums, its JSON intake and its reports are
all derived from that list, so a new kind is one field here plus its price in
`pricing/model.py`. `UsageRecord` is a `Usage` plus what a ledger record adds: when, which
model, whose, in which run, what it cost and with which price data, and where it came from.

Money is `Decimal` everywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tokopt.decimals import quantize as quantize  # re-exported: where the core rounds
from tokopt.errors import InputError
from tokopt.plain import Plain


def __getattr__(name: str) -> Any:
    # The annotated types of pydantic models elsewhere (ledger, budgets, suggestions), made on
    # first use: an estimate builds no pydantic model and does not import pydantic.
    if name in ("_plain", "PlainDecimal", "Usd", "PositiveInt", "NonNegativeInt"):
        from typing import Annotated

        from pydantic import Field, PlainSerializer

        # JSON carries money as a plain decimal string ("0.0000005", never "5E-7" and never a float).
        plain = PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str, when_used="json")
        money = Annotated[Decimal, plain]
        made = {
            "_plain": plain,
            "PlainDecimal": money,
            "Usd": money,
            "PositiveInt": Annotated[int, Field(gt=0)],
            "NonNegativeInt": Annotated[int, Field(ge=0)],
        }
        globals().update(made)
        return made[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# More tokens than any call can have; far enough below SQLite's 64-bit INTEGER that the sums of
# a report cannot overflow it either.
MAX_TOKENS = 10**15


@dataclass(frozen=True)
class TokenKind:
    """What the rest of tokopt knows about one token kind (one field of `Usage`)."""

    field: str  # the Usage field, e.g. "cached_input_tokens"
    key: str  # its short name in JSON usage records, e.g. "cached"
    words: str  # how a message names it, e.g. "cache-write"
    part_of: str | None  # the kind it is a part of ("input_tokens"), or None for a whole
    rate: str | None  # the ModelPrice field that prices it; None: billed as part of its whole
    fallback: str | None  # the kind whose rate applies when the model has no rate of its own
    bucket: str | None  # the Cost field it adds to


def _kind(key: str, words: str, *, part_of: str | None = None, rate: str | None = None, fallback: str | None = None, bucket: str | None = None) -> Any:
    return field(default=0, metadata={"kind": (key, words, part_of, rate, fallback, bucket)})


class InvalidUsage(InputError, ValueError):
    """Token counts that cannot be one call's usage (negative, parts larger than the whole)."""


@dataclass(slots=True, kw_only=True)
class Usage:
    """Tokens of one API call (or of several added up), the way providers bill them.

    `input_tokens` is the whole prompt; `cached_input_tokens` and the cache-write counts are
    the parts of it read from or written to the provider's prompt cache. `output_tokens`
    includes `reasoning_tokens`.
    """

    input_tokens: int = _kind("input", "input", rate="input", bucket="input_usd")
    cached_input_tokens: int = _kind("cached", "cached", part_of="input_tokens", rate="cached_input", fallback="input_tokens", bucket="cached_input_usd")
    cache_write_tokens: int = _kind("cache_write", "cache-write", part_of="input_tokens", rate="cache_write", fallback="input_tokens", bucket="cache_write_usd")
    cache_write_1h_tokens: int = _kind("cache_write_1h", "cache-write", part_of="input_tokens", rate="cache_write_1h", fallback="cache_write_tokens", bucket="cache_write_usd")
    output_tokens: int = _kind("output", "output", rate="output", bucket="output_usd")
    reasoning_tokens: int = _kind("reasoning", "reasoning", part_of="output_tokens")

    def __post_init__(self) -> None:
        # the common case in a few C calls (a million records are read in one import)
        counts = _COUNTS(self)
        if set(map(type, counts)) <= _INT and min(counts) >= 0 and _parts_fit(counts):
            return
        problem = self.problem()
        if problem is not None:
            raise InvalidUsage(problem[0], hint=problem[1])

    def problem(self) -> tuple[str, str | None] | None:
        """What makes these counts impossible for a call (a message and a hint), or None."""
        for name in TOKEN_FIELDS:
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                return f"{name} must be a whole number of tokens, 0 or more (got {value!r})", None
        for whole, parts in _PARTS.items():
            total = sum(getattr(self, p.field) for p in parts)
            if total > getattr(self, whole):
                kind = KIND[whole]
                names = list(dict.fromkeys(p.words for p in parts))
                words = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
                return (
                    f"{words} tokens ({total:,}) exceed the {kind.words} tokens ({getattr(self, whole):,})",
                    f"{kind.words} tokens include the {words} tokens",
                )
        return None

    def check_call(self) -> None:
        """Raise InvalidUsage unless these counts could be one call's (not a sum of many)."""
        if max(_COUNTS(self)) <= MAX_TOKENS:
            return
        for name in TOKEN_FIELDS:
            value = getattr(self, name)
            if value > MAX_TOKENS:
                raise InvalidUsage(f"{name} is more than {MAX_TOKENS:,} tokens (got {value:,})")

    def tokens(self) -> dict[str, int]:
        """The counts by field name, in the order of TOKEN_KINDS."""
        return {name: getattr(self, name) for name in TOKEN_FIELDS}

    def billed(self, kind: TokenKind) -> int:
        """Tokens billed at `kind`'s own rate: a whole less its parts that have rates of their own."""
        own = getattr(self, kind.field)
        for part in _PRICED_PARTS.get(kind.field, ()):
            own -= getattr(self, part)
        return own

    @property
    def uncached_input_tokens(self) -> int:
        return self.billed(KIND["input_tokens"])

    @property
    def size(self) -> tuple[int, int]:
        """How much a call used, to tell the later of two readings of one response."""
        return (self.input_tokens + self.output_tokens, self.output_tokens)


TOKEN_KINDS: tuple[TokenKind, ...] = tuple(TokenKind(f.name, *f.metadata["kind"]) for f in dataclasses.fields(Usage))
TOKEN_FIELDS: tuple[str, ...] = tuple(k.field for k in TOKEN_KINDS)
KIND: dict[str, TokenKind] = {k.field: k for k in TOKEN_KINDS}
_PARTS: dict[str, tuple[TokenKind, ...]] = {
    w.field: tuple(k for k in TOKEN_KINDS if k.part_of == w.field) for w in TOKEN_KINDS if any(k.part_of == w.field for k in TOKEN_KINDS)
}
_PRICED_PARTS = {w: tuple(p.field for p in parts if p.rate is not None) for w, parts in _PARTS.items()}
_COUNTS = operator.attrgetter(*TOKEN_FIELDS)
_INT = {int}


def _compile_parts_fit() -> Callable[[Sequence[int]], bool]:
    # e.g. `c[1] + c[2] + c[3] <= c[0] and c[5] <= c[4]`: one expression, no loop per record
    def index(name: str) -> int:
        return TOKEN_FIELDS.index(name)

    tests = [" + ".join(f"c[{index(p.field)}]" for p in parts) + f" <= c[{index(w)}]" for w, parts in _PARTS.items()]
    namespace: dict[str, Any] = {}
    exec(f"def parts_fit(c):\n    return {' and '.join(tests) or 'True'}\n", namespace)  # noqa: S102 - built from field names
    return namespace["parts_fit"]  # type: ignore[no-any-return]


_parts_fit = _compile_parts_fit()


@dataclass(slots=True, kw_only=True)
class UsageRecord(Usage):
    """One API call's usage as the ledger keeps it: the tokens, and what a record adds.

    Importers and apps make records without a user, run, cost or (sometimes) time; the ledger
    fills those in, prices the record at the price of its time, and stores it.
    """

    model: str
    time: dt.datetime | None = None  # aware; the ledger sets "now" when it is None
    provider: str | None = None
    user: str | None = None
    run_id: str | None = None
    cost_usd: Decimal | None = None  # None: no known price (never $0)
    pricing_as_of: dt.date | None = None  # the date of the price data it was priced with
    # which price data priced it: genai-prices' data hash, and a pricing file's that changed its price
    pricing_version: str | None = None
    batch: bool = False  # billed at batch-API prices
    service_tier: str | None = None  # flex, priority, ...: the provider's tier that served it (None: standard)
    estimated: bool = False  # counted from a prompt file, not billed counts
    source: str = "api"  # where it came from: api, cli, or import:<log format>
    dedupe_key: str | None = None  # the same call seen twice has the same key (per user)
    prompt_hash: str | None = None  # sha256 of the prompt; the text is never kept
    # what a coding agent's log says about the call (None where it says nothing)
    agent: str | None = None  # the agent that made it: claude-code, codex, gemini-cli, ...
    session_id: str | None = None  # the agent's session (conversation) id
    project: str | None = None  # the working directory the log names
    git_branch: str | None = None
    sidechain: bool = False  # made by a subagent (Claude Code's Task tool), not the main thread
    id: int | None = field(default=None, compare=False)  # the store's id, once stored
    uid: str | None = field(default=None, compare=False)  # its id in every ledger, once stored
    origin: str | None = field(default=None, compare=False)  # the machine it was recorded on

    @property
    def usage(self) -> Usage:
        return Usage(**self.tokens())

    def replace(self, **changes: Any) -> UsageRecord:
        """A copy with `changes` (faster than dataclasses.replace, which a big import feels)."""
        values = dict(zip(_RECORD_FIELDS, _RECORD_VALUES(self)))
        values.update(changes)
        return UsageRecord(**values)


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(UsageRecord))
_RECORD_VALUES = operator.attrgetter(*_RECORD_FIELDS)


def _usd(value: Any) -> Decimal:
    if type(value) is Decimal:
        return value
    if type(value) is int:
        return Decimal(value)
    raise TypeError(f"an amount in USD must be a Decimal (got {value!r})")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cost(Plain):
    """The cost of one call in USD, split the way the bill is."""

    input_usd: Decimal
    cached_input_usd: Decimal
    cache_write_usd: Decimal
    output_usd: Decimal
    long_context: bool = False
    batch: bool = False

    def __post_init__(self) -> None:
        # called for every priced record of an import: four type checks, no schema
        if type(self.input_usd) is not Decimal or type(self.cached_input_usd) is not Decimal or type(self.cache_write_usd) is not Decimal or type(self.output_usd) is not Decimal:
            for name in ("input_usd", "cached_input_usd", "cache_write_usd", "output_usd"):
                object.__setattr__(self, name, _usd(getattr(self, name)))

    @property
    def prompt_usd(self) -> Decimal:
        return self.input_usd + self.cached_input_usd + self.cache_write_usd

    @property
    def total_usd(self) -> Decimal:
        return self.prompt_usd + self.output_usd
