"""Tables ruled by horizontal lines only (booktabs: a top rule, one under the header, a bottom
rule), where pymupdf's "lines" strategy finds no cells.

Between the first and last rule of a stack of equally wide rules, the words are grouped
into lines (rows) and the columns are the x-ranges that words cover on some row, split
where no row has a word (the gutters). It is a table only when it has at least
`MIN_ROWS` rows with two or more filled cells and its cells are short (a number, a name):
prose between two rules, in one column or several, has long cells and stays text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from corpusmill.extractors.pdf.grid import Segment
from corpusmill.extractors.pdf.layout import Block

MIN_WIDTH = 100.0  # points: narrower rules are underlines, not table rules
SAME_EXTENT = 3.0  # points: rules whose ends agree this well belong to one table
MIN_RULES = 3  # horizontal rules of one width that make a stack
MIN_ROWS = 3  # rows with at least two filled cells
MAX_CELL_WORDS = 4  # the median filled cell has at most this many words
MIN_GUTTER = 6.0  # points of empty x-range between two columns
LINE_TOLERANCE = 2.5  # points: words whose vertical centers differ less sit on one line


def rule_stacks(horizontal: list[Segment]) -> list[tuple[float, float, float, float]]:
    """(x0, top, x1, bottom) of each group of MIN_RULES or more equally wide horizontal rules."""
    groups: dict[tuple[int, int], list[float]] = defaultdict(list)
    for y, x0, x1 in horizontal:
        if x1 - x0 >= MIN_WIDTH:
            key = (round(x0 / SAME_EXTENT), round(x1 / SAME_EXTENT))
            groups[key].append(y)
    stacks = []
    for (a, b), ys in groups.items():
        # Three rules at least (top, under the header, bottom): two are the edges of a box
        # (a sidebar's or the page's background), not a table's rules.
        if len({round(y) for y in ys}) >= MIN_RULES:
            stacks.append((a * SAME_EXTENT, min(ys), b * SAME_EXTENT, max(ys)))
    return stacks


def _lines(words: list[tuple]) -> list[list[tuple]]:
    lines: list[list[tuple]] = []
    for word in sorted(words, key=lambda w: ((w[1] + w[3]) / 2, w[0])):
        center = (word[1] + word[3]) / 2
        if lines and abs(center - (lines[-1][0][1] + lines[-1][0][3]) / 2) < LINE_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w[0]) for line in lines]


def _columns(lines: list[list[tuple]]) -> list[tuple[float, float]]:
    spans = sorted((w[0], w[2]) for line in lines for w in line)
    columns: list[tuple[float, float]] = []
    for x0, x1 in spans:
        if columns and x0 < columns[-1][1] + MIN_GUTTER:
            columns[-1] = (columns[-1][0], max(columns[-1][1], x1))
        else:
            columns.append((x0, x1))
    return columns


def aligned_table(words: list[tuple]) -> tuple[list[list[str]], list[float]] | None:
    """The words of one ruled area as table rows and column edges, or None when they do not
    form a table."""
    lines = _lines(words)
    columns = _columns(lines)
    if len(columns) < 2:
        return None
    rows = []
    for line in lines:
        cells: list[list[str]] = [[] for _ in columns]
        for w in line:
            center = (w[0] + w[2]) / 2
            j = next((j for j, (a, b) in enumerate(columns) if a <= center <= b), len(columns) - 1)
            cells[j].append(w[4])
        rows.append([" ".join(c) for c in cells])
    full = sum(1 for r in rows if sum(1 for c in r if c) >= 2)
    sizes = sorted(len(c.split()) for r in rows for c in r if c)
    if full < MIN_ROWS or sizes[len(sizes) // 2] > MAX_CELL_WORDS:
        return None
    # Column edges halfway between columns, so that a header centered over its column fits.
    edges = [columns[0][0]] + [(a[1] + b[0]) / 2 for a, b in zip(columns, columns[1:], strict=False)]
    return rows, [*edges, columns[-1][1]]


def aligned_rows(words: list[tuple]) -> list[list[str]] | None:
    """The rows of `aligned_table`, or None."""
    found = aligned_table(words)
    return found[0] if found else None


def rule_only_tables(
    page: Any, horizontal: list[Segment], *, avoid: Sequence[Block] = ()
) -> list[tuple[Block, list[list[str]], list[float]]]:
    """Tables between stacks of horizontal rules on `page` (none overlapping a table in
    `avoid`), with their rows and column edges."""
    import pymupdf

    found: list[tuple[Block, list[list[str]], list[float]]] = []
    for x0, top, x1, bottom in rule_stacks(horizontal):
        taken = [*avoid, *(f[0] for f in found)]
        if any(t.x0 < x1 and x0 < t.x1 and t.y0 < bottom and top < t.y1 for t in taken):
            continue
        words = page.get_text("words", clip=pymupdf.Rect(x0 - 2, top, x1 + 2, bottom))
        table = aligned_table(words) if words else None
        if table is not None:
            found.append((Block(x0, top, x1, bottom, "", "table"), *table))
    return found


def rows_by_columns(words: list[tuple], xs: list[float]) -> list[list[str]]:
    """Words (in the frame where `xs` are column edges) as one row per text line, each word
    in the column its center falls in."""
    rows = []
    for line in _lines(words):
        cells: list[list[str]] = [[] for _ in xs[1:]]
        for w in line:
            center = (w[0] + w[2]) / 2
            j = next((j for j in range(len(xs) - 1) if center < xs[j + 1]), len(xs) - 2)
            cells[j].append(w[4])
        rows.append([" ".join(c) for c in cells])
    return rows
