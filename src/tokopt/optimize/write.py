"""`tokopt suggest --write`: the prompt with every exact, meaning-preserving rewrite applied."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tokopt import tokens
from tokopt.errors import InputError
from tokopt.inputs import Source
from tokopt.optimize.report import WriteResult
from tokopt.optimize.rewrite import apply_written
from tokopt.optimize.rules import rewrites
from tokopt.optimize.workload import Workload
from tokopt.pricing.model import ModelPrice


def rewrite_text(text: str) -> str:
    """`text` with every rewrite --write applies (the formatting and duplicates rules), in order."""
    return apply_written(text, rewrites(text))


def rewrite_diff(work: Workload) -> str:
    """What --write would change in each plain-text prompt of `work`, as a unified diff (lines
    starting with '-' are what a rewrite removes); empty when it would change nothing."""
    import difflib

    out: list[str] = []
    for prompt in work.texts:
        new_text = rewrite_text(prompt.text)
        if new_text == prompt.text:
            continue
        lines = difflib.unified_diff(
            prompt.text.splitlines(keepends=True), new_text.splitlines(keepends=True), fromfile=prompt.label, tofile=f"{prompt.label} (rewritten)"
        )
        out += [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines]
    return "".join(out)


def write_rewritten(work: Workload, sources: Sequence[Source], path: Path, model: ModelPrice) -> WriteResult:
    """Write the one plain-text prompt of `work` to `path` with the exact, meaning-preserving
    rewrites applied. The input itself is never written to."""
    if len(sources) != 1 or len(work.texts) != 1:
        raise InputError("--write takes one plain-text prompt", hint="name one text file (chat requests are not rewritten)")
    source = sources[0]
    target = path.expanduser()
    if source.path is not None and (
        target.resolve() == source.path.resolve() or (target.exists() and target.samefile(source.path))
    ):
        raise InputError(f"--write would overwrite the input itself: {path}", hint="write to another file")
    if target.is_dir():
        raise InputError(f"--write: is a directory: {path}")
    prompt = work.texts[0]
    encoding = model.tokenizer.encoding
    new_text = rewrite_text(prompt.text)
    after = tokens.count_all(new_text, [encoding])[encoding]
    try:
        with target.open("w", encoding="utf-8", newline="") as fh:
            fh.write(new_text)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    return WriteResult(source=prompt.label, path=str(path), encoding=encoding, tokens_before=prompt.raw(encoding), tokens_after=after)
