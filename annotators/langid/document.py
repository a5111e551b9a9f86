"""Whole-document evidence: which pieces of a document are read, and how their answers
become the document's language distribution.

A document of up to `WHOLE_BYTES` is read whole, as paragraph chunks. A longer one is read
as up to `MAX_WINDOWS` windows at evenly spaced positions from its first byte to its last:
four first (first, last and two between); the rest only when those four disagree, are
boilerplate or hold no language. A one-language document costs four small windows; a book
with a licence header or a bilingual page costs sixteen; no document costs more.

Each piece votes for its label with its visible characters times its boilerplate factor
(`boilerplate.weight`: licence blocks a tenth, navigation a fifth); lines repeated across
the pieces count once. `lang` is the label with the most votes (`und` included: a file
that is mostly code or noise is `und`); `langs` lists the top languages and their shares.
"""

from __future__ import annotations

from corpusmill.annotators.langid.boilerplate import drop_repeated_lines
from corpusmill.annotators.langid.boilerplate import weight as boilerplate_weight
from corpusmill.annotators.langid.calibration import IDENTITY, Calibration
from corpusmill.annotators.langid.model import UND, ChunkLabel, DocLabel, LidModel, main_script
from corpusmill.annotators.langid.sample import WHOLE_BYTES, Span
from corpusmill.annotators.langid.text import chunks as split_chunks
from corpusmill.annotators.sib200 import LIKE_STANDARD_ARABIC, STANDARD_ARABIC

# Windows read first, before deciding whether the document needs the rest.
FIRST_WINDOWS = 4
# `langs` lists at most this many languages, each with at least this share.
TOP_LANGS = 3
MIN_SHARE = 0.05


def label_span(model: LidModel, span: Span) -> DocLabel:
    """The language distribution of one document, read as bounded pieces of its bytes."""
    if span.size <= WHOLE_BYTES:
        return _label_pieces(model, split_chunks(span.text()))
    n = span.windows()
    first = sorted({round(k * (n - 1) / (FIRST_WINDOWS - 1)) for k in range(FIRST_WINDOWS)})
    seen: set[str] = set()
    pieces = drop_repeated_lines([span.window(k, n) for k in first], seen)
    factors = [boilerplate_weight(piece) for piece in pieces]
    labels = model.classify(pieces, weights=_weights(pieces, factors))
    if _agree(labels, factors):
        return model.aggregate(labels)
    rest = [k for k in range(n) if k not in first]
    more = drop_repeated_lines([span.window(k, n) for k in rest], seen)
    labels += model.classify(more, weights=_weights(more, [boilerplate_weight(piece) for piece in more]))
    return model.aggregate(labels)


def label_string(model: LidModel, text: str) -> DocLabel:
    data = text.encode("utf-8")
    return label_span(model, Span(memoryview(data), 0, len(data)))


def _label_pieces(model: LidModel, pieces: list[str]) -> DocLabel:
    factors = [boilerplate_weight(piece) for piece in pieces]
    return model.aggregate(model.classify(pieces, weights=_weights(pieces, factors)))


def _weights(pieces: list[str], factors: list[float]) -> list[float]:
    return [_visible(piece) * factor for piece, factor in zip(pieces, factors)]


def _visible(text: str) -> int:
    return len(text) - sum(text.count(space) for space in " \n\t\r")


def _agree(labels: list[ChunkLabel], factors: list[float]) -> bool:
    """Whether the first windows settle the document: one language, all prose."""
    return len({label.label for label in labels}) == 1 and labels[0].label != UND and min(factors) == 1.0


def aggregate(
    chunks: list[ChunkLabel], *, thresholds: dict[str, float] | None = None, calibration: Calibration = IDENTITY
) -> DocLabel:
    """The label with the most votes, its calibrated score and the distribution.

    `score` is the vote-weighted mean probability of the pieces given `lang`, mapped
    through the calibration of its length band; below the language's threshold the
    answer is `und` (or Standard Arabic for the varieties whose text mostly is).
    `mix` is the share of the votes not for `lang`.
    """
    votes: dict[str, float] = {}
    for chunk in chunks:
        votes[chunk.label] = votes.get(chunk.label, 0.0) + chunk.votes
    total = sum(votes.values())
    if total <= 0:
        return DocLabel(UND, 0.0, 0.0, main_script(chunks))
    lang = max(votes, key=lambda label: (votes[label], label != UND, label))
    langs = tuple(
        (label, votes[label] / total)
        for label in sorted((v for v in votes if v != UND), key=lambda v: (-votes[v], v))[:TOP_LANGS]
        if votes[label] / total >= MIN_SHARE
    )
    mix = 1.0 - votes[lang] / total
    if lang == UND:
        return DocLabel(UND, 0.0, mix, main_script(chunks), langs)
    mine = [chunk for chunk in chunks if chunk.label == lang]
    weight = sum(chunk.votes for chunk in mine)
    raw = sum(chunk.votes * chunk.score for chunk in mine) / weight if weight > 0 else 0.0
    letters = sum(chunk.letters for chunk in mine)
    # The script alone answered: its share of letters is the score, no calibration needed.
    score = raw if all(chunk.direct for chunk in mine) else calibration(raw, letters)
    if raw < (thresholds or {}).get(lang, 0.0):
        if lang in LIKE_STANDARD_ARABIC:
            return DocLabel(STANDARD_ARABIC, score, mix, "Arab", langs)
        return DocLabel(UND, score, mix, main_script(chunks), langs)
    return DocLabel(lang, score, mix, lang.rsplit("_", 1)[-1], langs)
