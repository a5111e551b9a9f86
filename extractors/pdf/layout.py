"""Reading order of the blocks of one page, multi-column aware.

A page is cut into horizontal bands at every block that spans columns: wider than about
half the text area, or overlapping two blocks that lie side by side (a centered title
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
MAX_ROW_LINES = 1.5  # ...and blocks average at most this many lines


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
    for block in sorted(blocks, key=lambda b: (b.y0, b.x0)):
        if block.x1 - block.x0 > wide or _spans(block, blocks):
            ordered.extend(_order_band(band))
            ordered.append(block)
            band = []
        else:
            band.append(block)
    ordered.extend(_order_band(band))
    return ordered


def _spans(block: Block, blocks: list[Block]) -> bool:
    """True when `block` overlaps, in x, two blocks that do not overlap each other."""
    min_right, max_left = float("inf"), float("-inf")
    for other in blocks:
        if other is not block and other.x0 < block.x1 and other.x1 > block.x0:
            min_right, max_left = min(min_right, other.x1), max(max_left, other.x0)
    return max_left > min_right


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
    paired = sum(
        1 for y, i in tops if any(j != i and abs(y - y2) < ROW_TOLERANCE for y2, j in tops)
    )
    return paired >= ROW_SHARE * len(tops)


def _order_band(band: list[Block]) -> list[Block]:
    if len(band) <= 1:
        return band
    columns = _columns(band)
    if len(columns) == 1 or _is_rows(columns):
        return sorted(band, key=lambda b: (round(b.y0 / ROW_TOLERANCE), b.x0))
    return [b for col in columns for b in sorted(col, key=lambda b: b.y0)]
