"""`Safety`: `safe` or `unsafe:<category>`, a calibrated `safety_score`, and a URL signal.

Three signals, each visible in the output (`docs/annotate.md` has the rules):

- **Student** (default, `models/safety.ftz`): a multilingual fastText classifier over
  `safe`, `hate` (including harassment and slurs), `violence` and whichever other categories
  (`sexual`, `self-harm`) its training data had; see its card `models/safety.md`.
  `safety_score` is its probability that the text is unsafe, mapped through the Platt
  calibration fitted on our dev split (`models/safety.json`); a score of at least the
  card's threshold makes the label `unsafe:<most likely unsafe category>`.
- **Lexicon** (`safety_lexicon.py`): the LDNOOBW lists, each matched only against documents
  of its own language (from the `lang` column), and only in context: several distinct terms
  and a density, never one hit. It adds `unsafe:sexual` where the student says safe.
- **URL blocklist** (`url_blocklist.py`): where `uri` is a web URL, `safety_url` names the
  list that holds its host or URL (`ut1_adult`, `adult_host_word`), else null; a listed page
  is `unsafe:sexual`.
"""

from __future__ import annotations

import json
import math
import os

import pyarrow as pa

from corpusmill.annotators import fasttext_model
from corpusmill.annotators.base import Annotator, BatchHint, constant, file_version, model_columns, texts
from corpusmill.annotators.domain import model_path
from corpusmill.annotators.safety_lexicon import LexiconScorer
from corpusmill.annotators.url_blocklist import UrlBlocklist
from corpusmill.errors import ConfigError

STUDENT_MODEL = "safety.ftz"
CALIBRATION = "safety.json"
USER_STUDENT = "safety_student.ftz"  # what `corpusmill annotators train safety` writes (uncalibrated)
CATEGORIES = ("sexual", "hate", "violence", "self-harm")
# Used when a model comes without a calibration file (a teacher-trained student).
DEFAULT_THRESHOLD = 0.5


def load_calibration(path: str) -> tuple[float, float, float]:
    """(a, b, threshold) of `p' = sigmoid(a * logit(p) + b)`; identity at 0.5 without a file."""
    if not os.path.isfile(path):
        return 1.0, 0.0, DEFAULT_THRESHOLD
    try:
        with open(path, encoding="utf-8") as fh:
            meta = json.load(fh)
        return float(meta["platt_a"]), float(meta["platt_b"]), float(meta["threshold"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{path}: not a safety calibration file ({exc}); rebuild it with "
            "`python -m corpusmill.annotators.training.safety`"
        ) from exc


def calibrate(p: float, a: float, b: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)  # the clip the calibration was fitted with
    z = min(max(a * math.log(p / (1 - p)) + b, -50.0), 50.0)  # far from 0.5 the answer is 0 or 1 anyway
    return 1.0 / (1.0 + math.exp(-z))


class Safety(Annotator):
    name = "safety"
    version = "2"
    columns = pa.schema(
        [
            pa.field("safety", pa.string()),
            pa.field("safety_score", pa.float32()),
            pa.field("safety_url", pa.string()),
            *model_columns("safety"),
        ]
    )

    def __init__(
        self, *, models_dir: str | None = None, url_blocklist: str | None = None, use_student: bool = True
    ) -> None:
        user = os.path.join(models_dir, USER_STUDENT) if models_dir else ""
        if not use_student:
            self.student_path = None
        else:
            self.student_path = user if user and os.path.isfile(user) else model_path(models_dir, STUDENT_MODEL)
        if self.student_path:
            # Checked now, so a missing or corrupt model stops the job before it starts.
            fasttext_model.check(self.name, self.student_path)
            calib = os.path.join(os.path.dirname(self.student_path), CALIBRATION) if self.student_path != user else ""
            self.platt_a, self.platt_b, self.threshold = load_calibration(calib)
        else:
            self.platt_a, self.platt_b, self.threshold = 1.0, 0.0, DEFAULT_THRESHOLD
        self.blocklist = UrlBlocklist.from_path(url_blocklist)
        self.lexicon = LexiconScorer()
        parts = [f"lexicon-{self.lexicon.version}", f"urls-{self.blocklist.version}"]
        if self.student_path:
            parts.insert(0, f"student-{file_version(self.student_path)}")
        if not self.student_path:
            self.model_name = "safety_lexicon+urls"
        else:  # the shipped model, or a student the user trained from teacher labels
            self.model_name = (
                "safety_student+lexicon+urls" if self.student_path == user else "safety_fasttext+lexicon+urls"
            )
        self.model_version = f"{self.version}+" + "+".join(parts)
        self._student = None

    def batch_hint(self) -> BatchHint:
        return BatchHint(min_docs=16, max_docs=512)

    def setup(self) -> None:
        self._student = fasttext_model.load(self.student_path) if self.student_path else None
        self.lexicon.load()
        self.blocklist.load()

    def _student_labels(self, docs: list[str]) -> list[tuple[str, float]]:
        """(most likely unsafe category, calibrated P(unsafe)) per text."""
        out = []
        for probs in fasttext_model.predict(self._student, docs, k=-1):
            d = dict(probs)
            unsafe = [(p, c) for c, p in d.items() if c != "safe"]
            p_unsafe = 1.0 - d.get("safe", 0.0)
            category = max(unsafe)[1] if unsafe else "hate"
            out.append((category, calibrate(p_unsafe, self.platt_a, self.platt_b)))
        return out

    def label(self, batch: pa.Table) -> pa.Table:
        if self.student_path and self._student is None or not self.lexicon.loaded:
            self.setup()
        docs, n = texts(batch), batch.num_rows
        langs = batch.column("lang").to_pylist() if "lang" in batch.column_names else [None] * n
        uris = batch.column("uri").to_pylist() if "uri" in batch.column_names else [None] * n
        student = self._student_labels(docs) if self._student is not None else [("hate", 0.0)] * n
        labels, scores, url_hits = [], [], []
        for text, lang, uri, (category, p) in zip(docs, langs, uris, student):
            lex = self.lexicon.score(text or "", lang)
            url = self.blocklist.match(uri)
            if p >= self.threshold:
                label, score = f"unsafe:{category}", p
            elif lex >= 0.5:
                label, score = "unsafe:sexual", max(p, lex)
            elif url:
                label, score = "unsafe:sexual", max(p, self.threshold)
            else:
                label, score = "safe", p
            labels.append(label)
            scores.append(score)
            url_hits.append(url)
        return pa.Table.from_arrays(
            [
                pa.array(labels, pa.string()),
                pa.array(scores, pa.float32()),
                pa.array(url_hits, pa.string()),
                constant(self.model_name, n),
                constant(self.model_version, n),
            ],
            schema=self.columns,
        )


class SafetyLexicon(Safety):
    """The rules alone (language-scoped lexicon and URL list), selectable as `safety_lexicon`."""

    name = "safety_lexicon"

    def __init__(self, *, url_blocklist: str | None = None) -> None:
        super().__init__(url_blocklist=url_blocklist, use_student=False)
