"""Is there anything printed on a page? A cheap look at its pixels before OCR.

OCR engines read patterns into noise: a blank scanned sheet (paper grain, dust, the
scanner lid's shadow along an edge) came out as 240 characters of garbage. The page is
rendered small and in gray; pixels much darker than the paper count as ink. The outer
band of the sheet is left out, where scanner shadows and punched holes sit, and
rendering at a low resolution averages single specks of dust away.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymupdf

INK_DPI = 40  # 1 px ~ 0.6 mm: a letter of body text still leaves dark pixels, dust does not
MARGIN = 0.07  # share of width and height left out on each side
DARKER_BY = 80  # gray levels below the paper's (its median) that count as ink
MIN_INK = 0.0002  # below this share of ink a page is blank (one 12 pt word: 0.0003, "4)": 0.0001)


def ink_share(page: Any, *, rotate: int = 0) -> float:
    """Share of the page's inner area (see MARGIN) covered by ink, at INK_DPI."""
    zoom = INK_DPI / 72.0
    matrix = pymupdf.Matrix(zoom, zoom).prerotate(rotate)
    pix = page.get_pixmap(matrix=matrix, colorspace=pymupdf.csGRAY, alpha=False)
    gray = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width]
    dy, dx = int(pix.height * MARGIN), int(pix.width * MARGIN)
    inner = gray[dy : pix.height - dy, dx : pix.width - dx]
    if inner.size == 0:
        return 0.0
    paper = int(np.median(inner))
    return float(np.count_nonzero(inner < paper - DARKER_BY)) / inner.size


def is_blank(page: Any) -> bool:
    """True when the page shows (next to) no ink: nothing for OCR to read."""
    return ink_share(page) < MIN_INK
