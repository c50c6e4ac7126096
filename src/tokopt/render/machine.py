"""Machine formats with the standard library only: JSON, CSV, GitHub-flavoured Markdown.

JSON is one document with stable key order, token counts as ints and money as decimal
strings. CSV has a header row. Markdown is a pipe table, ready for a PR comment.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from tokopt.render.escape import csv_cell


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(data: Any, *, pretty: bool = False, encoding: str = "utf-8") -> str:
    """One JSON document and a newline: compact, by the json module's C encoder (any `indent`
    sends every value through its pure-Python encoder, several times slower on big reports),
    or indented for a person at a terminal (`pretty`). The same data either way. What a
    terminal would act on, and what `encoding` cannot carry, is written as a \\u escape."""
    from tokopt.render.escape import json_text

    if pretty:
        return json_text(json.dumps(data, indent=2, ensure_ascii=False, default=_default), encoding) + "\n"
    return json_text(json.dumps(data, ensure_ascii=False, default=_default, separators=(",", ":")), encoding) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    return csv_cell(str(value))


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of flat dicts as CSV, header first; `columns` fixes the order when rows is empty."""
    header = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in header])
    return out.getvalue()


def to_markdown(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    align_right: Sequence[int] = (),
    title: str | None = None,
    footer: Sequence[str] = (),
) -> str:
    """A GitHub pipe table; `align_right` lists the numeric columns by index. Headers, cells
    and footer lines are plain text, escaped here (`escape.markdown`) unless marked `Markup`;
    `title` is Markdown (a heading its caller escaped). Footer lines become list items, so
    that each note stays its own line when rendered instead of running into one paragraph."""
    from tokopt.render.escape import markdown

    lines = []
    if title:
        lines += [title, ""]
    lines.append("| " + " | ".join(markdown(h) for h in headers) + " |")
    lines.append("|" + "|".join("---:" if i in align_right else "---" for i in range(len(headers))) + "|")
    for row in rows:
        lines.append("| " + " | ".join(markdown(c if isinstance(c, str) else str(c)) for c in row) + " |")
    if footer:
        lines.append("")
        lines.extend(f"- {markdown(line)}" for line in footer)
    return "\n".join(lines) + "\n"
