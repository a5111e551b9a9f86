"""The language identifier: fastText over script-restricted labels, chunk by chunk.

A chunk's writing system decides which labels are possible: a script written by one
language we know (`Grek`, `Thai`, `Geor`...) is answered directly, a script no label
uses gives `und`, and otherwise fastText's probabilities are renormalized over the
labels of that script. A document's label is the letter-weighted vote of its chunks;
a per-language threshold, calibrated on SIB-200 dev, turns weak answers into `und`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import fasttext

from corpusmill.annotators.langid.close_pairs import ClosePairs
from corpusmill.annotators.langid.rules import is_written_cantonese
from corpusmill.annotators.langid.scripts import COMMON, UNKNOWN, ScriptCount, detect_script, label_script
from corpusmill.annotators.langid.text import chunks as split_chunks
from corpusmill.annotators.langid.text import normalize, not_text_share
from corpusmill.annotators.sib200 import LIKE_STANDARD_ARABIC, STANDARD_ARABIC

UND = "und"
_PREFIX = "__label__"
# Fewer letters than this carry no language ("12:30", "p. 4", "© ACME").
MIN_LETTERS = 3
# Text whose non-space characters are mostly digits, punctuation or symbols (tables,
# numbers, ASCII art) is not labeled, whatever its few words say.
MIN_LETTER_SHARE = 0.3
# Text with more control/replacement/private-use characters than this is binary.
MAX_NOT_TEXT_SHARE = 0.05
# Labels asked of fastText per chunk before restricting them to the chunk's script.
TOP_K = 10
# Kanji-only text is usually Chinese, but may be Japanese: keep jpn a candidate.
_EXTRA_CANDIDATES = {"Hani": ("jpn_Jpan",)}


@dataclass(frozen=True)
class ChunkLabel:
    """The answer for one chunk: its label, probability, script and letter count."""

    label: str
    score: float
    script: str
    letters: int


@dataclass(frozen=True)
class DocLabel:
    """The answer for a document (see `aggregate`)."""

    lang: str
    score: float
    mix: float
    script: str


def metadata_path(model_path: Path) -> Path:
    """The JSON file beside the model: name, version, labels and thresholds."""
    return model_path.with_suffix(".json")


def read_metadata(model_path: Path) -> dict:
    return json.loads(metadata_path(model_path).read_text(encoding="utf-8"))


class LidModel:
    """A trained fastText LID model with its script candidates and thresholds."""

    def __init__(
        self, model: fasttext.FastText._FastText, thresholds: dict[str, float], pairs: ClosePairs | None = None
    ) -> None:
        self._model = model
        self.pairs = pairs or ClosePairs([])
        self.labels = [label.removeprefix(_PREFIX) for label in model.get_labels()]
        self.thresholds = thresholds
        self._candidates = _candidates_by_script(self.labels)

    @classmethod
    def load(cls, model_path: Path) -> LidModel:
        """The model, the thresholds of its metadata file and its close-pair models."""
        meta = read_metadata(model_path)
        return cls(fasttext.load_model(str(model_path)), meta["thresholds"], ClosePairs.load(model_path, meta))

    def label_text(self, text: str) -> DocLabel:
        """The language of a (sampled) document: chunk, classify, vote, threshold."""
        if not_text_share(text) > MAX_NOT_TEXT_SHARE:
            return DocLabel(UND, 0.0, 0.0, UNKNOWN)
        labeled = self.classify(split_chunks(text))
        letters = sum(chunk.letters for chunk in labeled)
        visible = len(text) - sum(text.count(space) for space in " \n\t\r")
        if letters < MIN_LETTER_SHARE * visible:
            return DocLabel(UND, 0.0, 0.0, _main_script(labeled))
        return self.aggregate(labeled)

    def classify(self, chunks: list[str]) -> list[ChunkLabel]:
        """Label each chunk; the ones that need the model go to fastText in one call."""
        found: list[ChunkLabel | None] = []
        pending: list[tuple[int, list[str], ScriptCount]] = []
        texts: list[str] = []
        for i, chunk in enumerate(chunks):
            counted = detect_script(chunk)
            candidates = self._candidates.get(counted.script, ())
            if counted.letters < MIN_LETTERS or not candidates:
                found.append(ChunkLabel(UND, 0.0, counted.script, counted.letters))
            elif len(candidates) == 1:
                found.append(ChunkLabel(candidates[0], counted.share, counted.script, counted.letters))
            else:
                found.append(None)
                pending.append((i, candidates, counted))
                texts.append(normalize(chunk))
        if texts:
            labels, probs = self._predict(texts, [candidates for _, candidates, _ in pending])
            for (i, candidates, counted), row_labels, row_probs in zip(pending, labels, probs):
                label, score = _best_of(candidates, row_labels, row_probs)
                pair_model = self.pairs.by_label.get(label)
                if pair_model is not None:
                    # The pair's own model picks the side; the score is the pair's share.
                    label = pair_model.decide(chunks[i])
                    score = _mass_of(pair_model.pair, candidates, row_labels, row_probs)
                if counted.script == "Hani" and label.startswith(("zho_", "yue_")):
                    if is_written_cantonese(chunks[i], counted.letters):
                        label, score = "yue_Hant", _chinese_mass(candidates, row_labels, row_probs)
                found[i] = ChunkLabel(label, score, counted.script, counted.letters)
        return [label for label in found if label is not None]

    def _predict(self, texts: list[str], candidates: list[list[str]]) -> tuple[list, list]:
        """fastText's top labels per text; all labels where none of the top is a candidate.

        Asking for all 205 labels costs a third of the prediction time, and the labels
        beyond the top few carry almost no probability to renormalize.
        """
        labels, probs = self._model.predict(texts, k=TOP_K)
        labels, probs = list(labels), list(probs)
        for i, (row, allowed) in enumerate(zip(labels, candidates)):
            if not any(label.removeprefix(_PREFIX) in allowed for label in row):
                (labels[i],), (probs[i],) = self._model.predict([texts[i]], k=-1)
        return labels, probs

    def aggregate(self, chunks: list[ChunkLabel]) -> DocLabel:
        """Letter-weighted vote of the chunks, then the per-language threshold.

        Below its threshold an answer becomes `und`, except for the Arabic varieties whose
        SIB-200 text is mostly Standard Arabic: a weak answer there means Arabic that the
        model cannot place, and Standard Arabic is the answer that is most often right.
        """
        doc = aggregate(chunks)
        if doc.lang != UND and doc.score < self.thresholds.get(doc.lang, 0.0):
            fallback = STANDARD_ARABIC if doc.lang in LIKE_STANDARD_ARABIC else UND
            return DocLabel(fallback, doc.score, doc.mix, doc.script)
        return doc


def aggregate(chunks: list[ChunkLabel]) -> DocLabel:
    """The document's language is the one with the most letters x probability.

    `score` is the mean probability over the chunks given that language (weighted by
    letters), so a confident bilingual document keeps a high score; `mix` is the
    share of the document's letters in chunks of that language (1.0 = one language).
    """
    votes: dict[str, float] = {}
    letters: dict[str, int] = {}
    for chunk in chunks:
        if chunk.label != UND:
            votes[chunk.label] = votes.get(chunk.label, 0.0) + chunk.letters * chunk.score
            letters[chunk.label] = letters.get(chunk.label, 0) + chunk.letters
    total = sum(chunk.letters for chunk in chunks)
    if not votes:
        return DocLabel(UND, 0.0, 0.0, _main_script(chunks))
    lang = max(votes, key=lambda label: (votes[label], label))
    score = votes[lang] / letters[lang]
    return DocLabel(lang, score, letters[lang] / total, lang.rsplit("_", 1)[-1])


def _main_script(chunks: list[ChunkLabel]) -> str:
    weights: dict[str, int] = {}
    for chunk in chunks:
        weights[chunk.script] = weights.get(chunk.script, 0) + chunk.letters
    if not weights or max(weights.values()) == 0:
        return COMMON
    return max(weights, key=lambda script: (weights[script], script))


def _candidates_by_script(labels: list[str]) -> dict[str, list[str]]:
    by_script: dict[str, list[str]] = {}
    for label in sorted(labels):
        by_script.setdefault(label_script(label), []).append(label)
    for script, extra in _EXTRA_CANDIDATES.items():
        by_script.setdefault(script, []).extend(e for e in extra if e in labels)
    return by_script


def _best_of(candidates: list[str], labels, probs) -> tuple[str, float]:
    """The most probable candidate, its probability renormalized over the candidates."""
    allowed = set(candidates)
    best, best_p, mass = UND, 0.0, 0.0
    for label, p in zip(labels, probs):
        code = label.removeprefix(_PREFIX)
        if code in allowed:
            mass += float(p)
            if p > best_p:
                best, best_p = code, float(p)
    if mass <= 0.0:
        return UND, 0.0
    return best, best_p / mass


def _mass_of(group: tuple[str, ...], candidates: list[str], labels, probs) -> float:
    """Probability of any label of `group` (a close pair, the Chinese labels), renormalized
    over the candidates."""
    allowed = set(candidates)
    mass = sum(float(p) for label, p in zip(labels, probs) if label.removeprefix(_PREFIX) in allowed)
    inside = sum(float(p) for label, p in zip(labels, probs) if label.removeprefix(_PREFIX) in group)
    return inside / mass if mass > 0 else 0.0


def _chinese_mass(candidates: list[str], labels, probs) -> float:
    """Probability of any Chinese label among the candidates (the rule picks which)."""
    chinese = tuple(code for code in candidates if code.startswith(("zho_", "yue_")))
    return _mass_of(chinese, candidates, labels, probs)
