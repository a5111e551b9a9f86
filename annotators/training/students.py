"""Teacher -> student: label a sample with the LLM teacher, train a fastText student, card it.

    corpusmill annotators train edu --teacher-url URL --sample N DOCS_DIR [-o MODELS_DIR]

The sample is the `N` documents whose seeded hash of the id is smallest (the same sample on
every run, whatever the file layout). A seeded 20 % of it is held out; the student is
trained on the rest and compared with the teacher on the held-out part: Spearman
correlation for `edu` (the student's expected score), accuracy for `domain`, `field` and
`safety` (categories). The model, its card (`<name>.md`), metrics (`<name>.json`) and the
teacher labels (`<name>_teacher_labels.parquet`) go to the models folder, where
`corpusmill annotate --models DIR` picks the student up.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from corpusmill import storage
from corpusmill.annotators import fasttext_model
from corpusmill.annotators.edu import expected_score
from corpusmill.annotators.sidecar import document_files
from corpusmill.annotators.teacher import RUBRIC, TEACHER_VERSION, TeacherConfig, TeacherLabel, build_request, parse
from corpusmill.errors import ConfigError, RecordError

HELD_OUT = 0.2
# lr 0.1: small teacher samples diverge (NaN loss) at fastText's usual 0.5.
STUDENT_PARAMS = fasttext_model.TrainParams(
    epoch=25, lr=0.1, dim=32, word_ngrams=2, minn=2, maxn=4, bucket=200_000, quantize=False
)


@dataclass(frozen=True)
class Task:
    model_file: str
    target: Callable[[TeacherLabel], str]


TASKS = {
    "edu": Task("edu_student.ftz", lambda t: str(t.edu)),
    "domain": Task("domain_student.ftz", lambda t: t.domain),
    "field": Task("field_student.ftz", lambda t: t.field),
    "safety": Task("safety_student.ftz", lambda t: t.safety),
}


def _rank(key: str, seed: int) -> bytes:
    return hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=8).digest()


def sample_documents(docs_dir: str, n: int, seed: int = 0) -> list[tuple[str, str]]:
    """The `n` (id, text) pairs with the smallest seeded id hash, in that hash order."""
    # A min-heap of inverted ranks keeps the n smallest ranks in memory, never the corpus.
    heap: list[tuple[bytes, str, str]] = []
    for path in document_files(docs_dir):
        table = storage.read_parquet(path, columns=["id", "text"])
        for doc_id, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist()):
            item = (bytes(255 - b for b in _rank(doc_id, seed)), doc_id, text)
            if len(heap) < n:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
    return [(d, t) for _, d, t in sorted(heap, reverse=True)]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); nan when either side is constant."""

    def ranks(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v), dtype=float)
        r[order] = np.arange(len(v), dtype=float)
        for value in np.unique(v):  # ties share their mean rank
            mask = v == value
            r[mask] = r[mask].mean()
        return r

    rx, ry = ranks(np.asarray(x, float)), ranks(np.asarray(y, float))
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def label_sample(
    docs: list[tuple[str, str]], teacher: TeacherConfig
) -> tuple[list[tuple[str, str, TeacherLabel]], dict[str, int]]:
    """Teacher labels of `docs`; failures are counted by reason and left out."""
    with teacher.client() as client:
        results = client.run_batch([build_request(i, t) for i, t in docs])
    labeled: list[tuple[str, str, TeacherLabel]] = []
    failed: dict[str, int] = {}
    for (doc_id, text), result in zip(docs, results):
        try:
            labeled.append((doc_id, text, parse(result)))
        except RecordError as exc:
            failed[exc.reason] = failed.get(exc.reason, 0) + 1
    return labeled, failed


def _evaluate(task: str, model_path: str, held: list[tuple[str, str, TeacherLabel]]) -> dict[str, Any]:
    model = fasttext_model.load(model_path)
    truth = [TASKS[task].target(t) for _, _, t in held]
    if task == "edu":
        preds = [expected_score(p) for p in fasttext_model.predict(model, [x for _, x, _ in held], k=6)]
        return {"spearman": spearman(np.array(preds), np.array([float(t) for t in truth]))}
    labels = [p[0][0] for p in fasttext_model.predict(model, [x for _, x, _ in held])]
    return {"accuracy": float(np.mean([p == t for p, t in zip(labels, truth)]))}


def train_student(
    task: str, docs_dir: str, models_dir: str, teacher: TeacherConfig, *, sample: int, seed: int = 0
) -> dict[str, Any]:
    """Run the whole loop for `task` and return its metrics (also in the card)."""
    if task not in TASKS:
        raise ConfigError(f"unknown student {task!r}; choose one of {', '.join(TASKS)}")
    labeled, failed = label_sample(sample_documents(docs_dir, sample, seed), teacher)
    held = [x for x in labeled if _rank(x[0], seed + 1)[0] < 256 * HELD_OUT]
    train = [x for x in labeled if _rank(x[0], seed + 1)[0] >= 256 * HELD_OUT]
    if len(train) < 2 or len(held) < 2:
        raise ConfigError(f"only {len(labeled)} teacher labels ({failed or 'no failures'}); sample more documents")
    os.makedirs(models_dir, exist_ok=True)
    spec = TASKS[task]
    model_path = os.path.join(models_dir, spec.model_file)
    # Quantizing needs enough text to learn its codebooks; small students stay full precision.
    params = dataclasses.replace(STUDENT_PARAMS, quantize=len(train) >= 5000)
    fasttext_model.train([x for _, x, _ in train], [spec.target(t) for _, _, t in train], model_path, params)
    metrics = {
        "task": task,
        "sampled": sample,
        "labeled": len(labeled),
        "teacher_failures": failed,
        "train": len(train),
        "held_out": len(held),
        "teacher_model": labeled[0][2].model,
        "teacher_rubric_version": TEACHER_VERSION,
        "params": params.__dict__,
        **_evaluate(task, model_path, held),
    }
    stem = model_path.rsplit(".", 1)[0]
    storage.write_json(metrics, f"{stem}.json")
    storage.write_parquet(
        pa.Table.from_pylist([{"id": i, "label": spec.target(t)} for i, _, t in labeled]),
        f"{stem}_teacher_labels.parquet",
    )
    _write_card(f"{stem}.md", spec.model_file, metrics)
    return metrics


def _write_card(path: str, model_file: str, m: dict[str, Any]) -> None:
    score = (
        f"Spearman vs teacher on held-out: **{m['spearman']:.3f}**"
        if "spearman" in m
        else f"Accuracy vs teacher on held-out: **{m['accuracy']:.3f}**"
    )
    lines = [
        f"# {model_file}: fastText student for `{m['task']}`",
        "",
        f"Teacher: `{m['teacher_model']}`, rubric version {m['teacher_rubric_version']} "
        f"(`annotators/teacher.py`). Sampled {m['sampled']} documents, {m['labeled']} labeled "
        f"(failures: {m['teacher_failures'] or 'none'}); trained on {m['train']}, held out {m['held_out']}.",
        "",
        score,
        "",
        f"Parameters: `{m['params']}`",
        "",
        "## Rubric",
        "",
        RUBRIC,
        "",
    ]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
