"""What runs inside the child process: open one PDF, analyze, route and read its pages.

Everything that parses untrusted bytes happens here (see `isolate`). Pages are yielded one
at a time, each preceded by a `Progress(page)` marker, so that the parent knows which page
was in progress if the child hangs or dies and can restart after it. Text-layer pages come
first; OCR pages are read at the end, when the text pages have shown the document's script
(the language hint for Tesseract).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pymupdf

from corpusmill.errors import RecordError
from corpusmill.extractors.pdf.analysis import analyze_page
from corpusmill.extractors.pdf.config import NO_OCR, TESSERACT, VLM, PdfConfig
from corpusmill.extractors.pdf.ink import look
from corpusmill.extractors.pdf.isolate import Progress
from corpusmill.extractors.pdf.layout import Block
from corpusmill.extractors.pdf.ocr_cpu import read_page
from corpusmill.extractors.pdf.render import render_upright, zoom_for
from corpusmill.extractors.pdf.route import OCR, route_page
from corpusmill.extractors.pdf.script_check import shaped_script
from corpusmill.extractors.pdf.tables import may_hold_table
from corpusmill.extractors.pdf.text_layer import TEXT_FLAGS, raw_blocks, text_layer_blocks

PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024  # the PDF spec lets the header start anywhere in the first KiB


@dataclass(frozen=True)
class DocInfo:
    pages: int
    repaired: bool
    encrypted: bool  # encrypted, opened with the empty user password


@dataclass
class PageResult:
    """One page as read in the child; `image` is set when the VLM still has to read it."""

    number: int
    route: str
    why: str
    signals: dict[str, Any]
    height: float
    blocks: list[Block] = field(default_factory=list)
    engine: str | None = None
    engine_version: str | None = None
    rotation: int = 0
    image: bytes | None = None
    error: tuple[str, str] | None = None  # (reason, message): the page could not be read
    tokens: tuple[int, int] | None = None  # VLM prompt and completion tokens
    script_hint: str = ""  # the script the page's own text layer shows (for the OCR model)


def open_pdf(data: bytes, max_pages: int) -> tuple[Any, DocInfo]:
    """Open PDF bytes, or raise RecordError with a dead-letter reason."""
    if PDF_MAGIC not in data[:MAGIC_WINDOW]:
        raise RecordError("not_a_pdf", "file does not start with a %PDF- header")
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:
        raise RecordError("corrupt_pdf", f"cannot parse PDF: {exc}") from exc
    if doc.needs_pass and not doc.authenticate(""):
        doc.close()
        raise RecordError("encrypted", "PDF is encrypted with a user password; supply a decrypted copy")
    # Encrypted with an empty user password (owner password only): readable, noted in meta.
    encrypted = bool((doc.metadata or {}).get("encryption"))
    if doc.page_count == 0:
        if doc.is_repaired:  # MuPDF rebuilt the file from its objects and found no page
            raise RecordError("corrupt_pdf", "PDF is damaged beyond repair (no page found)")
        raise RecordError("no_pages", "PDF has zero pages")
    if doc.page_count > max_pages:
        raise RecordError("too_many_pages", f"PDF has {doc.page_count} pages, limit is {max_pages} (max_pages)")
    return doc, DocInfo(doc.page_count, bool(doc.is_repaired), encrypted)


def _read_text_page(page: Any, config: PdfConfig) -> PageResult:
    raw = raw_blocks(page, page.get_textpage(flags=TEXT_FLAGS))
    # Listing vector paths costs about as much as reading the text: only where tables may be.
    paths = page.get_cdrawings() if may_hold_table(raw) else []
    analysis = analyze_page(page, "\n".join(b[4] for b in raw), paths)
    decision = route_page(analysis, config.route)
    # Block coordinates are those of the unrotated page, whose height the cropbox gives.
    result = PageResult(page.number, decision.route, decision.why, analysis.as_meta(), page.cropbox.height)
    if decision.route != OCR:
        result.blocks = text_layer_blocks(page, raw, paths)
    elif analysis.text.implausible_ratio:
        # A shaped script in glyph order: its letters still name the script, even where
        # unmapped glyphs (read as Latin) outnumber them.
        result.script_hint = shaped_script("\n".join(b[4] for b in raw))
    elif analysis.text.chars >= config.route.min_chars and analysis.text.garbage_ratio < config.route.max_garbage:
        result.script_hint = analysis.text.script
    return result


def _read_ocr_page(page: Any, result: PageResult, config: PdfConfig, script: str) -> None:
    ink = look(page)
    if ink.blank and ink.decode_error:
        result.error = ("image_decode_error", f"page images cannot be decoded ({ink.decode_error})")
        return
    if ink.blank:
        # Nothing printed: OCR would read patterns into paper grain and show-through.
        result.why = "blank_scan"
        return
    engine = config.ocr_engine
    if engine == NO_OCR:
        why = (
            "OCR is off (--ocr off)"
            if config.ocr == "off"
            else ("no OCR engine: give --llm-url (a VLM server) or install Tesseract (tesseract-ocr)")
        )
        result.error = ("ocr_unavailable", f"page needs OCR ({result.why}) but {why}")
    elif engine == TESSERACT:
        read = read_page(
            page,
            configured=config.ocr_langs,
            page_script=result.script_hint,
            doc_script=script,
            dpi=config.ocr_dpi,
            detect_orientation=config.detect_orientation,
        )
        result.height, result.rotation = read.height, read.rotation
        result.engine, result.engine_version = read.engine, read.engine_version
        verdict = read.verdict
        result.signals["ocr_check"] = verdict.stats
        if verdict.reason is None:
            result.blocks = read.blocks
        else:
            result.error = (verdict.reason, f"OCR output rejected ({verdict.reason}): {verdict.stats}")
    elif engine == VLM:
        zoom = zoom_for(page, config.vlm_longest_side)
        pix, result.rotation = render_upright(page, zoom, detect=config.detect_orientation)
        result.image = pix.tobytes("png")


def _guarded(page_no: int, height: float, work: Any, *args: Any) -> Any:
    """Run `work(*args)`; a page that raises becomes a failed PageResult instead of killing the document."""
    try:
        return work(*args)
    except MemoryError:
        raise  # the child is in trouble: let the parent restart it
    except Exception as exc:
        return PageResult(page_no, "failed", "error", {}, height, error=("page_error", f"{type(exc).__name__}: {exc}"))


def extract_pages(
    data: bytes, config: PdfConfig, skip: frozenset[int] = frozenset(), script_hint: str = ""
) -> Iterator[DocInfo | Progress | PageResult]:
    """Yield DocInfo, then for each page not in `skip`: Progress(page), PageResult."""
    doc, info = open_pdf(data, config.max_pages)
    yield info
    scripts: Counter[str] = Counter({script_hint: 1} if script_hint else {})
    pending: list[PageResult] = []
    with doc:
        for number in range(doc.page_count):
            if number in skip:
                continue
            yield Progress(number)
            result = _guarded(number, 0.0, _read_text_page, doc[number], config)
            if info.repaired and result.why == "blank":
                # In a file MuPDF had to rebuild, an empty page is most likely a lost one.
                result.error = ("damaged_page", "page is empty in a damaged PDF (rebuilt on opening); content lost")
            if result.route == OCR and result.error is None:
                pending.append(result)
                continue
            if result.route != "failed" and result.signals.get("script"):
                scripts[result.signals["script"]] += result.signals["chars"]
            yield result
        script = scripts.most_common(1)[0][0] if scripts else ""
        for result in pending:
            yield Progress(result.number)
            failed = _guarded(result.number, result.height, _read_ocr_page, doc[result.number], result, config, script)
            yield failed if isinstance(failed, PageResult) else result
