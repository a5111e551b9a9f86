"""`Safety`: `safe` or `unsafe:<category>` plus a score in 0..1.

Lexicon part: the LDNOOBW lists (28 languages, CC BY 4.0, shipped in `lexicons/`) are
tokenized with `words.split_words`, so matching is by whole words in spaced scripts and
by grapheme sequences in Chinese, Japanese and Thai (which have no word boundaries).
Terms that are only digits or a single grapheme are dropped: they match ordinary text; so
are terms that are ordinary words in some language (`lexicons/neutral_terms.txt`, found in
neutral SIB-200 text by `build_safety_exclusions`), since every list is matched in every
document whatever its language.
`safety_score` = min(1, 20 x share of words inside a matched term) (5 % bad words -> 1.0);
a score of `UNSAFE_AT` or more is `unsafe:sexual` (the lists are overwhelmingly sexual
and obscene terms). Student part: when `safety_student.ftz` (trained from teacher labels
over `safe`, `sexual`, `hate`, `violence`, `self-harm`) is in the models folder, its
category wins whenever it says unsafe with probability >= `UNSAFE_AT`.
"""

from __future__ import annotations

import glob
import os
from collections import defaultdict

import pyarrow as pa

from corpusmill.annotators import fasttext_model
from corpusmill.annotators.base import Annotator, BatchHint, constant, file_version, model_columns, texts
from corpusmill.annotators.words import sample_words, split_words

LEXICON_DIR = os.path.join(os.path.dirname(__file__), "lexicons")
NEUTRAL_FILE = "neutral_terms.txt"
STUDENT_MODEL = "safety_student.ftz"
CATEGORIES = ("sexual", "hate", "violence", "self-harm")
UNSAFE_AT = 0.5


def load_lexicon(folder: str = LEXICON_DIR, *, exclude: bool = True) -> dict[str, set[tuple[str, ...]]]:
    """First word -> the set of term word-tuples starting with it (lowercased).

    With `exclude`, terms listed in `neutral_terms.txt` (ordinary words in some language,
    see `build_safety_exclusions`) are left out.
    """
    neutral: set[tuple[str, ...]] = set()
    neutral_path = os.path.join(folder, NEUTRAL_FILE)
    if exclude and os.path.isfile(neutral_path):
        with open(neutral_path, encoding="utf-8") as fh:
            neutral = {tuple(line.split()) for line in fh if line.strip()}
    index: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for path in sorted(glob.glob(os.path.join(folder, "ldnoobw_*.txt"))):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                term = tuple(split_words(line.strip().lower()))
                if (
                    not term
                    or term in neutral
                    or all(w.isdigit() for w in term)
                    or (len(term) == 1 and len(term[0]) < 2)
                ):
                    continue
                index[term[0]].add(term)
    return dict(index)


def lexicon_score(text: str, index: dict[str, set[tuple[str, ...]]]) -> float:
    words = [w.lower() for w in sample_words(text)]
    if not words:
        return 0.0
    covered, end = 0, 0
    # Only positions whose word starts some term are checked (a set lookup per word).
    for i in (i for i, w in enumerate(words) if w in index):
        if i < end:
            continue  # inside a term already counted
        best = max((len(t) for t in index[words[i]] if tuple(words[i : i + len(t)]) == t), default=0)
        covered += best
        end = i + best
    return min(1.0, 20 * covered / len(words))


class Safety(Annotator):
    name = "safety"
    version = "1"
    columns = pa.schema(
        [pa.field("safety", pa.string()), pa.field("safety_score", pa.float32()), *model_columns("safety")]
    )

    def __init__(self, *, models_dir: str | None = None) -> None:
        student = os.path.join(models_dir, STUDENT_MODEL) if models_dir else ""
        self.student_path = student if student and os.path.isfile(student) else None
        model = "ldnoobw_lexicon"
        version = self.version
        if self.student_path:
            model, version = f"{model}+safety_student", f"{version}+{file_version(self.student_path)}"
        self.model_name, self.model_version = model, version
        self._index: dict[str, set[tuple[str, ...]]] | None = None
        self._student = None

    def batch_hint(self) -> BatchHint:
        return BatchHint(min_docs=16, max_docs=512)

    def setup(self) -> None:
        self._index = load_lexicon()
        self._student = fasttext_model.load(self.student_path) if self.student_path else None

    def label(self, batch: pa.Table) -> pa.Table:
        if self._index is None:
            self.setup()
        index = self._index
        assert index is not None, "setup() loads the lexicon"
        docs, n = texts(batch), batch.num_rows
        scores = [lexicon_score(t, index) for t in docs]
        labels = ["unsafe:sexual" if s >= UNSAFE_AT else "safe" for s in scores]
        if self._student is not None:
            for i, [(category, prob)] in enumerate(fasttext_model.predict(self._student, docs)):
                if category in CATEGORIES and prob >= UNSAFE_AT and prob > scores[i]:
                    labels[i], scores[i] = f"unsafe:{category}", prob
        return pa.Table.from_arrays(
            [
                pa.array(labels, pa.string()),
                pa.array(scores, pa.float32()),
                constant(self.model_name, n),
                constant(self.model_version, n),
            ],
            schema=self.columns,
        )
