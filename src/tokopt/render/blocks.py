"""Views of 5-hour blocks (`session blocks`): a grid, CSV rows, a JSON document, bars."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tokopt import __version__
from tokopt.ledger.blocks import Block, BlocksReport
from tokopt.render import fmt
from tokopt.render.fmt import left_text
from tokopt.render.chart import Bar
from tokopt.render.grid import Cell, Column, Grid
from tokopt.render.report import PARTIAL, cost_cell, models_text, short_count, unpriced_doc, visible
from tokopt.usage import TOKEN_FIELDS

BLOCK_COLUMNS = [
    "start", "end", "active", "first", "last", "records", *TOKEN_FIELDS, "tokens", "cost_usd", "unpriced_records",
    "tokens_per_hour", "cost_per_hour_usd", "projected_tokens", "projected_cost_usd", "over_limit", "models",
]  # fmt: skip


def _local(report: BlocksReport) -> dt.tzinfo:
    return report.tz


def _status(block: Block, now: dt.datetime) -> Cell:
    if block.active:
        return (f"active, {left_text(block.end - now)} left", "green")
    return ""


def _projection(block: Block, compact: bool) -> Cell:
    if not block.active or block.projected_tokens is None:
        return ""
    count = short_count if compact else fmt.count
    cost = fmt.usd(block.projected_cost) if block.projected_cost is not None else "unknown"
    return (f"{count(block.projected_tokens)} / {cost}", "yellow" if block.over_limit else "")


def blocks_grid(report: BlocksReport) -> Grid:
    full = _grid(report, compact=False)
    full.compact = _grid(report, compact=True)
    return full


def _grid(report: BlocksReport, *, compact: bool) -> Grid:
    tz = _local(report)
    count = short_count if compact else fmt.count
    active = any(b.active for b in report.blocks)
    grid = Grid(
        columns=[
            Column("Block start"),
            Column("Status", no_wrap=False, min_width=8, drop_priority=5),
            Column("Models", no_wrap=False, min_width=8, drop_priority=2),
            Column("Records", justify="right", drop_priority=1),
            Column("Tokens", justify="right"),
            Column("Cost", justify="right", style="bold"),
            Column("Per hour", justify="right", drop_priority=3),
            Column("Projected", justify="right", drop_priority=4),
        ],
        title=visible(f"5-hour blocks of {report.user or 'all users'}"),
    )
    for block in report.blocks:
        tokens: Cell = count(block.tokens)
        if block.over_limit:
            tokens = (f"{count(block.tokens)} !", "red bold")
        per_hour = f"{fmt.usd(block.cost_per_hour)}/h" if block.cost_per_hour is not None else "—"
        grid.add(
            block.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            _status(block, report.now),
            models_text(block.models),
            count(block.sums.records),
            tokens,
            cost_cell(block.sums),
            per_hour,
            _projection(block, compact),
        )
    grid.footer = ["Total", "", "", count(report.total.records), count(report.total.input_tokens + report.total.output_tokens), cost_cell(report.total), "", ""]
    if not active:  # no block is open: no status and no projection to show
        for index in (7, 1):
            del grid.columns[index]
            for row in [*grid.rows, grid.footer]:
                del row[index]
    grid.notes = blocks_notes(report)
    if compact:
        grid.notes.append("token counts abbreviated to fit (K thousands, M millions); --format json has them exact")
    return grid


def blocks_notes(report: BlocksReport) -> list[str]:
    notes = []
    if not report.blocks:
        notes.append("no usage recorded" + (" in this period" if report.since or report.until else ""))
    notes.append(
        f"a block starts at the hour of its first record and lasts 5 hours; times in {report.timezone}; "
        "tokens are input (the whole prompt) plus output; per hour: between a block's first and last record"
    )
    if any(b.active for b in report.blocks):
        notes.append("projected: the active block at its end, at its rate so far")
    if report.token_limit is not None:
        source = "the most a finished block used" if report.limit_from == "max" else "given"
        over = sum(1 for b in report.blocks if b.over_limit)
        notes.append(f"token limit {report.token_limit:,} ({source}): ! marks {over:,} block{'s' if over != 1 else ''} over it")
    if report.unpriced:
        n = sum(u.records for u in report.unpriced)
        notes.append(f"unpriced: {n:,} records of models with no known price ({', '.join(visible(u.model) for u in report.unpriced[:5])}); costs marked {PARTIAL} leave them out")
    return notes


def _block_doc(block: Block) -> dict[str, Any]:
    s = block.sums
    return {
        "start": block.start,
        "end": block.end,
        "active": block.active,
        "first": s.first,
        "last": s.last,
        "records": s.records,
        **{name: getattr(s, name) for name in TOKEN_FIELDS},
        "tokens": block.tokens,
        "cost_usd": s.cost_usd,
        "unpriced_records": s.unpriced_records,
        "tokens_per_hour": block.tokens_per_hour,
        "cost_per_hour_usd": block.cost_per_hour,
        "projected_tokens": block.projected_tokens,
        "projected_cost_usd": block.projected_cost,
        "over_limit": block.over_limit,
        "models": [m.model for m in block.models],
    }


def blocks_rows(report: BlocksReport) -> list[dict[str, Any]]:
    return [_block_doc(b) for b in report.blocks]


def blocks_document(report: BlocksReport) -> dict[str, Any]:
    return {
        "tokopt_version": __version__,
        "user": report.user,
        "since": report.since,
        "until": report.until,
        "timezone": report.timezone,
        "now": report.now,
        "token_limit": report.token_limit,
        "token_limit_from": report.limit_from,
        "blocks": blocks_rows(report),
        "total": {"records": report.total.records, "tokens": report.total.input_tokens + report.total.output_tokens, "cost_usd": report.total.cost_usd},
        "unpriced": unpriced_doc(report.unpriced),
    }


def blocks_bars(report: BlocksReport) -> list[Bar]:
    tz = _local(report)
    return [
        Bar(
            label=b.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            cost=b.sums.cost_usd,
            partial=bool(b.sums.unpriced_records and b.sums.cost_usd is not None),
            note="active" if b.active else ("over limit" if b.over_limit else ""),
        )
        for b in report.blocks
    ]
