"""OCR engines per script: Tesseract (the script's model) vs RapidOCR, CER and pages/s.

Pages are generated (`extractors.pdf.ocr_samples`): sentences of each script laid out
with shaping and MuPDF's Noto fonts, rendered at `--dpi` as a clean scan whose true text
is known. Each engine reads the same pixels; orientation detection is off so that the
figures are recognition alone (OSD adds one Tesseract pass a page, engine-independent).
CER collapses whitespace; for scripts written without spaces (Han, Thai) whitespace is
removed, since engines place spaces there differently and the text has none to compare.
RapidOCR is measured when `rapidocr-onnxruntime` is installed (`pip install
'corpusmill[rapidocr]'`). Run: `python -m bench.ocr_engines [--pages 2] [--scripts Latin,Han] [--routing-only]`.
First, for the shaped scripts, the CER of the glyph-order text layer (what the text route
kept before) against that of the extraction now (routed to OCR).
Both engines use one thread; rates are wall time of this process and its children. The
first row per script is the previous default (English, plus Simplified Chinese for Han).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import pymupdf

from corpusmill.extractors.pdf import ocr_rapid, ocr_samples
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.extractors.pdf.metrics import char_error_rate
from corpusmill.extractors.pdf.ocr_tesseract import available_langs, choose_langs, recognize
from corpusmill.extractors.pdf.ocr_words import words_to_blocks
from tests.pdf_cases import read_in_process

UNSPACED = {"Han", "Thai"}


def pages(script: str, count: int, dpi: int) -> list[tuple[Any, str]]:
    """`count` rendered pages of `script` with their true text."""
    out = []
    for seed in range(count):
        doc = pymupdf.open()
        text = ocr_samples.script_text(script, sentences=8, seed=seed)
        page = ocr_samples.shaped_page(doc, text, script=script)
        out.append((page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY), text))
    return out


def cer(script: str, truth: str, text: str) -> float:
    if script in UNSPACED:
        truth, text = "".join(truth.split()), "".join(text.split())
    return char_error_rate(truth, text)


def _tesseract(script: str, dpi: int, available: set[str], name: str) -> Callable[[Any], str]:
    langs = choose_langs(None, script, available)
    zoom = dpi / 72.0

    def read(pix: Any) -> str:
        return "\n".join(b.text for b in recognize(pix, langs, zoom)[0])

    read.__name__ = name.format(langs=langs)
    return read


def tesseract(script: str, dpi: int) -> Callable[[Any], str]:
    return _tesseract(script, dpi, available_langs(), "tesseract {langs}")


def tesseract_before(script: str, dpi: int) -> Callable[[Any], str]:
    """The previous default: language packs eng (+ chi_sim for Han) whatever the script."""
    return _tesseract(script, dpi, {"eng", "chi_sim"}, "tesseract {langs} (before)")


def rapidocr(script: str, dpi: int) -> Callable[[Any], str]:
    zoom = dpi / 72.0

    def read(pix: Any) -> str:
        return "\n".join(b.text for b in words_to_blocks(ocr_rapid.recognize(pix), zoom))

    read.__name__ = ocr_rapid.version()
    return read


def measure(script: str, read: Callable[[Any], str], rendered: list[tuple[Any, str]]) -> tuple[float, float]:
    """(mean CER, pages/s) of `read` over `rendered`."""
    start, errors = time.perf_counter(), []
    for pix, truth in rendered:
        errors.append(cer(script, truth, read(pix)))
    return sum(errors) / len(errors), len(rendered) / (time.perf_counter() - start)


def glyph_order_pages(scripts: list[str], count: int) -> None:
    """Shaped-script PDFs whose text layer is in glyph order: what the text layer gives (the
    previous route kept it) vs what extraction gives now (routed to OCR)."""
    print("\n| script | route now | text layer CER (before) | extracted CER (now) |\n| --- | --- | ---: | ---: |")
    for script in scripts:
        before, after, whys = [], [], set()
        for seed in range(count):
            data, truth = ocr_samples.shaped_text_pdf(script, seed=seed)
            layer = "\n".join(b[4] for b in pymupdf.open("pdf", data)[0].get_text("blocks"))
            text, read = read_in_process(data, PdfConfig(ocr="tesseract"))
            before.append(cer(script, truth, layer))
            after.append(cer(script, truth, text))
            whys.add(f"{read[0].route} ({read[0].why})")
        print(
            f"| {script} | {', '.join(sorted(whys))} | {sum(before) / count:.3f} | {sum(after) / count:.3f} |",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=2, help="pages per script")
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--scripts", default=",".join(ocr_samples.SCRIPT_SENTENCES), help="comma-separated")
    ap.add_argument("--routing-only", action="store_true", help="only the glyph-order table")
    ap.add_argument("--quick", action="store_true", help="1 page each of Latin, Han, Bengali, Arabic")
    args = ap.parse_args()
    if args.quick:
        args.pages, args.scripts = 1, "Latin,Han,Bengali,Arabic"
    scripts = args.scripts.split(",")
    glyph_order_pages([s for s in scripts if s not in ("Latin", "Cyrillic", "Han")], args.pages)
    if args.routing_only:
        return
    engines = [tesseract_before, tesseract] + ([rapidocr] if ocr_rapid.available() else [])
    if ocr_rapid.available():
        ocr_rapid._engine()  # load the models before the clock starts, as a worker's setup does
    print("\n| script | engine | CER | pages/s |\n| --- | --- | ---: | ---: |")
    for script in scripts:
        rendered = pages(script, args.pages, args.dpi)
        for make in engines:
            read = make(script, args.dpi)
            error, rate = measure(script, read, rendered)
            print(f"| {script} | {read.__name__} | {error:.3f} | {rate:.2f} |", flush=True)
    if not ocr_rapid.available():
        print("(RapidOCR not installed: pip install 'corpusmill[rapidocr]')")


if __name__ == "__main__":
    main()
