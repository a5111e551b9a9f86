"""Is an OCR answer text, or patterns read into noise? Kept only if it passes.

OCR always answers something: a blank or photo-only page yields a few characters ("4)")
or a screen of symbol soup. Dictionary-free tests decide, in this order, each with its own
reason code (the page becomes a page dead letter with it):

| test | reason |
| --- | --- |
| no word recognized | `ocr_no_text` |
| fewer than `min_letters` letters | `ocr_too_short` |
| mean word confidence (Tesseract, RapidOCR; weighted by length) below `min_confidence` | `ocr_low_confidence` |
| letters below `min_letter_share` of the non-space characters, or the text's word-shape score (`analysis.text_signals`) below `min_score` | `ocr_garbage` |
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from corpusmill.errors import ConfigError
from corpusmill.extractors.pdf.analysis import text_signals


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float  # 0-100; negative when the engine gives none


@dataclass(frozen=True)
class OcrCheck:
    """Thresholds of the acceptance test (see the module docstring)."""

    min_letters: int = 12
    min_confidence: float = 55.0
    min_letter_share: float = 0.5
    min_score: float = 0.4

    def __post_init__(self) -> None:
        if self.min_letters < 0 or not 0 <= self.min_confidence <= 100:
            raise ConfigError("min_letters must be >= 0 and min_confidence in [0, 100]")


@dataclass(frozen=True)
class Verdict:
    reason: str | None  # None: keep the text
    stats: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.reason is None


def _mark(ch: str) -> bool:
    # Marks count as letters: Indic vowel signs are half of some words.
    return unicodedata.category(ch)[0] == "M"


def check_ocr(text: str, words: Sequence[OcrWord] = (), policy: OcrCheck = OcrCheck()) -> Verdict:
    """Judge one page's OCR text; `words` carry the engine's confidences when it has them."""
    nonspace = sum(1 for c in text if not c.isspace())
    letters = sum(1 for c in text if c.isalpha() or _mark(c))
    stats: dict[str, Any] = {"chars": nonspace, "letters": letters}
    if nonspace == 0:
        return Verdict("ocr_no_text", stats)
    if letters < policy.min_letters:
        return Verdict("ocr_too_short", stats)
    scored = [(len(w.text), w.confidence) for w in words if w.confidence >= 0 and w.text.strip()]
    if scored:
        confidence = sum(n * c for n, c in scored) / max(1, sum(n for n, _ in scored))
        stats["confidence"] = round(confidence, 1)
        if confidence < policy.min_confidence:
            return Verdict("ocr_low_confidence", stats)
    score = text_signals(text).score
    stats.update(letter_share=round(letters / nonspace, 3), score=round(score, 3))
    if letters / nonspace < policy.min_letter_share or score < policy.min_score:
        return Verdict("ocr_garbage", stats)
    return Verdict(None, stats)
