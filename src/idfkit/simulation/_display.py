"""Tables for people: the one place that turns rows into aligned text or HTML.

`BatchResult`, a study's `Collection`, `SimulationResult` (in Jupyter) and the
command line all show their tables through these functions.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["cell_text", "pairs_to_html", "rows_to_html", "rows_to_text"]


def cell_text(value: Any, *, missing: str = "") -> str:
    """One value as a table shows it: floats to two decimals, None as `missing`.

    Args:
        value: The cell's value.
        missing: The text for None.
    """
    if value is None:
        return missing
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def rows_to_text(rows: Sequence[dict[str, Any]]) -> str:
    """Rows of dicts (all with the same keys) as aligned plain text, numbers right-aligned.

    Args:
        rows: The rows; the first one's keys are the header.
    """
    if not rows:
        return "(no rows)"
    header = list(rows[0])
    cells = [[cell_text(row[k], missing="-") for k in header] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    numeric = [
        all(isinstance(row[k], int | float) or row[k] is None for row in rows) for k in header
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for c in cells:
        lines.append(
            "  ".join(
                v.rjust(w) if num else v.ljust(w)
                for v, w, num in zip(c, widths, numeric, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def rows_to_html(rows: Sequence[dict[str, Any]], *, caption: str) -> str:
    """Rows of dicts (all with the same keys) as an HTML table, for Jupyter.

    Args:
        rows: The rows; the first one's keys are the header.
        caption: The table's caption.
    """
    if not rows:
        return f"<p>{html.escape(caption)} (empty)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell_text(v))}</td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    return f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>{body}</table>"


def pairs_to_html(pairs: Sequence[tuple[str, str]], *, caption: str) -> str:
    """(label, text) pairs as a two-column HTML table; line breaks are kept.

    Args:
        pairs: The rows, label first.
        caption: The table's caption.
    """
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{html.escape(v).replace(chr(10), '<br>')}</td></tr>"
        for k, v in pairs
    )
    return f"<table><caption>{html.escape(caption)}</caption>{body}</table>"
