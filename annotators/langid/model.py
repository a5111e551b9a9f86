"""The language identifier: fastText over script-restricted labels, piece by piece.

A piece's writing system decides which labels are possible: a script written by one
language we know (`Grek`, `Thai`, `Geor`...) is answered directly, a script no label
uses gives `und`, and otherwise fastText's probabilities are renormalized over the
labels of that script. Pieces that are no language (code, hex, base64, lorem ipsum,
letters in no language's order: `noise`) are `und`. How pieces are chosen from a
document and combined into its language distribution is in `document`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import fasttext

from corpusmill.annotators.langid.calibration import IDENTITY, Calibration
from corpusmill.annotators.langid.close_pairs import ClosePairs
from corpusmill.annotators.langid.noise import LetterModel, shape_reason
from corpusmill.annotators.langid.prior import SHORT_LETTERS
from corpusmill.annotators.langid.prior import weights as prior_weights
from corpusmill.annotators.langid.rules import is_written_cantonese, south_slavic_alphabet
from corpusmill.annotators.langid.scripts import COMMON, UNKNOWN, ScriptCount, detect_script, label_script
from corpusmill.annotators.langid.text import normalize, not_text_share
from corpusmill.languages import qwen3_languages

UND = "und"
_PREFIX = "__label__"
# Fewer letters than this carry no language ("12:30", "p. 4", "© ACME").
MIN_LETTERS = 3
# Text whose non-space characters are mostly digits, punctuation or symbols (tables,
# numbers, ASCII art) is not labeled, whatever its few words say.
MIN_LETTER_SHARE = 0.3
# Text with more control/replacement/private-use characters than this is binary.
MAX_NOT_TEXT_SHARE = 0.05
# Labels asked of fastText per piece before restricting them to the piece's script.
TOP_K = 10
# Kanji-only text is usually Chinese, but may be Japanese: keep jpn a candidate.
_EXTRA_CANDIDATES = {"Hani": ("jpn_Jpan",)}


@dataclass(frozen=True)
class ChunkLabel:
    """The answer for one piece: label, raw probability, script, letters and the weight
    its text has in the document's vote (visible characters x boilerplate factor)."""

    label: str
    score: float
    script: str
    letters: int
    weight: float = -1.0  # -1: the letters, unweighted
    direct: bool = False  # answered by the script alone (Greek, Thai...), not by fastText

    @property
    def votes(self) -> float:
        return float(self.letters) if self.weight < 0 else self.weight


@dataclass(frozen=True)
class DocLabel:
    """The answer for a document (see `document.aggregate`)."""

    lang: str
    score: float
    mix: float
    script: str
    langs: tuple[tuple[str, float], ...] = ()


def metadata_path(model_path: Path) -> Path:
    """The JSON file beside the model: name, version, labels and thresholds."""
    return model_path.with_suffix(".json")


def read_metadata(model_path: Path) -> dict:
    return json.loads(metadata_path(model_path).read_text(encoding="utf-8"))


class LidModel:
    """A trained fastText LID model with its script candidates, thresholds, close-pair
    models, letter model (noise) and score calibration."""

    def __init__(
        self,
        model: fasttext.FastText._FastText,
        thresholds: dict[str, float],
        pairs: ClosePairs | None = None,
        letters: LetterModel | None = None,
        calibration: Calibration = IDENTITY,
    ) -> None:
        self._model = model
        self.pairs = pairs or ClosePairs([])
        self.letters = letters
        self.calibration = calibration
        self.labels = [label.removeprefix(_PREFIX) for label in model.get_labels()]
        self.thresholds = thresholds
        self._candidates = _candidates_by_script(self.labels)
        self._prior = prior_weights(self.labels, frozenset(lang.code for lang in qwen3_languages()))
        # Off while per-language thresholds are calibrated: they judge the model's own scores.
        self.short_prior = True

    @classmethod
    def load(cls, model_path: Path) -> LidModel:
        """The model with everything its metadata file lists beside it."""
        meta = read_metadata(model_path)
        return cls(
            fasttext.load_model(str(model_path)),
            meta["thresholds"],
            ClosePairs.load(model_path, meta),
            LetterModel.load(model_path, meta),
            Calibration.from_json(meta.get("calibration")),
        )

    def label_text(self, text: str) -> DocLabel:
        """The language of a text held as a Python string (dev sets, tests)."""
        from corpusmill.annotators.langid.document import label_string

        return label_string(self, text)

    def classify(self, pieces: list[str], *, weights: list[float] | None = None) -> list[ChunkLabel]:
        """Label each piece; the ones that need the model go to fastText in one call.

        `weights` are the pieces' votes in the document (see `document`); without them a
        piece votes with its letters.
        """
        found: list[ChunkLabel | None] = []
        pending: list[tuple[int, list[str], ScriptCount, float]] = []
        texts: list[str] = []
        for i, piece in enumerate(pieces):
            factor = weights[i] if weights is not None else -1.0
            if not_text_share(piece) > MAX_NOT_TEXT_SHARE:
                found.append(ChunkLabel(UND, 0.0, UNKNOWN, 0, factor))
                continue
            counted = detect_script(piece)
            candidates = self._candidates.get(counted.script, ())
            if (
                counted.letters < MIN_LETTERS
                or counted.letters < MIN_LETTER_SHARE * _visible(piece)
                or not candidates
                or shape_reason(piece) is not None
            ):
                found.append(ChunkLabel(UND, 0.0, counted.script, counted.letters, factor))
            elif len(candidates) == 1:
                label, score = candidates[0], counted.share
                if self.letters is not None and self.letters.is_noise(normalize(piece), label):
                    label, score = UND, 0.0
                found.append(ChunkLabel(label, score, counted.script, counted.letters, factor, True))
            else:
                found.append(None)
                pending.append((i, candidates, counted, factor))
                texts.append(normalize(piece))
        if texts:
            labels, probs = self._predict(texts, [candidates for _, candidates, _, _ in pending])
            for (i, candidates, counted, factor), text, row_labels, row_probs in zip(pending, texts, labels, probs):
                label, score = self._decide(pieces[i], candidates, counted, row_labels, row_probs)
                if self.letters is not None and self.letters.is_noise(text, label):
                    label, score = UND, 0.0
                found[i] = ChunkLabel(label, score, counted.script, counted.letters, factor)
        return [label for label in found if label is not None]

    def _decide(self, piece: str, candidates: list[str], counted: ScriptCount, labels, probs) -> tuple[str, float]:
        """The best candidate, then the close-pair model, the Cantonese and the alphabet rules."""
        # Short text: the model's probabilities times the documented prior (`prior`).
        prior = self._prior if self.short_prior and counted.letters < SHORT_LETTERS else None
        label, score = _best_of(candidates, labels, probs, prior)
        pair_model = self.pairs.by_label.get(label)
        if pair_model is not None:
            # The pair's own model picks the side; the score is the pair's share.
            label = pair_model.decide(piece)
            score = _mass_of(pair_model.pair, candidates, labels, probs)
        if counted.script == "Hani" and label.startswith(("zho_", "yue_")):
            if is_written_cantonese(piece, counted.letters):
                label, score = "yue_Hant", _chinese_mass(candidates, labels, probs)
        alphabet = south_slavic_alphabet(piece, label)
        if alphabet != label:
            label, score = alphabet, _mass_of(("mkd_Cyrl", "srp_Cyrl"), candidates, labels, probs)
        return label, score

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

    def is_direct(self, label: str) -> bool:
        """Whether text of `label` is answered by its script alone (one label writes it)."""
        return len(self._candidates.get(label_script(label), ())) == 1

    def aggregate(self, chunks: list[ChunkLabel]) -> DocLabel:
        """The document's distribution, per-language threshold and calibrated score
        (`document.aggregate`)."""
        from corpusmill.annotators.langid.document import aggregate

        return aggregate(chunks, thresholds=self.thresholds, calibration=self.calibration)


def _visible(text: str) -> int:
    return len(text) - sum(text.count(space) for space in " \n\t\r")


def main_script(chunks: list[ChunkLabel]) -> str:
    weights: dict[str, int] = {}
    for chunk in chunks:
        weights[chunk.script] = weights.get(chunk.script, 0) + chunk.letters
    if not weights or max(weights.values()) == 0:
        return UNKNOWN if any(chunk.script == UNKNOWN for chunk in chunks) else COMMON
    return max(weights, key=lambda script: (weights[script], script))


def _candidates_by_script(labels: list[str]) -> dict[str, list[str]]:
    by_script: dict[str, list[str]] = {}
    for label in sorted(labels):
        by_script.setdefault(label_script(label), []).append(label)
    for script, extra in _EXTRA_CANDIDATES.items():
        by_script.setdefault(script, []).extend(e for e in extra if e in labels)
    return by_script


def _best_of(candidates: list[str], labels, probs, prior: dict[str, float] | None = None) -> tuple[str, float]:
    """The most probable candidate, its probability (times its prior weight, if given)
    renormalized over the candidates."""
    allowed = set(candidates)
    best, best_p, mass = UND, 0.0, 0.0
    for label, p in zip(labels, probs):
        code = label.removeprefix(_PREFIX)
        if code in allowed:
            p = float(p) * (prior.get(code, 1.0) if prior else 1.0)
            mass += p
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
