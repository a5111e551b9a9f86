"""`Domain`: one label from a taxonomy that fits pretraining data, and (optionally) a finer `field`.

Taxonomy (`DOMAINS`, documented in `docs/annotate.md`): SIB-200's seven topics
(`science/technology`, `travel`, `politics`, `sports`, `health`, `entertainment`,
`geography`), then `literature/fiction`, `religion`, `law`, `finance/business`,
`education/reference`, and `code`, `math`, `other`.
Decision order: the code detector, then the math detector (notation in context,
`detectors.py`), then the topic model; a topic whose probability is below `MIN_TOPIC_PROB`
becomes `other`. The shipped topic model has two levels (card `models/domain.md`):
`models/domain.ftz` knows all 12 topic classes and decides whether a text belongs to one of
the extra classes (literature, religion, law, finance, education); when it picks one of
SIB-200's seven topics instead, `models/domain_topics.ftz`, trained on those seven alone,
chooses which (a model that also learns the extra classes is worse at the seven: SIB-200 dev
accuracy in the card). A student trained on teacher labels of the same taxonomy
(`domain_student.ftz` in `--models`) replaces both. When a field student exists there
(`field_student.ftz`), `field`/`field_score` carry its finer label (`teacher.FIELDS`);
otherwise they are null.
"""

from __future__ import annotations

import os

import pyarrow as pa

from corpusmill.annotators import fasttext_model
from corpusmill.annotators.base import Annotator, BatchHint, constant, file_version, model_columns, texts
from corpusmill.annotators.detectors import code_score, math_score
from corpusmill.annotators.sib200 import TOPICS

EXTRA_TOPICS = ("literature/fiction", "religion", "law", "finance/business", "education/reference")
DOMAINS = (*TOPICS, *EXTRA_TOPICS, "code", "math", "other")
PACKAGE_MODELS = os.path.join(os.path.dirname(__file__), "models")
TOPIC_MODEL = "domain.ftz"
SIB_TOPIC_MODEL = "domain_topics.ftz"  # second level: the seven SIB-200 topics only
USER_STUDENT = "domain_student.ftz"  # what `corpusmill annotators train domain` writes
FIELD_MODEL = "field_student.ftz"
CODE_THRESHOLD = 0.4
MATH_THRESHOLD = 0.5
# Below this the topic model is close to guessing among its classes (chance 0.08 to 0.14).
MIN_TOPIC_PROB = 0.3
# The first level's extra class (literature, law...) stands only at this probability or above;
# below it the seven-topic second level decides. 0 keeps every extra-class pick: a higher bar
# trades extra-class recall for SIB-topic accuracy (the card's attempts measure that trade).
EXTRA_MIN_PROB = 0.0


def model_path(models_dir: str | None, filename: str) -> str:
    """`filename` in the user's models folder if there, else the one shipped in the package."""
    if models_dir and os.path.isfile(os.path.join(models_dir, filename)):
        return os.path.join(models_dir, filename)
    return os.path.join(PACKAGE_MODELS, filename)


class Domain(Annotator):
    name = "domain"
    version = "3"

    def __init__(self, *, models_dir: str | None = None) -> None:
        user = os.path.join(models_dir, USER_STUDENT) if models_dir else ""
        self.topic_path = user if user and os.path.isfile(user) else model_path(models_dir, TOPIC_MODEL)
        fasttext_model.check(self.name, self.topic_path)
        self.topic_model = "domain_student" if self.topic_path == user else "domain_rules+fasttext"
        self.sib_path: str | None = None
        if self.topic_path != user:
            self.sib_path = model_path(models_dir, SIB_TOPIC_MODEL)
            fasttext_model.check(self.name, self.sib_path)
        field = os.path.join(models_dir, FIELD_MODEL) if models_dir else ""
        self.field_path = field if field and os.path.isfile(field) else None
        # Versions identify the exact model files, so a retrained model shows in every row.
        self.topic_version = f"{self.version}+{file_version(self.topic_path)}"
        if self.sib_path:
            self.topic_version += f"+{file_version(self.sib_path)}"
        self.field_version = file_version(self.field_path) if self.field_path else None
        self.columns = pa.schema(
            [
                pa.field("domain", pa.string()),
                pa.field("domain_score", pa.float32()),
                *model_columns("domain"),
                pa.field("field", pa.string()),
                pa.field("field_score", pa.float32()),
                *model_columns("field"),
            ]
        )
        self._topics = self._sib = self._fields = None

    def batch_hint(self) -> BatchHint:
        return BatchHint(min_docs=16, max_docs=512)

    def setup(self) -> None:
        self._topics = fasttext_model.load(self.topic_path)
        self._sib = fasttext_model.load(self.sib_path) if self.sib_path else None
        self._fields = fasttext_model.load(self.field_path) if self.field_path else None

    def _domains(self, docs: list[str]) -> tuple[list[str], list[float]]:
        topics = topic_predictions(self._topics, self._sib, docs)
        decided = [_decide(text, topic, prob) for text, (topic, prob) in zip(docs, topics)]
        return [d[0] for d in decided], [d[1] for d in decided]

    def label(self, batch: pa.Table) -> pa.Table:
        if self._topics is None:
            self.setup()
        docs, n = texts(batch), batch.num_rows
        labels, scores = self._domains(docs)
        if self._fields is not None:
            fields = fasttext_model.predict(self._fields, docs)
            field = pa.array([f[0][0] for f in fields], pa.string())
            field_score = pa.array([f[0][1] for f in fields], pa.float32())
            field_model, field_version = "field_student", self.field_version
        else:
            field, field_score = pa.nulls(n, pa.string()), pa.nulls(n, pa.float32())
            field_model = field_version = None
        return pa.Table.from_arrays(
            [
                pa.array(labels, pa.string()),
                pa.array(scores, pa.float32()),
                constant(self.topic_model, n),
                constant(self.topic_version, n),
                field,
                field_score,
                constant(field_model, n),
                constant(field_version, n),
            ],
            schema=self.columns,
        )


def topic_predictions(first: object, second: object | None, docs: list[str]) -> list[tuple[str, float]]:
    """(topic, probability) per text: the first level's label, except that a SIB-200 topic (or
    an extra class below `EXTRA_MIN_PROB`) is decided again by the second level, if any."""
    out = [pred[0] for pred in fasttext_model.predict(first, docs)]
    if second is not None:
        todo = [i for i, (topic, prob) in enumerate(out) if topic in TOPICS or prob < EXTRA_MIN_PROB]
        for i, pred in zip(todo, fasttext_model.predict(second, [docs[i] for i in todo])):
            out[i] = pred[0]
    return out


def _decide(text: str, topic: str, prob: float) -> tuple[str, float]:
    """The documented decision order: code, math, a confident topic, else `other`."""
    code = code_score(text)
    if code >= CODE_THRESHOLD:
        return "code", code
    math = math_score(text)
    if math >= MATH_THRESHOLD:
        return "math", math
    if prob >= MIN_TOPIC_PROB:
        return topic, prob
    return "other", 1.0 - prob
