"""The annotate job: documents -> one label sidecar row per document, all labelers in one pass.

    input files -> Reshuffle -> ReadBatches (batched by the annotators' hint)
        -> Label (_LabelFn: every annotator, models shared per worker process)
        -> {labels, dead letters} CoGroupByKey(file) -> WriteSidecars

`ANN_DIR/part-NNNNN.parquet` mirrors `DOCS_DIR/part-NNNNN.parquet` row for row; label
failures are rows of `ANN_DIR/_dead_letters/`; `ANN_DIR/_summary.json` has the counts and
`ANN_DIR/_llm_ledger.json` what LLM-backed labelers (the teacher) spent in this run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.utils import shared

from corpusmill import storage
from corpusmill.annotators import registry
from corpusmill.annotators.base import Annotator
from corpusmill.annotators.labeling import batch_hint, label_batch, sidecar_schema
from corpusmill.annotators.sidecar import FileTask, document_files, plan, read_batches, summarize, write_sidecar
from corpusmill.errors import ModelNotFoundError
from corpusmill.layout import LEDGER_FILE, SUMMARY_FILE
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import DEAD_LETTER_TAG, BeamCounters, prepare_output, run
from corpusmill.progress import ProgressLine, poll_ticks, progress_dir

log = logging.getLogger(__name__)

USAGE_TAG = "llm_usage"


class _Loaded:
    """The set-up annotators of one worker process (a class, so `Shared` can weak-reference it)."""

    def __init__(self, annotators: Sequence[Annotator]) -> None:
        for a in annotators:
            a.setup()
        self.annotators = list(annotators)


class _ReadBatchesFn(beam.DoFn):
    def __init__(self, annotators: Sequence[Annotator]) -> None:
        self.hint = batch_hint(annotators)

    def process(self, task: FileTask):
        for seq, batch in enumerate(read_batches(task.source, self.hint)):
            yield task.index, seq, batch


class _LabelFn(beam.DoFn):
    """Labels one batch with every annotator; models load once per process through `Shared`."""

    def __init__(
        self, annotators: Sequence[Annotator], handle: shared.Shared, tag: str, progress: str | None = None
    ) -> None:
        self.annotators, self.handle, self.tag, self.progress = list(annotators), handle, tag, progress
        self.schema = sidecar_schema(annotators)

    def setup(self) -> None:
        self.loaded = self.handle.acquire(lambda: _Loaded(self.annotators), tag=self.tag)
        self.counters = BeamCounters("annotate", self.progress)

    def process(self, element: tuple[int, int, pa.Table]):
        index, seq, batch = element
        result = label_batch(self.loaded.annotators, batch, self.schema)
        self.counters.inc("docs", batch.num_rows)
        self.counters.inc("label_failures", len(result.dead_letters))
        yield index, (seq, result.table)
        for row in result.dead_letters:
            yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, (index, row))
        for annotator in self.loaded.annotators:  # LLM-backed labelers report what they spent
            take_usage = getattr(annotator, "take_usage", None)
            if take_usage is not None:
                yield beam.pvalue.TaggedOutput(USAGE_TAG, (annotator.name, take_usage()))


def _merge_ledgers(ledgers: Iterable[Any]) -> Any:
    total = None
    for ledger in ledgers:
        if total is None:
            total = type(ledger)()
        total.merge(ledger)
    return total


def _write_usage(usage: list[tuple[str, Any]], ann_dir: str) -> None:
    if usage:  # read by `corpusmill report` as this job's LLM usage
        storage.write_json(
            {name: ledger.as_dict() for name, ledger in sorted(usage)}, storage.join(ann_dir, LEDGER_FILE)
        )


def _write(element: tuple[int, dict[str, list[Any]]], tasks: dict[int, FileTask], schema: pa.Schema) -> int:
    index, grouped = element
    return write_sidecar(tasks[index], list(grouped["labels"]), list(grouped["dead"]), schema)


class Annotate(beam.PTransform):
    """Labels the documents of `tasks` with `annotators`; writes one sidecar per input file."""

    def __init__(
        self, tasks: Sequence[FileTask], annotators: Sequence[Annotator], ann_dir: str, *, progress: str | None = None
    ) -> None:
        super().__init__()
        self.tasks, self.annotators, self.ann_dir, self.progress = list(tasks), list(annotators), ann_dir, progress

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        # One tag per pipeline: two jobs in one process never share loaded models by mistake.
        tag = f"{fingerprint(self.annotators)}-{uuid.uuid4().hex}"
        labeled = (
            pbegin
            | "Files" >> beam.Create(self.tasks, reshuffle=False)
            | "Spread" >> beam.Reshuffle()
            | "ReadBatches" >> beam.ParDo(_ReadBatchesFn(self.annotators))
            | "Label"
            >> beam.ParDo(_LabelFn(self.annotators, shared.Shared(), tag, self.progress)).with_outputs(
                DEAD_LETTER_TAG, USAGE_TAG, main="labels"
            )
        )
        _ = (
            labeled[USAGE_TAG]
            | "SumUsage" >> beam.CombinePerKey(_merge_ledgers)
            | "GatherUsage" >> beam.combiners.ToList()
            | "WriteUsage" >> beam.Map(_write_usage, self.ann_dir)
        )
        return (
            {"labels": labeled.labels, "dead": labeled[DEAD_LETTER_TAG]}
            | "ByFile" >> beam.CoGroupByKey()
            | "WriteSidecars" >> beam.Map(_write, {t.index: t for t in self.tasks}, sidecar_schema(self.annotators))
        )


def fingerprint(annotators: Sequence[Annotator]) -> str:
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
) -> dict[str, Any]:
    """Label every document of `docs_dir` into `ann_dir`; returns the run summary."""
    annotators = list(annotators) if annotators is not None else build_annotators()
    inputs = [(posixpath.basename(p), storage.parquet_rows(p)) for p in document_files(docs_dir)]
    run_info = {
        "job": "annotate",
        "docs_dir": docs_dir,
        "annotators": [[a.name, a.version] for a in annotators],
        "fingerprint": hashlib.sha256(json.dumps([fingerprint(annotators), inputs]).encode()).hexdigest(),
    }
    finished = prepare_output(ann_dir, run_info, overwrite=overwrite)
    if finished is not None:
        log.info("%s already holds this finished run; nothing to do", ann_dir)
        return {**finished, "skipped": True}
    tasks, n_files = plan(docs_dir, ann_dir)
    options = pipeline_options(beam_args, workers=workers)
    start = time.monotonic()
    if tasks:
        rows = dict(inputs)
        total = sum(rows.get(posixpath.basename(t.source), 0) for t in tasks)
        storage.remove_tree(progress_dir(ann_dir))  # counts of an interrupted earlier attempt
        ticks = progress_dir(ann_dir) if progress else None
        with ProgressLine("annotate", "documents", poll_ticks(ann_dir, "docs"), enabled=progress, total=total):
            run(lambda p: p | Annotate(tasks, annotators, ann_dir, progress=ticks), options)
        storage.remove_tree(progress_dir(ann_dir))
    elapsed = time.monotonic() - start
    counts = summarize(docs_dir, ann_dir)
    labeled_now = sum(storage.parquet_rows(t.target) for t in tasks)
    summary = {
        **run_info,
        **counts,
        "files": n_files,
        "files_labeled": len(tasks),
        "skipped": False,
        "labels_total": counts["records_in"] * len(annotators),
        "elapsed_s": round(elapsed, 3),
        "docs_per_s": round(labeled_now / elapsed, 1) if tasks and elapsed > 0 else None,
        "runner": options.get_all_options().get("runner"),
    }
    storage.write_json(summary, storage.join(ann_dir, SUMMARY_FILE))
    return summary
