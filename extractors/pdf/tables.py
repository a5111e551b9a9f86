"""Tables found by pymupdf, written as Markdown.

pymupdf's table finder costs tens of milliseconds a page even on pages without a table, so
it only runs on pages with enough ruling lines to draw one (`MIN_RULES` path items); tables
drawn without any lines are read as plain text blocks.
"""

from __future__ import annotations

import logging
from typing import Any

from extractors.pdf.layout import Block

log = logging.getLogger(__name__)

MIN_RULES = 6  # path items (lines, rectangles) a page needs before we look for tables


def _cell(value: Any) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text.replace("|", "\\|")


def to_markdown(rows: list[list[Any]]) -> str:
    """A Markdown pipe table; the first row is the header."""
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    cells = [[_cell(c) for c in r] + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def find_tables(page: Any, drawings: int) -> list[Block]:
    """Tables on `page` as Markdown blocks with their bounding boxes."""
    if drawings < MIN_RULES:
        return []
    try:
        found = page.find_tables(strategy="lines")
    except Exception as exc:  # a table-finder bug must cost the table, not the page
        log.debug("table finder failed on page %s: %s", page.number, exc)
        return []
    blocks = []
    for table in found.tables:
        markdown = to_markdown(table.extract())
        if markdown and table.row_count >= 2:
            x0, y0, x1, y1 = table.bbox
            blocks.append(Block(x0, y0, x1, y1, markdown, "table"))
    return blocks
