"""Tables found by pymupdf, written as Markdown.

pymupdf's table finder costs tens of milliseconds a page even on pages without a table, so
it only runs on pages with enough ruling lines to draw one, both horizontal and vertical,
only over the area the lines cover, and not at all when the rules form one full grid
(`grid`, much faster). Tables drawn without lines are read as plain text blocks. A header
row set above the first rule is kept in the table. Tables ruled by horizontal lines only
(booktabs) are read by word alignment (`aligned`). Ruled boxes of prose (a multi-column
page with rules between its columns) are not a table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pymupdf

from corpusmill.extractors.pdf.aligned import rows_by_columns, rule_only_tables
from corpusmill.extractors.pdf.grid import full_grid, grid_cells, segments
from corpusmill.extractors.pdf.layout import Block

log = logging.getLogger(__name__)

MIN_RULES = 6  # path items (lines, rectangles) a page needs before we look for tables
MIN_CELLS = 4  # short text blocks (table cells) that make a page worth checking for tables
MIN_CELL_LINES = 6  # or: short lines, when they are also...
CELL_LINE_SHARE = 0.25  # ...this share of the page's lines (rows merged into one block)
CELL_WORDS = 4
PROSE_CELL_WORDS = 12  # a "table" whose typical filled cell has more words is ruled prose
PROSE_RUNS = 3  # ...as is one with a column whose cells run on into the next row this often
HEADER_REACH = 1.6  # a header row sits within this many row heights above the first rule
HEADER_GAP = 6.0  # points: words further apart than this are in different header cells
HEADER_MARGIN = 20.0  # points beside a table where a line above it shows it is prose
HEADER_WORDS = 5  # a header cell has at most this many words
MAX_HEADER_ROWS = 3
LUMPED_WORDS = 12  # a row whose one cell spans the table and holds more words lumps rows together


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


def is_prose(rows: list[list[Any]]) -> bool:
    """Rows that are prose in boxes (a ruled multi-column page), not a table: fewer than two
    rows, filled cells that typically hold a sentence or more, or a column whose cells are
    the lines of running paragraphs (see `_runs_on`)."""
    filled = sorted(len(str(c).split()) for r in rows for c in r if c not in (None, ""))
    if len(rows) < 2 or not filled:
        return True
    return filled[len(filled) // 2] > PROSE_CELL_WORDS or _runs_on(rows)


def _runs_on(rows: list[list[Any]]) -> bool:
    """A column in which one cell's text runs on into the next row's, again and again (it
    ends without a full stop, the next starts in lower case): the "rows" are the lines of
    paragraphs, cut by a frame or a background box that the table finder took for rules."""
    width = max(len(r) for r in rows)
    for j in range(width):
        cells = [str(r[j]).strip() for r in rows if j < len(r) and r[j] not in (None, "")]
        pairs = list(zip(cells, cells[1:], strict=False))
        runs = sum(1 for a, b in pairs if a[-1] not in ".:;!?)" and b[0].islower())
        if runs >= PROSE_RUNS and runs >= 0.4 * len(pairs):
            return True
    return False


def header_above(page: Any, xs: list[float], top: float, row_height: float) -> tuple[list[str], float] | None:
    """The header row set just above `top` (a table's first rule, no rule above it) and the
    row's top, else None.

    The text line nearest above `top` is split into groups of words at gaps wider than a
    word space; each group goes to the column of `xs` (column edges) its center falls in,
    so that a header spanning two columns ("Year Ended") is kept. It is a header row when
    it lies within the table's width, fills at least two columns and has no group longer
    than HEADER_WORDS words; a line of prose above the table is one long group and a
    numbered heading ("3.2   Results") fills one column: neither is taken.
    """
    import pymupdf

    # Text coordinates are those of the unrotated page. The band reaches HEADER_MARGIN beyond
    # the table's sides: a line running past them is prose; text further away (the next
    # column of the page) is no business of this table.
    band = pymupdf.Rect(xs[0] - HEADER_MARGIN, top - HEADER_REACH * row_height, xs[-1] + HEADER_MARGIN, top + 0.5)
    words = sorted(page.get_text("words", clip=band), key=lambda w: w[0])
    if not words:
        return None
    last = max(w[3] for w in words)  # the line nearest the rule
    words = [w for w in words if w[3] > last - 0.6 * row_height]
    if words[0][0] < xs[0] - HEADER_GAP or max(w[2] for w in words) > xs[-1] + HEADER_GAP:
        return None
    groups: list[list[tuple]] = [[words[0]]]
    for w in words[1:]:
        if w[0] - groups[-1][-1][2] > HEADER_GAP:
            groups.append([w])
        else:
            groups[-1].append(w)
    if len(groups) < 2 or any(len(g) > HEADER_WORDS for g in groups):
        return None
    cells: list[list[str]] = [[] for _ in xs[1:]]
    for g in groups:
        center = (g[0][0] + g[-1][2]) / 2
        col = next((j for j in range(len(xs) - 1) if center < xs[j + 1]), len(xs) - 2)
        cells[col].extend(w[4] for w in g)
    if sum(1 for c in cells if c) < 2:  # "3.2   Results": a heading above the table, one column
        return None
    return [" ".join(c) for c in cells], min(w[1] for w in words)


def _text_above(raw: Sequence[tuple], xs: list[float], top: float, reach: float) -> bool:
    """Whether some raw block ends just above `top` within the table's width: only then can a
    header row sit there (reading the words of a band costs as much as reading the page)."""
    left, right = xs[0] - HEADER_GAP, xs[-1] + HEADER_GAP
    return any(top - reach < b[3] and b[1] < top - 0.5 and b[0] >= left and b[2] <= right for b in raw)


def headers_above(
    page: Any, xs: list[float], top: float, row_height: float, raw: Sequence[tuple] | None = None
) -> tuple[list[list[str]], float]:
    """Up to MAX_HEADER_ROWS header rows stacked above `top` (see `header_above`), top row
    first, and the top of the highest. With the page's raw blocks, a table with no block
    ending just above it within its width is not looked at further."""
    if raw is not None and not _text_above(raw, xs, top, HEADER_REACH * row_height):
        return [], top
    rows: list[list[str]] = []
    for _ in range(MAX_HEADER_ROWS):
        found = header_above(page, xs, top, row_height)
        if found is None:
            break
        rows.insert(0, found[0])
        top = found[1]
    return rows, top


def _column_edges(table: Any) -> list[float]:
    """Column edges of a pymupdf table (left edges of its cells that do not span the table,
    then its right edge), or [] with fewer than two columns."""
    width = table.bbox[2] - table.bbox[0]
    edges = sorted({round(c[0], 1) for c in table.cells if c and c[2] - c[0] < 0.9 * width})
    return [*edges, table.bbox[2]] if len(edges) >= 2 else []


def _split_lumped(page: Any, table: Any, rows: list[list[Any]]) -> list[list[Any]]:
    """`rows` with each lumped row (one cell across the whole table holding many rows' words,
    where the body has no rules between rows or columns) read again word by word into the
    columns that the other rows' cells define."""
    import pymupdf

    xs = _column_edges(table)
    if not xs:
        return rows
    out: list[list[Any]] = []
    for row, cells in zip(table.rows, rows, strict=True):
        filled = [c for c in cells if c not in (None, "")]
        if len(filled) != 1 or len(str(filled[0]).split()) <= LUMPED_WORDS:
            out.append(cells)
            continue
        clip = pymupdf.Rect(row.bbox)
        if page.rotation:  # words come in unrotated coordinates, the table in the shown frame
            clip = clip * page.derotation_matrix
        words = page.get_text("words", clip=clip)
        if page.rotation:
            words = [(*(pymupdf.Rect(w[:4]) * page.rotation_matrix), *w[4:]) for w in words]
        out.extend(rows_by_columns(words, xs) or [cells])
    return out


def _row_height(ys: list[float]) -> float:
    gaps = sorted(b - a for a, b in zip(ys, ys[1:], strict=False))
    return gaps[len(gaps) // 2]


def find_tables(page: Any, paths: list[dict[str, Any]], raw: Sequence[tuple] | None = None) -> list[Block]:
    """Tables on `page` (whose vector paths are `paths`, raw text blocks `raw` if read
    already) as Markdown blocks with their boxes."""
    items = sum(len(p["items"]) for p in paths)
    if items < 2:
        return []
    horizontal, vertical = segments(paths)
    if len(horizontal) < 2:
        return []
    if len(vertical) < 2:  # pymupdf's "lines" strategy would find nothing: booktabs-style rules
        return _rule_only(page, horizontal, [], raw)
    if items < MIN_RULES:
        return []
    grid = full_grid(horizontal, vertical)
    if grid is not None:
        ys, xs = grid
        rows = grid_cells(page, ys, xs)
        if is_prose(rows):
            return []
        top = ys[0]
        header, top = headers_above(page, xs, top, _row_height(ys), raw)
        rows = [*header, *rows]
        markdown = to_markdown(rows)
        return [Block(xs[0], top, xs[-1], ys[-1], markdown, "table")] if markdown else []
    found = _pymupdf_tables(page, paths, raw)
    # Frames and background boxes give a page vertical rules; a booktabs table elsewhere on it
    # (a sidebar's key figures) is still read by alignment.
    return found + _rule_only(page, horizontal, found, raw)


def _rule_only(page: Any, horizontal: list[Any], avoid: list[Block], raw: Sequence[tuple] | None) -> list[Block]:
    """Tables ruled by horizontal lines only, with header rows set above their first rule."""
    blocks = []  # rules, words and raw blocks are all in unrotated page coordinates
    for block, rows, xs in rule_only_tables(page, horizontal, avoid=avoid):
        header, top = headers_above(page, xs, block.y0, (block.y1 - block.y0) / max(len(rows), 1), raw)
        markdown = to_markdown([*header, *rows])
        if markdown:
            blocks.append(block._replace(y0=min(block.y0, top), text=markdown))
    return blocks


def _pymupdf_tables(page: Any, paths: list[dict[str, Any]], raw: Sequence[tuple] | None = None) -> list[Block]:
    x0, y0, x1, y1 = zip(*(p["rect"] for p in paths), strict=True)
    # Only over the area the rules cover, with a margin: less than half the whole-page cost.
    clip = pymupdf.Rect(min(x0) - 2, min(y0) - 2, max(x1) + 2, max(y1) + 2)
    # Paths and text blocks are in unrotated coordinates, the table finder works on the page
    # as shown: turn the clip there and the tables' boxes back.
    clip = clip * page.rotation_matrix if page.rotation else clip
    try:
        found = page.find_tables(clip=clip, strategy="lines")
    except Exception as exc:  # a table-finder bug must cost the table, not the page
        log.debug("table finder failed on page %s: %s", page.number, exc)
        return []
    blocks = []
    for table in found.tables:
        rows = _split_lumped(page, table, table.extract())
        if table.row_count < 2 or is_prose(rows):
            continue
        box = pymupdf.Rect(table.bbox)
        xs = _column_edges(table)
        if not page.rotation and xs:  # header rows above the first rule, read in text coordinates
            heights = sorted(r.bbox[3] - r.bbox[1] for r in table.rows)
            header, top = headers_above(page, xs, box.y0, heights[len(heights) // 2], raw)
            rows, box.y0 = [*header, *rows], min(box.y0, top)
        elif table.header.external and any(table.header.names):
            rows = [list(table.header.names), *rows]
            box |= table.header.bbox
        bx0, by0, bx1, by1 = box * page.derotation_matrix if page.rotation else box
        markdown = to_markdown(rows)
        if markdown:
            blocks.append(Block(bx0, by0, bx1, by1, markdown, "table"))
    return blocks
