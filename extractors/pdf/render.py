"""Page images for OCR: rendered at a chosen size, turned upright.

A scan can be stored sideways or upside down; both OCR engines read far better upright.
The page's own /Rotate is applied by the renderer; what the pixels show is checked with
Tesseract's orientation and script detection (OSD) when the `tesseract` program is
installed, and the page is rendered again turned by the angle it reports.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from typing import Any

import pymupdf

log = logging.getLogger(__name__)

_ROTATE = re.compile(rb"Rotate:\s*(\d+)")
_CONFIDENCE = re.compile(rb"Orientation confidence:\s*([\d.]+)")
MIN_OSD_CONFIDENCE = 1.0  # below this Tesseract is guessing; leave the page as it is
OSD_TIMEOUT_S = 30.0
# OSD mistakes 90 for 270 degrees on small renders (measured: wrong at 100-150 dpi on
# 11-14 pt text, right with high confidence at 200 and 300 dpi).
OSD_DPI = 200


def tesseract_binary() -> str | None:
    return shutil.which("tesseract")


def zoom_for(page: Any, longest_side: int) -> float:
    """Scale factor from points to pixels that gives the rendered page this longest side."""
    return longest_side / max(page.rect.width, page.rect.height, 1.0)


def render(page: Any, zoom: float, rotate: int = 0) -> Any:
    """The page as displayed, scaled by `zoom`, turned `rotate` degrees to make it upright."""
    matrix = pymupdf.Matrix(zoom, zoom)
    if rotate:
        matrix = matrix.prerotate(rotate)
    return page.get_pixmap(matrix=matrix, alpha=False)


def detect_rotation(png: bytes) -> int:
    """Degrees to pass to `render(rotate=...)` so the page reads upright (0 when unsure)."""
    binary = tesseract_binary()
    if binary is None:
        return 0
    try:
        out = subprocess.run(
            [binary, "stdin", "stdout", "--psm", "0", "-l", "osd"],
            input=png,
            capture_output=True,
            timeout=OSD_TIMEOUT_S,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("orientation detection failed: %s", exc)
        return 0
    rotate, confidence = _ROTATE.search(out), _CONFIDENCE.search(out)
    if not rotate or not confidence or float(confidence.group(1)) < MIN_OSD_CONFIDENCE:
        return 0
    # OSD's "Rotate: R" turns the image R degrees clockwise, as pymupdf's prerotate(R) does
    # on a pixmap (y axis pointing down).
    return int(rotate.group(1)) % 360


def render_upright(page: Any, zoom: float, *, detect: bool) -> tuple[Any, int]:
    """The page rendered at `zoom`, corrected for orientation; returns (pixmap, rotation)."""
    pix = render(page, zoom)
    if not detect:
        return pix, 0
    probe = pix if zoom * 72 >= OSD_DPI else render(page, OSD_DPI / 72)
    rotation = detect_rotation(probe.tobytes("png"))
    if rotation:
        pix = render(page, zoom, rotation)
    return pix, rotation
