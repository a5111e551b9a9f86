"""Dev-set evaluation and threshold calibration of a language identifier.

Sentences are SIB-200 dev lines; paragraphs are the 99 cyclic windows of 5 consecutive
dev sentences of a language joined by spaces (sentence i..i+4, wrapping around), so
every language gets 99 paragraphs and every sentence appears in 5 of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from annotators.langid.model import UND, DocLabel
from annotators.langid.sib200 import read_split

PARAGRAPH_SENTENCES = 5
# Thresholds above this would also reject long, clean paragraphs of close languages.
MAX_THRESHOLD = 0.5
_GRID = [round(0.05 * i, 2) for i in range(int(MAX_THRESHOLD / 0.05) + 1)]


def paragraphs(sentences: list[str], size: int = PARAGRAPH_SENTENCES) -> list[str]:
    n = len(sentences)
    return [" ".join(sentences[(i + j) % n] for j in range(size)) for i in range(n)]


def dev_predictions(
    label_text: Callable[[str], DocLabel], root: Path, codes: list[str], *, paragraph: bool
) -> dict[str, list[DocLabel]]:
    """The labeler's answers on each language's dev sentences or paragraphs."""
    out = {}
    for code in codes:
        texts = read_split(root, code, "dev")
        if paragraph:
            texts = paragraphs(texts)
        out[code] = [label_text(text) for text in texts]
    return out


def accuracy(predictions: dict[str, list[DocLabel]]) -> dict[str, float]:
    return {
        code: sum(doc.lang == code for doc in docs) / len(docs) for code, docs in predictions.items()
    }


def calibrate(predictions: dict[str, list[DocLabel]], ambiguous: dict[str, set[int]]) -> dict[str, float]:
    """Per predicted language, the threshold that maximizes right minus wrong answers kept.

    Answers below a language's threshold become `und`; an answer is kept only where, on
    dev, answers of that score were more often right than wrong. Ties go to the lower
    threshold, and thresholds are capped at MAX_THRESHOLD. `ambiguous` lines (the same
    sentence under several labels) are left out: no answer to them can be right.
    """
    answers: dict[str, list[tuple[float, bool]]] = {}
    for code, docs in predictions.items():
        for i, doc in enumerate(docs):
            if doc.lang != UND and i not in ambiguous.get(code, ()):
                answers.setdefault(doc.lang, []).append((doc.score, doc.lang == code))
    thresholds = {}
    for lang, scored in sorted(answers.items()):
        gains = [sum(1 if right else -1 for score, right in scored if score >= t) for t in _GRID]
        thresholds[lang] = _GRID[gains.index(max(gains))]
    return thresholds
