"""Requests paired with the input tokens their provider reported, from the files users have.

- A batch input file and its results file, matched by `custom_id`: OpenAI Batch output lines
  (`{"custom_id", "response": {"status_code", "body": {"usage": ...}}, "error"}`) or Anthropic
  Message Batches results (`{"custom_id", "result": {"type": "succeeded", "message": {"usage": ...}}}`).
- A JSONL file of pairs, one `{"request": {...}, "response": {...}}` per line.
- A request (JSON) and its Anthropic count_tokens result (`{"input_tokens": N}`), or its response.

A response's input tokens: `usage.prompt_tokens` (Chat Completions), `usage.input_tokens`
(Responses API; Messages API plus `cache_creation_input_tokens` and `cache_read_input_tokens`,
which Anthropic reports apart), or `input_tokens` (count_tokens). Requests that failed or whose
result is missing are skipped and counted; a malformed line is an error naming it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokopt.errors import InputError
from tokopt.requests.model import Request
from tokopt.requests.parse import batch_line, json_kind, parse_document


@dataclass(frozen=True)
class Observed:
    """One request and the input tokens its provider reported for it."""

    request: Request
    input_tokens: int
    model: str | None  # the request's model, else the one the response names
    where: str  # the result's file and line


@dataclass
class Pairs:
    """What the sources give: the observed requests, and those left out with why."""

    observed: list[Observed] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    kind: str = ""  # which source format: for the report


def read(path: Path, results: Path | None, *, max_size: int | None = None) -> Pairs:
    """The pairs in `path` (a pairs JSONL, a batch input, or one request) and `results`; each
    file read up to `max_size` bytes (default 1 GiB: a pipe or device named as a file never ends)."""
    label = str(path)
    lines = list(_json_lines(path, max_size))
    if not lines:
        raise InputError(f"{label}: no requests")
    first = lines[0][1]
    single = len(lines) == 1 and not _is_jsonl(path)
    if isinstance(first, dict) and "request" in first and "response" in first:
        if results is not None:
            raise InputError(f"{label}: a file of request/response pairs takes no results file")
        return _pairs(label, lines)
    if results is None:
        raise InputError(
            f"{label}: no provider usage to calibrate on",
            hint="give the results file too (a batch's output, or a count_tokens result), or a JSONL of {\"request\", \"response\"} pairs",
        )
    if single and not (isinstance(first, dict) and "custom_id" in first):
        return _one(label, first, results, max_size)
    return _batch(label, lines, results, max_size)


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in (".jsonl", ".ndjson")


def _json_lines(path: Path, max_size: int | None = None) -> Iterator[tuple[int, Any]]:
    """(line number, value) of a JSONL file, or (1, value) of a JSON document."""
    from tokopt.inputs.formats import DEFAULT_MAX_INPUT, read_limited

    label = str(path)
    try:
        text = read_limited(path, label, max_size or DEFAULT_MAX_INPUT).decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"file not found: {label}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{label}: invalid UTF-8 at byte {exc.start}") from None
    except OSError as exc:
        raise InputError(f"cannot read {label}: {exc.strerror}") from None
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith("{") and not _is_jsonl(path):
        try:
            yield 1, json.loads(stripped)
            return
        except json.JSONDecodeError:
            pass  # several objects, one a line
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{label}:{number}:{exc.colno}: malformed JSON: {exc.msg.lower()}") from None


def input_tokens(response: Any, where: str) -> tuple[int, str | None] | None:
    """(input tokens, model) a response or count_tokens result reports; None when it reports none."""
    if not isinstance(response, dict):
        raise InputError(f"{where}: expected a response object, found {json_kind(response)}")
    model = response.get("model") if isinstance(response.get("model"), str) else None
    usage = response.get("usage")
    if usage is None and "input_tokens" in response:  # count_tokens
        usage = {"input_tokens": response["input_tokens"]}
    if not isinstance(usage, dict):
        return None
    if "prompt_tokens" in usage:
        keys = ("prompt_tokens",)
    else:
        keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    total = 0
    for key in keys:
        value = usage.get(key, 0)
        if value is None:
            value = 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"{where}: usage.{key}: expected a whole number of tokens, found {json_kind(value)}")
        total += value
    if "input_tokens" not in usage and "prompt_tokens" not in usage:
        return None
    return total, model


def _pairs(label: str, lines: list[tuple[int, Any]]) -> Pairs:
    out = Pairs(kind="request/response pairs")
    for number, obj in lines:
        where = f"{label}:{number}"
        if not isinstance(obj, dict) or "request" not in obj or "response" not in obj:
            raise InputError(f"{where}: expected an object with 'request' and 'response'")
        request = parse_document(obj["request"], where)
        found = input_tokens(obj["response"], f"{where}: response")
        if found is None:
            out.skipped.append(f"{where}: the response reports no input tokens")
            continue
        out.observed.append(Observed(request, found[0], request.model or found[1], where))
    return out


def _one(label: str, data: Any, results: Path, max_size: int | None = None) -> Pairs:
    request = parse_document(data, label)
    (number, result), *more = list(_json_lines(results, max_size)) or [(0, None)]
    where = f"{results}" if not more else f"{results}:{number}"
    if result is None:
        raise InputError(f"{results}: no result")
    found = input_tokens(result, where)
    if found is None:
        raise InputError(f"{where}: reports no input tokens (expected a count_tokens result or a response with usage)")
    kind = "a request and its count_tokens result" if "usage" not in result else "a request and its response"
    return Pairs([Observed(request, found[0], request.model or found[1], where)], kind=kind)


def _batch(label: str, lines: list[tuple[int, Any]], results: Path, max_size: int | None = None) -> Pairs:
    requests: dict[str, Request] = {}
    for number, obj in lines:
        if not isinstance(obj, dict) or "custom_id" not in obj:
            raise InputError(f"{label}:{number}: expected a batch line with a custom_id")
        request = batch_line(obj, label, number)
        assert request.custom_id is not None
        if request.custom_id in requests:
            raise InputError(f"{label}:{number}: custom_id {request.custom_id!r} is used twice")
        requests[request.custom_id] = request
    out = Pairs()
    seen: set[str] = set()
    failed = 0
    for number, obj in _json_lines(results, max_size):
        where = f"{results}:{number}"
        if not isinstance(obj, dict) or not isinstance(obj.get("custom_id"), str):
            raise InputError(f"{where}: expected a batch result with a custom_id")
        custom_id = obj["custom_id"]
        request = requests.get(custom_id)
        if request is None:
            out.skipped.append(f"{where}: custom_id {custom_id!r} is not in {label}")
            continue
        seen.add(custom_id)
        response = _batch_response(obj, where)
        if response is None:
            failed += 1
            continue
        found = input_tokens(response, f"{where}: response")
        if found is None:
            out.skipped.append(f"{where}: the response reports no input tokens")
            continue
        out.observed.append(Observed(request, found[0], request.model or found[1], where))
    out.kind = "an Anthropic Message Batches input and results" if _anthropic(results) else "an OpenAI Batch input and output"
    if failed:
        out.skipped.append(f"{results}: {failed} request(s) failed, expired or were canceled")
    missing = len(requests) - len(seen)
    if missing:
        out.skipped.append(f"{label}: {missing} request(s) have no result in {results}")
    return out


def _anthropic(results: Path) -> bool:
    for _, obj in _json_lines(results):
        return isinstance(obj, dict) and "result" in obj
    return False


def _batch_response(obj: dict[str, Any], where: str) -> Any:
    """The response body of a batch result line; None when the request did not succeed."""
    if "result" in obj:  # Anthropic Message Batches
        result = obj["result"]
        if not isinstance(result, dict):
            raise InputError(f"{where}: result: expected an object, found {json_kind(result)}")
        return result.get("message") if result.get("type") == "succeeded" else None
    if obj.get("error"):  # OpenAI Batch
        return None
    response = obj.get("response")
    if not isinstance(response, dict):
        raise InputError(f"{where}: expected a 'response' object, found {json_kind(response)}")
    status = response.get("status_code")
    if status != 200:
        return None
    return response.get("body")
