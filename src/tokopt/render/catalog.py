"""Views of the pricing catalog."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from tokopt import __version__
from tokopt.pricing.model import RATE_FIELDS, LongContext, ModelPrice, Rates
from tokopt.render import fmt
from tokopt.render.escape import Lines
from tokopt.render.grid import Column, Grid
from tokopt.pricing import certainty


def _tier_dict(t: LongContext) -> dict[str, Any]:
    return {"above_input_tokens": t.threshold, **_prices(t)}


def _prices(x: LongContext | Rates | ModelPrice) -> dict[str, Any]:
    """Each price per 1M tokens, by token kind."""
    return {f"{name}_per_mtok_usd": getattr(x, name) for name in RATE_FIELDS}


def _rates_dict(r: Rates) -> dict[str, Any]:
    return {**_prices(r), "long_context": [_tier_dict(t) for t in r.tiers]}


def _counting(m: ModelPrice) -> dict[str, Any]:
    """How sure the model's counts are: exact, rule-based or approximate, and the source."""
    c = certainty.of(m)
    out: dict[str, Any] = {"counting": c.kind}
    if c.overall is None:
        out["counting_source"] = f"{c.source}; chat: {c.chat_rule}; tools: {c.tool_rule}"
        out.update(tokenizer_low=None, tokenizer_high=None, tokenizer_band_pct=None, tokenizer_classes={})
    else:
        out["counting_source"] = c.source
        out.update(
            tokenizer_low=c.overall.low,
            tokenizer_high=c.overall.high,
            tokenizer_band_pct=c.overall.pct,
            tokenizer_classes={name: band.as_dict() for name, band in c.classes},
        )
    return out


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
        **_counting(m),
        **_prices(m),
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


def csv_row(m: ModelPrice) -> dict[str, Any]:
    """`row_dict` with the factors per content class in one cell: `prose 1.51 (1.30-1.71); ...`."""
    row = row_dict(m)
    row["tokenizer_classes"] = "; ".join(
        f"{name} {c['factor']} ({c['low']}-{c['high']})" for name, c in row["tokenizer_classes"].items()
    )
    return row


def tokens_cell(m: ModelPrice) -> str:
    """`exact`, `rule-based`, or `≈ ×1.22–1.55 ±5–14%`: the factors over the content classes and
    their bands (`ᶠ`: the family's, not measured on this model)."""
    c = certainty.of(m)
    factors, pcts = c.factor_range(), c.pct_range()
    if factors is None or pcts is None:
        return c.kind
    lo, hi = factors
    cell = f"≈ ×{lo}" if lo == hi else f"≈ ×{lo}–{hi}"
    cell += f" ±{pcts[0]}%" if pcts[0] == pcts[1] else f" ±{pcts[0]}–{pcts[1]}%"
    if c.family:
        cell += " ᶠ"
    return cell


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
        name: str = m.id + (" •" if m.default else "")
        if m.aliases:
            name = Lines(name, ", ".join(m.aliases))
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
        tokens = tokens_cell(m)
        family = family or tokens.endswith("ᶠ")
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
        "exact: OpenAI's encoding, chat and tool rules API-verified on the model · rule-based: text exact,"
        " chat and tools by rules verified on other models (tools ≈)",
        "≈ ×A–B ±L–H%: no public tokenizer; o200k_base × a factor per content class (A to B), each ± the"
        " spread of its measurements (every factor and source: tokopt tokenize -m MODEL, or --format json)"
        + (" · ᶠ the family's factors, not measured on this model" if family else ""),
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


def status_document(status: Any, rollback_to: str | None) -> dict[str, Any]:
    return {
        "label": status.label,
        "as_of": status.as_of.isoformat() if status.as_of else None,
        "age_days": status.age_days,
        "stale": status.stale,
        "installed": status.installed,
        "sha256": status.sha256,
        "path": str(status.path),
        "rollback_to": rollback_to,
    }


def status_grid(status: Any, rollback_to: str | None) -> Grid:
    g = Grid(columns=[Column("Price data", style="dim"), Column("", no_wrap=False)])
    g.add("in use", status.label)
    g.add("as of", status.as_of.isoformat() if status.as_of else "unknown")
    g.add("age", f"{status.age_days} days" if status.age_days is not None else "unknown")
    g.add("sha256", status.sha256[:16])
    g.add("rollback to", rollback_to or "—")
    if status.stale:
        from tokopt.pricing import STALE_DAYS

        g.notes.append(f"older than {STALE_DAYS} days: `tokopt prices update` fetches newer prices")
    return g


def _pct(change: Any) -> str:
    pct = change.pct
    return "new price" if pct is None else (f"+{pct}%" if pct > 0 else f"{pct}%")


def diff_rows(candidate: Any) -> list[dict[str, Any]]:
    d = candidate.diff
    rows: list[dict[str, Any]] = [{"change": "added", "model": m, "field": "", "old_per_mtok_usd": "", "new_per_mtok_usd": "", "pct": ""} for m in d.added]
    rows += [{"change": "removed", "model": m, "field": "", "old_per_mtok_usd": "", "new_per_mtok_usd": "", "pct": ""} for m in d.removed]
    rows += [
        {"change": "price", "model": c.model, "field": c.field, "old_per_mtok_usd": c.old, "new_per_mtok_usd": c.new, "pct": c.pct}
        for c in d.changed
    ]
    return rows


def diff_document(candidate: Any) -> dict[str, Any]:
    d = candidate.diff
    f = candidate.fetched
    return {
        "source": f.source,
        "as_of": f.as_of.isoformat(),
        "sha256": candidate.sha256,
        "models_before": d.old_count,
        "models_after": d.new_count,
        "added": d.added,
        "removed": d.removed,
        "changed": [
            {"model": c.model, "field": c.field, "old_per_mtok_usd": c.old, "new_per_mtok_usd": c.new, "pct": c.pct} for c in d.changed
        ],
    }


def diff_grid(candidate: Any, limit: int = 40) -> Grid:
    d = candidate.diff
    g = Grid(
        columns=[
            Column("Change", style="dim"),
            Column("Model", no_wrap=False, min_width=20),
            Column("Per 1M", style="dim"),
            Column("Was", justify="right"),
            Column("Now", justify="right"),
            Column("Δ", justify="right", style="bold"),
        ],
        title=f"{candidate.fetched.source} — data of {candidate.fetched.as_of}: {d.old_count:,} → {d.new_count:,} models",
    )
    for c in d.changed[:limit]:
        g.add("price", c.model, c.field, fmt.per_million(c.old), fmt.per_million(c.new), _pct(c))
    for m in d.added[:limit]:
        g.add("added", m, "", "", "", "")
    for m in d.removed[:limit]:
        g.add("removed", m, "", "", "", "")
    hidden = max(0, len(d.changed) - limit) + max(0, len(d.added) - limit) + max(0, len(d.removed) - limit)
    g.notes.append(f"{len(d.changed):,} prices changed (largest first), {len(d.added):,} models added, {len(d.removed):,} removed")
    if hidden:
        g.notes.append(f"{hidden:,} more not shown (--format json lists them all)")
    if d.empty:
        g.notes.append("no model or price differs from the data in use")
    return g
