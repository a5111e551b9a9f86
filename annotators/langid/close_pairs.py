"""Second opinions for pairs of close varieties the 205-label model keeps confusing.

SIB-200's Croatian and Bosnian, Iranian Persian and Dari, and its two Traditional
Chinese translations (Taiwan usage as `zho_Hant`, Hong Kong usage as `yue_Hant`) are
the same text written by different translators with small, regular differences: word
choice (tijekom/tokom, 您/你, 網路/互聯網), orthography (Iranian Persian writes the
zero-width non-joiner inside words, Dari mostly does not). The broad model spreads its
capacity over 205 labels and loses these; a binary logistic regression per pair, on
character n-grams and words that keep the ZWNJ, sees them. A chunk the broad model gives
to either side of a pair is scored sentence by sentence and decided by the mean score.

The decision threshold of each pair is calibrated by cross-validation on the *train*
split, grouped by SIB-200's sentence id: the split is parallel, so the translation of a
held-out sentence in the other variety must be held out too, or the held-out score
rewards memorized content instead of the variety.
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import regex

# The pairs, each (first, second): a positive score means `second`.
PAIRS: tuple[tuple[str, str], ...] = (
    ("zho_Hant", "yue_Hant"),
    ("hrv_Latn", "bos_Latn"),
    ("prs_Arab", "pes_Arab"),
)
# Hashed feature space: 2**20 buckets keep collisions rare for ~10^5 distinct n-grams.
BUCKETS = 1 << 20
# Character n-gram lengths: Han characters carry a morpheme each, so shorter n-grams.
HAN_NGRAMS = (1, 3)
WORD_NGRAMS = (1, 5)
# Inverse L2 strength of the logistic regression (chosen on grouped CV of train).
C = 30.0
# Whole sentences are read until this many characters: five or so decide the side, and
# Python n-gram features cost ~10x what fastText costs per character.
SAMPLE_CHARS = 1_000
# Folds of the grouped cross-validation that calibrates each pair's threshold.
FOLDS = 5
WINDOW = 5
# Sentences: ends of sentences in the scripts of the pairs.
_SENTENCE_END = regex.compile(r"(?<=[.!?。！？؟])\s+|(?<=[。！？])")
# Letters, marks, in-word apostrophes and the ZWNJ (Persian orthography) are kept.
_NOT_KEPT = regex.compile(r"[^\p{L}\p{M}\u200c'’]+")
_HAN_GAP = regex.compile(r"(?<=\p{Han}) (?=\p{Han})")


@dataclass(frozen=True)
class Markers:
    """Words and stems (prefixes) that standard usage of one variety prefers."""

    words: frozenset[str] = frozenset()
    stems: tuple[str, ...] = ()

    def count(self, words: list[str]) -> int:
        stems = self.stems
        return sum(1 for word in words if word in self.words or (stems and word.startswith(stems)))


def read_markers(code: str) -> Markers:
    """`markers/<code>.txt`: a word or a stem ending in `*` per line, `#` comments."""
    path = resources.files("corpusmill.annotators.langid") / "markers" / f"{code}.txt"
    if not path.is_file():
        return Markers()
    entries = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return Markers(
        frozenset(e for e in entries if e and not e.endswith("*")),
        tuple(sorted(e[:-1] for e in entries if e.endswith("*"))),
    )


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (BUCKETS - 1)


def featurize(text: str, pair: tuple[str, str], markers: dict[str, Markers]) -> dict[int, float]:
    """Sublinear term frequencies of the text's n-grams, L2-normalized per block, by bucket."""
    kept = _NOT_KEPT.sub(" ", text).lower()
    chars: Counter[str] = Counter()
    if pair[0].endswith("_Hant"):
        lo, hi = HAN_NGRAMS
        for run in _HAN_GAP.sub("", kept).split():
            for n in range(lo, hi + 1):
                chars.update(run[i : i + n] for i in range(len(run) - n + 1))
        return _normalized([chars])
    lo, hi = WORD_NGRAMS
    words = kept.split()
    for word in words:
        padded = f" {word} "
        for n in range(lo, hi + 1):
            chars.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    # Words and word pairs form their own block, normalized apart from the far more
    # numerous character n-grams, so lexical choice keeps its weight.
    lexical: Counter[str] = Counter(f"w:{word}" for word in words)
    lexical.update(f"b:{a} {b}" for a, b in zip(words, words[1:]))
    for code in pair:
        lexical[f"m:{code}"] += markers[code].count(words)
    return _normalized([chars, lexical])


def _normalized(blocks: list[Counter[str]]) -> dict[int, float]:
    """Each block's sublinear term frequencies scaled to unit length, by bucket."""
    vector: dict[int, float] = {}
    for counts in blocks:
        weighted = {feature: 1.0 + math.log(count) for feature, count in counts.items() if count}
        norm = math.sqrt(sum(v * v for v in weighted.values())) or 1.0
        for feature, value in weighted.items():
            key = _bucket(feature)
            vector[key] = vector.get(key, 0.0) + value / norm
    return vector


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


@dataclass
class PairModel:
    """Weights of one pair's logistic regression and its calibrated threshold."""

    pair: tuple[str, str]
    buckets: np.ndarray  # int32, the non-zero weights' buckets, sorted
    weights: np.ndarray  # float32
    bias: float
    threshold: float

    def __post_init__(self) -> None:
        self._markers = {code: read_markers(code) for code in self.pair}
        self._lookup = dict(zip(self.buckets.tolist(), self.weights.tolist()))

    def score(self, text: str) -> float:
        """Mean log-odds of `pair[1]` over the text's first sentences (SAMPLE_CHARS)."""
        parts, read = [], 0
        for part in sentences(text) or [text]:
            parts.append(part)
            read += len(part)
            if read >= SAMPLE_CHARS:
                break
        total = 0.0
        for part in parts:
            vector = featurize(part, self.pair, self._markers)
            total += self.bias + sum(self._lookup.get(key, 0.0) * value for key, value in vector.items())
        return total / len(parts)

    def decide(self, text: str) -> str:
        return self.pair[1] if self.score(text) >= self.threshold else self.pair[0]


class ClosePairs:
    """All pair models, found by either label."""

    def __init__(self, models: list[PairModel]) -> None:
        self.by_label = {code: model for model in models for code in model.pair}

    @staticmethod
    def path_for(model_path: Path) -> Path:
        return model_path.with_name(f"{model_path.stem}_pairs.npz")

    @classmethod
    def load(cls, model_path: Path, meta: dict) -> ClosePairs:
        """The pairs listed in the model's metadata; none if it lists none (older models)."""
        listed = meta.get("pairs", [])
        if not listed:
            return cls([])
        arrays = np.load(cls.path_for(model_path))
        models = []
        for entry in listed:
            name = "__".join(entry["labels"])
            models.append(
                PairModel(
                    tuple(entry["labels"]),
                    arrays[f"{name}.buckets"],
                    arrays[f"{name}.weights"],
                    entry["bias"],
                    entry["threshold"],
                )
            )
        return cls(models)


def save(models: list[PairModel], path: Path) -> None:
    """An .npz of each pair's buckets and weights, byte-identical for the same models.

    `np.savez` stamps the zip entries with the current time; fixed stamps keep rebuilds
    reproducible.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for model in models:
            name = "__".join(model.pair)
            for field, array in (("buckets", model.buckets), ("weights", model.weights)):
                buffer = io.BytesIO()
                np.save(buffer, array, allow_pickle=False)
                entry = zipfile.ZipInfo(f"{name}.{field}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                archive.writestr(entry, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
    tmp.replace(path)
