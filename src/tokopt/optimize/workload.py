"""What the rules look at: the counted calls of one run, and the model and settings they are priced on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tokopt import costing, tokens
from tokopt.optimize.report import ChosenFrom
from tokopt.optimize.segments import segment
from tokopt.pricing.model import ModelPrice
from tokopt.tokens.billing import Counted


@dataclass
class TextPrompt:
    """One plain-text input: its text cut at safe line starts, its tokens per encoding, and each
    segment's counts, counted when a rewrite first needs them (`segment_counts`)."""

    label: str
    text: str
    segments: list[str]
    counts: list[dict[str, int]] | None = None  # per segment, per encoding
    totals: dict[str, int] = field(default_factory=dict)  # the whole text, per encoding
    encodings: tuple[str, ...] = ()

    @classmethod
    def of(cls, label: str, text: str, totals: dict[str, int], encodings: Sequence[str]) -> TextPrompt:
        """A text counted whole (by the counting stage); its segments are counted on demand."""
        return cls(label, text, segment(text), totals=dict(totals), encodings=tuple(encodings))

    def segment_counts(self) -> list[dict[str, int]]:
        if self.counts is None:
            counted = tokens.count_keyed(enumerate(self.segments), self.encodings, expected_chars=len(self.text))
            self.counts = [counted[i] for i in range(len(self.segments))]
        return self.counts

    def raw(self, encoding: str) -> int:
        if encoding in self.totals:
            return self.totals[encoding]
        return sum(c[encoding] for c in self.segment_counts())


@dataclass
class Workload:
    """The calls one run makes: plain-text prompts and chat requests, each one call."""

    texts: list[TextPrompt] = field(default_factory=list)
    requests: list[Counted] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)  # per call: texts first, then requests
    batch: bool = False  # the requests came from a batch input file
    encodings: tuple[str, ...] = ()

    @property
    def n_calls(self) -> int:
        return len(self.texts) + len(self.requests)

    def inputs_on(self, model: ModelPrice) -> list[int]:
        """Each call's input tokens on `model`."""
        out = [costing.model_tokens(model, {model.tokenizer.encoding: t.raw(model.tokenizer.encoding)}) for t in self.texts]
        out += [c.model_input(model).tokens for c in self.requests]
        return out


@dataclass
class Settings:
    """The model the calls use today, where the rules look for another, and the projection."""

    model: ModelPrice  # what the calls use today
    model_from: ChosenFrom
    candidates: list[ModelPrice]  # rule 1 looks among these
    calls: int
    output_from: ChosenFrom
