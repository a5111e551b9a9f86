"""`EduValue`: educational value 0-5 (`edu_score`) from the shipped student, after a floor.

Floor (every model): a document under `MIN_WORDS` words, or whose sample is mostly not
letters (`MIN_LETTER_SHARE`: base64, hex dumps, tables of numbers, binary), scores 0 and
the model is not asked; `edu_model` then reads `edu_floor`.
Student (default, `models/edu.ftz`, card `models/edu.md`): a fastText classifier over the
classes 0..5 trained on public LLM educational-value annotations; `edu_score` is its
expected score (sum of class x probability). A user's own student (`edu_student.ftz` from
`corpusmill annotators train edu`) in `--models` takes precedence.
Heuristic (`edu_heuristic`, selectable by name with `--labelers`; additive like the
FineWeb-Edu rubric, script independent; words from the first 100,000 characters, lines and
punctuation from the first `SAMPLE_CHARS`):
  +1  at least 30 words: enough text to inform;
  +1  at least half of the lines end in sentence punctuation and under half are short:
      running prose rather than menus, lists or navigation;
  +1  little boilerplate: under 10 % repeated lines, under 15 % digits, no control
      characters, no "lorem ipsum" / "javascript";
  +1  at least 250 words in sentences of 8-40 words on average: sustained exposition;
  +1  varied vocabulary (over 40 % distinct among the first 1,000 of at least 250 words) or math:
      the density of information textbooks have.
"""

from __future__ import annotations

import os
import re

import pyarrow as pa

from corpusmill.annotators import fasttext_model
from corpusmill.annotators.base import Annotator, BatchHint, constant, file_version, model_columns, texts
from corpusmill.annotators.detectors import math_score
from corpusmill.annotators.domain import model_path
from corpusmill.annotators.quality_signals import SHORT_LINE_CHARS, TERMINAL_PUNCT
from corpusmill.annotators.words import SAMPLE_CHARS as WORDS_SAMPLE_CHARS
from corpusmill.annotators.words import sample_words

STUDENT_MODEL = "edu.ftz"
USER_STUDENT = "edu_student.ftz"  # what `corpusmill annotators train edu` writes
# Control characters other than newlines and tabs, or U+FFFD: the text was mangled.
_MANGLED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
SAMPLE_CHARS = 5000
HEURISTIC_VERSION = "1"


def _prose_point(lines: list[str]) -> int:
    if not lines:
        return 0
    ends = sum(ln[-1] in TERMINAL_PUNCT for ln in lines) / len(lines)
    short = sum(len(ln) <= SHORT_LINE_CHARS for ln in lines) / len(lines)
    return int(ends >= 0.5 and short < 0.5)


def _clean_point(text: str, lines: list[str]) -> int:
    if not text:
        return 0
    dup = 1 - len(set(lines)) / len(lines) if lines else 0.0
    digits = sum(map(str.isdigit, text)) / len(text)
    lower = text.lower()
    control = _MANGLED.search(text) is not None
    return int(dup < 0.1 and digits < 0.15 and not control and "lorem ipsum" not in lower and "javascript" not in lower)


def edu_heuristic(text: str) -> float:
    """The additive 0-5 heuristic described in the module docstring."""
    sample = text[:SAMPLE_CHARS]
    words = sample_words(text)
    lines = [ln for ln in (raw.strip() for raw in sample.split("\n")) if ln]
    n = len(words)
    counted = text[:WORDS_SAMPLE_CHARS]  # the span the words come from
    sentences = max(1, sum(counted.count(p) for p in ".!?。！？।؟"))
    points = int(n >= 30) + _prose_point(lines) + _clean_point(sample, lines)
    points += int(n >= 250 and 8 <= n / sentences <= 40)
    head = words[:1000]  # type-token ratio falls with length: compare on equal footing
    points += int((n >= 250 and len({w.lower() for w in head}) / len(head) > 0.4) or math_score(sample) >= 0.3)
    return float(points)


MIN_WORDS = 30
MIN_LETTER_SHARE = 0.5
# Runs of what is not a letter (`[^\W\d_]`, a word character but no digit or underscore): the
# letters are what deleting them leaves, one regex match per run instead of one per letter.
_NOT_LETTERS = re.compile(r"[\W\d_]+")
LONG_TOKEN_CHARS = 60


def below_floor(text: str) -> bool:
    """True for text too short or too little like language to carry educational value."""
    sample = text[:SAMPLE_CHARS]
    if not sample.strip() or len(sample_words(text)) < MIN_WORDS:
        return True
    # base64 and hex are letters and digits without spaces: count long unbroken runs as non-text.
    # `str.split()` cuts at exactly the characters `\s` matches (both use `str.isspace`).
    tokens = sample.split()
    junk = 0
    if max(map(len, tokens)) >= LONG_TOKEN_CHARS:  # rare: prose stops at one C-speed pass
        junk = sum(len(t) for t in tokens if len(t) >= LONG_TOKEN_CHARS)
    letters = len(_NOT_LETTERS.sub("", sample))
    return letters / len(sample) < MIN_LETTER_SHARE or junk / len(sample) > 0.5


class EduValue(Annotator):
    name = "edu"
    version = "2"
    columns = pa.schema([pa.field("edu_score", pa.float32()), *model_columns("edu")])

    def __init__(self, *, models_dir: str | None = None) -> None:
        user = os.path.join(models_dir, USER_STUDENT) if models_dir else ""
        self.student_path = user if user and os.path.isfile(user) else model_path(models_dir, STUDENT_MODEL)
        fasttext_model.check(self.name, self.student_path)
        self.model_name = "edu_student" if self.student_path.endswith(USER_STUDENT) else "edu_fasttext"
        self.model_version = f"{self.version}+{file_version(self.student_path)}"
        self._student = None

    def batch_hint(self) -> BatchHint:
        return BatchHint(min_docs=16, max_docs=512)

    def setup(self) -> None:
        self._student = fasttext_model.load(self.student_path)

    def _scores(self, docs: list[str]) -> tuple[list[float], list[bool]]:
        floor = [below_floor(t or "") for t in docs]
        asked = [t for t, f in zip(docs, floor) if not f]
        preds = (
            iter(expected_score(p) for p in fasttext_model.predict(self._student, asked, k=6)) if asked else iter(())
        )
        return [0.0 if f else next(preds) for f in floor], floor

    def label(self, batch: pa.Table) -> pa.Table:
        if self._student is None:
            self.setup()
        docs, n = texts(batch), batch.num_rows
        scores, floor = self._scores(docs)
        names = ["edu_floor" if f else self.model_name for f in floor]
        return pa.Table.from_arrays(
            [pa.array(scores, pa.float32()), pa.array(names, pa.string()), constant(self.model_version, n)],
            schema=self.columns,
        )


class EduHeuristic(EduValue):
    """The additive heuristic of the module docstring, after the same floor (`edu_heuristic`)."""

    name = "edu_heuristic"

    def __init__(self) -> None:
        self.model_name, self.model_version = "edu_heuristic", HEURISTIC_VERSION
        self._student = None

    def setup(self) -> None:
        pass

    def label(self, batch: pa.Table) -> pa.Table:
        docs, n = texts(batch), batch.num_rows
        floor = [below_floor(t or "") for t in docs]
        scores = [0.0 if f else edu_heuristic(t) for t, f in zip(docs, floor)]
        names = ["edu_floor" if f else self.model_name for f in floor]
        return pa.Table.from_arrays(
            [pa.array(scores, pa.float32()), pa.array(names, pa.string()), constant(self.model_version, n)],
            schema=self.columns,
        )


def expected_score(probs: list[tuple[str, float]]) -> float:
    """Sum of class x probability over the student's 0..5 classes (renormalized)."""
    total = sum(p for _, p in probs) or 1.0
    return sum(int(label) * p for label, p in probs) / total
