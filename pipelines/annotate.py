"""The annotate job: documents -> one label sidecar row per document, all labelers in one pass.

    input files -> Reshuffle -> Label (_LabelFileFn: per file, batches by the annotators'
        hint, every annotator, models shared per worker process; the file's sidecar and its
        dead letters written at once) -> LLM usage gathered into the ledger

`ANN_DIR/part-NNNNN.parquet` mirrors `DOCS_DIR/part-NNNNN.parquet` row for row; label
failures are rows of `ANN_DIR/_dead_letters/`; `ANN_DIR/_summary.json` has the counts and
`ANN_DIR/_llm_ledger.json` what LLM-backed labelers (the teacher) spent in this run.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import uuid
from collections.abc import Sequence
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.utils import shared

from corpusmill import storage
from corpusmill.annotators import registry
from corpusmill.annotators.base import Annotator
from corpusmill.annotators.labeling import batch_hint, label_batch, sidecar_schema
from corpusmill.annotators.sidecar import (
    FileTask,
    document_files,
    pending_retries,
    plan,
    read_batches,
    reopen_retryable,
    summarize,
    write_sidecar,
)
from corpusmill.errors import ModelNotFoundError
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import BeamCounters, WriteUsage
from corpusmill.pipelines.job import Retry, Work, fingerprint, rate, run_job
from corpusmill.progress import poll_ticks
from corpusmill.schema import DeadLetter


class _Loaded:
    """The set-up annotators of one worker process (a class, so `Shared` can weak-reference it)."""

    def __init__(self, annotators: Sequence[Annotator]) -> None:
        for a in annotators:
            a.setup()
        self.annotators = list(annotators)


class _LabelFileFn(beam.DoFn):
    """Labels one input file with every annotator and writes its sidecar before taking the
    next, so a killed run keeps every file it finished (and an empty file gets an empty
    sidecar). Models load once per process through `Shared`."""

    def __init__(
        self, annotators: Sequence[Annotator], handle: shared.Shared, tag: str, progress: str | None = None
    ) -> None:
        self.annotators, self.handle, self.tag, self.progress = list(annotators), handle, tag, progress
        self.schema, self.hint = sidecar_schema(annotators), batch_hint(annotators)

    def setup(self) -> None:
        self.loaded = self.handle.acquire(lambda: _Loaded(self.annotators), tag=self.tag)
        self.counters = BeamCounters("annotate", self.progress)

    def process(self, task: FileTask):
        pieces: list[tuple[int, pa.Table]] = []
        dead: list[DeadLetter] = []
        for seq, batch in enumerate(read_batches(task.source, self.hint)):
            result = label_batch(self.loaded.annotators, batch, self.schema)
            pieces.append((seq, result.table))
            dead.extend(result.dead_letters)
            self.counters.inc("docs", batch.num_rows)
            self.counters.inc("label_failures", len(result.dead_letters))
        write_sidecar(task, pieces, dead, self.schema)
        self.counters.inc("files")
        self.counters.flush()
        for annotator in self.loaded.annotators:  # LLM-backed labelers report what they spent
            take_ledger = getattr(annotator, "take_ledger", None)
            if take_ledger is not None:
                yield take_ledger()


class Annotate(beam.PTransform):
    """Labels the documents of `tasks` with `annotators`; writes one sidecar per input file."""

    def __init__(
        self, tasks: Sequence[FileTask], annotators: Sequence[Annotator], ann_dir: str, *, progress: str | None = None
    ) -> None:
        super().__init__()
        self.tasks, self.annotators, self.ann_dir, self.progress = list(tasks), list(annotators), ann_dir, progress

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        # One tag per pipeline: two jobs in one process never share loaded models by mistake.
        tag = f"{annotators_key(self.annotators)}-{uuid.uuid4().hex}"
        return (
            pbegin
            | "Files" >> beam.Create(self.tasks, reshuffle=False)
            | "Spread" >> beam.Reshuffle()
            | "Label" >> beam.ParDo(_LabelFileFn(self.annotators, shared.Shared(), tag, self.progress))
            | "WriteUsage" >> WriteUsage(self.ann_dir)
        )


def annotators_key(annotators: Sequence[Annotator]) -> str:
    """Names, versions, model versions and columns of the annotators: what makes labels comparable."""
    parts = [
        (
            a.name,
            a.version,
            str(a.columns),
            sorted((k, str(v)) for k, v in vars(a).items() if "version" in k or k == "model_name"),
        )
        for a in annotators
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def build_annotators(names: Sequence[str] | None = None, **options: Any) -> list[Annotator]:
    """Instantiate (and so check the model files of) the named annotators, default: all built in."""
    models_dir = options.get("models_dir")
    if models_dir and not storage.exists(models_dir):
        raise ModelNotFoundError(f"models folder {models_dir} does not exist; train students into it first")
    return [registry.create(name, **options) for name in (names or registry.DEFAULT_ANNOTATORS)]


def run_annotate(
    docs_dir: str,
    ann_dir: str,
    *,
    annotators: Sequence[Annotator] | None = None,
    workers: int | None = None,
    beam_args: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    retry_failed: bool = False,
) -> dict[str, Any]:
    """Label every document of `docs_dir` into `ann_dir`; returns the run summary.

    Files whose teacher labels failed for a transient reason are labeled again by a re-run
    (or `retry_failed`)."""
    annotators = list(annotators) if annotators is not None else build_annotators()
    inputs = [(posixpath.basename(p), storage.parquet_rows(p)) for p in document_files(docs_dir)]
    planned: list[FileTask] = []  # filled once the folder is claimed: a resumed run labels only what is missing
    n_files = 0

    def work(ticks: str | None) -> Work:
        nonlocal n_files
        tasks, n_files = plan(docs_dir, ann_dir)
        planned.extend(tasks)
        if not tasks:
            return Work(None)
        rows = dict(inputs)
        total = sum(rows.get(posixpath.basename(t.source), 0) for t in tasks)
        build = lambda p: p | Annotate(tasks, annotators, ann_dir, progress=ticks)  # noqa: E731
        return Work(build, poll_ticks(ann_dir, "docs"), "documents", total=total)

    def count(elapsed: float) -> dict[str, Any]:
        counts = summarize(docs_dir, ann_dir)
        labeled_now = sum(storage.parquet_rows(t.target) for t in planned)
        return {
            **counts,
            "files": n_files,
            "files_labeled": len(planned),
            "skipped": False,
            "labels_total": counts["records_in"] * len(annotators),
            "docs_per_s": rate(labeled_now, elapsed) if planned else None,
        }

    return run_job(
        "annotate",
        ann_dir,
        {"docs_dir": docs_dir, "annotators": [[a.name, a.version] for a in annotators]},
        key=fingerprint(annotators_key(annotators), inputs),
        plan=work,
        count=count,
        options=pipeline_options(beam_args, workers=workers),
        overwrite=overwrite,
        progress=progress,
        retry=Retry(lambda: pending_retries(ann_dir), lambda: reopen_retryable(ann_dir)),
        retry_failed=retry_failed,
    )
