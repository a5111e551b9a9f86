"""Recognized words (box, text, confidence) into the blocks the text route uses.

Both CPU engines answer with positioned words or lines and a confidence each: Tesseract's
TSV output, RapidOCR's text lines. Turning them into `layout.Block`s lets OCR pages go
through the same reading order and line joining as a text layer, and keeps the
confidences for the acceptance check (`ocr_check`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import regex

from corpusmill.extractors.pdf.layout import Block
from corpusmill.extractors.pdf.ocr_check import OcrWord
from corpusmill.extractors.pdf.text_layer import to_blocks

# Scripts written without spaces between words: engines split them into syllables or
# characters ("ภา ษา ไท ย"); the spaces between two such letters are the engine's, not the text's.
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
_ENGINE_SPACE = regex.compile(rf"(?<=[{_UNSPACED}][\p{{M}}]*) +(?=[{_UNSPACED}])")
# Indic models end words in a zero-width non-joiner after a virama; at a word's end it
# changes nothing on screen but is a character more to every comparison.
_TRAILING_ZWNJ = regex.compile(r"\u200c+(?=\s|$)")
_RTL = regex.compile(r"[\p{Arabic}\p{Hebrew}\p{Syriac}\p{Thaana}]")
ROW_OVERLAP = 0.5  # fragments overlapping this share of the lower one's height sit on one line
MAX_WORD_GAP = 3.0  # ...when at most this many line heights apart (wider: another column)
TOUCHING = 0.1  # fragments closer than this (in line heights) were cut inside a word
MAX_LINE_GAP = 1.0  # a line this close under the last one (in line heights) continues its paragraph


@dataclass(frozen=True)
class Word:
    """One recognized word (or line) in pixel coordinates of the recognized image."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    confidence: float  # 0-100, negative when unknown
    block: int  # words of one block (paragraph) share this number
    line: int  # ...and of one line within it this one


def clean_line(text: str) -> str:
    """A recognized line without the engine's spaces inside unspaced scripts."""
    return _TRAILING_ZWNJ.sub("", _ENGINE_SPACE.sub("", text))


def to_ocr_words(words: Iterable[Word]) -> list[OcrWord]:
    return [OcrWord(w.text, w.confidence) for w in words]


class _Line(NamedTuple):
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def _fragments(words: list[Word]) -> list[_Line]:
    """The engine's lines, each a box and its words left to right."""
    grouped: dict[tuple[int, int], list[Word]] = {}
    for word in words:
        grouped.setdefault((word.block, word.line), []).append(word)
    out = []
    for members in grouped.values():  # words in the engine's reading order (right to left for Arabic)
        x0, y0 = min(w.x0 for w in members), min(w.y0 for w in members)
        x1, y1 = max(w.x1 for w in members), max(w.y1 for w in members)
        out.append(_Line(x0, y0, x1, y1, " ".join(w.text for w in members)))
    return out


def _same_row(a: _Line, b: _Line) -> bool:
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    height = min(a.y1 - a.y0, b.y1 - b.y0)
    gap = b.x0 - a.x1
    return overlap > ROW_OVERLAP * height and -height < gap < MAX_WORD_GAP * height


def _rows(fragments: list[_Line]) -> list[_Line]:
    """Fragments of one printed line joined: engines cut lines of shaped scripts (the
    Bengali headstroke, tall vowel signs) into pieces they number as separate blocks."""
    rows: list[_Line] = []
    for frag in sorted(fragments, key=lambda f: (f.x0, f.y0)):
        for i, row in enumerate(rows):
            if _same_row(row, frag):
                # Pieces that touch were cut inside a word: no space between them.
                space = "" if frag.x0 - row.x1 < TOUCHING * (row.y1 - row.y0) else " "
                # Right-to-left lines read the piece further right first.
                text = f"{frag.text}{space}{row.text}" if _RTL.search(frag.text) else f"{row.text}{space}{frag.text}"
                rows[i] = _Line(row.x0, min(row.y0, frag.y0), frag.x1, max(row.y1, frag.y1), text)
                break
        else:
            rows.append(frag)
    return sorted(rows, key=lambda r: (r.y0, r.x0))


def _continues(block: list[_Line], line: _Line) -> bool:
    last = block[-1]
    height = last.y1 - last.y0
    overlap = min(last.x1, line.x1) - max(last.x0, line.x0)
    narrower = min(last.x1 - last.x0, line.x1 - line.x0)
    # Tall marks above and below (Thai, Indic) make boxes of successive lines overlap a little.
    return -0.5 * height <= line.y0 - last.y1 < MAX_LINE_GAP * height and overlap > 0.5 * narrower


def words_to_blocks(words: list[Word], scale: float) -> list[Block]:
    """Blocks in reading order, coordinates divided by `scale` (pixels per point).

    The engine's line fragments are joined into printed lines, and lines into paragraphs
    (each directly under the last, overlapping it); then the text route's reading order
    and line joining apply.
    """
    blocks: list[list[_Line]] = []
    for line in _rows(_fragments(words)):
        target = next((b for b in reversed(blocks) if _continues(b, line)), None)
        if target is None:
            blocks.append([line])
        else:
            target.append(line)
    raw = []
    for number, lines in enumerate(blocks):
        box = (min(x.x0 for x in lines), min(x.y0 for x in lines), max(x.x1 for x in lines), max(x.y1 for x in lines))
        text = "\n".join(clean_line(x.text) for x in lines)
        raw.append((*(v / scale for v in box), text, number, 0))
    return to_blocks(None, raw)
