"""What an estimate reports, for plain text and chat requests alike: counts and a summary per
input, cost lines per model (in total and per input), notes per model, the assumptions made.

Plain data only: the views in render/ import these without the counting or reading machinery."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from decimal import Decimal

from tokopt.plain import Plain
from tokopt.pricing.model import Tier
from tokopt.usage import Cost

if TYPE_CHECKING:
    from tokopt.costing.turns import TurnTable
    from tokopt.requests.read import Kind

__all__ = ["Assumptions", "EstimateReport", "FileEstimate", "InputSummary", "ModelEstimate", "ModelNotes", "TextCount"]


@dataclass
class TextCount:
    """Counts for one input text: characters, UTF-8 bytes, and tokens per encoding."""

    source: str
    chars: int
    bytes: int
    tokens: dict[str, int]


@dataclass(slots=True, kw_only=True)
class ModelEstimate(Plain):
    """What one call (and `calls` calls) of a prompt costs on one model."""

    model: str
    provider: str
    tier: Tier
    tokenizer: str
    approximate: bool
    input_tokens: int
    input_tokens_low: int | None = None  # an approximate count's band (the spread of the measured factors); None: exact
    input_tokens_high: int | None = None
    cached_input_tokens: int
    output_tokens: int
    cost: Cost
    calls: int
    total_usd: Decimal
    context_window: int | None
    max_output: int | None
    context_share: Decimal | None  # (input + output) / context_window; None if the window is not known
    fits: bool
    problems: list[str] = field(default_factory=list)
    batch_unavailable: bool = False
    as_of: dt.date
    per_day_usd: Decimal | None = None  # --per day|month: the calls' cost a day and a 30-day month
    per_month_usd: Decimal | None = None
    service_tier: str | None = None  # the provider's service tier the prices are (flex, priority); None: standard


@dataclass
class Assumptions:
    """What an estimate assumed besides the prompt itself."""

    output_tokens: int
    output_tokens_from: Literal["option", "config", "default", "request"]
    calls: int
    cached_tokens: int = 0
    batch: bool = False
    per: Literal["day", "month"] | None = None  # --per: the calls are that many a day (a month)
    fits: bool = False  # --fits: models that do not fit were left out
    cheapest: int | None = None  # --cheapest N
    left_out: int = 0  # models left out by --fits and --cheapest
    not_fitting: int = 0  # of them, those that do not fit


@dataclass
class FileEstimate:
    source: str
    models: list[ModelEstimate]


@dataclass
class InputSummary:
    """What one input held, and what was not counted or only approximated."""

    source: str
    format: Kind
    requests: int = 0
    messages: int = 0
    images: int = 0
    tools: int = 0  # the most tools one request offers
    lines: int = 0  # non-blank lines read from a JSONL input
    skipped: int = 0  # JSONL lines that were not requests (--keep-going)
    line_errors: list[str] = field(default_factory=list)  # the first of them, "file:line: why"
    request_models: list[str] = field(default_factory=list)  # models the requests name
    output_from_requests: int = 0  # requests whose own max_tokens set their output
    not_counted: list[str] = field(default_factory=list)  # parts no model counts, with where
    not_counted_total: int = 0
    approximations: list[str] = field(default_factory=list)  # why OpenAI counts are ≈ here
    batch: bool = False  # priced at batch rates because the input is a batch file


@dataclass
class ModelNotes:
    """Per model: how many requests it priced and which images its count leaves out."""

    model: str
    requests: int = 0
    image_tokens: int = 0
    images_not_counted: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class EstimateReport:
    """An estimate over one or more inputs. Each request is one call (a plain text is one
    request); `models` is their total, `per_file` each input's part of it."""

    inputs: list[TextCount]  # one per input
    summaries: list[InputSummary]  # one per input
    assumptions: Assumptions
    models: list[ModelEstimate]
    per_file: list[FileEstimate] = field(default_factory=list)
    model_notes: list[ModelNotes] = field(default_factory=list)
    turns: list[TurnTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def plain(self) -> bool:
        """Every input is plain text."""
        return all(s.format == "text" for s in self.summaries)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.summaries)
