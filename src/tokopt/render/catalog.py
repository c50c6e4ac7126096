"""Views of the pricing catalog."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from tokopt import __version__
from tokopt.pricing.model import LongContext, ModelPrice, Rates
from tokopt.render import fmt
from tokopt.render.grid import Column, Grid


def _tier_dict(t: LongContext) -> dict[str, Any]:
    return {
        "above_input_tokens": t.threshold,
        "input_per_mtok_usd": t.input,
        "cached_input_per_mtok_usd": t.cached_input,
        "cache_write_per_mtok_usd": t.cache_write,
        "cache_write_1h_per_mtok_usd": t.cache_write_1h,
        "output_per_mtok_usd": t.output,
    }


def _rates_dict(r: Rates) -> dict[str, Any]:
    return {
        "input_per_mtok_usd": r.input,
        "cached_input_per_mtok_usd": r.cached_input,
        "cache_write_per_mtok_usd": r.cache_write,
        "cache_write_1h_per_mtok_usd": r.cache_write_1h,
        "output_per_mtok_usd": r.output,
        "long_context": [_tier_dict(t) for t in r.tiers],
    }


def row_dict(m: ModelPrice) -> dict[str, Any]:
    lc = m.long_context
    return {
        "provider": m.provider,
        "host": m.host,
        "model": m.id,
        "name": m.name,
        "aliases": list(m.aliases),
        "default": m.default,
        "tier": m.tier.value,
        "tokenizer": m.tokenizer.encoding,
        "tokenizer_exact": m.tokenizer.exact,
        "tokenizer_factor": m.tokenizer.factor,
        "tokenizer_source": m.tokenizer.source,
        "tokenizer_family": m.tokenizer.family,
        "input_per_mtok_usd": m.input,
        "cached_input_per_mtok_usd": m.cached_input,
        "cache_write_per_mtok_usd": m.cache_write,
        "cache_write_1h_per_mtok_usd": m.cache_write_1h,
        "output_per_mtok_usd": m.output,
        "batch_input_per_mtok_usd": m.batch_input,
        "batch_output_per_mtok_usd": m.batch_output,
        "long_context_threshold": lc.threshold if lc else None,
        "long_context_input_per_mtok_usd": lc.input if lc else None,
        "long_context_output_per_mtok_usd": lc.output if lc else None,
        "long_context": [_tier_dict(t) for t in (m.tiers or ((lc,) if lc else ()))],
        "service_tiers": {name: _rates_dict(r) for name, r in sorted(m.service_tiers)},
        "context_window": m.context_window,
        "max_input": m.max_input,
        "max_output": m.max_output,
        "min_cache_tokens": m.min_cache_tokens,
        "deprecated": m.deprecated,
        "as_of": m.as_of,
        "source": m.source,
        "upstream": m.upstream,
    }


def document(models: Sequence[ModelPrice], data: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"tokopt_version": __version__, "unit": "USD per 1M tokens"}
    if data is not None:
        doc["price_data"] = data
    doc["models"] = [row_dict(m) for m in models]
    return doc


def grid(models: Sequence[ModelPrice], notes: Sequence[str] = ()) -> Grid:
    g = Grid(
        columns=[
            Column("Provider", style="dim", drop_priority=6),
            Column("Model", no_wrap=False, min_width=14),
            Column("Input", justify="right"),
            Column("Cached", justify="right", drop_priority=7),
            Column("Write 5m/1h", justify="right", drop_priority=3),
            Column("Output", justify="right", style="bold"),
            Column("Batch in/out", justify="right", drop_priority=2),
            Column("Context", justify="right"),
            Column("Max out", justify="right", drop_priority=5),
            Column("Tokens", justify="center", drop_priority=4),
            Column("As of", style="dim", drop_priority=1),
        ],
    )
    family = False
    for m in models:
        name = m.id + (" •" if m.default else "")
        if m.aliases:
            name += "\n" + ", ".join(m.aliases)
        if m.cache_write is None and m.cache_write_1h is None:
            write = "—"
        else:
            write = f"{fmt.per_million(m.cache_write)}/{fmt.per_million(m.cache_write_1h)}" if m.cache_write_1h else fmt.per_million(m.cache_write)
        batch = f"{fmt.per_million(m.batch_input)}/{fmt.per_million(m.batch_output)}" if m.has_batch else "—"
        context = fmt.tokens_compact(m.context_window) if m.context_window else "—"
        if m.max_input:
            context += f" ({fmt.tokens_compact(m.max_input)} in)"
        output = fmt.per_million(m.output)
        if m.long_context:
            output += "*"
        tokens = "exact" if m.tokenizer.exact else f"≈ ×{m.tokenizer.factor}"
        if m.tokenizer.family and not m.tokenizer.exact:
            tokens += " ᶠ"
            family = True
        g.add(
            m.provider,
            name,
            fmt.per_million(m.input),
            fmt.per_million(m.cached_input),
            write,
            output,
            batch,
            context,
            fmt.tokens_compact(m.max_output) if m.max_output else "—",
            tokens,
        )
        g.rows[-1].append(m.as_of.isoformat())
    g.notes = [
        "USD per 1M tokens · • in the default set · * higher prices above a long-context threshold (--format json)",
        "≈ ×F: no public tokenizer; counted as o200k_base × F (source in --format json)"
        + (" · ᶠ the family's factor, not measured on this model" if family else ""),
        *notes,
    ]
    return g


def data_notes(label: str, as_of: dt.date | None, age_days: int | None, stale: bool) -> list[str]:
    """"prices as of DATE" and, past the staleness limit, how to refresh them."""
    when = as_of.isoformat() if as_of else "an unknown date"
    notes = [f"prices as of {when} ({label})"]
    if stale:
        notes.append(f"these prices are {age_days} days old: `tokopt prices update` fetches newer ones")
    return notes
