"""What a rule receives (`Context`), what it is (`Rule`), and the money arithmetic rules share.

A rule is a function from a `Context` to suggestions. It prices every change with
`costing.cost_of` on the catalog's prices, so each figure can be recomputed from a `ModelPrice`
and a token count; it may return suggestions that save nothing (the runner drops them) and
leave notes on the context for things worth saying that are not suggestions.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tokopt import costing
from tokopt.optimize.report import Kind, RuleName, Suggestion
from tokopt.optimize.workload import Settings, Workload
from tokopt.pricing.model import ModelPrice
from tokopt.usage import Usage

if TYPE_CHECKING:
    from tokopt.optimize.rewrite import Rewrite


@dataclass
class Context:
    """The counted workload and the model and settings it is priced on; each call's input tokens
    on that model and what one call of every input costs today (`base`)."""

    work: Workload
    settings: Settings
    notes: list[str] = field(default_factory=list)
    inputs: list[int] = field(init=False)
    base: Decimal = field(init=False)

    def __post_init__(self) -> None:
        self.inputs = self.work.inputs_on(self.settings.model)
        self.base = self.cost(self.model, self.inputs, self.outputs, self.batch)

    @property
    def model(self) -> ModelPrice:
        return self.settings.model

    @property
    def outputs(self) -> list[int]:
        return self.work.outputs

    @property
    def batch(self) -> bool:
        return self.work.batch

    def cost(self, model: ModelPrice, inputs: Sequence[int], outputs: Sequence[int], batch: bool) -> Decimal:
        """USD of one call of every input with these input and output tokens on `model`."""
        return calls_cost(model, (Usage(input_tokens=i, output_tokens=o) for i, o in zip(inputs, outputs)), batch)

    def suggestion(self, saved: Decimal, **fields: Any) -> Suggestion:
        """A suggestion saving `saved` USD per call, priced on today's model over the settings' calls."""
        return Suggestion(
            cost_saved_per_call=saved,
            cost_saved_total=costing.times(saved, self.settings.calls),
            calls=self.settings.calls,
            model=self.model.id,
            **fields,
        )

    def label(self, k: int) -> str:
        """The input call `k` comes from: a file's label, or where a request was read."""
        texts = self.work.texts
        if k < len(texts):
            return texts[k].label
        return self.work.requests[k - len(texts)].plan.request.where


@dataclass(frozen=True)
class Rule:
    """A registered rule: its name, what kind of change it suggests (a prompt edit, a change to
    how the request is sent, another model: the report lists fixes before model switches), what
    finds its suggestions, and (for rules whose changes `--write` applies) the rewrites it may
    make to a text, fresh for each text."""

    name: RuleName
    kind: Kind
    find: Callable[[Context], list[Suggestion]]
    rewrites: Callable[[str], list[Rewrite]] | None = None

    def run(self, ctx: Context) -> list[Suggestion]:
        """The rule's suggestions, each marked with the rule's kind."""
        return [s.model_copy(update={"kind": self.kind}) for s in self.find(ctx)]


def sub(a: Decimal, b: Decimal) -> Decimal:
    with decimal.localcontext(costing.MONEY_CONTEXT):
        return a - b


def total(values: Iterable[Decimal]) -> Decimal:
    with decimal.localcontext(costing.MONEY_CONTEXT):
        return sum(values, Decimal(0))


def calls_cost(model: ModelPrice, usages: Iterable[Usage], batch: bool) -> Decimal:
    return total(costing.cost_of(model, u, batch=batch).total_usd for u in usages)


def scaled(model: ModelPrice, raw: int) -> int:
    """`raw` tokens of the model's encoding as the model's tokens (approximate tokenizers scale)."""
    return costing.model_tokens(model, {model.tokenizer.encoding: raw})


def approx_note(model: ModelPrice) -> str | None:
    if model.tokenizer.exact:
        return None
    return f"{model.id}'s tokens are approximate ({model.tokenizer.label})"


def join(*parts: str | None) -> str | None:
    found = [p for p in parts if p]
    return "; ".join(found) if found else None
