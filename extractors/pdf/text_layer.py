"""The text route: a page's own text layer as blocks in reading order, tables as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pymupdf

from extractors.pdf.layout import Block, reading_order
from extractors.pdf.tables import find_tables
from extractors.pdf.textclean import join_lines

# Clip to the page, expand ligatures (no PRESERVE_LIGATURES), glyphs without a Unicode
# mapping become U+FFFD (no CID_FOR_UNKNOWN_UNICODE) so that page analysis can count them.
TEXT_FLAGS = pymupdf.TEXT_MEDIABOX_CLIP


def raw_blocks(page: Any, textpage: Any = None) -> list[tuple]:
    """pymupdf's text blocks `(x0, y0, x1, y1, text, no, type)`, text blocks only."""
    tp = textpage if textpage is not None else page.get_textpage(flags=TEXT_FLAGS)
    return [b for b in page.get_text("blocks", textpage=tp) if b[6] == 0]


def _inside(block: tuple, tables: Sequence[Block]) -> bool:
    cx, cy = (block[0] + block[2]) / 2, (block[1] + block[3]) / 2
    return any(t.x0 <= cx <= t.x1 and t.y0 <= cy <= t.y1 for t in tables)


def to_blocks(page: Any, raw: list[tuple], *, tables: Sequence[Block] = ()) -> list[Block]:
    """Raw blocks (minus those inside `tables`) plus tables, in reading order.

    Coordinates are turned into the page as displayed (its /Rotate applied), so a rotated
    page is read in the orientation a person sees.
    """
    rotate = page.rotation % 360 != 0
    matrix = page.rotation_matrix
    blocks = []
    for b in raw:
        if tables and _inside(b, tables):
            continue
        lines = b[4].split("\n")
        text = join_lines(lines)
        if not text:
            continue
        x0, y0, x1, y1 = (pymupdf.Rect(b[:4]) * matrix) if rotate else b[:4]
        blocks.append(Block(x0, y0, x1, y1, text, "text", sum(1 for x in lines if x.strip())))
    for t in tables:
        x0, y0, x1, y1 = (pymupdf.Rect(t[:4]) * matrix) if rotate else t[:4]
        blocks.append(t._replace(x0=x0, y0=y0, x1=x1, y1=y1))
    return reading_order(blocks)


def text_layer_blocks(page: Any, raw: list[tuple], drawings: int) -> list[Block]:
    """The text route for one page whose raw blocks were already read for analysis."""
    return to_blocks(page, raw, tables=find_tables(page, drawings))
