"""CPU OCR of one page: turn it upright, find its script, read it with that script's engine.

Tesseract's orientation and script detection (OSD) runs once on the rendered page and
gives both the rotation and a script. The page's script is the one its own text layer
shows, else OSD's, else its document's text pages', else Latin. OSD's script confidence
separates right from wrong guesses poorly, so when the answer fails the acceptance check
(`ocr_check`) the page is read once more with the next candidate script, and the better
answer is kept. The script picks the engine and model: RapidOCR
(when installed) for Han, where it reads clean pages without error and Tesseract does
not; Tesseract with the script's model everywhere else (`bench/ocr_engines.py`,
docs/pdf.md). `--ocr-langs` pins Tesseract and its packs for every page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corpusmill.extractors.pdf import ocr_rapid, ocr_tesseract
from corpusmill.extractors.pdf.analysis import text_signals
from corpusmill.extractors.pdf.layout import Block
from corpusmill.extractors.pdf.ocr_check import OcrWord, Verdict, check_ocr
from corpusmill.extractors.pdf.ocr_words import to_ocr_words, words_to_blocks
from corpusmill.extractors.pdf.render import render, render_oriented

FLIP_CHECK_SCORE = 0.5  # below this, a page turned a quarter is also read the other way
RAPIDOCR_SCRIPTS = frozenset({"Han"})  # where RapidOCR is the default (when installed)
MAX_READS = 2  # scripts tried on a page whose first answer fails the check


@dataclass
class OcrPage:
    """One page as a CPU engine read it."""

    blocks: list[Block]
    height: float  # the height the blocks' coordinates are measured against
    rotation: int  # degrees the page was turned to be upright
    engine: str
    engine_version: str  # with the models used
    script: str  # the script the engine was chosen for
    verdict: Verdict  # the acceptance check's
    words: list[OcrWord] = field(default_factory=list)  # with confidences, when known

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks)


def engine_for(script: str, configured_langs: str | None) -> str:
    if configured_langs is None and script in RAPIDOCR_SCRIPTS and ocr_rapid.available():
        return ocr_rapid.ENGINE
    return ocr_tesseract.ENGINE


def _reader(engine: str, script: str, configured_langs: str | None, zoom: float) -> tuple[Any, str]:
    """A function pixmap -> (blocks, height, words), and the engine's version string."""
    if engine == ocr_rapid.ENGINE:

        def rapid(pix: Any) -> tuple[list[Block], float, list[OcrWord]]:
            words = ocr_rapid.recognize(pix)
            return words_to_blocks(words, zoom), pix.height / zoom, to_ocr_words(words)

        return rapid, ocr_rapid.version()
    langs = ocr_tesseract.choose_langs(configured_langs, script, ocr_tesseract.available_langs())
    return (lambda pix: ocr_tesseract.recognize(pix, langs, zoom)), ocr_tesseract.version(langs)


def _score(blocks: list[Block]) -> float:
    return text_signals("\n".join(b.text for b in blocks)).score


def _candidates(page_script: str, osd_script: str, doc_script: str, configured: str | None) -> list[str]:
    ordered = [page_script, osd_script, doc_script, "Latin"]
    found = [s for i, s in enumerate(ordered) if s and s not in ordered[:i]]
    return found[:1] if configured else found[:MAX_READS]  # pinned packs: nothing else to try


def _read_upright(page: Any, pix: Any, rotation: int, read: Any, zoom: float) -> tuple[Any, int]:
    """(blocks, height, words) and the rotation, trying the opposite quarter turn if needed."""
    result = read(pix)
    if rotation in (90, 270) and _score(result[0]) < FLIP_CHECK_SCORE:
        # Orientation detection can mistake a quarter turn for its opposite; the
        # recognized text shows which one was right.
        flipped = (rotation + 180) % 360
        other = read(render(page, zoom, flipped))
        if _score(other[0]) > _score(result[0]):
            return other, flipped
    return result, rotation


def read_page(
    page: Any, *, configured: str | None, page_script: str, doc_script: str, dpi: int, detect_orientation: bool
) -> OcrPage:
    """Recognize `page` upright with the engine and model of its script (see the module
    docstring for how the script is chosen) and judge the answer."""
    zoom = dpi / 72.0
    pix, found = render_oriented(page, zoom, detect=detect_orientation)
    best: OcrPage | None = None
    for script in _candidates(page_script, found.script, doc_script, configured):
        engine = engine_for(script, configured)
        read, version = _reader(engine, script, configured, zoom)
        (blocks, height, words), rotation = _read_upright(page, pix, found.rotate, read, zoom)
        text = "\n".join(b.text for b in blocks)
        current = OcrPage(blocks, height, rotation, engine, version, script, check_ocr(text, words), words)
        if best is None or _better(current, best):
            best = current
        if best.verdict.ok:
            break
    assert best is not None
    return best


def _better(a: OcrPage, b: OcrPage) -> bool:
    if a.verdict.ok != b.verdict.ok:
        return a.verdict.ok
    return a.verdict.stats.get("confidence", 0.0) > b.verdict.stats.get("confidence", 0.0)
