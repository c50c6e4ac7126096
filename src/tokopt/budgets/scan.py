"""The models a project's own code calls: model ids written next to a `model` key or argument in
Python, TypeScript and JavaScript, JSON, YAML and TOML, resolved through the catalog.

`tokopt init` proposes budgets on these models rather than on a default set. A string counts
when it is the value of a name that says "model" (`model="gpt-5.5"`, `"model": "gpt-5.5"`,
`model: gpt-5.5`, `DEFAULT_MODEL = 'claude-sonnet-5'`, `modelName: "..."`) and the catalog knows
it, by id, alias, or with a provider prefix (`openai/gpt-5.5`); so prose that mentions a model,
or a model string the catalog does not price, is not a model the code calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tokopt.pricing import Catalog

CODE_SUFFIXES = {".py", ".pyi", ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json", ".yaml", ".yml", ".toml", ".env"}
MAX_BYTES = 1_000_000  # larger files are data or lock files, not code that picks a model
SKIP_NAMES = {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "tokopt.toml"}

# A name that says "model" (model, model_name, modelId, DEFAULT_MODEL, "model"), then = or :,
# then a quoted string, on one line.
_QUOTED = re.compile(r"""(?i)["']?\b\w*model(?:_?(?:name|id))?\b["']?\s*[:=]\s*(?P<q>["'])(?P<id>[\w.:/@-]{2,100})(?P=q)""")
# YAML and .env without quotes: `model: gpt-5.5`
_BARE = re.compile(r"""(?im)^\s*-?\s*\w*model(?:_?(?:name|id))?\s*[:=]\s*(?P<id>[A-Za-z][\w.:/@-]{1,100})\s*(?:#.*)?$""")


@dataclass
class Found:
    """A model the code calls: its catalog id and where (file:line), in the order found."""

    model: str
    places: list[str] = field(default_factory=list)


def is_code(name: str) -> bool:
    path = PurePosixPath(name)
    return path.name not in SKIP_NAMES and (path.suffix.lower() in CODE_SUFFIXES or path.name.startswith(".env"))


def models_in_code(root: Path, files: Iterable[str], catalog: Catalog) -> list[Found]:
    """The catalog models that the code among `files` (relative to `root`) names, most places first."""
    found: dict[str, Found] = {}
    for name in files:
        if not is_code(name):
            continue
        path = root / name
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # not readable text: not code that picks a model
        for line_no, value in _ids(text):
            model = catalog.find(value)
            if model is None:
                continue
            found.setdefault(model.id, Found(model.id)).places.append(f"{name}:{line_no}")
    return sorted(found.values(), key=lambda f: -len(f.places))


def _ids(text: str) -> Iterable[tuple[int, str]]:
    if "odel" not in text and "ODEL" not in text:  # cheap: most files name no model
        return
    for number, line in enumerate(text.splitlines(), 1):
        if "odel" not in line and "ODEL" not in line:
            continue
        for m in _QUOTED.finditer(line):
            yield number, m["id"]
        for m in _BARE.finditer(line):
            yield number, m["id"]
