"""Fast path for the most common ruled table: a full grid, every rule crossing the table.

pymupdf's table finder handles merged cells and partial rules, at 10-20 ms a page. When a
page's ruling lines form exactly one full grid (each horizontal rule spans from the first
vertical rule to the last and vice versa), the cells are simply the grid's rectangles and
the words inside each: well under a millisecond. Anything else goes to pymupdf.
"""

from __future__ import annotations

from typing import Any

SNAP = 2.0  # points: rules closer than this are one rule
MIN_RULE = 3.0  # points: shorter strokes are marks, not rules
Segment = tuple[float, float, float]  # (position, start, end)


def segments(paths: list[dict[str, Any]]) -> tuple[list[Segment], list[Segment]]:
    """Horizontal (y, x0, x1) and vertical (x, y0, y1) strokes of a page's vector paths."""
    horizontal: list[Segment] = []
    vertical: list[Segment] = []

    def add(x0: float, y0: float, x1: float, y1: float) -> None:
        if abs(y1 - y0) <= SNAP and abs(x1 - x0) >= MIN_RULE:
            horizontal.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= SNAP and abs(y1 - y0) >= MIN_RULE:
            vertical.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))

    for path in paths:
        for item in path["items"]:
            if item[0] == "l":
                add(*item[1], *item[2])
            elif item[0] == "re":
                x0, y0, x1, y1 = item[1]
                if min(x1 - x0, y1 - y0) <= SNAP:  # a filled hairline drawn as a rectangle
                    add(x0, (y0 + y1) / 2, x1, (y0 + y1) / 2) if x1 - x0 > y1 - y0 else add(
                        (x0 + x1) / 2, y0, (x0 + x1) / 2, y1
                    )
                else:
                    for edge in ((x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)):
                        add(*edge)
    return horizontal, vertical


def _rules(strokes: list[Segment]) -> list[tuple[float, list[tuple[float, float]]]]:
    """Strokes merged into rules: (position, covered intervals), by position."""
    rules: list[tuple[float, list[tuple[float, float]]]] = []
    for pos, a, b in sorted(strokes):
        if rules and pos - rules[-1][0] <= SNAP:
            rules[-1][1].append((a, b))
        else:
            rules.append((pos, [(a, b)]))
    return rules


def _covers(intervals: list[tuple[float, float]], start: float, end: float) -> bool:
    reach = start
    for a, b in sorted(intervals):
        if a > reach + SNAP:
            return False
        reach = max(reach, b)
    return reach >= end - SNAP


def full_grid(horizontal: list[Segment], vertical: list[Segment]) -> tuple[list[float], list[float]] | None:
    """Row and column boundaries when the strokes form one full grid, else None."""
    rows, cols = _rules(horizontal), _rules(vertical)
    if len(rows) < 3 or len(cols) < 2:
        return None
    ys, xs = [y for y, _ in rows], [x for x, _ in cols]
    if all(_covers(iv, xs[0], xs[-1]) for _, iv in rows) and all(_covers(iv, ys[0], ys[-1]) for _, iv in cols):
        return ys, xs
    return None


def grid_cells(page: Any, ys: list[float], xs: list[float]) -> list[list[str]]:
    """The text of each cell, row by row, from the words inside the grid."""
    import pymupdf

    cells: list[list[list[str]]] = [[[] for _ in xs[1:]] for _ in ys[1:]]
    clip = pymupdf.Rect(xs[0], ys[0], xs[-1], ys[-1])
    for x0, y0, x1, y1, word, *_ in page.get_text("words", clip=clip, sort=True):
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        r = next((i for i in range(len(ys) - 1) if ys[i] <= cy < ys[i + 1]), None)
        c = next((j for j in range(len(xs) - 1) if xs[j] <= cx < xs[j + 1]), None)
        if r is not None and c is not None:
            cells[r][c].append(word)
    return [[" ".join(words) for words in row] for row in cells]
