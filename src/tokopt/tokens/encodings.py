"""The OpenAI encodings tokopt ships, verified, and tiktoken encoders built from them offline.

The BPE rank files ship inside the package (`tokopt/data/*.tiktoken.gz`, the same bytes
tiktoken downloads); before they are parsed their SHA-256 is checked against the hash tiktoken
itself pins. Counting small texts reads a rank table derived from them (`ranktable`), which is
cheaper to load than these files.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken


@dataclass(frozen=True)
class EncodingSpec:
    name: str
    sha256: str  # of the uncompressed rank file, as pinned in tiktoken_ext/openai_public.py
    n_ranks: int
    pat_str: str
    special_tokens: dict[str, int] = field(default_factory=dict)
    # blake2b-256 of the rank table derived from the rank file (ranktable.build); a test
    # rebuilds the table from the bundled file and checks it against this value.
    table_blake2b: str = ""

    @property
    def filename(self) -> str:
        return f"{self.name}.tiktoken.gz"


# pat_str and special tokens are tiktoken's own (tiktoken_ext/openai_public.py);
# tests/tokens/test_encodings.py checks them against the installed tiktoken.
SPECS: dict[str, EncodingSpec] = {
    "cl100k_base": EncodingSpec(
        name="cl100k_base",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        n_ranks=100256,
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
        table_blake2b="45ab56c36e90b177d5ba9136889874afed30becd5fd2ff65602114159fbccf5f",
    ),
    "o200k_base": EncodingSpec(
        name="o200k_base",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        n_ranks=199998,
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        table_blake2b="11a2b3b12ff84402e2b68c3e67aeda41f18351f90ae445465892eb914485a134",
    ),
}

ENCODINGS: tuple[str, ...] = tuple(SPECS)


class TokenizerDataError(RuntimeError):
    """The bundled rank file is missing or does not match its pinned hash (a broken install)."""


def bundled_bytes(spec: EncodingSpec) -> bytes:
    """The uncompressed rank file shipped for `spec`, checked against tiktoken's pinned hash."""
    # imported here: only a first run (or tiktoken's own cache being filled) reads the file
    import gzip
    import hashlib
    from importlib import resources

    try:
        packed = resources.files("tokopt").joinpath("data", spec.filename).read_bytes()
    except FileNotFoundError:
        raise TokenizerDataError(f"tokenizer data missing from the installation: {spec.filename}") from None
    raw = gzip.decompress(packed)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        raise TokenizerDataError(f"{spec.filename}: sha256 {digest} does not match tiktoken's pinned {spec.sha256}")
    return raw


def parse_rank_file(raw: bytes, spec: EncodingSpec) -> list[bytes]:
    """The tokens of a rank file in rank order; ranks must run 0, 1, 2, ... as in every
    encoding tokopt ships (the rank table relies on it)."""
    import base64

    tokens: list[bytes] = []
    for number, line in enumerate(raw.splitlines()):
        if not line:
            continue
        token, rank = line.split()
        if int(rank) != len(tokens):
            raise TokenizerDataError(f"{spec.filename}: line {number + 1} has rank {int(rank)}, expected {len(tokens)}")
        tokens.append(base64.b64decode(token))
    if len(tokens) != spec.n_ranks:
        raise TokenizerDataError(f"{spec.filename}: {len(tokens)} ranks, expected {spec.n_ranks}")
    return tokens


def load_ranks(name: str) -> dict[bytes, int]:
    """The verified BPE ranks of an encoding as tiktoken takes them (token bytes -> rank)."""
    from tokopt.tokens import ranktable

    # the table itself is not kept: a large count, which builds encoders, never needs it again
    tokens = ranktable.tokens_in_order(name)
    return dict(zip(tokens, range(len(tokens))))


_lock = threading.Lock()
_encodings: dict[str, tiktoken.Encoding] = {}


def new_encoding(name: str, ranks: dict[bytes, int] | None = None) -> tiktoken.Encoding:
    """A new tiktoken Encoding built from the bundled data (its own Rust core); no network.
    `ranks`, if given, is `load_ranks(name)` already made (several encoders can share it)."""
    import tiktoken

    spec = SPECS[name]
    return tiktoken.Encoding(
        name=spec.name,
        pat_str=spec.pat_str,
        mergeable_ranks=load_ranks(name) if ranks is None else ranks,
        special_tokens=dict(spec.special_tokens),
    )


def _core_class() -> Any:
    """tiktoken's Rust CoreBPE, loaded without the `tiktoken` package when it is not imported
    yet: the package's own imports (concurrent.futures, logging, its registry) cost about 0.01 s
    that counting does not need. The extension module is registered under its own name, so a
    later `import tiktoken` uses it. Anything unexpected: the package, as usual."""
    import sys

    loaded = sys.modules.get("tiktoken._tiktoken")
    if loaded is None and "tiktoken" not in sys.modules:
        try:
            import importlib.machinery
            import importlib.util

            spec = importlib.util.find_spec("tiktoken")
            for folder in (spec.submodule_search_locations or []) if spec is not None else []:
                for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                    path = Path(folder) / f"_tiktoken{suffix}"
                    if path.is_file():
                        loader = importlib.machinery.ExtensionFileLoader("tiktoken._tiktoken", str(path))
                        module_spec = importlib.util.spec_from_file_location("tiktoken._tiktoken", path, loader=loader)
                        if module_spec is None:
                            continue
                        module = importlib.util.module_from_spec(module_spec)
                        loader.exec_module(module)
                        loaded = sys.modules.setdefault("tiktoken._tiktoken", module)
                        break
                if loaded is not None:
                    break
        except (ImportError, OSError):
            loaded = None
    core = getattr(loaded, "CoreBPE", None)
    if core is None:
        from tiktoken import _tiktoken

        core = _tiktoken.CoreBPE
    return core


def new_core(name: str, ranks: dict[bytes, int] | None = None) -> Any:
    """A new tiktoken Rust core (CoreBPE) for `name`, as `new_encoding(name)._core_bpe` is,
    without the Python Encoding around it; for counting (`counting.native_counter`)."""
    spec = SPECS[name]
    return _core_class()(load_ranks(name) if ranks is None else ranks, dict(spec.special_tokens), spec.pat_str)


def get_encoding(name: str) -> tiktoken.Encoding:
    """The process's shared tiktoken Encoding of `name` (built once); never touches the network.

    For showing tokens (`encode`, `pieces`). Counting goes through `counting`, which gives
    each counting thread an encoder of its own.
    """
    with _lock:
        enc = _encodings.get(name)
        if enc is None:
            enc = _encodings[name] = new_encoding(name)
        return enc


def export_tiktoken_cache(directory: Path) -> Path:
    """Fill a tiktoken download cache (TIKTOKEN_CACHE_DIR) from the bundled, verified data,
    so that tiktoken itself works offline: `tiktoken.get_encoding(name)` then reads it."""
    import hashlib

    directory.mkdir(parents=True, exist_ok=True)
    for spec in SPECS.values():
        # tiktoken names a cached file by the sha1 of the URL it would download
        url = f"https://openaipublic.blob.core.windows.net/encodings/{spec.name}.tiktoken"
        target = directory / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists():
            target.write_bytes(bundled_bytes(spec))
    return directory
