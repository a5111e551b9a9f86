"""`Domain`: one label from a taxonomy that fits pretraining data, and (optionally) a finer `field`.

Taxonomy (`DOMAINS`, documented in `docs/annotate.md`): SIB-200's seven topics
(`science/technology`, `travel`, `politics`, `sports`, `health`, `entertainment`,
`geography`), then `literature/fiction`, `religion`, `law`, `finance/business`,
`education/reference`, and `code`, `math`, `other`.
Decision order: the code detector, then the math detector (notation in context,
`detectors.py`), then the topic model; a topic whose probability is below `MIN_TOPIC_PROB`
becomes `other`. The topic model is the shipped fastText classifier (`models/domain.ftz`,
card `models/domain.md`), or a student trained on teacher labels of the same taxonomy
(`domain_student.ftz` in `--models`). When a field student exists there
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
USER_STUDENT = "domain_student.ftz"  # what `corpusmill annotators train domain` writes
FIELD_MODEL = "field_student.ftz"
CODE_THRESHOLD = 0.4
MATH_THRESHOLD = 0.5
# Below this the topic model is close to guessing among its 12 classes (chance 0.08).
MIN_TOPIC_PROB = 0.3


def model_path(models_dir: str | None, filename: str) -> str:
    """`filename` in the user's models folder if there, else the one shipped in the package."""
    if models_dir and os.path.isfile(os.path.join(models_dir, filename)):
        return os.path.join(models_dir, filename)
    return os.path.join(PACKAGE_MODELS, filename)


class Domain(Annotator):
    name = "domain"
    version = "2"

    def __init__(self, *, models_dir: str | None = None) -> None:
        user = os.path.join(models_dir, USER_STUDENT) if models_dir else ""
        self.topic_path = user if user and os.path.isfile(user) else model_path(models_dir, TOPIC_MODEL)
        fasttext_model.check(self.name, self.topic_path)
        self.topic_model = "domain_student" if self.topic_path == user else "domain_rules+fasttext"
        field = os.path.join(models_dir, FIELD_MODEL) if models_dir else ""
        self.field_path = field if field and os.path.isfile(field) else None
        # Versions identify the exact model files, so a retrained model shows in every row.
        self.topic_version = f"{self.version}+{file_version(self.topic_path)}"
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
        self._topics = self._fields = None

    def batch_hint(self) -> BatchHint:
        return BatchHint(min_docs=16, max_docs=512)

    def setup(self) -> None:
        self._topics = fasttext_model.load(self.topic_path)
        self._fields = fasttext_model.load(self.field_path) if self.field_path else None

    def _domains(self, docs: list[str]) -> tuple[list[str], list[float]]:
        topics = fasttext_model.predict(self._topics, docs)
        decided = [_decide(text, topic, prob) for text, [(topic, prob)] in zip(docs, topics)]
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
