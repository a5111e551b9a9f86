"""Is there anything printed on a page? A cheap look at its pixels before OCR.

OCR engines read patterns into noise: a blank scanned sheet (paper grain, dust, the
scanner lid's shadow along an edge) came out as 240 characters of garbage. The page is
rendered small and in gray; pixels much darker (or, on a dark page, lighter) than the paper
count as ink. The outer
band of the sheet is left out, where scanner shadows and punched holes sit, and
rendering at a low resolution averages single specks of dust away.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np
import pymupdf

INK_DPI = 40  # 1 px ~ 0.6 mm: a letter of body text still leaves dark pixels, dust does not
MARGIN = 0.07  # share of width and height left out on each side
DARKER_BY = 80  # gray levels away from the paper's (its median) that count as ink
_DECODE_FAILURE = re.compile(r"library error|cannot decode|failed to decode|truncated image", re.IGNORECASE)
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
    # Far from the paper's gray either way: dark print on light paper, or light print on a
    # dark page (a negative, white text on a black slide).
    return float(np.count_nonzero(np.abs(inner.astype(np.int16) - paper) > DARKER_BY)) / inner.size


class Ink(NamedTuple):
    share: float  # see ink_share
    decode_error: str  # MuPDF's messages when an image of the page could not be decoded

    @property
    def blank(self) -> bool:
        return self.share < MIN_INK


def look(page: Any) -> Ink:
    """How much ink the page shows, and whether its images rendered at all.

    An image MuPDF cannot decode (JBIG2 features it lacks, truncated streams) renders as
    nothing: that page is not blank, its content is lost, and the caller says so.
    """
    pymupdf.TOOLS.reset_mupdf_warnings()
    share = ink_share(page)
    warnings = pymupdf.TOOLS.mupdf_warnings()
    failed = [w for w in warnings.splitlines() if _DECODE_FAILURE.search(w)]
    return Ink(share, "; ".join(failed)[:300])
