"""Dev-set evaluation and threshold calibration of a language identifier.

Sentences are SIB-200 dev lines; paragraphs are the 99 cyclic windows of 5 consecutive
dev sentences of a language joined by spaces (sentence i..i+4, wrapping around), so
every language gets 99 paragraphs and every sentence appears in 5 of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from corpusmill.annotators.langid.model import UND, DocLabel
from corpusmill.annotators.sib200 import read_language

PARAGRAPH_SENTENCES = 5
# Thresholds above this would also reject long, clean paragraphs of close languages.
MAX_THRESHOLD = 0.5
# A threshold may turn at most this share of a language's right answers into `und`.
MAX_REJECTED = 0.05
# A threshold above 0 must gain at least this many answers (wrong ones dropped minus
# right ones lost) over no threshold.
MIN_GAIN = 3
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
        texts = read_language(root, code, "dev")
        if paragraph:
            texts = paragraphs(texts)
        out[code] = [label_text(text) for text in texts]
    return out


def accuracy(predictions: dict[str, list[DocLabel]]) -> dict[str, float]:
    return {code: sum(doc.lang == code for doc in docs) / len(docs) for code, docs in predictions.items()}


def calibrate(
    sentences: dict[str, list[DocLabel]], paragraphs: dict[str, list[DocLabel]], ambiguous: dict[str, set[int]]
) -> dict[str, float]:
    """Per predicted language, the threshold that maximizes right minus wrong sentences kept.

    Answers below a language's threshold become `und`; an answer is kept where, on dev
    sentences, answers of that score were more often right than wrong. Two bounds keep
    close varieties (which take some of each other's probability) from losing their own
    text: at most MAX_REJECTED of a language's right answers on dev paragraphs may fall
    below its threshold, and no threshold exceeds MAX_THRESHOLD. Ties go to the lower
    threshold, and a threshold must gain at least MIN_GAIN answers over none. `ambiguous`
    sentences (the same line under several labels) are left out.
    """
    answers = _scored(sentences, ambiguous)
    right_paragraphs = {lang: [score for score, ok in scored if ok] for lang, scored in _scored(paragraphs, {}).items()}
    return {lang: _threshold(scored, right_paragraphs.get(lang, [])) for lang, scored in sorted(answers.items())}


def _scored(predictions: dict[str, list[DocLabel]], ambiguous: dict[str, set[int]]) -> dict:
    """Per predicted language, (score, right?) of its answers."""
    answers: dict[str, list[tuple[float, bool]]] = {}
    for code, docs in predictions.items():
        for i, doc in enumerate(docs):
            if doc.lang != UND and i not in ambiguous.get(code, ()):
                answers.setdefault(doc.lang, []).append((doc.score, doc.lang == code))
    return answers


def _threshold(scored: list[tuple[float, bool]], right: list[float]) -> float:
    allowed = [t for t in _GRID if sum(score < t for score in right) <= MAX_REJECTED * len(right)]
    gains = [sum(1 if ok else -1 for score, ok in scored if score >= t) for t in allowed]
    best = gains.index(max(gains))
    # One or two wrong answers on dev are noise, not evidence for a threshold.
    return allowed[best] if gains[best] - gains[0] >= MIN_GAIN else 0.0


# Unseen text (our UD test split): at most this many sentences and paragraphs per language.
UD_SENTENCES = 400
UD_PARAGRAPHS = 80
# Score above which answers must be right this often, per length band (docs/lang_id.md).
CONFIDENT = 0.9


def unseen_text(label_text: Callable[[str], DocLabel], rows: list[tuple[str, str, str]]) -> dict:
    """Per-language sentence and paragraph accuracy on (code, source/doc, text) rows, and per
    length band (characters) how many answers scored >= CONFIDENT and how many were right."""
    by_lang: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        by_lang.setdefault(row[0], []).append(row)
    result: dict = {"sentence": {}, "paragraph": {}, "bands": {}}
    for code, own in sorted(by_lang.items()):
        sentences = [text for _, _, text in own[:UD_SENTENCES]]
        runs = list(_runs(own))[:UD_PARAGRAPHS]
        for kind, texts in (("sentence", sentences), ("paragraph", runs)):
            if not texts:
                continue
            right = 0
            for text in texts:
                doc = label_text(text)
                right += doc.lang == code
                band = result["bands"].setdefault(_band(len(text)), {"texts": 0, "confident": 0, "right": 0})
                band["texts"] += 1
                if doc.lang != UND and doc.score >= CONFIDENT:
                    band["confident"] += 1
                    band["right"] += doc.lang == code
            result[kind][code] = right / len(texts)
    return result


def _runs(rows: list[tuple[str, str, str]]):
    """Consecutive PARAGRAPH_SENTENCES sentences of one document, joined, not overlapping."""
    run: list[str] = []
    key = None
    for _, doc, text in rows:
        if doc != key:
            run, key = [], doc
        run.append(text)
        if len(run) == PARAGRAPH_SENTENCES:
            yield " ".join(run)
            run = []


def _band(chars: int) -> str:
    return "< 50" if chars < 50 else ("50-200" if chars < 200 else ">= 200")


def no_language(label_text: Callable[[str], DocLabel], cases: list[tuple[str, str]]) -> dict[str, list[int]]:
    """Per kind of generated non-language text, [answered und, total]."""
    out: dict[str, list[int]] = {}
    for kind, text in cases:
        counts = out.setdefault(kind, [0, 0])
        counts[0] += label_text(text).lang == UND
        counts[1] += 1
    return out
