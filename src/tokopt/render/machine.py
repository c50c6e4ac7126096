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


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(data: Any, *, pretty: bool = False) -> str:
    """One JSON document and a newline: compact, by the json module's C encoder (any `indent`
    sends every value through its pure-Python encoder, several times slower on big reports),
    or indented for a person at a terminal (`pretty`). The same data either way."""
    if pretty:
        return json.dumps(data, indent=2, ensure_ascii=False, default=_default) + "\n"
    return json.dumps(data, ensure_ascii=False, default=_default, separators=(",", ":")) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of flat dicts as CSV, header first; `columns` fixes the order when rows is empty."""
    header = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in header])
    return out.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def to_markdown(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    align_right: Sequence[int] = (),
    title: str | None = None,
    footer: Sequence[str] = (),
) -> str:
    """A GitHub pipe table; `align_right` lists the numeric columns by index. Footer lines
    become list items (lines already starting with `- ` stay as they are), so that each
    note stays its own line when rendered instead of running into one paragraph."""
    lines = []
    if title:
        lines += [title, ""]
    lines.append("| " + " | ".join(_md_escape(h) for h in headers) + " |")
    lines.append("|" + "|".join("---:" if i in align_right else "---" for i in range(len(headers))) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_md_escape(str(c)) for c in row) + " |")
    if footer:
        lines.append("")
        lines.extend(line if line.startswith("- ") else f"- {line}" for line in footer)
    return "\n".join(lines) + "\n"
