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
from typing import Any, NamedTuple

import pymupdf

log = logging.getLogger(__name__)

_ROTATE = re.compile(rb"Rotate:\s*(\d+)")
_CONFIDENCE = re.compile(rb"Orientation confidence:\s*([\d.]+)")
_SCRIPT = re.compile(rb"Script:\s*(\w+)")
_SCRIPT_CONFIDENCE = re.compile(rb"Script confidence:\s*([\d.]+)")
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


class Orientation(NamedTuple):
    rotate: int  # degrees to pass to `render(rotate=...)` so the page reads upright
    script: str  # OSD's script name ("Latin", "Bengali", "Han", ...), "" when not run
    # OSD's script confidence is no clear cut (measured on clean pages: Bengali 10, Thai and
    # Arabic 2.0, Han 0.8, and a Tamil page called Malayalam at 1.9): callers check the text.
    script_confidence: float = 0.0


def detect_rotation(png: bytes) -> int:
    """Degrees to pass to `render(rotate=...)` so the page reads upright (0 when unsure)."""
    return detect_orientation(png).rotate


def detect_orientation(png: bytes) -> Orientation:
    """Orientation and script of a page image from Tesseract's OSD (0 and "" when unsure)."""
    binary = tesseract_binary()
    if binary is None:
        return Orientation(0, "")
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
        return Orientation(0, "")
    script, script_confidence = _SCRIPT.search(out), _SCRIPT_CONFIDENCE.search(out)
    name = script.group(1).decode() if script else ""
    sure = float(script_confidence.group(1)) if script_confidence else 0.0
    rotate, confidence = _ROTATE.search(out), _CONFIDENCE.search(out)
    if not rotate or not confidence or float(confidence.group(1)) < MIN_OSD_CONFIDENCE:
        return Orientation(0, name, sure)
    # OSD's "Rotate: R" turns the image R degrees clockwise, as pymupdf's prerotate(R) does
    # on a pixmap (y axis pointing down).
    return Orientation(int(rotate.group(1)) % 360, name, sure)


def render_upright(page: Any, zoom: float, *, detect: bool) -> tuple[Any, int]:
    """The page rendered at `zoom`, corrected for orientation; returns (pixmap, rotation)."""
    pix, found = render_oriented(page, zoom, detect=detect)
    return pix, found.rotate


def render_oriented(page: Any, zoom: float, *, detect: bool) -> tuple[Any, Orientation]:
    """The page rendered at `zoom` and turned upright, with what OSD found (rotation, script)."""
    pix = render(page, zoom)
    if not detect:
        return pix, Orientation(0, "")
    probe = pix if zoom * 72 >= OSD_DPI else render(page, OSD_DPI / 72)
    found = detect_orientation(probe.tobytes("png"))
    if found.rotate:
        pix = render(page, zoom, found.rotate)
    return pix, found
