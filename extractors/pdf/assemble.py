"""Pages into one document: running heads and page numbers removed, pages in order.

Lines at the top or bottom edge of a page whose text (digits ignored, so "Page 3" matches
"Page 4") recurs on a good share of the pages are running heads, footers or page numbers;
they are dropped from every page. Blocks in the margin band that read like boilerplate by
their own form (`boilerplate`: page numbers, DOIs, licences, watermarks) go too, on any
page, so that a one-page document loses them as well. Each page's place in the text is kept in the meta as
character offsets, so nothing about the page structure is lost by joining.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from corpusmill.extractors.pdf.boilerplate import page_boilerplate
from corpusmill.extractors.pdf.layout import Block
from corpusmill.extractors.pdf.textclean import join_blocks, normalize_whitespace

PAGE_SEPARATOR = "\n\n"
EDGE_SHARE = 0.1  # the top and bottom tenth of a page hold running heads and footers
MIN_REPEAT_PAGES = 3
REPEAT_SHARE = 0.4  # a line on at least this share of pages is boilerplate
MAX_EDGE_CHARS = 160
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class PageText:
    number: int  # 0-based
    blocks: list[Block]
    height: float


def _edge_key(block: Block, height: float) -> str | None:
    """Normalized text of a block sitting at the top or bottom edge, else None."""
    if block.kind != "text" or len(block.text) > MAX_EDGE_CHARS or height <= 0:
        return None
    if block.y1 > height * EDGE_SHARE and block.y0 < height * (1 - EDGE_SHARE):
        return None
    return " ".join(_DIGITS.sub("#", block.text.lower()).split())


def repeated_edges(pages: list[PageText]) -> set[str]:
    """Edge texts that recur on enough pages to be boilerplate."""
    if len(pages) < MIN_REPEAT_PAGES:
        return set()
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({k for b in page.blocks if (k := _edge_key(b, page.height))})
    need = max(MIN_REPEAT_PAGES, REPEAT_SHARE * len(pages))
    return {key for key, n in counts.items() if n >= need}


def page_text(page: PageText, boilerplate: set[str]) -> tuple[str, int]:
    """The page's text without boilerplate edge lines; also how many blocks were dropped.

    Repeated edge lines (`boilerplate`) and, on any page, margin blocks whose form is
    boilerplate (`page_boilerplate`) are dropped.
    """
    own = page_boilerplate(page.blocks, page.height)
    kept = [
        b.text
        for b, drop in zip(page.blocks, own, strict=True)
        if not drop and not (boilerplate and _edge_key(b, page.height) in boilerplate)
    ]
    return normalize_whitespace(join_blocks(kept)), len(page.blocks) - len(kept)


def join_pages(texts: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Pages joined by PAGE_SEPARATOR, with each page's (start, end) character offsets."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for text in texts:
        if parts and text:
            pos += len(PAGE_SEPARATOR)
        spans.append((pos, pos + len(text)))
        if text:
            parts.append(text)
            pos += len(text)
    return PAGE_SEPARATOR.join(parts), spans
