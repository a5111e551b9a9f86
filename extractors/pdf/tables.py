"""Tables found by pymupdf, written as Markdown.

pymupdf's table finder costs tens of milliseconds a page even on pages without a table, so
it only runs on pages with enough ruling lines to draw one, both horizontal and vertical,
only over the area the lines cover, and not at all when the rules form one full grid
(`grid`, much faster). Tables drawn without lines are read as plain text blocks.
"""

from __future__ import annotations

import logging
from typing import Any

import pymupdf

from corpusmill.extractors.pdf.grid import full_grid, grid_cells, segments
from corpusmill.extractors.pdf.layout import Block

log = logging.getLogger(__name__)

MIN_RULES = 6  # path items (lines, rectangles) a page needs before we look for tables
MIN_CELLS = 4  # short text blocks (table cells) that make a page worth checking for tables
MIN_CELL_LINES = 6  # or: short lines, when they are also...
CELL_LINE_SHARE = 0.25  # ...this share of the page's lines (rows merged into one block)
CELL_WORDS = 4


def may_hold_table(raw_blocks: list[tuple]) -> bool:
    """Cheap pre-check on pymupdf's text blocks: table cells come out as short blocks, or
    as many short lines. Listing a page's vector paths costs about as much as reading its
    text, so pages of running prose skip it (a small table amid dense prose is read as text).
    """
    short_blocks = short_lines = lines = 0
    for block in raw_blocks:
        block_lines = block[4].splitlines()
        short_blocks += len(block[4].split()) <= CELL_WORDS
        lines += len(block_lines)
        short_lines += sum(1 for line in block_lines if len(line.split()) <= CELL_WORDS)
    if short_blocks >= MIN_CELLS:
        return True
    return short_lines >= MIN_CELL_LINES and short_lines >= CELL_LINE_SHARE * lines


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


def find_tables(page: Any, paths: list[dict[str, Any]]) -> list[Block]:
    """Tables on `page` (whose vector paths are `paths`) as Markdown blocks with their boxes."""
    if sum(len(p["items"]) for p in paths) < MIN_RULES:
        return []
    horizontal, vertical = segments(paths)
    if len(horizontal) < 2 or len(vertical) < 2:
        return []  # no vertical rules: pymupdf's "lines" strategy would find nothing either
    grid = full_grid(horizontal, vertical)
    if grid is not None:
        ys, xs = grid
        markdown = to_markdown(grid_cells(page, ys, xs))
        return [Block(xs[0], ys[0], xs[-1], ys[-1], markdown, "table")] if markdown else []
    return _pymupdf_tables(page, paths)


def _pymupdf_tables(page: Any, paths: list[dict[str, Any]]) -> list[Block]:
    x0, y0, x1, y1 = zip(*(p["rect"] for p in paths), strict=True)
    # Only over the area the rules cover, with a margin: less than half the whole-page cost.
    clip = pymupdf.Rect(min(x0) - 2, min(y0) - 2, max(x1) + 2, max(y1) + 2)
    try:
        found = page.find_tables(clip=clip, strategy="lines")
    except Exception as exc:  # a table-finder bug must cost the table, not the page
        log.debug("table finder failed on page %s: %s", page.number, exc)
        return []
    blocks = []
    for table in found.tables:
        markdown = to_markdown(table.extract())
        if markdown and table.row_count >= 2:
            bx0, by0, bx1, by1 = table.bbox
            blocks.append(Block(bx0, by0, bx1, by1, markdown, "table"))
    return blocks
