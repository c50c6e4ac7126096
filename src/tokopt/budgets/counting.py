"""What a budgeted file stands for, measured: its requests, each counted on each model.

This is the one place where `tokopt check` and `tokopt init` read and count files, through the
estimate pipeline's stages (`requests.read` decides what a file is, `tokens.measure` counts its
requests); the rest of budgets/ sees only `FileContent` and the `PricedRequest`s made from it.

A plain-text file is one prompt, one request. A chat request (OpenAI or Anthropic JSON), a JSONL
file of requests or a batch input file (OpenAI Batch, Anthropic Message Batches) is read with the
parser `tokopt estimate` uses and stands for each of its requests, counted the way the API bills
them; batch files are priced at batch rates.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokopt import inputs
from tokopt.errors import InputError
from tokopt.inputs import EncodingErrors, Source, gitrepo, looks_binary
from tokopt.pricing.model import ModelPrice
from tokopt.requests.read import Input, ReadOptions, open_inputs
from tokopt.tokens import measure
from tokopt.costing.report import TextCount
from tokopt.tokens.measure import CountedText, model_input

if TYPE_CHECKING:
    from tokopt.tokens.approx import Mix

SNIFF_SIZE = inputs.SNIFF_SIZE


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
    input_high: Mapping[str, int]  # the high end of an approximate count's band (else the count)


@dataclass(frozen=True)
class RequestFile:
    """A request, request (JSONL) or batch file, measured: its requests in order."""

    source: str
    requests: list[RequestInput]
    batch: bool


@dataclass
class TextFile(TextCount):
    """A plain-text file's counts and its content classes (found when a model is approximate)."""

    mix: Mix | None = None


FileContent = TextCount | RequestFile  # what measuring one version of a file gives


def file_requests(
    content: FileContent, models: Sequence[ModelPrice], output_tokens: int, *, own_output: bool = False, high: bool = False
) -> list[PricedRequest]:
    """The requests one budgeted file stands for, priced per model.

    A plain-text file is one prompt sent as is: one request, `output_tokens` expected back.
    A request or batch file gives one item per request, labelled by its custom_id or line;
    its output is the request's own max_tokens unless the budget sets `output_tokens`
    (`own_output`), and batch files are priced at batch rates. An approximate count is its
    point estimate, or with `high` the high end of its band (`approximate = "high"`), so that
    a budget holds whatever the true count is.
    """
    if isinstance(content, TextCount):
        mix = content.mix if isinstance(content, TextFile) else None
        sizes = {}
        for m in models:
            mi = model_input(m, content.tokens, mix)
            sizes[m.id] = mi.high if high and mi.high is not None else mi.tokens
        return [PricedRequest(None, sizes, output_tokens)]
    out = []
    for r in content.requests:
        output = r.max_output if r.max_output is not None and not own_output else output_tokens
        out.append(PricedRequest(r.label, r.input_high if high else r.input_tokens, output, content.batch, r.approximate))
    return out


def count_files(
    sources: Sequence[Source],
    models: Sequence[ModelPrice],
    errors: EncodingErrors,
    warnings: list[str],
    *,
    refused: list[str] | None = None,
) -> dict[str, FileContent]:
    """Each source measured, by label: plain text as one prompt, a request or batch file as
    its requests. A request file that cannot be read is an InputError whose hint is the
    budget's `exclude`, or, given `refused`, left out with the reason there (init)."""
    encodings = tuple(sorted({m.tokenizer.encoding for m in models}))
    opened = open_inputs(sources, ReadOptions(errors=errors))
    texts = [item for item in opened if item.is_text]
    found: dict[str, FileContent] = {}
    classify = any(not m.tokenizer.exact for m in models)  # approximate counts go by content class
    for index, counted in measure.count(texts, lambda _: encodings, classify=classify):
        assert isinstance(counted, CountedText)
        label = texts[index].source.label
        found[label] = TextFile(label, counted.chars, counted.bytes, counted.sums, counted.mix)
    for item in opened:
        if item.is_text:
            continue
        label = item.source.label
        try:
            found[label] = _request_file(item, models, encodings, warnings)
        except InputError as exc:
            if refused is not None:
                refused.append(f"{label}: not a chat request or batch file ({exc.message.removeprefix(label + ': ')})")
            elif "invalid UTF-8" in exc.message:
                raise  # its hint, --encoding-errors, is one check has
            else:
                raise InputError(exc.message, hint="fix the file, or leave it out of the budget with `exclude`") from None
    return found


def _request_file(item: Input, models: Sequence[ModelPrice], encodings: tuple[str, ...], warnings: list[str]) -> RequestFile:
    """Each request of a request or batch file counted on each model, as estimate counts it.

    Parts that cannot be counted offline (images of unknown size, unknown part types) are
    named in `warnings`, never counted as zero silently."""
    label = item.source.label
    out: list[RequestInput] = []
    seen: dict[str, int] = {}
    missing: list[str] = []
    missing_total = 0
    for _, counted in measure.count([item], lambda _: encodings):
        assert not isinstance(counted, CountedText)
        request = counted.plan.request
        name = None if item.single else _request_label(request.custom_id, request.line, seen)
        gaps = counted.not_counted()
        missing_total += len(gaps)
        missing += [f"{name}: {gap}" if name else gap for gap in gaps[: max(0, 3 - len(missing))]]
        sizes: dict[str, int] = {}
        highs: dict[str, int] = {}
        approx = set()
        for m in models:
            mi = counted.model_input(m)
            sizes[m.id] = mi.tokens
            highs[m.id] = mi.high if mi.high is not None else mi.tokens
            if mi.approximate or mi.uncounted or gaps:  # a part left out: the count is a floor
                approx.add(m.id)
        out.append(RequestInput(name, sizes, frozenset(approx), request.conversation.max_output_tokens, highs))
    if not out:
        raise InputError(f"{label}: no requests to check")
    if missing_total:
        more = f" (and {missing_total - len(missing)} more)" if missing_total > len(missing) else ""
        warnings.append(f"{label}: {missing_total} part(s) not counted: {'; '.join(missing)}{more}")
    return RequestFile(label, out, item.batch)


def _request_label(custom_id: str | None, line: int | None, seen: dict[str, int]) -> str:
    """custom_id, else `line N`; a label used twice gets its line, so rows never merge."""
    label = custom_id if custom_id is not None else f"line {line}"
    seen[label] = seen.get(label, 0) + 1
    return f"{label} (line {line})" if seen[label] > 1 else label


def _text_sources(root: Path, files: Sequence[str], skipped: list[str], why: str) -> list[Source]:
    """The files as sources, labelled by their path; one that is not UTF-8 text goes to `skipped`."""
    sources = []
    for name in files:
        path = root / name
        try:
            with path.open("rb") as fh:
                head = fh.read(SNIFF_SIZE)
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror}") from None
        if looks_binary(head):
            skipped.append(f"{name}: not UTF-8 text, {why}")
            continue
        sources.append(Source(name, path, size))
    return sources


def count_working(
    root: Path, files: Sequence[str], models: Sequence[ModelPrice], errors: EncodingErrors, skipped: list[str], warnings: list[str]
) -> dict[str, FileContent]:
    """The files of the working tree (relative to `root`) a budget covers, measured; a file
    that is not UTF-8 text goes to `skipped`, parts that cannot be counted to `warnings`."""
    return count_files(_text_sources(root, files, skipped, "not checked"), models, errors, warnings)


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
    through git's plumbing and measured as the working tree's are; messages name them REF:path."""
    data = gitrepo.read_blobs(repo, blobs.values())
    with tempfile.TemporaryDirectory(prefix="tokopt-base-") as tmp:
        # The readers stream files: the revision's bytes go through a private temporary
        # directory, never the working tree
        sources = []
        for index, (name, oid) in enumerate(blobs.items()):
            raw = data[oid]
            if looks_binary(raw[:SNIFF_SIZE]):
                skipped.append(f"{ref}:{name}: not UTF-8 text, not checked")
                continue
            path = Path(tmp) / f"{index}{Path(name).suffix}"
            path.write_bytes(raw)
            sources.append(Source(f"{ref}:{name}", path, len(raw)))
        counted = count_files(sources, models, errors, warnings)
    prefix = f"{ref}:"
    return {label.removeprefix(prefix): _relabel(content, label.removeprefix(prefix)) for label, content in counted.items()}


def _relabel(content: FileContent, name: str) -> FileContent:
    if isinstance(content, TextCount):
        return TextFile(name, content.chars, content.bytes, content.tokens, content.mix if isinstance(content, TextFile) else None)
    return RequestFile(name, content.requests, content.batch)


def count_prompts(root: Path, files: Sequence[str], models: Sequence[ModelPrice], skipped: list[str]) -> dict[str, FileContent]:
    """For `tokopt init`: each file as `tokopt check` reads it, plain text or the requests of a
    request or batch file. A file that looks like JSON but is not a request is left out (and
    said why), and so is one that check would skip as not UTF-8 text."""
    sources = _text_sources(root, files, skipped, "left out")
    refused: list[str] = []
    found = count_files(sources, models, "strict", [], refused=refused)
    skipped += refused
    return found
