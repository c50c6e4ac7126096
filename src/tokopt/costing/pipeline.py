"""The one estimate pipeline: sources → requests → counted requests → priced → report.

`estimate(sources, catalog, options)` reads every input (`requests.read`: plain text is one
request with one user message; chat requests, transcripts, request and batch files), counts each
request once per encoding its models need (`tokens.measure.count`, on all cores for large inputs)
and prices it on its models (`costing.CallTotals`):

- models: the command line's selection if it made one; otherwise each request's own `model`,
  and the default set for requests (and plain texts) that name none;
- output tokens: `--output-tokens` if given; otherwise each request's own max_tokens; else the
  config or built-in default;
- batch input files (OpenAI Batch, Anthropic Message Batches) are priced at batch rates,
  whatever `--batch` says.

Only running totals are kept per input, so memory does not grow with a file's size; a caller
that wants the counted requests themselves (`estimate --suggest`) passes `keep`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tokopt import costing
from tokopt.costing.report import Assumptions, EstimateReport, FileEstimate, InputSummary, ModelEstimate, ModelNotes, TextCount
from tokopt.errors import InputError
from tokopt.gcpause import no_cyclic_gc
from tokopt.inputs import EncodingErrors, Source
from tokopt.inputs.formats import InputFormat
from tokopt.pricing import Catalog
from tokopt.pricing.model import ModelPrice, Tokenizer
from tokopt.requests.read import AnyRequest, Input, ReadOptions, open_inputs
from tokopt.tokens import approx, measure
from tokopt.tokens.measure import AnyCounted

if TYPE_CHECKING:
    from tokopt.config import UserConfig
    from tokopt.costing.turns import TurnTable

MAX_EXAMPLES = 20


@dataclass
class Options:
    """What an estimate assumes besides its inputs: the command line's choices and defaults."""

    selected: list[ModelPrice] | None  # the command line's models; None: the requests' own
    defaults: list[ModelPrice]  # for requests that name no model
    output_tokens: int | None  # --output-tokens
    default_output: int
    default_output_from: Literal["config", "default"]
    calls: int
    cached_tokens: int = 0
    batch: bool = False
    by_turn: bool = False
    keep_going: bool = False
    input_format: InputFormat = InputFormat.auto
    errors: EncodingErrors = "strict"
    per_file: bool = False  # each input priced on its own as well as in the total

    @property
    def read(self) -> ReadOptions:
        return ReadOptions(self.input_format, self.keep_going, self.errors)

    @classmethod
    def resolve(
        cls,
        catalog: Catalog,
        user: UserConfig,
        *,
        models: Sequence[str] = (),
        providers: Sequence[str] = (),
        all_models: bool = False,
        output_tokens: int | None = None,
        calls: int | None = None,
        cached_tokens: int = 0,
        batch: bool = False,
        by_turn: bool = False,
        per_file: bool = False,
        read: ReadOptions = ReadOptions(),
    ) -> Options:
        """The command line's choices over the user's config over tokopt's defaults. Without
        --model, --all or --provider, requests keep their own model."""
        from tokopt import settings

        chosen = settings.resolve(user, models=list(models) or ([m.id for m in catalog] if all_models else None), output_tokens=output_tokens, calls=calls)
        priced = catalog.select(chosen.models.value or [m.id for m in catalog.defaults()], providers)
        if not priced:
            raise InputError(f"no models left after --provider {' '.join(providers)}", hint="add --all or --model")
        return cls(
            selected=priced if (models or all_models or providers) else None,
            defaults=priced,
            output_tokens=output_tokens,
            default_output=chosen.output_tokens.value,
            default_output_from="default" if chosen.output_tokens.source == "default" else "config",
            calls=chosen.calls.value,
            cached_tokens=cached_tokens,
            batch=batch,
            by_turn=by_turn,
            keep_going=read.keep_going,
            input_format=read.input_format,
            errors=read.errors,
            per_file=per_file,
        )


class _Models:
    """Which models price a request, and its output tokens."""

    def __init__(self, catalog: Catalog, options: Options) -> None:
        self.catalog = catalog
        self.options = options
        self.by_name: dict[str, list[ModelPrice]] = {}

    def of(self, request: AnyRequest) -> list[ModelPrice]:
        if self.options.selected is not None:
            return self.options.selected
        name = request.model
        if not name:
            return self.options.defaults
        found = self.by_name.get(name)
        if found is None:
            model = self.catalog.find(name)
            if model is None:
                near = self.catalog.suggest(name)
                hint = f"did you mean {', '.join(near)}? " if near else ""
                raise InputError(
                    f"{request.where}: the request's model '{name}' has no price in the catalog",
                    hint=hint + "choose models with --model, or add its price with --pricing",
                )
            found = self.by_name[name] = [model]
        return found

    def encodings(self, request: AnyRequest) -> tuple[str, ...]:
        return tuple(sorted({m.tokenizer.encoding for m in self.of(request)}))


# a tokenizer; the calls its models count alike; each of those models with its total and notes
_Group = tuple[Any, costing.CallGroup, list[tuple[ModelPrice, costing.CallTotals, ModelNotes]]]


@dataclass(eq=False)
class _Totals:
    """Every input's calls per model (and batch or not), and the models' notes: the total rows.

    Inputs add into these as they are priced, so that the total does not need every input
    priced on every model on its own (10,000 prompts on 12 models are 120,000 estimates)."""

    calls: dict[tuple[str, bool], costing.CallTotals] = field(default_factory=dict)
    notes: dict[str, ModelNotes] = field(default_factory=dict)
    by_input: dict[str, tuple[costing.CallTotals, ModelNotes]] = field(default_factory=dict)  # of `current`
    current: Any = None  # the input being priced
    plans: dict[tuple[int, bool], tuple[list[ModelPrice], list[tuple[ModelPrice, costing.CallTotals, ModelNotes]]]] = field(default_factory=dict)
    # plain texts priced only in the total: their models grouped by tokenizer, the calls summed per group
    groups: dict[tuple[int, bool], tuple[list[ModelPrice], list[_Group]]] = field(default_factory=dict)

    def flush(self) -> None:
        """Each group's summed calls into its models' totals and notes (once, before the rows)."""
        for _, groups in self.groups.values():
            for _, calls, members in groups:
                if calls.requests:
                    for _, every, note in members:
                        every.add_summed(calls)
                        note.requests += calls.requests
        self.groups = {}

    def rows(self, sort: str) -> list[ModelEstimate]:
        by_model: dict[str, list[ModelEstimate]] = {}
        for (model_id, _), totals in self.calls.items():
            by_model.setdefault(model_id, []).append(totals.estimate())
        return costing.sort_rows([rows[0] if len(rows) == 1 else costing.combine(rows) for rows in by_model.values()], sort)


@dataclass(eq=False)
class _Priced:
    """One input being priced: its summary, and its calls added to the total (`every`) and,
    when it is priced on its own too (`own`), to its per-model running totals."""

    input: Input
    options: Options
    summary: InputSummary
    every: _Totals
    own: bool = True
    totals: dict[str, costing.CallTotals] = field(default_factory=dict)
    exact: bool = False  # an exact (OpenAI) model priced it
    token_sums: dict[str, int] = field(default_factory=dict)
    chars: int = 0
    nbytes: int | None = None  # plain text: the bytes read
    approximations: set[str] = field(default_factory=set)
    named: set[str] = field(default_factory=set)
    own_outputs: set[int] = field(default_factory=set)  # up to two distinct request max_tokens
    kept: list[tuple[AnyCounted, list[ModelPrice], int]] = field(default_factory=list)  # --by-turn

    def output_for(self, request: AnyRequest) -> int:
        if self.options.output_tokens is not None:
            return self.options.output_tokens
        own = request.max_output_tokens
        if own is None:
            return self.options.default_output
        self.summary.output_from_requests += 1
        if len(self.own_outputs) < 2:
            self.own_outputs.add(own)
        return own

    def add(self, counted: AnyCounted, models: list[ModelPrice]) -> None:
        if self.every.current is not self:
            self.every.current, self.every.by_input = self, {}
        request, s = counted.request, self.summary
        output = self.output_for(request)
        s.requests += 1
        s.messages += counted.n_messages
        s.images += counted.n_images
        s.tools = max(s.tools, counted.n_tools)
        if request.model and len(self.named) < MAX_EXAMPLES:
            self.named.add(request.model)
        self.approximations.update(counted.approximations)
        self.chars += counted.chars
        if isinstance(counted, measure.CountedText):
            self.nbytes = counted.bytes
        for encoding in counted.sums:
            self.token_sums[encoding] = self.token_sums.get(encoding, 0) + counted.text_tokens(encoding)
        multi = not self.input.single  # problems name their line
        where = request.where if multi else None
        for text in counted.not_counted():
            s.not_counted_total += 1
            if len(s.not_counted) < MAX_EXAMPLES:
                s.not_counted.append(f"{where}: {text}" if where else text)
        if type(counted) is measure.CountedText:
            self._price_text(counted, models, output)
        else:
            for model in models:
                self._price(model, counted, output, where)
        if self.options.by_turn and not multi and not self.input.is_text:
            self.kept.append((counted, models, output))

    def _calls(self, into: dict[Any, costing.CallTotals], key: Any, model: ModelPrice) -> costing.CallTotals:
        totals = into.get(key)
        if totals is None:
            o = self.options
            totals = into[key] = costing.CallTotals(model, cached_tokens=o.cached_tokens, batch=o.batch or self.input.batch, calls=o.calls)
        return totals

    def _shared(self, model: ModelPrice) -> tuple[costing.CallTotals, ModelNotes]:
        """The total's calls and notes of `model` that this input adds to."""
        found = self.every.by_input.get(model.id)
        if found is None:
            every = self._calls(self.every.calls, (model.id, self.options.batch or self.input.batch), model)
            note = self.every.notes.get(model.id)
            if note is None:
                note = self.every.notes[model.id] = ModelNotes(model=model.id)
            found = self.every.by_input[model.id] = (every, note)
        return found

    def _price_text(self, counted: measure.CountedText, models: list[ModelPrice], output: int) -> None:
        """`_price` for a plain text on each model: its count is the text's, scaled for an
        approximation, with no notes, images or per-request problems (one call, one input).
        Thousands of small prompts on a dozen models make this the inner loop of an estimate."""
        if not self.own:
            self._price_text_in_total(counted, models, output)
            return
        label = self.summary.source
        for model, every, note in self._text_plan(models):
            tokens, band = self._text_tokens(model.tokenizer, counted)
            approximate = band is not None
            self._calls(self.totals, model.id, model).add(tokens, output, approximate=approximate, band=band)
            every.add(tokens, output, where=label, approximate=approximate, band=band)
            note.requests += 1

    def _price_text_in_total(self, counted: measure.CountedText, models: list[ModelPrice], output: int) -> None:
        """`_price_text` for a text priced only in the total: counted once per tokenizer, and
        summed for its models unless a tier or limit of one of them singles the call out."""
        for tokenizer, calls, members in self._groups(models):
            tokens, band = self._text_tokens(tokenizer, counted)
            if not calls.add(tokens, output, band):
                label = self.summary.source
                for _, every, note in members:
                    every.add(tokens, output, where=label, approximate=band is not None, band=band)
                    note.requests += 1

    def _text_tokens(self, tokenizer: Tokenizer, counted: measure.CountedText) -> tuple[int, tuple[int, int] | None]:
        """A plain text's input tokens on `tokenizer`, and an approximate count's band."""
        if tokenizer.exact:
            self.exact = True
            return counted.sums[tokenizer.encoding], None
        a = approx.estimate(tokenizer, counted.sums[tokenizer.encoding], counted.content())
        return a.tokens, (a.low, a.high)

    def _groups(self, models: list[ModelPrice]) -> list[_Group]:
        """`_text_plan`'s models grouped by what their count depends on (`approx.estimate`:
        the encoding, and the factors and bands), made once per model list and batch."""
        key = (id(models), self.options.batch or self.input.batch)
        found = self.every.groups.get(key)  # holds `models`: its id is not reused meanwhile
        if found is None:
            by_count: dict[Any, list[tuple[ModelPrice, costing.CallTotals, ModelNotes]]] = {}
            for member in self._text_plan(models):
                t = member[0].tokenizer
                by_count.setdefault((t.encoding, t.exact, t.factor, t.low, t.high, t.classes), []).append(member)
            groups = [(ms[0][0].tokenizer, costing.CallGroup([m for m, _, _ in ms], self.options.cached_tokens), ms) for ms in by_count.values()]
            found = self.every.groups[key] = (models, groups)
        return found[1]

    def _text_plan(self, models: list[ModelPrice]) -> list[tuple[ModelPrice, costing.CallTotals, ModelNotes]]:
        """Each model with the total's calls and notes it adds to, made once per model list and batch."""
        key = (id(models), self.options.batch or self.input.batch)
        plan = self.every.plans.get(key)
        if plan is None or plan[0] is not models:
            plan = self.every.plans[key] = (models, [(m, *self._shared(m)) for m in models])
        return plan[1]

    def _price(self, model: ModelPrice, counted: AnyCounted, output: int, where: str | None) -> None:
        mi = counted.model_input(model)
        self.exact |= model.tokenizer.exact
        band = (mi.low, mi.high) if mi.low is not None and mi.high is not None else None
        if self.own:
            self._calls(self.totals, model.id, model).add(mi.tokens, output, where=where, approximate=mi.approximate, band=band)
        every, note = self._shared(model)
        every.add(mi.tokens, output, where=where or self.summary.source, approximate=mi.approximate, band=band)
        if mi.notes:
            self.approximations.update(mi.notes)
        note.requests += 1
        if mi.image_tokens or mi.uncounted:
            note.image_tokens += mi.image_tokens
            note.images_not_counted += len(mi.uncounted)
            for text in mi.uncounted:
                if len(note.examples) < MAX_EXAMPLES:
                    note.examples.append(f"{where}: {text}" if where else text)

    def finish(self) -> TextCount:
        """The summary's last fields, once the input is read; its counts."""
        s, item = self.summary, self.input
        s.format, s.batch = item.kind, item.batch
        s.lines, s.skipped, s.line_errors = item.lines, item.skipped, item.line_errors
        if self.exact:
            s.approximations = sorted(self.approximations)
        s.request_models = sorted(self.named)
        nbytes = self.nbytes if self.nbytes is not None else item.source.size or 0
        return TextCount(source=s.source, chars=self.chars, bytes=nbytes, tokens=dict(sorted(self.token_sums.items())))


def estimate(
    sources: Sequence[Source],
    catalog: Catalog,
    options: Options,
    *,
    sort: str = "cost",
    on_bytes: Callable[[int], None] | None = None,
    keep: Callable[[AnyCounted], None] | None = None,
) -> EstimateReport:
    """Price every input (plain text, chat requests, request files, batch files) on its models.

    `keep` receives every counted request (plain texts with their text) as it is priced, with
    the texts every model's rules need, so that it can be priced again (`estimate --suggest`)."""
    with no_cyclic_gc():
        return _estimate(sources, catalog, options, sort, on_bytes, keep)


def _estimate(
    sources: Sequence[Source],
    catalog: Catalog,
    options: Options,
    sort: str,
    on_bytes: Callable[[int], None] | None,
    keep: Callable[[AnyCounted], None] | None,
) -> EstimateReport:
    opened = open_inputs(sources, options.read)
    models = _Models(catalog, options)
    total = _Totals()
    own = options.per_file or len(opened) == 1
    runs = [_Priced(item, options, InputSummary(source=item.source.label, format=item.kind), total, own) for item in opened]
    # Every rule's texts when the counted requests are kept: their keeper may price them on any model.
    every = options.selected is None or keep is not None
    counted = measure.count(
        opened,
        models.encodings,
        openai_rules=every or any(m.tokenizer.exact for m in options.selected or ()),
        other_rules=every or not all(m.tokenizer.exact for m in options.selected or ()),
        keep_text=keep is not None,
        classify=not all(m.tokenizer.exact for m in options.selected or options.defaults),
        on_bytes=on_bytes,
    )
    for index, request in counted:
        runs[index].add(request, models.of(request.request))
        if keep is not None:
            keep(request)
    return _report(runs, total, options, sort)


def _report(runs: Sequence[_Priced], total: _Totals, options: Options, sort: str) -> EstimateReport:
    total.flush()
    counts = [run.finish() for run in runs]
    summaries = [run.summary for run in runs]
    if not any(s.requests for s in summaries):
        raise InputError("nothing to estimate: no input held a request" + _skipped_detail(summaries))
    per_file = [FileEstimate(run.summary.source, costing.sort_rows([t.estimate() for t in run.totals.values()], sort)) for run in runs if run.own]
    return EstimateReport(
        inputs=counts,
        summaries=summaries,
        assumptions=_assumptions(runs, options),
        models=per_file[0].models if len(runs) == 1 else total.rows(sort),
        per_file=per_file,
        model_notes=list(total.notes.values()),
        turns=[t for run in runs for t in _turns(run)],
        notes=[n for run in runs for n in _turn_notes(run, options)],
    )


def _assumptions(runs: Sequence[_Priced], options: Options) -> Assumptions:
    requests = sum(r.summary.requests for r in runs)
    own = sum(r.summary.output_from_requests for r in runs)
    own_values = set().union(*(r.own_outputs for r in runs))
    if options.output_tokens is not None:
        out, out_from = options.output_tokens, "option"
    elif requests and own == requests:
        # one value when every request asks for the same; the per-request values are used either way
        out, out_from = (min(own_values) if len(own_values) == 1 else options.default_output), "request"
    else:
        out, out_from = options.default_output, options.default_output_from
    batch = options.batch or all(r.input.batch for r in runs)
    return Assumptions(output_tokens=out, output_tokens_from=out_from, calls=options.calls, cached_tokens=options.cached_tokens, batch=batch)  # type: ignore[arg-type]


def _turns(run: _Priced) -> list[TurnTable]:
    if len(run.kept) != 1:
        return []
    from tokopt.costing.turns import turn_table

    counted, models, output = run.kept[0]
    return [turn_table(counted, m, output, batch=run.options.batch or run.input.batch) for m in models]  # type: ignore[arg-type]


def _turn_notes(run: _Priced, options: Options) -> list[str]:
    if not options.by_turn:
        return []
    label = run.summary.source
    if run.input.is_text:
        return [f"--by-turn: {label} is plain text, one message; nothing to show per turn"]
    if len(run.kept) == 1:
        return []
    return [f"--by-turn: {label} holds {run.summary.requests:,} requests; the per-turn view is for one conversation"]


def _skipped_detail(summaries: Sequence[InputSummary]) -> str:
    skipped = [s for s in summaries if s.skipped]
    if not skipped:
        return ""
    first = skipped[0]
    lines = "line" if first.skipped == 1 else "lines"
    return f" ({first.skipped:,} {lines} of {first.source} skipped; the first: {first.line_errors[0]})"
