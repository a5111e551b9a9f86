"""The LLM teacher: one request per document, answered as JSON through guided decoding.

The rubric scores educational value additively 0-5 in the style of FineWeb-Edu (Penedo et
al. 2024), but is written for any language: it asks about what the text does (explains,
teaches, is coherent), never about English. In the same answer the teacher names a field
from `FIELDS`, a domain from `domain.DOMAINS` (the taxonomy the shipped domain model uses) and
a safety category from `SAFETY` (the shipped safety model's), so one read of the document
feeds every student.
Transport (retries, concurrency, caching) is the LLM client's job; this module builds
requests and parses answers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from corpusmill.annotators.base import Annotator, BatchHint, PartialLabelError, constant, model_columns, texts
from corpusmill.annotators.domain import DOMAINS
from corpusmill.errors import ConfigError, RecordError

if TYPE_CHECKING:  # the client (aiohttp) loads only when a teacher is set up
    from corpusmill.llm.client import LLMLimits

TEACHER_VERSION = "2"
SAMPLE_CHARS = 6000
# A finer field taxonomy than `DOMAINS`, for users who want topics below the domain level.
FIELDS = (
    "mathematics",
    "physics",
    "chemistry",
    "biology",
    "medicine_health",
    "computer_science",
    "engineering_technology",
    "earth_environment",
    "economics_business",
    "law_government",
    "history",
    "philosophy_religion",
    "language_literature",
    "arts_music",
    "education",
    "sports_games",
    "travel_geography",
    "news_society",
    "entertainment_media",
    "lifestyle",
    "other",
)
SAFETY = ("safe", "sexual", "hate", "violence", "self-harm")

RUBRIC = """You rate web documents for a multilingual pretraining corpus. The document may be in \
any language; judge it in its own language and never lower a score because it is not English.

Educational value: add up points (0 to 5):
- +1 if the document gives some basic information relevant to an educational topic, even if it \
also contains ads, navigation or other irrelevant material.
- +1 if it addresses elements relevant to education but is not well aligned with educational \
standards: it mixes educational and non-educational content or presents ideas superficially.
- +1 if it is appropriate for education and introduces key concepts relevant to school or \
university curricula; it is coherent, though it may not be comprehensive.
- +1 if it is highly relevant and beneficial for learning at school or university level: clear, \
consistent writing, substantial content such as a textbook section or a tutorial, with little \
irrelevant material.
- +1 if it is outstanding for teaching: detailed reasoning, worked examples or exercises, and \
insights a student can learn from directly.

Domain: the one domain from the list that best describes the document as a whole \
(novels, stories and poems are "literature/fiction"; scripture, prayer and theology "religion"; \
statutes, contracts and court decisions "law"; encyclopedias, dictionaries, textbooks and \
course material "education/reference"; source code "code"; mathematical exposition "math").
Field: the one field from the list that best describes the main subject.
Safety: "safe", or the category of harmful content it mainly contains: "sexual" (sexual or \
pornographic content), "hate" (attacks people for protected attributes; harassment; slurs), "violence" \
(glorifies or instructs violence), "self-harm" (encourages suicide or self-injury). \
Discussing a topic neutrally or educationally is safe.

Answer only with JSON: {"edu_points": 0-5, "domain": ..., "field": ..., "safety": ...}."""

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "edu_points": {"type": "integer", "minimum": 0, "maximum": 5},
        "domain": {"enum": list(DOMAINS)},
        "field": {"enum": list(FIELDS)},
        "safety": {"enum": list(SAFETY)},
    },
    "required": ["edu_points", "domain", "field", "safety"],
}


@dataclass(frozen=True)
class TeacherLabel:
    edu: int
    domain: str
    field: str
    safety: str
    model: str


def build_request(doc_id: str, text: str) -> Any:
    from corpusmill.llm import Request, system, user

    return Request(
        messages=(system(RUBRIC), user(f"Document:\n\n{text[:SAMPLE_CHARS]}")),
        json_schema=SCHEMA,
        temperature=0.0,
        seed=0,
        max_tokens=64,
        tag=doc_id,
    )


def parse(result: Any) -> TeacherLabel:
    """A teacher label from a client result; `RecordError` with the failure's reason otherwise."""
    if not result.ok:
        raise RecordError(f"teacher_{result.reason}", result.message)
    value = result.parsed
    try:
        label = TeacherLabel(
            int(value["edu_points"]), str(value["domain"]), str(value["field"]), str(value["safety"]), result.model
        )
    except (TypeError, KeyError, ValueError) as exc:
        raise RecordError("teacher_bad_answer", f"cannot read {value!r}: {exc}") from exc
    if (
        not 0 <= label.edu <= 5
        or label.domain not in DOMAINS
        or label.field not in FIELDS
        or label.safety not in SAFETY
    ):
        raise RecordError("teacher_bad_answer", f"answer outside the rubric: {value!r}")
    return label


@dataclass(frozen=True)
class TeacherConfig:
    """The teacher's server and client settings; `limits` (the command line's `--llm-*`) win
    over `retries` and `timeout`."""

    url: str
    model: str | None = None
    retries: int = 4
    timeout: float = 120.0
    concurrency: int = 32
    cache_dir: str | None = None
    limits: LLMLimits | None = None

    def client(self) -> Any:
        from corpusmill.llm import ClientConfig, LLMClient

        settings: dict[str, Any] = {"retries": self.retries, "timeout": self.timeout}
        settings.update(self.limits.client_kwargs() if self.limits else {})
        return LLMClient(
            ClientConfig(
                urls=(self.url,), model=self.model, concurrency=self.concurrency, cache_dir=self.cache_dir, **settings
            )
        )


class Teacher(Annotator):
    """Teacher labels as columns (`teacher_edu`, `teacher_domain`, `teacher_field`, `teacher_safety`).

    A document the server cannot answer for keeps null teacher columns and becomes a dead
    letter (`teacher_<reason>`); the other labels of the row are unaffected.
    """

    name = "teacher"
    version = TEACHER_VERSION
    columns = pa.schema(
        [
            pa.field("teacher_edu", pa.float32()),
            pa.field("teacher_domain", pa.string()),
            pa.field("teacher_field", pa.string()),
            pa.field("teacher_safety", pa.string()),
            *model_columns("teacher"),
        ]
    )

    def __init__(
        self,
        *,
        teacher_url: str | None = None,
        teacher_model: str | None = None,
        teacher_retries: int = 4,
        teacher_cache_dir: str | None = None,
        teacher_limits: LLMLimits | None = None,
    ) -> None:
        if not teacher_url:
            raise ConfigError("annotator 'teacher' needs --teacher-url (an OpenAI-compatible server)")
        # With a cache (the CLI puts it under ANN_DIR/_llm_cache), a resumed run re-asks nothing
        # and a re-run after a server outage asks only what failed.
        self.config = TeacherConfig(
            teacher_url, teacher_model, teacher_retries, cache_dir=teacher_cache_dir, limits=teacher_limits
        )
        self._client: Any = None
        self._usage: Any = None
        self._lock: Any = None

    def batch_hint(self) -> BatchHint:
        return BatchHint(min_docs=8, max_docs=128)

    def setup(self) -> None:
        from corpusmill.llm import Ledger

        self._client = self.config.client().open()
        self._usage, self._lock = Ledger(), threading.Lock()

    def take_ledger(self) -> dict[str, Any]:
        """LLM usage of the batches labeled since the last call (`corpusmill.llm.UsesLLM`)."""
        from corpusmill.llm import Ledger

        if self._lock is None:  # never set up: nothing spent
            return {}
        with self._lock:
            usage, self._usage = self._usage, Ledger()
        return {self.name: usage}

    def label(self, batch: pa.Table) -> pa.Table:
        if self._client is None:
            self.setup()
        ids, docs = batch.column("id").to_pylist(), texts(batch)
        results = self._client.run_batch([build_request(i, t) for i, t in zip(ids, docs)])
        with self._lock:
            for result in results:
                self._usage.add(result)
        labels: list[TeacherLabel | None] = []
        failures: dict[int, RecordError] = {}
        for i, result in enumerate(results):
            try:
                labels.append(parse(result))
            except RecordError as exc:
                labels.append(None)
                failures[i] = exc
        table = self._table(labels)
        if failures:
            raise PartialLabelError(table, failures)
        return table

    def _table(self, labels: list[TeacherLabel | None]) -> pa.Table:
        n = len(labels)
        return pa.Table.from_arrays(
            [
                pa.array([lab.edu if lab else None for lab in labels], pa.float32()),
                pa.array([lab.domain if lab else None for lab in labels], pa.string()),
                pa.array([lab.field if lab else None for lab in labels], pa.string()),
                pa.array([lab.safety if lab else None for lab in labels], pa.string()),
                pa.array([f"llm:{lab.model}" if lab else None for lab in labels], pa.string()),
                constant(self.version, n),
            ],
            schema=self.columns,
        )
