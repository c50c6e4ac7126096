"""How sure a model's counts are: exact, rule-based or approximate, and on whose authority.

- **exact**: OpenAI publishes the model's encoding (tiktoken), and the chat and tool rules
  (`billing.py`, `tools.py`) were confirmed by API-verified counts on this very model: text,
  chat and tool counts are what the API bills (a shape no case confirms is still marked ≈).
- **rule-based**: the encoding is public, so text counts are exact; the chat framing is the
  OpenAI cookbook's rule and the tool rules were API-verified on other models only, so a
  request with tools is ≈ on this model.
- **approximate**: no public tokenizer. o200k_base × measured factors, per content class where
  they are measured, each with its band (the spread of the measurements), source and date;
  `family` names the rule the factors come from when they were not measured on this model.

`tokopt models` and `tokopt tokenize -m MODEL` show this (render/catalog.py, render/tokenize.py). It lives
beside the price data it reads, so that those views need not import the counting code.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from tokopt.pricing.model import CONTENT_CLASSES

if TYPE_CHECKING:
    from tokopt.pricing.model import ModelPrice

Kind = Literal["exact", "rule-based", "approximate"]

CHAT_RULE = "the OpenAI cookbook, How to count tokens with tiktoken: 3 tokens per message, 1 per name, 3 to prime the reply"
TOOL_CASES = "API-verified cases of the OpenAI cookbook, hmarr/openai-chat-tokens and issue threads (tests/data/api_verified)"


@dataclass(frozen=True)
class Band:
    """A factor with its band: the lowest and highest measurement."""

    factor: Decimal
    low: Decimal
    high: Decimal
    source: str
    as_of: dt.date | None

    @property
    def pct(self) -> int:
        """The band as one percentage of the factor, the wider side, rounded up: `±14%`."""
        wider = max(self.factor - self.low, self.high - self.factor)
        return math.ceil(wider * 100 / self.factor)

    def as_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "low": self.low, "high": self.high, "band_pct": self.pct, "source": self.source, "as_of": self.as_of}


@dataclass(frozen=True)
class Certainty:
    """How a model's counts are made and how sure they are."""

    kind: Kind
    encoding: str
    source: str  # the tokenizer, or the rule or measurement the factors come from
    overall: Band | None = None  # approximate: the factor for text of unknown content
    classes: tuple[tuple[str, Band], ...] = ()  # approximate: the classes measured on their own
    family: str | None = None  # the family rule the factors come from, not measured on this model
    chat_rule: str | None = None  # exact and rule-based: where the chat framing comes from
    tool_rule: str | None = None

    def factor_range(self) -> tuple[Decimal, Decimal] | None:
        """The lowest and highest factor over the content classes (the overall one without any)."""
        if self.overall is None:
            return None
        factors = [b.factor for _, b in self.classes] or [self.overall.factor]
        return min(factors), max(factors)

    def pct_range(self) -> tuple[int, int] | None:
        """The narrowest and widest band over the content classes, in percent."""
        if self.overall is None:
            return None
        pcts = [b.pct for _, b in self.classes] or [self.overall.pct]
        return min(pcts), max(pcts)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "encoding": self.encoding, "source": self.source}
        if self.overall is not None:
            out["factor"] = self.overall.as_dict()
            out["classes"] = {name: band.as_dict() for name, band in self.classes}
            out["family"] = self.family
        else:
            out["chat_rule"] = self.chat_rule
            out["tool_rule"] = self.tool_rule
        return out


def of(model: ModelPrice) -> Certainty:
    """How `model`'s counts are made (see the module's docstring)."""
    t = model.tokenizer
    if t.exact:
        from tokopt.tokens.tools import RULE_MODELS

        name = model.id.rsplit("/", 1)[-1]
        verified = name in RULE_MODELS
        tool_rule = (
            f"API-verified on {name}: {TOOL_CASES}"
            if verified
            else f"API-verified on {', '.join(RULE_MODELS)} only, so tools are ≈ on this model: {TOOL_CASES}"
        )
        return Certainty(
            kind="exact" if verified else "rule-based",
            encoding=t.encoding,
            source=f"tiktoken {t.encoding}, OpenAI's own encoding",
            chat_rule=CHAT_RULE,
            tool_rule=tool_rule,
        )
    overall = Band(t.factor, t.lo, t.hi, t.source or "", t.as_of)
    own = {name for name, _ in t.classes}
    classes = tuple((name, _band(t.class_factor(name))) for name in CONTENT_CLASSES if name in own)
    return Certainty(kind="approximate", encoding=t.encoding, source=t.source or "", overall=overall, classes=classes, family=t.family)


def _band(cf: Any) -> Band:
    return Band(cf.factor, cf.lo, cf.hi, cf.source, cf.as_of)
