"""What a budgeted file stands for, measured: its requests, each counted on each model.

This is the one place where `tokopt check` and `tokopt init` read and count files; the rest of
budgets/ sees only `FileContent` and the `PricedRequest`s made from it.

A plain-text file is one prompt, one request. A chat request (OpenAI or Anthropic JSON), a JSONL
file of requests or a batch input file (OpenAI Batch, Anthropic Message Batches) is read with the
parser `tokopt estimate` uses and stands for each of its requests, counted the way the API bills
them; batch files are priced at batch rates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tokopt import costing, inputs, tokens
from tokopt.costing.report import TextCount
from tokopt.errors import InputError
from tokopt.inputs import EncodingErrors, Source, formats, gitrepo, looks_binary
from tokopt.inputs.formats import Shape
from tokopt.pricing.model import ModelPrice
from tokopt.requests import parse
from tokopt.requests.model import Request
from tokopt.tokens import billing, measure

SNIFF_SIZE = inputs.SNIFF_SIZE
REQUEST_CHUNK = 512  # requests of one file parsed and counted together: bounded memory


@dataclass(frozen=True)
class PricedRequest:
    """One request a file stands for: input tokens per model id and the expected output."""

    label: str | None
    input_tokens: Mapping[str, int]
    output_tokens: int
    batch: bool = False  # priced at the model's batch rates
    approximate: frozenset[str] = frozenset()  # model ids whose count is ≈ for this request


@dataclass(frozen=True)
class RequestInput:
    """One request of a request or batch file, counted: input tokens per model id."""

    label: str | None  # None when the file is one request
    input_tokens: Mapping[str, int]
    approximate: frozenset[str]
    max_output: int | None  # the request's own max_tokens


@dataclass(frozen=True)
class RequestFile:
    """A request, request (JSONL) or batch file, measured: its requests in order."""

    source: str
    requests: list[RequestInput]
    batch: bool


FileContent = TextCount | RequestFile  # what measuring one version of a file gives


def file_requests(
    content: FileContent, models: Sequence[ModelPrice], output_tokens: int, *, own_output: bool = False
) -> list[PricedRequest]:
    """The requests one budgeted file stands for, priced per model.

    A plain-text file is one prompt sent as is: one request, `output_tokens` expected back.
    A request or batch file gives one item per request, labelled by its custom_id or line;
    its output is the request's own max_tokens unless the budget sets `output_tokens`
    (`own_output`), and batch files are priced at batch rates.
    """
    if isinstance(content, TextCount):
        return [PricedRequest(None, {m.id: costing.model_tokens(m, content.tokens) for m in models}, output_tokens)]
    out = []
    for r in content.requests:
        output = r.max_output if r.max_output is not None and not own_output else output_tokens
        out.append(PricedRequest(r.label, r.input_tokens, output, content.batch, r.approximate))
    return out


def _request_labels(requests: Sequence[Request], single: bool, seen: dict[str, int]) -> list[str | None]:
    """custom_id, else `line N`; a label used twice gets its line, so rows never merge."""
    labels: list[str | None] = []
    for r in requests:
        if single:
            labels.append(None)
            continue
        label = r.custom_id if r.custom_id is not None else f"line {r.line}"
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} (line {r.line})"
        labels.append(label)
    return labels


def _budgeted_requests(
    source: Source, shape: Shape, models: Sequence[ModelPrice], errors: EncodingErrors, warnings: list[str]
) -> RequestFile:
    """measure_requests, with a way out that `tokopt check` has: the budget's `exclude`."""
    try:
        return measure_requests(source, shape, models, errors, warnings)
    except InputError as exc:
        if "invalid UTF-8" in exc.message:
            raise  # its hint, --encoding-errors, is one check has
        raise InputError(exc.message, hint="fix the file, or leave it out of the budget with `exclude`") from None


def _chunks(items: Iterator[Request], size: int) -> Iterator[list[Request]]:
    chunk: list[Request] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def measure_requests(
    source: Source, shape: Shape, models: Sequence[ModelPrice], errors: EncodingErrors, warnings: list[str]
) -> RequestFile:
    """Parse a request or batch file and count each request on each model, as estimate does.

    Parts that cannot be counted offline (images of unknown size, unknown part types) are
    named in `warnings`, never counted as zero silently."""
    encodings = sorted({m.tokenizer.encoding for m in models})
    assert shape != "text"
    opened = parse.open_requests(source, shape, errors=errors)
    items = (r for r in opened.items if isinstance(r, Request))
    batch, single = opened.batch, opened.single
    out: list[RequestInput] = []
    seen: dict[str, int] = {}
    missing: list[str] = []
    missing_total = 0
    for chunk in _chunks(items, REQUEST_CHUNK):
        labels = _request_labels(chunk, single, seen)
        for label, counted in zip(labels, billing.count_requests(chunk, encodings)):
            plan = counted.plan
            gaps = billing.not_counted(plan)
            missing_total += len(gaps)
            for gap in gaps[: max(0, 3 - len(missing))]:
                missing.append(f"{label}: {gap}" if label else gap)
            sizes: dict[str, int] = {}
            approx = set()
            for m in models:
                mi = counted.model_input(m)
                sizes[m.id] = mi.tokens
                if mi.approximate or mi.uncounted or gaps:  # a part left out: the count is a floor
                    approx.add(m.id)
            out.append(RequestInput(label, sizes, frozenset(approx), plan.conversation.max_output_tokens))
    if not out:
        raise InputError(f"{source.label}: no requests to check")
    if missing_total:
        more = f" (and {missing_total - len(missing)} more)" if missing_total > len(missing) else ""
        warnings.append(f"{source.label}: {missing_total} part(s) not counted: {'; '.join(missing)}{more}")
    return RequestFile(source.label, out, batch)


def count_working(
    root: Path, files: Sequence[str], models: Sequence[ModelPrice], errors: EncodingErrors, skipped: list[str], warnings: list[str]
) -> dict[str, FileContent]:
    """The files of the working tree (relative to `root`) a budget covers, measured; a file
    that is not UTF-8 text goes to `skipped`, parts that cannot be counted to `warnings`."""
    encodings = sorted({m.tokenizer.encoding for m in models})
    sources = []
    requests: list[tuple[Source, Shape]] = []
    for name in files:
        path = root / name
        try:
            with path.open("rb") as fh:
                head = fh.read(SNIFF_SIZE)
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror}") from None
        if inputs.looks_binary(head):
            skipped.append(f"{name}: not UTF-8 text, not checked")
            continue
        source = Source(name, path, size)
        shape = formats.sniff(source)
        if shape == "text":
            sources.append(source)
        else:
            requests.append((source, shape))
    found: dict[str, FileContent] = {c.source: c for c in measure.count_sources(sources, encodings, errors=errors)}
    for source, shape in requests:
        found[source.label] = _budgeted_requests(source, shape, models, errors, warnings)
    return found


def count_revision(
    repo: gitrepo.Repo,
    ref: str,
    blobs: Mapping[str, str],
    models: Sequence[ModelPrice],
    errors: EncodingErrors,
    skipped: list[str],
    warnings: list[str],
) -> dict[str, FileContent]:
    """The same files as they are at git revision `ref` (`blobs`: path -> blob id), read
    through git's plumbing, measured; messages name them REF:path."""
    encodings = sorted({m.tokenizer.encoding for m in models})
    data = gitrepo.read_blobs(repo, blobs.values())
    texts: dict[str, str] = {}
    request_files: dict[str, tuple[bytes, Shape]] = {}
    for name, oid in blobs.items():
        raw = data[oid]
        if inputs.looks_binary(raw[:SNIFF_SIZE]):
            skipped.append(f"{ref}:{name}: not UTF-8 text, not checked")
            continue
        shape = formats.sniff_data(raw, name, whole=True)
        if shape != "text":
            request_files[name] = (raw, shape)
            continue
        try:
            texts[name] = raw.decode("utf-8", errors)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{ref}:{name}: invalid UTF-8 at byte {exc.start}",
                hint="pass --encoding-errors replace to read it with U+FFFD in place of bad bytes",
            ) from None

    def segments() -> Iterator[tuple[str, str]]:
        for name, text in texts.items():
            yield name, ""
            for segment in tokens.resegment([text]):
                yield name, segment

    counted = tokens.count_keyed(segments(), encodings, expected_chars=sum(len(t) for t in texts.values()))
    found: dict[str, FileContent] = {
        name: TextCount(source=name, chars=len(text), bytes=len(text.encode("utf-8", "surrogatepass")), tokens=counted[name])
        for name, text in texts.items()
    }
    if request_files:
        # The request parser streams files; the base revision's bytes go through a private
        # temporary file, labelled REF:path in any message.
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tokopt-base-") as tmp:
            for index, (name, (raw, shape)) in enumerate(request_files.items()):
                path = Path(tmp) / f"{index}{Path(name).suffix}"
                path.write_bytes(raw)
                source = Source(f"{ref}:{name}", path, len(raw))
                content = _budgeted_requests(source, shape, models, errors, warnings)
                found[name] = RequestFile(name, content.requests, content.batch)
    return found


def count_prompts(root: Path, files: Sequence[str], models: Sequence[ModelPrice], skipped: list[str]) -> dict[str, FileContent]:
    """For `tokopt init`: each file as `tokopt check` reads it, plain text or the requests of a
    request or batch file. A file that looks like JSON but is not a request is left out (and
    said why), and so is one that check would skip as not UTF-8 text."""
    encodings = sorted({m.tokenizer.encoding for m in models})
    text_sources = []
    found: dict[str, FileContent] = {}
    for f in files:
        path = root / f
        with path.open("rb") as fh:
            if looks_binary(fh.read(SNIFF_SIZE)):
                skipped.append(f"{f}: not UTF-8 text, left out")
                continue
        source = Source(f, path, path.stat().st_size)
        shape = formats.sniff(source)
        if shape == "text":
            text_sources.append(source)
            continue
        try:
            found[f] = measure_requests(source, shape, models, "strict", [])
        except InputError as exc:
            skipped.append(f"{f}: not a chat request or batch file ({exc.message.removeprefix(f + ': ')})")
    for c in measure.count_sources(text_sources, encodings):
        found[c.source] = c
    return found
