"""Records as apps send them: one JSON object per call (`session record --stdin`, the Python
API), checked all or nothing; run labels; prompt hashes; who is recording."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from tokopt import paths
from tokopt.errors import InputError
from tokopt.ledger.user import current_user as current_user  # re-exported
from tokopt.usage import TOKEN_KINDS, UsageRecord

if TYPE_CHECKING:
    from tokopt.pricing.model import ModelPrice


class _RecordFields(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str = Field(min_length=1)


# One field per token kind, under its short name ("input", "cached", ...) or its field name.
RecordIn: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "RecordIn",
    __base__=_RecordFields,
    __doc__="One usage record as an app sends it (`session record --stdin`, one JSON object a line).",
    **{k.field: (int, Field(0, ge=0, alias=k.key)) for k in TOKEN_KINDS},
    provider=(str | None, None),
    time=(dt.datetime | None, None),
    run=(str | None, None),
    batch=(bool, False),
    prompt_hash=(str | None, None),
    dedupe_key=(str | None, Field(None, alias="id")),
)


def to_record(item: Mapping[str, Any] | BaseModel) -> tuple[UsageRecord, str | None]:
    """A checked record (no user, cost or run yet) and the run it names, if any."""
    if isinstance(item, BaseModel):
        data = item
    else:
        try:
            data = RecordIn.model_validate(dict(item))
        except ValidationError as exc:
            from tokopt.tomlio import describe_validation

            raise InputError(f"invalid usage record: {describe_validation(exc)}") from None
    fields = data.model_dump()
    run = fields.pop("run")
    model = fields.pop("model").strip()
    if not model:
        raise InputError("the model name is empty")
    time = fields.pop("time")
    if time is not None and time.tzinfo is None:
        time = time.replace(tzinfo=dt.timezone.utc)  # a naive time is UTC
    record = UsageRecord(model=model, time=time, **fields)
    record.check_call()
    return record, run


MAX_RECORD_LINE = 1 << 20  # one usage record is a few hundred bytes; a megabyte is not one
MAX_RECORDS_INPUT = 64 << 20  # all of them are kept in memory until the one write


def _bounded(stream: Any, label: str, max_size: int) -> Iterator[bytes]:
    """The lines of a binary stream, never a line or a total without end (`< /dev/zero`)."""
    total = 0
    while True:
        line = stream.readline(MAX_RECORD_LINE + 1)
        if not line:
            return
        total += len(line)
        if len(line) > MAX_RECORD_LINE and not line.endswith(b"\n"):
            raise InputError(f"{label}: a line of more than {MAX_RECORD_LINE >> 20} MiB is not a usage record; stopped reading")
        if total > max_size:
            from tokopt.inputs.formats import human_size

            raise InputError(
                f"{label}: more than {human_size(max_size)} of usage records at once; stopped reading, nothing recorded (--max-input-size)",
                hint="record them in parts, pass a larger --max-input-size, or import a log file with tokopt session import",
            )
        yield line


def read_records(lines: Iterable[str | bytes], label: str = "stdin", *, max_size: int | None = None) -> list[BaseModel]:
    """JSON lines of usage records; the first bad line is an error naming it (nothing is kept).
    A binary stream (stdin) is read in bounded lines, `max_size` bytes at most (default
    MAX_RECORDS_INPUT): an endless one is an error, not all memory."""
    from tokopt.tomlio import describe_validation

    if hasattr(lines, "readline"):
        lines = _bounded(lines, label, max_size or MAX_RECORDS_INPUT)
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except RecursionError:
            raise InputError(f"{label} line {n}: not JSON (nested too deeply to read)") from None
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "invalid UTF-8"
            raise InputError(f"{label} line {n}: not JSON ({reason.lower()})") from None
        if not isinstance(data, dict):
            raise InputError(f"{label} line {n}: expected a JSON object")
        try:
            record = RecordIn.model_validate(data)
        except ValidationError as exc:
            raise InputError(f"{label} line {n}: {describe_validation(exc)}") from None
        try:
            to_record(record)
        except InputError as exc:
            raise InputError(f"{label} line {n}: {exc.message}", hint=exc.hint) from None
        out.append(record)
    if not out:
        raise InputError(f"no usage records on {label}", hint='one JSON object a line: {"model": "gpt-5.5", "input": 1200, "output": 300}')
    return out


def count_prompt_file(price: ModelPrice, prompt_file: str | os.PathLike[str], *, max_size: int | None = None) -> tuple[int, str]:
    """The input tokens of a prompt file on `price`'s model (exact for OpenAI models, the
    catalog's approximation for others), and the file's hash. A pipe or device named as the
    file (`/dev/stdin`) is read up to `max_size` bytes (default 1 GiB), never without end."""
    from tokopt import costing, inputs
    from tokopt.inputs import formats
    from tokopt.tokens import measure

    expansion = inputs.expand([str(prompt_file)])
    with formats.spooled(expansion.sources, max_size=max_size or formats.DEFAULT_MAX_INPUT) as sources:
        counts = measure.count_sources(sources, [price.tokenizer.encoding])
        digest = hashlib.sha256()
        for source in sources:
            if source.path is not None:
                digest.update(Path(source.path).read_bytes())
    return sum(costing.model_tokens(price, c.tokens) for c in counts), "sha256:" + digest.hexdigest()


def hash_prompt(text: str | bytes) -> str:
    """What the ledger keeps of a prompt: its SHA-256, never the text."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_labels(items: Iterable[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"a label is key=value, got: {item}")
        labels[key.strip()] = value.strip()
    return labels
