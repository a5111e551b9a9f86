"""Reading order of the blocks of one page, multi-column aware.

A page is cut into horizontal bands at every block that spans columns: wider than about
half the text area, or overlapping two blocks that sit side by side (a centered title
above two columns). Inside a band, blocks whose x-ranges overlap form
a column; columns are read left to right, each top to bottom. A band whose "columns" line
up row by row and holds single lines (a form, a key/value list) is read row by row
instead; paragraphs that merely start at the same height stay columns.
"""

from __future__ import annotations

from typing import NamedTuple

WIDE_SHARE = 0.55  # a block wider than this share of the text area spans columns
ROW_TOLERANCE = 3.0  # points: blocks whose tops differ less than this sit on one row
ROW_SHARE = 0.6  # when this share of blocks has a partner on its row, read by rows
MAX_SPAN_CHECK = 150  # column blocks; beyond this only width marks a block as spanning columns
MAX_ROW_LINES = 1.5  # ...and blocks average at most this many lines
COLUMN_SHARE = 0.3  # a one-line block narrower than this share of the text area is no column


class Block(NamedTuple):
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    kind: str = "text"  # "text", "table" or "vlm"
    lines: int = 1


def reading_order(blocks: list[Block]) -> list[Block]:
    """`blocks` sorted the way a person reads the page."""
    if len(blocks) <= 1:
        return list(blocks)
    left = min(b.x0 for b in blocks)
    width = max(b.x1 for b in blocks) - left
    wide = WIDE_SHARE * width
    ordered: list[Block] = []
    band: list[Block] = []
    # Blocks that can be a column beside another: paragraphs, or lines of some width.
    column_width = COLUMN_SHARE * width
    columns = [b for b in blocks if b.lines > 1 or b.x1 - b.x0 >= column_width]
    for block in sorted(blocks, key=lambda b: (b.y0, b.x0)):
        if block.x1 - block.x0 > wide or _spans(block, columns):
            ordered.extend(_order_band(band))
            ordered.append(block)
            band = []
        else:
            band.append(block)
    ordered.extend(_order_band(band))
    return ordered


def _spans(block: Block, columns: list[Block]) -> bool:
    """True when `block` overlaps, in x, two blocks that sit side by side (apart in x,
    overlapping in y): a title or figure above two columns. A running head and a page
    number that merely stand apart do not count, nor do two short labels side by side (a
    heading and its number, form fields): `columns` holds only paragraphs and wide lines."""
    if len(columns) > MAX_SPAN_CHECK:
        return False
    # For a paragraph (more than two lines) only blocks that reach below its top count: two
    # blocks side by side in the title area above (an address and a label beside it) do not
    # make the column under them span anything. A title or a page number may have its pair
    # below or above.
    top = block.y0 if block.lines > 2 else float("-inf")
    under = sorted(
        (o for o in columns if o.x0 < block.x1 and o.x1 > block.x0 and o.y1 > top and o is not block),
        key=lambda o: o.x0,
    )
    for i, a in enumerate(under):
        for b in under[i + 1 :]:
            if b.x0 >= a.x1 and b.y0 < a.y1 and a.y0 < b.y1:
                return True
    return False


def _columns(band: list[Block]) -> list[list[Block]]:
    """Blocks grouped by overlapping x-ranges, left to right."""
    columns: list[list[Block]] = []
    right = float("-inf")
    for block in sorted(band, key=lambda b: b.x0):
        if columns and block.x0 < right - 1.0:
            columns[-1].append(block)
            right = max(right, block.x1)
        else:
            columns.append([block])
            right = block.x1
    return columns


def _is_rows(columns: list[list[Block]]) -> bool:
    blocks = [b for col in columns for b in col]
    if sum(b.lines for b in blocks) > MAX_ROW_LINES * len(blocks):
        return False
    tops = [(b.y0, i) for i, col in enumerate(columns) for b in col]
    paired = sum(1 for y, i in tops if any(j != i and abs(y - y2) < ROW_TOLERANCE for y2, j in tops))
    return paired >= ROW_SHARE * len(tops)


def _order_band(band: list[Block]) -> list[Block]:
    if len(band) <= 1:
        return band
    columns = _columns(band)
    if len(columns) == 1 or _is_rows(columns):
        return sorted(band, key=lambda b: (round(b.y0 / ROW_TOLERANCE), b.x0))
    return [b for col in columns for b in sorted(col, key=lambda b: b.y0)]
