"""Boilerplate that one page shows by itself: page numbers, running heads, footers, notices.

The cross-page rule (`assemble.repeated_edges`) needs three pages or more; a one-page PDF,
a chapter or an article's first page keeps its running head under it. These rules look at
one page:

- a block in the top or bottom margin band that reads like boilerplate by its form: a bare
  page number, a DOI, a licence or copyright line, a "Downloaded from" watermark, a journal
  citation line, a short running head with a page number at one end;
- a bare page number a little higher (LaTeX's) with no text beyond it;
- a publisher's notice (ACM's permission block) in the bottom fifth;
- a lone small-print line at the very top or bottom edge;
- a column of line numbers left or right of all the text (transcripts, pleadings).

Text in the band that matches none of these, such as a title that starts high on the page,
stays.
"""

from __future__ import annotations

import re

from corpusmill.extractors.pdf.layout import Block

MARGIN_SHARE = 0.1  # the top and bottom tenth of the page (as `assemble.EDGE_SHARE`)
MAX_CHARS = 240  # a longer block in the band is content (an abstract starting high)
MAX_HEAD_WORDS = 14  # a running head with a page number at one end has at most this many
# A bare page number may sit higher than the margin band (LaTeX puts it at ~83 % of the
# height); within this share of the top or bottom it counts when no text lies beyond it.
NUMBER_SHARE = 0.25
# A lone line in small print at the very top or bottom edge is a running head or footer
# ("Official - Subject to Final Review", a reporter's name) even without a telling form.
EDGE_SHARE = 0.07  # wholly within this share of the height from the top or bottom
SMALL_PRINT = 0.85  # its line height at most this share of the page's median line height
MAX_EDGE_LINE_CHARS = 80  # characters of such a line (twice that for two side by side)
MIN_LINE_NUMBERS = 5  # a column of at least this many consecutive integers numbers the lines

_PAGE_NUMBER = re.compile(
    r"^[-–—\s(\[]*(?:page|p\.|seite|página|pagina|страница)?\s*"
    r"(?:(?:[A-Z]{1,2}[-–.])?\d{1,5}|[ivxlcdm]{1,7})(?:\s*(?:/|of|von|de|sur|из)\s*\d{1,5})?[-–—\s)\]]*$",
    re.IGNORECASE,
)
# Forms that are boilerplate wherever they sit in the band, whatever their length.
_ALWAYS = re.compile(
    r"\bdoi\s*:|doi\.org/|\bdownloaded\s+(?:from|by|on)\b|\baccessed\s+(?:on|from)\b"
    r"|©|\(c\)\s*\d{4}|\bcopyright\b|\ball rights reserved\b|\bcreative\s+commons\b"
    r"|\bcc[\s-]by\b|\blicen[cs]ed?\b|\bpermission\s+of\s+the\s+publisher\b"
    r"|\bissn\b|\bisbn\b|\barxiv:\s*\d{4}\.\d{4,5}|\bpublished\s+(?:online|by)\b"
    r"|\bthis\s+(?:article|paper|content)\s+is\s+(?:protected|licensed|distributed)\b",
    re.IGNORECASE,
)
# A publisher's notice (ACM's permission block, a licence statement) may start higher than the
# margin band; within the bottom NOTICE_SHARE of the page these phrases mark the block as one.
NOTICE_SHARE = 0.2
_NOTICE = re.compile(
    r"permission to make digital or hard copies|all rights reserved|creative commons|licensed under"
    r"|this (?:article|work|paper) is (?:licensed|distributed|an open access)|©\s*(?:19|20)\d{2}|copyright\s*(?:©\s*)?(?:19|20)\d{2}",
    re.IGNORECASE,
)
# Substrings without which _ALWAYS cannot match: a cheap test first, the regex only then.
_ALWAYS_KEYS = (
    "doi",
    "download",
    "accessed",
    "©",
    "(c)",
    "copyright",
    "rights reserved",
    "creative",
    "cc by",
    "cc-by",
    "licen",
    "permission",
    "issn",
    "isbn",
    "arxiv",
    "published",
    "this article",
    "this paper",
    "this content",
)
# A journal citation line: "Journal of X 12 (2021) 45–67", "Vol. 3, No. 2, pp. 1–20".
_CITATION = re.compile(
    r"\b(?:vol\.?|volume|no\.|issue|pp\.)\s*\d|\b\d{1,4}\s*\(\d{4}\)\s*\d|\b(?:19|20)\d{2}\b.*\d+\s*[-–]\s*\d+\s*$",
    re.IGNORECASE,
)
# A running head: a page number at one end of a short line ("12  J. Smith et al.").
# A year ("Effective as at 9 April 2019", "2019 Annual Report") is not a page number.
_HEAD_NUMBER = re.compile(r"^\s*(?!(?:18|19|20)\d\d\b)\d{1,4}\s+\S|\S\s+(?!(?:18|19|20)\d\d\b)\d{1,4}\s*$")
_ET_AL = re.compile(r"\bet\s+al\.?", re.IGNORECASE)
_LABEL_NUMBER = re.compile(
    r"(?:(?<!\d)[=:#]|\b(?:length|size|value|level|step|item|phase|question|exercise|lecture|week|session|version|no\.?|number))\s*\d{1,4}\s*$",
    re.IGNORECASE,
)
# ...but a heading that ends in its number ("Chapter 3", "Table 2") is content.
_HEADING = re.compile(r"^(?:chapter|section|part|table|figure|fig\.|appendix|step|lesson|unit|book)\b", re.IGNORECASE)


def in_margin(block: Block, height: float, share: float = MARGIN_SHARE) -> bool:
    """The block lies wholly in the top or bottom `share` of a page `height` points tall."""
    return height > 0 and (block.y1 <= height * share or block.y0 >= height * (1 - share))


def looks_like_boilerplate(text: str) -> bool:
    """`text` (one block of the margin band) reads like a page number, running head or footer."""
    text = " ".join(text.split())
    if not text or len(text) > MAX_CHARS:
        return False
    low = text.lower()
    if _PAGE_NUMBER.match(text) or (any(k in low for k in _ALWAYS_KEYS) and _ALWAYS.search(text)):
        return True
    words = len(text.split())
    if words > MAX_HEAD_WORDS or _HEADING.match(text):
        return False
    # A short line that cites a journal or names authors "et al.": a running head.
    if _CITATION.search(text) or _ET_AL.search(text):
        return True
    # A page number at one end of a line of three words or more; "Heading 1", "Value 1" or
    # "Radius = 0" are labels, not running heads.
    return words >= 3 and bool(_HEAD_NUMBER.search(text)) and not _LABEL_NUMBER.search(text)


def is_page_boilerplate(block: Block, height: float) -> bool:
    """True for a text block in the margin band whose form is boilerplate (see module doc)."""
    return block.kind == "text" and in_margin(block, height) and looks_like_boilerplate(block.text)


def _outermost_number(block: Block, blocks: list[Block], height: float) -> bool:
    """A bare page number in the outer NUMBER_SHARE of the page with no other block beyond it."""
    if block.kind != "text" or len(block.text) > 16:
        return False
    if block.y0 >= height * (1 - NUMBER_SHARE):
        beyond = all(b.y1 <= block.y0 + 1 for b in blocks if b is not block)
    elif block.y1 <= height * NUMBER_SHARE:
        beyond = all(b.y0 >= block.y1 - 1 for b in blocks if b is not block)
    else:
        return False
    return beyond and bool(_PAGE_NUMBER.match(block.text.strip()))


def _notice(block: Block, height: float) -> bool:
    """A publisher's notice block in the bottom NOTICE_SHARE of the page (see _NOTICE)."""
    return (
        block.kind == "text"
        and block.y0 >= height * (1 - NOTICE_SHARE)
        and len(block.text) <= 4 * MAX_CHARS
        and bool(_NOTICE.search(block.text))
    )


def line_numbers(blocks: list[Block]) -> set[int]:
    """Indices of a column of line numbers (court transcripts, pleadings, manuscripts under
    review): at least MIN_LINE_NUMBERS blocks that are bare integers, right-aligned on one x
    left (or right) of all other text, counting up by one from top to bottom."""
    numbers = [
        (i, b) for i, b in enumerate(blocks) if b.kind == "text" and len(b.text) <= 4 and b.text.strip().isdigit()
    ]
    if len(numbers) < MIN_LINE_NUMBERS:
        return set()
    # Line numbers stand beside all the text; a column of row numbers inside a table does not.
    others = [b for b in blocks if b.kind != "text" or not b.text.strip().isdigit()]
    left = min((b.x0 for b in others), default=float("inf"))
    right = max((b.x1 for b in others), default=float("-inf"))
    numbers = [(i, b) for i, b in numbers if b.x1 <= left + 1 or b.x0 >= right - 1]
    by_edge: dict[int, list[tuple[int, Block]]] = {}
    for i, b in numbers:
        by_edge.setdefault(round(b.x1 / 3), []).append((i, b))
    found: set[int] = set()
    for column in by_edge.values():
        column.sort(key=lambda ib: ib[1].y0)
        values = [int(b.text.strip()) for _, b in column]
        steps = sum(1 for a, b in zip(values, values[1:], strict=False) if b == a + 1)
        if len(column) >= MIN_LINE_NUMBERS and steps >= 0.8 * (len(column) - 1):
            found.update(i for i, _ in column)
    return found


def _line_height(block: Block) -> float:
    return (block.y1 - block.y0) / max(block.lines, 1)


def small_print_edges(blocks: list[Block], height: float) -> set[int]:
    """Indices of lone small-print lines at the very top or bottom edge (see EDGE_SHARE):
    a block no taller than SMALL_PRINT of the page's typical line height (so one line, in a
    smaller size), outermost on the page."""
    text = [b for b in blocks if b.kind == "text"]
    if len(text) < 4:
        return set()
    heights = sorted(_line_height(b) for b in text)
    typical = heights[len(heights) // 2]
    found = set()
    for i, b in enumerate(blocks):
        # One visual line: a browser's print header puts title and address side by side,
        # two "lines" on one baseline.
        if b.kind != "text" or len(b.text) > 2 * MAX_EDGE_LINE_CHARS or b.y1 - b.y0 > SMALL_PRINT * typical:
            continue
        others = [o for o in text if o is not b]
        if b.y1 <= height * EDGE_SHARE and all(o.y0 >= b.y1 - 1 for o in others):
            found.add(i)
        elif b.y0 >= height * (1 - EDGE_SHARE) and all(o.y1 <= b.y0 + 1 for o in others):
            found.add(i)
    return found


def page_boilerplate(blocks: list[Block], height: float) -> list[bool]:
    """For each block of one page: True when it is boilerplate by its own form and place."""
    if height <= 0:
        return [False] * len(blocks)
    by_layout = line_numbers(blocks) | small_print_edges(blocks, height)
    return [
        i in by_layout or is_page_boilerplate(b, height) or _outermost_number(b, blocks, height) or _notice(b, height)
        for i, b in enumerate(blocks)
    ]
