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
    """One plain-text input: its text cut at safe line starts, and each segment's counts."""

    label: str
    text: str
    segments: list[str]
    counts: list[dict[str, int]]  # per segment, per encoding

    def raw(self, encoding: str) -> int:
        return sum(c[encoding] for c in self.counts)


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


def text_prompt(label: str, text: str, encodings: Sequence[str]) -> TextPrompt:
    """A plain-text input cut into segments, each counted in every encoding."""
    segs = segment(text)
    counted = tokens.count_keyed(enumerate(segs), encodings, expected_chars=len(text))
    return TextPrompt(label, text, segs, [counted[i] for i in range(len(segs))])
