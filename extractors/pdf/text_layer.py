"""The text route: a page's own text layer as blocks in reading order, tables as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pymupdf

from corpusmill.extractors.pdf.layout import Block, reading_order
from corpusmill.extractors.pdf.repair import (
    has_run_together,
    is_rotated_margin,
    join_drop_caps,
    page_lines,
    respace_block,
)
from corpusmill.extractors.pdf.tables import find_tables
from corpusmill.extractors.pdf.textclean import join_lines

# Clip to the page, expand ligatures (no PRESERVE_LIGATURES), glyphs without a Unicode
# mapping become U+FFFD (no CID_FOR_UNKNOWN_UNICODE) so that page analysis can count them.
TEXT_FLAGS = pymupdf.TEXT_MEDIABOX_CLIP


def raw_blocks(page: Any, textpage: Any = None) -> list[tuple]:
    """pymupdf's text blocks `(x0, y0, x1, y1, text, no, type)`, text blocks only."""
    tp = textpage if textpage is not None else page.get_textpage(flags=TEXT_FLAGS)
    return [b for b in page.get_text("blocks", textpage=tp) if b[6] == 0]


def _overlapping(block: tuple, tables: Sequence[Block]) -> Block | None:
    """The table that `block` reaches into: its horizontal center lies within the table's
    width and it overlaps the table's height (wholly inside, or a caption-and-header block
    that straddles the table's top)."""
    cx = (block[0] + block[2]) / 2
    for t in tables:
        if t.x0 <= cx <= t.x1 and block[1] < t.y1 - 1 and block[3] > t.y0 + 1:
            return t
    return None


def _outside_part(page: Any, block: tuple, table: Block) -> tuple | None:
    """The lines of `block` above or below `table`, which it overlaps (a caption that MuPDF
    set in one block with the table's header row), as a raw block; None when it is all inside."""
    part = None
    if block[1] < table.y0 - 2:
        part = (block[0], block[1], block[2], table.y0)
    elif block[3] > table.y1 + 2:
        part = (block[0], table.y1, block[2], block[3])
    if part is None:
        return None
    text = page.get_text("text", clip=pymupdf.Rect(part), flags=TEXT_FLAGS)
    return (*part, text) if text.strip() else None


def to_blocks(page: Any, raw: list[tuple], *, tables: Sequence[Block] = ()) -> list[Block]:
    """Raw blocks (minus those inside `tables`) plus tables, in reading order.

    Coordinates stay those of the unrotated page: text is laid out horizontally there, and
    a page's /Rotate only turns how it is shown (a landscape table on a portrait page).
    Rotated margin text is dropped, lost word spaces restored and drop caps joined (`repair`).
    """
    blocks = []
    glyph_lines: list[dict[str, Any]] | None = None  # the page's characters, read when first needed
    for block in raw:
        b: tuple | None = block
        table = _overlapping(block, tables) if tables else None
        if table is not None:
            b = _outside_part(page, block, table)
        if b is None or is_rotated_margin(b, page):
            continue
        raw_text = b[4]
        if has_run_together(raw_text):
            if glyph_lines is None:
                glyph_lines = page_lines(page, TEXT_FLAGS)
            raw_text = respace_block(glyph_lines, b[:4], raw_text)
        lines = raw_text.split("\n")
        text = join_lines(lines)
        if not text:
            continue
        x0, y0, x1, y1 = b[:4]
        blocks.append(Block(x0, y0, x1, y1, text, "text", sum(1 for x in lines if x.strip())))
    return reading_order(join_drop_caps(blocks) + list(tables))


def text_layer_blocks(page: Any, raw: list[tuple], paths: list[dict[str, Any]]) -> list[Block]:
    """The text route for one page whose raw blocks (and maybe vector paths) were read already."""
    return to_blocks(page, raw, tables=find_tables(page, paths, raw) if paths else [])
