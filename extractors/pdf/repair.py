"""Text-layer repairs on one page's blocks: lost word spaces, drop caps, rotated margin text.

- **Word spaces from glyph gaps.** MuPDF inserts a space where the gap between two glyphs
  exceeds about 0.15 em. Tightly set lines (captions, justified TeX) and PDFs that move the
  pen instead of drawing a space come out as "CompositionofthepretrainingdataforOLMo2.".
  A block with such a run-together token is read again as characters with their boxes
  (`rawdict`, only on pages with such a block: it costs several times the plain text, so
  once per page) and a space goes
  where the gap to the next glyph exceeds the line's typical letter gap by `GAP_EM` of the
  font size.
- **Drop caps.** A large initial is a block of its own beside its paragraph ("O" +
  "ver the past"); it is joined to the paragraph's first word.
- **Rotated margin text** (arXiv stamps, "Downloaded from ..." watermarks running up the
  side) is a single tall, narrow line in the left or right margin; it is dropped.
"""

from __future__ import annotations

from typing import Any

from corpusmill.extractors.pdf.layout import Block

GAP_EM = 0.08  # a gap this share of the font size wider than the typical one is a word space
MIN_RUN = 16  # a token of at least this many letters/digits may be words run together
DROP_CAP_SCALE = 1.6  # a drop cap is at least this many times its paragraph's line height
MARGIN_SIDE = 0.12  # rotated text within this share of the page width from a side
ROTATED_ASPECT = 4.0  # a rotated line is at least this many times taller than wide
ROTATED_MAX_WIDTH = 40.0  # points
ROTATED_MIN_CHARS = 4  # a rotated page number (B-1191) and up


_NOT_PROSE = frozenset("/\\@_=<>{}#&%~|+*^$")  # URLs, e-mail addresses, code, formulas
MEAN_TOKEN = 8.0  # characters per whitespace-separated token above which a block is checked


def _spaced_letters(token: str) -> int:
    """Letters of scripts written with spaces between words (Latin, Greek, Cyrillic, Armenian):
    Chinese, Japanese or Thai text has no spaces to restore, only letter spacing."""
    return sum(1 for c in token if c < "\u0530" and c.isalpha())


def has_run_together(text: str) -> bool:
    """A whitespace-free token with MIN_RUN or more letters that is no URL, address or code.

    Runs on every block, so a block is only split into tokens when its tokens are long on
    average (prose averages 5-6 characters): words run together make whole lines, captions
    or pages so; a single long word amid normal text is not looked at.
    """
    if len(text) < MIN_RUN or len(text) < MEAN_TOKEN * (text.count(" ") + text.count("\n") + 1):
        return False
    for token in text.split():
        if len(token) >= MIN_RUN and _spaced_letters(token) >= MIN_RUN and not _NOT_PROSE.intersection(token):
            return True
    return False


def _line_text(chars: list[tuple[str, float, float, float]]) -> str:
    """One line's characters `(c, x0, x1, size)` with a space wherever the gap to the next
    glyph exceeds the line's typical letter gap by GAP_EM of the font size. Measured from
    the typical gap, not from zero, so that a line set with tight tracking, or a font whose
    widths are too wide (glyph boxes overlapping), still shows its word gaps."""
    gaps = sorted(b[1] - a[2] for a, b in zip(chars, chars[1:], strict=False) if not (a[0] + b[0]).isspace())
    base = min(gaps[len(gaps) // 2], 0.0) if gaps else 0.0  # only ever lowers the bar
    out: list[str] = []
    prev: tuple[str, float, float, float] | None = None
    for ch in chars:
        c, x0, _, size = ch
        if (
            prev is not None
            and x0 - prev[2] - base > GAP_EM * size
            and not c.isspace()
            and not prev[0].isspace()
            and c < "\u0530"  # never between CJK or Thai letters (letter-spaced, not words)
            and prev[0] < "\u0530"
        ):
            out.append(" ")
        out.append(c)
        prev = ch
    return "".join(out)


def page_lines(page: Any, flags: int) -> list[dict[str, Any]]:
    """The page's horizontal text lines with their characters (pymupdf `rawdict`): read once
    per page that needs them, however many of its blocks are respaced."""
    return [
        line
        for block in page.get_text("rawdict", flags=flags)["blocks"]
        for line in block.get("lines", ())
        if tuple(round(v, 3) for v in line["dir"]) == (1.0, 0.0)  # rotated lines keep MuPDF's spacing
    ]


def respace_block(lines: list[dict[str, Any]], bbox: tuple[float, float, float, float], text: str) -> str:
    """`text` (one raw block's, with box `bbox`) with word spaces restored from the glyph
    gaps of the page `lines` inside the box, one line per line.

    The text only changes when the characters read again are the block's own, spaces aside.
    """
    x0, y0, x1, y1 = bbox
    out: list[str] = []
    for line in lines:
        lx0, ly0, lx1, ly1 = line["bbox"]
        if not (x0 - 0.5 <= (lx0 + lx1) / 2 <= x1 + 0.5 and y0 - 0.5 <= (ly0 + ly1) / 2 <= y1 + 0.5):
            continue
        chars = [
            (ch["c"], ch["bbox"][0], ch["bbox"][2], span["size"]) for span in line["spans"] for ch in span["chars"]
        ]
        if chars:
            out.append(_line_text(chars))
    respaced = "\n".join(out)
    if "".join(respaced.split()) != "".join(text.split()):
        return text
    return respaced


def is_rotated_margin(block: tuple, page: Any) -> bool:
    """A raw block that is one tall, narrow line in the left or right margin: rotated side text."""
    x0, y0, x1, y1, text = block[:5]
    width, height = x1 - x0, y1 - y0
    if width <= 0 or width > ROTATED_MAX_WIDTH or height < ROTATED_ASPECT * width:
        return False
    if "\n" in text.strip() or len(text.strip()) < ROTATED_MIN_CHARS:
        return False
    page_rect = page.cropbox  # text coordinates are those of the unrotated page
    side = MARGIN_SIDE * page_rect.width
    return x1 <= page_rect.x0 + side or x0 >= page_rect.x1 - side


def join_drop_caps(blocks: list[Block]) -> list[Block]:
    """Blocks with each drop cap (a big single letter) joined to the paragraph beside it."""
    caps = [b for b in blocks if len(b.text) == 1 and b.text.isalpha() and b.kind == "text"]
    if not caps:
        return blocks
    out = list(blocks)
    for cap in caps:
        cap_h = cap.y1 - cap.y0
        best: Block | None = None
        for other in out:
            if other is cap or other.kind != "text" or other.text[:1].isspace():
                continue
            line_h = (other.y1 - other.y0) / max(other.lines, 1)
            beside = cap.x0 - 2 <= other.x0 <= cap.x1 + 24 and other.x1 > cap.x1
            top_aligned = abs(other.y0 - cap.y0) <= cap_h * 0.5
            if beside and top_aligned and cap_h >= DROP_CAP_SCALE * line_h:
                if best is None or other.y0 < best.y0:
                    best = other
        if best is None:
            continue
        joined = best._replace(
            x0=min(best.x0, cap.x0), y0=min(best.y0, cap.y0), y1=max(best.y1, cap.y1), text=cap.text + best.text
        )
        out = [joined if b is best else b for b in out if b is not cap]
    return out
