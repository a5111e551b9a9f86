"""Shared helpers of the PDF tests: extraction without the child process, small PDFs."""

from __future__ import annotations

import pymupdf

from corpusmill.extractors.pdf.assemble import PageText, join_pages, page_text, repeated_edges
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.extractors.pdf.worker import PageResult, extract_pages


def read_in_process(data: bytes, config: PdfConfig | None = None) -> tuple[str, list[PageResult]]:
    """Text and page results of a PDF, read in this process (the child's code path)."""
    config = config or PdfConfig(ocr="off")
    pages = sorted((x for x in extract_pages(data, config) if isinstance(x, PageResult)), key=lambda p: p.number)
    texts = [PageText(p.number, p.blocks, p.height) for p in pages]
    boilerplate = repeated_edges([t for t in texts if t.blocks])
    return join_pages([page_text(t, boilerplate)[0] for t in texts])[0], pages


def text_pdf(texts: list[str], **kw: object) -> bytes:
    """One page per text, each in a box filling the page."""
    doc = pymupdf.open()
    for text in texts:
        page = doc.new_page()
        page.insert_textbox(pymupdf.Rect(72, 72, 540, 760), text, fontsize=11, **kw)
    return doc.tobytes()
