"""CPU OCR with Tesseract, through MuPDF's built-in Tesseract (no extra Python package).

The page is rendered upright (see `render`), recognized into a one-page PDF with an
invisible text layer, and that layer goes through the same block ordering and line
joining as born-digital text. Language packs are chosen from `--ocr-langs`, else from the
script of the document's own text layer, else English.
"""

from __future__ import annotations

import os
from typing import Any

import pymupdf

from corpusmill.errors import ConfigError
from corpusmill.extractors.pdf.analysis import text_signals
from corpusmill.extractors.pdf.layout import Block
from corpusmill.extractors.pdf.render import render, render_upright
from corpusmill.extractors.pdf.text_layer import raw_blocks, to_blocks

ENGINE = "tesseract"
ENGINE_VERSION = f"mupdf-{pymupdf.VersionFitz}"

FLIP_CHECK_SCORE = 0.5  # below this, a page turned a quarter is also read the other way

# Tesseract language pack for a dominant script (see analysis.dominant_script).
SCRIPT_LANGS = {
    "Latin": "eng",
    "Han": "chi_sim",
    "Cyrillic": "rus",
    "Greek": "ell",
    "Arabic": "ara",
    "Hebrew": "heb",
    "Devanagari": "hin",
    "Hangul": "kor",
    "Hiragana": "jpn",
    "Katakana": "jpn",
    "Thai": "tha",
    "Bengali": "ben",
    "Tamil": "tam",
}


def tessdata_dir() -> str | None:
    """The folder holding `*.traineddata`, or None when Tesseract data is not installed."""
    try:
        found = pymupdf.get_tessdata()
    except Exception:  # pymupdf raises when it finds nothing
        return None
    return found if found and os.path.isdir(found) else None


def available_langs(tessdata: str | None = None) -> set[str]:
    folder = tessdata or tessdata_dir()
    if not folder:
        return set()
    return {n[: -len(".traineddata")] for n in os.listdir(folder) if n.endswith(".traineddata")} - {"osd"}


def check_langs(langs: str, available: set[str]) -> str:
    """Validate a `eng+chi_sim` style list against the installed packs (ConfigError if missing)."""
    wanted = [x for x in langs.split("+") if x]
    missing = [x for x in wanted if x not in available]
    if not wanted or missing:
        raise ConfigError(
            f"Tesseract language pack(s) {missing or langs!r} not installed (have: "
            f"{', '.join(sorted(available)) or 'none'}); install tesseract-ocr-<lang> or change --ocr-langs"
        )
    return "+".join(wanted)


def choose_langs(configured: str | None, script: str, available: set[str]) -> str:
    """`configured` if given, else the pack for `script` plus English, limited to what is installed."""
    if configured:
        return configured
    wanted = [SCRIPT_LANGS.get(script, "eng"), "eng"]
    chosen = [x for i, x in enumerate(wanted) if x in available and x not in wanted[:i]]
    return "+".join(chosen) or sorted(available)[0]


def _recognize(pix: Any, langs: str) -> tuple[list[Block], float, float]:
    """Blocks, page height and text quality score of one rendered page."""
    with pymupdf.open("pdf", pix.pdfocr_tobytes(language=langs, tessdata=tessdata_dir())) as ocr:
        recognized = ocr[0]
        blocks = to_blocks(recognized, raw_blocks(recognized))
        return blocks, recognized.rect.height, text_signals("\n".join(b.text for b in blocks)).score


def ocr_blocks(page: Any, *, langs: str, dpi: int, detect_orientation: bool) -> tuple[list[Block], float, int]:
    """Recognize `page`: its blocks in reading order, the height they are measured
    against, and the rotation applied to make the page upright."""
    zoom = dpi / 72.0
    pix, rotation = render_upright(page, zoom, detect=detect_orientation)
    blocks, height, score = _recognize(pix, langs)
    if rotation in (90, 270) and score < FLIP_CHECK_SCORE:
        # Orientation detection can mistake a quarter turn for its opposite; the
        # recognized text shows which one was right.
        flipped = (rotation + 180) % 360
        other = _recognize(render(page, zoom, flipped), langs)
        if other[2] > score:
            return other[0], other[1], flipped
    return blocks, height, rotation
