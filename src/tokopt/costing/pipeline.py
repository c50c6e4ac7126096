"""Estimate chat requests, request files and batch files: read, count, price, add up.

`estimate_inputs` is what `tokopt estimate` runs when an input is not plain text. Each input is
read in its own format (`requests.parse`), every request is counted once per encoding its models
need (`tokens.billing`, on all cores for large inputs) and priced on its models (`costing.CallTotals`):

- models: the command line's selection if it made one; otherwise each request's own `model`,
  and the default set for requests (and text inputs) that name none;
- output tokens: `--output-tokens` if given; otherwise each request's own max_tokens; else the
  config or built-in default;
- batch input files (OpenAI Batch, Anthropic Message Batches) are priced at batch rates,
  whatever `--batch` says.

Request and batch files stream: requests are counted in batches of about a megabyte of text
while the next lines are parsed, and nothing but running totals is kept, so memory does not
grow with the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from tokopt import costing, tokens
from tokopt.tokens import billing, measure
from tokopt.requests import parse
from tokopt.inputs import formats
from tokopt.tokens.billing import Counted
from tokopt.requests.model import InputFormat, Request
from tokopt.errors import InputError
from tokopt.inputs import EncodingErrors, Source
from tokopt.costing.report import Assumptions, EstimateReport, FileEstimate, TextCount
from tokopt.pricing.model import ModelPrice
from tokopt.usage import Usage, Usd
from tokopt.pricing import Catalog

CHUNK_CHARS = 1 << 20  # text per counting task: big enough to amortise a task, small enough to overlap
MAX_EXAMPLES = 20

FormatName = Literal["text", "openai", "anthropic", "requests", "batch", "transcript"]
FORMAT_LABELS: dict[str, str] = {
    "text": "plain text",
    "openai": "OpenAI chat request",
    "anthropic": "Anthropic Messages request",
    "requests": "JSONL of chat requests",
    "batch": "batch API input",
    "transcript": "JSONL transcript, one message per line",
}


# --- results ----------------------------------------------------------------------------------


class InputSummary(BaseModel):
    """What one input held, and what was not counted or only approximated."""

    source: str
    format: FormatName
    requests: int = 0
    messages: int = 0
    images: int = 0
    tools: int = 0  # the most tools one request offers
    lines: int = 0  # non-blank lines read from a JSONL input
    skipped: int = 0  # JSONL lines that were not requests (--keep-going)
    line_errors: list[str] = Field(default_factory=list)  # the first of them, "file:line: why"
    request_models: list[str] = Field(default_factory=list)  # models the requests name
    output_from_requests: int = 0  # requests whose own max_tokens set their output
    not_counted: list[str] = Field(default_factory=list)  # parts no model counts, with where
    not_counted_total: int = 0
    approximations: list[str] = Field(default_factory=list)  # why OpenAI counts are ≈ here
    batch: bool = False  # priced at batch rates because the input is a batch file


class ModelNotes(BaseModel):
    """Per model: how many requests it priced and which images its count leaves out."""

    model: str
    requests: int = 0
    image_tokens: int = 0
    images_not_counted: int = 0
    examples: list[str] = Field(default_factory=list)


class TurnRow(BaseModel):
    """One message of a conversation, and the API call that produced it if it is a reply."""

    turn: int
    role: str
    tokens: int = Field(description="the message's own tokens, its share of the chat format included")
    context_tokens: int = Field(description="what the conversation holds up to and including this message")
    input_tokens: int | None = Field(None, description="replies: the input of the call that produced it")
    cached_input_tokens: int | None = Field(None, description="of that input, what a prompt cache would serve")
    output_tokens: int | None = None
    call_usd: Usd | None = None
    call_cached_usd: Usd | None = None
    cumulative_usd: Usd | None = None
    cumulative_cached_usd: Usd | None = None
    pending: bool = False  # the reply this request asks for, not yet in the conversation


class TurnTable(BaseModel):
    source: str
    model: str
    provider: str
    approximate: bool
    fixed_tokens: int = Field(description="read by every call: tools, response schema, reply priming")
    calls: int
    total_usd: Usd
    total_cached_usd: Usd
    rows: list[TurnRow]


class ChatEstimate(BaseModel):
    report: EstimateReport
    inputs: list[InputSummary]
    models: list[ModelNotes]
    turns: list[TurnTable] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


# --- options ----------------------------------------------------------------------------------


@dataclass
class Options:
    selected: list[ModelPrice] | None  # the command line's models; None: the requests' own
    defaults: list[ModelPrice]  # for inputs that name no model
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


# --- pricing ----------------------------------------------------------------------------------


@dataclass
class _Run:
    """One input being priced: per-model running totals and what it held."""

    source: Source
    options: Options
    catalog: Catalog | None  # None: the requests' own models are not looked up (tokenize)
    summary: InputSummary
    batch: bool
    multi: bool  # more than one request: problems name their line
    keep_counted: bool
    totals: dict[str, costing.CallTotals] = field(default_factory=dict)
    notes: dict[str, ModelNotes] = field(default_factory=dict)
    counted: list[tuple[Counted, list[ModelPrice], int]] = field(default_factory=list)
    token_sums: dict[str, int] = field(default_factory=dict)
    chars: int = 0
    approximations: set[str] = field(default_factory=set)
    named: set[str] = field(default_factory=set)
    own_outputs: set[int] = field(default_factory=set)  # up to two distinct request max_tokens
    by_name: dict[str, list[ModelPrice]] = field(default_factory=dict)
    requests: int = 0
    messages: int = 0
    images: int = 0
    tools: int = 0  # the most tools one request offers
    own_output: int = 0
    not_counted_total: int = 0

    def models_for(self, request: Request) -> list[ModelPrice]:
        if self.options.selected is not None:
            return self.options.selected
        name = request.conversation.model
        if not name:
            return self.options.defaults
        found = self.by_name.get(name)
        if found is not None:
            return found
        assert self.catalog is not None
        model = self.catalog.find(name)
        if model is None:
            suggestions = self.catalog.suggest(name)
            hint = f"did you mean {', '.join(suggestions)}? " if suggestions else ""
            raise InputError(
                f"{request.where}: the request's model '{name}' has no price in the catalog",
                hint=hint + "choose models with --model, or add its price with --pricing",
            )
        self.by_name[name] = [model]
        return [model]

    def output_for(self, request: Request) -> int:
        if self.options.output_tokens is not None:
            return self.options.output_tokens
        own = request.conversation.max_output_tokens
        if own is not None:
            self.own_output += 1
            if len(self.own_outputs) < 2:
                self.own_outputs.add(own)
            return own
        return self.options.default_output

    def price(self, counted: Counted, models: list[ModelPrice]) -> None:
        plan = counted.plan
        request = plan.request
        conv = request.conversation
        output = self.output_for(request)
        self.requests += 1
        self.messages += len(plan.roles)
        self.images += plan.n_images
        if len(conv.tools) > self.tools:
            self.tools = len(conv.tools)
        if conv.model and len(self.named) < MAX_EXAMPLES:
            self.named.add(conv.model)
        if plan.approximations:
            self.approximations.update(plan.approximations)
        self.chars += plan.chars
        for encoding in counted.sums:
            self.token_sums[encoding] = self.token_sums.get(encoding, 0) + counted.text_tokens(encoding)
        if plan.opaque or plan.n_images:
            self._not_counted(plan)
        where = request.where if self.multi else None
        for model in models:
            mi = counted.model_input(model)
            totals = self.totals.get(model.id)
            if totals is None:
                totals = self.totals[model.id] = costing.CallTotals(
                    model, cached_tokens=self.options.cached_tokens, batch=self.batch, calls=self.options.calls
                )
                self.notes[model.id] = ModelNotes(model=model.id)
            totals.add(mi.tokens, output, where=where, approximate=mi.approximate)
            if mi.notes:
                self.approximations.update(mi.notes)
            if mi.image_tokens or mi.uncounted:
                note = self.notes[model.id]
                note.image_tokens += mi.image_tokens
                note.images_not_counted += len(mi.uncounted)
                for text in mi.uncounted:
                    if len(note.examples) < MAX_EXAMPLES:
                        note.examples.append(f"{where}: {text}" if where else text)
        if self.keep_counted:
            self.counted.append((counted, models, output))

    def _not_counted(self, plan: billing.Plan) -> None:
        prefix = f"{plan.request.where}: " if self.multi else ""
        missing = billing.not_counted(plan)
        s = self.summary
        for text in missing:
            self.not_counted_total += 1
            if len(s.not_counted) < MAX_EXAMPLES:
                s.not_counted.append(prefix + text)

    def finish(self) -> None:
        """Copy the running counts into the summary and the model notes."""
        s = self.summary
        s.requests, s.messages, s.images, s.tools = self.requests, self.messages, self.images, self.tools
        s.output_from_requests = self.own_output
        s.not_counted_total = self.not_counted_total
        for model_id, totals in self.totals.items():
            self.notes[model_id].requests = totals.requests

    def encodings_for(self, models: list[ModelPrice]) -> tuple[str, ...]:
        return tuple(sorted({m.tokenizer.encoding for m in models}))

    def run(self, items: Iterable[Request | parse.LineError], reject: Callable[[Request, str], None] | None) -> None:
        """Count and price a stream of requests in batches of about CHUNK_CHARS of text."""
        needs_openai = needs_other = True
        if self.options.selected is not None:
            needs_openai = any(billing.uses_openai_rules(m) for m in self.options.selected)
            needs_other = not all(billing.uses_openai_rules(m) for m in self.options.selected)

        def batches() -> Iterator[tuple[list[tuple[billing.Plan, list[ModelPrice]]], list[str], tuple[str, ...]]]:
            pending: dict[tuple[str, ...], tuple[list[tuple[billing.Plan, list[ModelPrice]]], list[str]]] = {}
            sizes: dict[tuple[str, ...], int] = {}
            for item in items:
                if isinstance(item, parse.LineError):
                    continue
                try:
                    models = self.models_for(item)
                except InputError as exc:
                    if reject is None or not self.options.keep_going:
                        raise
                    reject(item, exc.message.removeprefix(f"{item.where}: "))
                    continue
                p = billing.plan(item, openai_rules=needs_openai, other_rules=needs_other)
                encodings = self.encodings_for(models)
                plans, texts = pending.setdefault(encodings, ([], []))
                plans.append((p, models))
                texts.extend(p.texts)
                sizes[encodings] = sizes.get(encodings, 0) + p.chars
                if sizes[encodings] >= CHUNK_CHARS:
                    yield plans, texts, encodings
                    del pending[encodings]
                    sizes[encodings] = 0
            for encodings, (plans, texts) in pending.items():
                yield plans, texts, encodings

        for plans, counts in tokens.count_batches(batches(), expected_chars=self.source.size):
            offset = 0
            for p, models in plans:
                n = len(p.texts)
                own = {e: values[offset : offset + n] for e, values in counts.items()}
                offset += n
                self.price(Counted(p, own), models)


def _summary_format(request: Request) -> FormatName:
    return "anthropic" if request.conversation.dialect.value == "anthropic" else "openai"


def _price_text(source: Source, options: Options, summary: InputSummary) -> tuple[TextCount, dict[str, costing.CallTotals]]:
    models = options.selected if options.selected is not None else options.defaults
    encodings = sorted({m.tokenizer.encoding for m in models})
    (count,) = measure.count_sources([source], encodings, errors=options.errors)
    totals = {}
    output = options.output_tokens if options.output_tokens is not None else options.default_output
    for model in models:
        t = costing.CallTotals(model, cached_tokens=options.cached_tokens, batch=options.batch, calls=options.calls)
        t.add(costing.model_tokens(model, count.tokens), output)
        totals[model.id] = t
    summary.requests = 1
    summary.messages = 1
    return count, totals


def estimate_inputs(
    sources: Sequence[Source],
    catalog: Catalog,
    options: Options,
    *,
    sort: str = "cost",
    on_bytes: Callable[[int], None] | None = None,
) -> ChatEstimate:
    """Price every input (text, chat requests, request files, batch files) on its models."""
    counts: list[TextCount] = []
    per_file: list[FileEstimate] = []
    summaries: list[InputSummary] = []
    model_notes: dict[str, ModelNotes] = {}
    turns: list[TurnTable] = []
    notes: list[str] = []
    all_batch = True
    requests_total = with_own_output = 0
    own_outputs: set[int] = set()

    for source in sources:
        shape = formats.sniff(source, options.input_format)
        if shape == "text":
            summary = InputSummary(source=source.label, format="text")
            count, totals = _price_text(source, options, summary)
            if on_bytes is not None:
                on_bytes(count.bytes)
            all_batch = False
            for model_id in totals:
                model_notes.setdefault(model_id, ModelNotes(model=model_id)).requests += 1
        else:
            summary = InputSummary(source=source.label, format="openai")
            run, count = _price_conversations(source, shape, catalog, options, summary, on_bytes)
            totals = run.totals
            own_outputs |= run.own_outputs
            all_batch &= summary.batch
            for model_id, note in run.notes.items():
                merged = model_notes.setdefault(model_id, ModelNotes(model=model_id))
                merged.requests += note.requests
                merged.image_tokens += note.image_tokens
                merged.images_not_counted += note.images_not_counted
                merged.examples.extend(note.examples[: MAX_EXAMPLES - len(merged.examples)])
            if options.by_turn:
                if len(run.counted) == 1:
                    counted, models, output = run.counted[0]
                    turns.extend(turn_table(counted, m, output, batch=run.batch) for m in models)
                else:
                    notes.append(
                        f"--by-turn: {source.label} holds {summary.requests:,} requests; the per-turn view is for one conversation"
                    )
        if shape == "text" and options.by_turn:
            notes.append(f"--by-turn: {source.label} is plain text, one message; nothing to show per turn")
        requests_total += summary.requests
        with_own_output += summary.output_from_requests
        summaries.append(summary)
        counts.append(count)
        rows = [t.estimate() for t in totals.values()]
        per_file.append(FileEstimate(source=source.label, models=costing.sort_rows(rows, sort)))

    if not any(s.requests for s in summaries):
        raise InputError("nothing to estimate: no input held a request" + _skipped_detail(summaries))

    if options.output_tokens is not None:
        out, out_from = options.output_tokens, "option"
    elif requests_total and with_own_output == requests_total:
        # one value when every request asks for the same; the per-request values are used either way
        out, out_from = (min(own_outputs) if len(own_outputs) == 1 else options.default_output), "request"
    else:
        out, out_from = options.default_output, options.default_output_from
    assumptions = Assumptions(
        output_tokens=out,
        output_tokens_from=out_from,
        calls=options.calls,
        cached_tokens=options.cached_tokens,
        batch=options.batch or all_batch,
    )
    if len(per_file) == 1:
        total_rows = per_file[0].models
    else:
        by_model: dict[str, list] = {}
        labels: dict[str, list[str]] = {}
        for item in per_file:
            for row in item.models:
                by_model.setdefault(row.model, []).append(row)
                labels.setdefault(row.model, []).append(item.source)
        total_rows = costing.sort_rows([costing.combine(rows, labels[m]) for m, rows in by_model.items()], sort)
    report = EstimateReport(inputs=counts, assumptions=assumptions, models=total_rows, per_file=per_file)
    return ChatEstimate(report=report, inputs=summaries, models=list(model_notes.values()), turns=turns, notes=notes)


def _read_into(
    run_for: Callable[[InputSummary, bool], _Run],
    source: Source,
    shape: formats.Shape,
    options: Options,
    summary: InputSummary,
    on_bytes: Callable[[int], None] | None,
) -> _Run:
    """Parse an input in its shape and feed its requests to the run that `run_for` makes."""
    assert shape != "text"
    opened = parse.open_requests(
        source, shape, options.input_format, keep_going=options.keep_going, errors=options.errors, on_bytes=on_bytes
    )
    if opened.first is not None:
        summary.format = "batch" if opened.batch else _summary_format(opened.first)
    else:
        summary.format = opened.kind
    summary.batch = opened.batch
    run = run_for(summary, not opened.single)
    reader = opened.reader
    if opened.single or reader is None:
        run.run(opened.items, reject=None)
    else:

        def reject(request: Request, message: str) -> None:
            reader.reject(request.line or 0, message)

        run.run(opened.items, reject=reject)
    if reader is not None:
        summary.lines = reader.lines
        summary.skipped = reader.error_count
        summary.line_errors = [e.text for e in reader.errors]
    run.finish()
    return run


def _skipped_detail(items: Sequence[InputSummary] | Sequence[ChatTokenCount]) -> str:
    skipped = [i for i in items if i.skipped]
    if not skipped:
        return ""
    first = skipped[0]
    lines = "line" if first.skipped == 1 else "lines"
    return f" ({first.skipped:,} {lines} of {first.source} skipped; the first: {first.line_errors[0]})"


def _price_conversations(
    source: Source,
    shape: formats.Shape,
    catalog: Catalog,
    options: Options,
    summary: InputSummary,
    on_bytes: Callable[[int], None] | None,
) -> tuple[_Run, TextCount]:
    def run_for(summary: InputSummary, multi: bool) -> _Run:
        return _Run(
            source=source,
            options=options,
            catalog=catalog,
            summary=summary,
            batch=options.batch or summary.batch,
            multi=multi,
            keep_counted=options.by_turn and not multi,
        )

    run = _read_into(run_for, source, shape, options, summary, on_bytes)
    if any(billing.uses_openai_rules(t.model) for t in run.totals.values()):
        summary.approximations = sorted(run.approximations)
    summary.request_models = sorted(run.named)
    count = TextCount(source=source.label, chars=run.chars, bytes=source.size or 0, tokens=dict(sorted(run.token_sums.items())))
    return run, count


# --- per turn ---------------------------------------------------------------------------------


def turn_table(counted: Counted, model: ModelPrice, output_tokens: int, *, batch: bool = False) -> TurnTable:
    """Each message of a conversation on `model`, with the calls an agent loop makes.

    Every assistant message is the reply of one call whose input is everything before it
    (plus the fixed part: tools, schemas, reply priming). The cached columns assume a prompt
    cache: each call reads the previous call's input from the cache at cached-input prices
    (from the model's minimum cacheable length up), and where the model bills cache writes, the
    rest of its input is written at cache-write prices. A conversation that does not end with
    an assistant message ends with the call the request itself makes (`pending`).
    """
    own, content, fixed = counted.turn_tokens(model)
    roles = counted.plan.roles
    rows: list[TurnRow] = []
    context = fixed
    previous_input = 0
    total = total_cached = Decimal(0)
    calls = 0

    def call(input_tokens: int, out: int) -> tuple[Decimal, Decimal, int]:
        nonlocal previous_input
        cached = min(costing.cacheable_tokens(model, previous_input), input_tokens)
        writes = 0
        if model.cache_write is not None and costing.cacheable_tokens(model, input_tokens):
            writes = input_tokens - cached
        plain = costing.cost_of(model, Usage(input_tokens=input_tokens, output_tokens=out), batch=batch)
        with_cache = costing.cost_of(
            model,
            Usage(input_tokens=input_tokens, cached_input_tokens=cached, cache_write_tokens=writes, output_tokens=out),
            batch=batch,
        )
        previous_input = input_tokens
        return plain.total_usd, with_cache.total_usd, cached

    for k, role in enumerate(roles):
        row = TurnRow(turn=k + 1, role=role, tokens=own[k], context_tokens=context + own[k])
        if role == "assistant":
            calls += 1
            plain, cached_usd, cached = call(context, content[k])
            total += plain
            total_cached += cached_usd
            row = row.model_copy(
                update={
                    "input_tokens": context,
                    "cached_input_tokens": cached,
                    "output_tokens": content[k],
                    "call_usd": plain,
                    "call_cached_usd": cached_usd,
                    "cumulative_usd": total,
                    "cumulative_cached_usd": total_cached,
                }
            )
        context += own[k]
        rows.append(row)
    if not roles or roles[-1] != "assistant":
        calls += 1
        plain, cached_usd, cached = call(context, output_tokens)
        total += plain
        total_cached += cached_usd
        rows.append(
            TurnRow(
                turn=len(roles) + 1,
                role="assistant",
                tokens=output_tokens,
                context_tokens=context + output_tokens,
                input_tokens=context,
                cached_input_tokens=cached,
                output_tokens=output_tokens,
                call_usd=plain,
                call_cached_usd=cached_usd,
                cumulative_usd=total,
                cumulative_cached_usd=total_cached,
                pending=True,
            )
        )
    return TurnTable(
        source=counted.plan.request.source,
        model=model.id,
        provider=model.provider,
        approximate=counted.model_input(model).approximate,
        fixed_tokens=fixed,
        calls=calls,
        total_usd=total,
        total_cached_usd=total_cached,
        rows=rows,
    )


# --- tokenize ---------------------------------------------------------------------------------


class ChatTokenCount(BaseModel):
    """Counts for one input of chat requests, per encoding, for `tokopt tokenize`."""

    source: str
    format: FormatName
    requests: int
    messages: int
    chars: int = Field(description="characters of the text that is counted")
    bytes: int = Field(description="of the input file")
    tokens: dict[str, int] = Field(description="the text alone, per encoding")
    chat_tokens: dict[str, int] = Field(description="as OpenAI's chat format bills it (messages, names, tools), images left out")
    model_tokens: int | None = None  # on --model: its input tokens, images by its rule
    model_approximate: bool = False
    not_counted_total: int = 0
    skipped: int = 0
    line_errors: list[str] = Field(default_factory=list)


@dataclass
class _TokenizeRun(_Run):
    encodings: tuple[str, ...] = ()
    model: ModelPrice | None = None
    chat_sums: dict[str, int] = field(default_factory=dict)
    model_sum: int = 0
    model_approximate: bool = False

    def models_for(self, request: Request) -> list[ModelPrice]:
        return [self.model] if self.model is not None else []

    def encodings_for(self, models: list[ModelPrice]) -> tuple[str, ...]:
        return self.encodings

    def price(self, counted: Counted, models: list[ModelPrice]) -> None:
        plan = counted.plan
        self.requests += 1
        self.messages += len(plan.roles)
        self.chars += plan.chars
        if plan.opaque or plan.n_images:
            self._not_counted(plan)
        for encoding in self.encodings:
            self.token_sums[encoding] = self.token_sums.get(encoding, 0) + counted.text_tokens(encoding)
            self.chat_sums[encoding] = self.chat_sums.get(encoding, 0) + counted.openai_tokens(encoding)
        for model in models:
            mi = counted.model_input(model)
            self.model_sum += mi.tokens
            self.model_approximate |= mi.approximate

    def finish(self) -> None:
        s = self.summary
        s.requests, s.messages = self.requests, self.messages
        s.not_counted_total = self.not_counted_total


def tokenize_inputs(
    sources: Sequence[Source],
    encodings: Sequence[str],
    model: ModelPrice | None,
    options: Options,
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> list[ChatTokenCount]:
    """Per input: text tokens and chat-format tokens per encoding (and a model's, if given)."""
    encs = tuple(dict.fromkeys([*encodings, *([model.tokenizer.encoding] if model else [])]))
    out = []
    for source in sources:
        shape = formats.sniff(source, options.input_format)
        if shape == "text":
            (count,) = measure.count_sources([source], encs, errors=options.errors, on_bytes=on_bytes)
            out.append(
                ChatTokenCount(
                    source=source.label,
                    format="text",
                    requests=1,
                    messages=1,
                    chars=count.chars,
                    bytes=count.bytes,
                    tokens={e: count.tokens[e] for e in encs},
                    chat_tokens={e: count.tokens[e] for e in encs},
                    model_tokens=costing.model_tokens(model, count.tokens) if model else None,
                    model_approximate=model.approximate if model else False,
                )
            )
            continue
        summary = InputSummary(source=source.label, format="openai")

        def run_for(summary: InputSummary, multi: bool, source: Source = source) -> _Run:
            return _TokenizeRun(
                source=source,
                options=options,
                catalog=None,
                summary=summary,
                batch=False,
                multi=multi,
                keep_counted=False,
                encodings=encs,
                model=model,
            )

        run = _read_into(run_for, source, shape, options, summary, on_bytes)
        assert isinstance(run, _TokenizeRun)
        out.append(
            ChatTokenCount(
                source=source.label,
                format=summary.format,
                requests=summary.requests,
                messages=summary.messages,
                chars=run.chars,
                bytes=source.size or 0,
                tokens={e: run.token_sums.get(e, 0) for e in encs},
                chat_tokens={e: run.chat_sums.get(e, 0) for e in encs},
                model_tokens=run.model_sum if model else None,
                model_approximate=run.model_approximate,
                not_counted_total=summary.not_counted_total,
                skipped=summary.skipped,
                line_errors=summary.line_errors,
            )
        )
    if not any(c.requests for c in out):
        raise InputError("nothing to count: no input held a request" + _skipped_detail(out))
    return out


def iter_requests(source: Source, options: Options) -> Iterator[Request]:
    """Every request of an input (for showing its tokens), in order; bad lines as with estimate."""
    shape = formats.sniff(source, options.input_format)
    assert shape != "text"
    opened = parse.open_requests(source, shape, options.input_format, keep_going=options.keep_going, errors=options.errors)
    for item in opened.items:
        if isinstance(item, Request):
            yield item
