"""Write calibrated tokenizers into a pricing file (the user's, or the project's).

A pricing file is the user's own: what is there stays. The tables of models it does not name
yet are appended as text, so its comments and layout are kept; a model it already names gets
its `tokenizer` replaced, and then the file is rewritten (comments are lost, so the previous
version is kept next to it as FILE.bak). Either way the file is replaced atomically, and the
result must read back as a valid pricing file before it is.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import tomli_w

from tokopt.errors import InputError, PricingError
from tokopt.pricing.model import Tokenizer
from tokopt.tomlio import read_toml


def tokenizer_table(t: Tokenizer) -> dict[str, Any]:
    """A tokenizer as a pricing file states it."""
    out: dict[str, Any] = {"encoding": t.encoding, "factor": t.factor, "low": t.lo, "high": t.hi, "source": t.source}
    if t.as_of is not None:
        out["as_of"] = t.as_of
    if t.classes:
        out["classes"] = {
            name: {k: v for k, v in {"factor": cf.factor, "low": cf.lo, "high": cf.hi, "source": cf.source, "as_of": cf.as_of}.items() if v is not None}
            for name, cf in t.classes
        }
    return out


def _plain(value: Any) -> Any:
    """Decimals as floats for tomli_w (the shortest float that reads back as the same decimal)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def write(path: Path, tokenizers: Sequence[tuple[str, Tokenizer]]) -> list[str]:
    """Put each (model id, tokenizer) into the pricing file at `path`; notes on what was done."""
    notes: list[str] = []
    data: dict[str, Any] = read_toml(path, what="pricing file", error=PricingError) if path.exists() else {}
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise PricingError(f"{path}: 'models' must be a table")
    tables = {model_id: {"tokenizer": tokenizer_table(t)} for model_id, t in tokenizers}
    named = [m for m in tables if m in models]
    if not named:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        stamp = dt.date.today().isoformat()
        text = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old else "")
        text += f"# written by tokopt calibrate, {stamp}\n" + tomli_w.dumps(_plain({"models": tables}))
    else:
        for model_id, table in tables.items():
            entry = models.setdefault(model_id, {})
            if not isinstance(entry, dict):
                raise PricingError(f"{path}: models.{model_id} must be a table")
            entry["tokenizer"] = table["tokenizer"]
        data["models"] = models
        text = tomli_w.dumps(_plain(data))
        backup = path.with_name(path.name + ".bak")
        _replace(backup, path.read_bytes())
        notes.append(f"{path} already named {', '.join(named)}: rewritten (comments dropped); the previous version is {backup}")
    _replace(path, text.encode("utf-8"), check=True)
    return notes


def _replace(path: Path, raw: bytes, *, check: bool = False) -> None:
    """Write `raw` to a temporary file next to `path`, check it reads back, then rename it over."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        if check:
            read_toml(Path(tmp), what="pricing file", error=PricingError)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
