"""The ingest job: sources -> normalized documents (+ dead letters, a run summary).

    tasks (byte ranges / files / row groups) -> Reshuffle -> _StageFn (read, normalize, write)
        [dedup] -> content and id hash slices -> GroupByKey(partition)
                -> duplicate texts and duplicate ids per task
                -> CoGroupByKey(task) -> _finalize (write final files and duplicate-id dead letters)

Only task descriptors and hashes move through the runner, never document text, so
the job scales with workers instead of with the runner's serialization.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import apache_beam as beam

from corpusmill import storage
from corpusmill.extractors.text.ingest_tasks import (
    STAGING_DIR,
    HashSlice,
    duplicate_rows,
    file_stats,
    finalize,
    part_path,
    stage,
    staging_path,
    summarize,
)
from corpusmill.extractors.text.readers import MAX_RECORD_BYTES, ReadTask, plan
from corpusmill.layout import SUMMARY_FILE
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import BeamCounters, prepare_output, run
from corpusmill.progress import ProgressLine

log = logging.getLogger(__name__)


class _StageFn(beam.DoFn):
    def __init__(self, out_dir: str, dedup: bool) -> None:
        self.out_dir, self.dedup = out_dir, dedup

    def setup(self) -> None:
        self.counters = BeamCounters("ingest")

    def process(self, element: tuple[int, ReadTask]):
        index, task = element
        slices = stage(task, index, self.out_dir, dedup=self.dedup)
        self.counters.inc("tasks_read")
        if not self.dedup:
            return
        yield from enumerate(slices)


def _duplicates_in_partition(element: tuple[int, list[HashSlice]]):
    _, slices = element
    yield from duplicate_rows(list(slices)).items()


def _finalize(element: tuple[int, dict[str, list[Any]]], out_dir: str) -> None:
    index, grouped = element
    finalize(index, out_dir, list(grouped["drop"]))


class Ingest(beam.PTransform):
    """Reads `tasks` and writes `out_dir/part-NNNNN.parquet`, one file per task."""

    def __init__(self, tasks: list[ReadTask], out_dir: str, *, dedup: bool) -> None:
        super().__init__()
        self.tasks, self.out_dir, self.dedup = tasks, out_dir, dedup

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        indexed = (
            pbegin | "Tasks" >> beam.Create(list(enumerate(self.tasks)), reshuffle=False) | "Spread" >> beam.Reshuffle()
        )
        slices = indexed | "Read" >> beam.ParDo(_StageFn(self.out_dir, self.dedup))
        if not self.dedup:
            return slices
        drops = slices | "ByPartition" >> beam.GroupByKey() | "FindDuplicates" >> beam.FlatMap(_duplicates_in_partition)
        task_keys = indexed | "TaskKeys" >> beam.Map(lambda kv: (kv[0], None))
        return (
            {"task": task_keys, "drop": drops}
            | "JoinDrops" >> beam.CoGroupByKey()
            | "Finalize" >> beam.Map(_finalize, self.out_dir)
        )


def fingerprint(tasks: list[ReadTask], config: dict[str, Any]) -> str:
    """What identifies a run's inputs: the task plan (paths, sizes via byte ranges) and config."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for t in tasks:
        h.update(repr((t.kind, t.paths, t.names, t.source, t.start, t.end)).encode())
    return h.hexdigest()


def _poll_records(out_dir: str, n_tasks: int, dedup: bool) -> Callable[[], int]:
    """Records read so far, from the footers of the tasks' files.

    A task's file never changes once it exists (staged files are only renamed), so each
    footer is read once and its count remembered; later polls only look for new files.
    """
    counted: dict[int, int] = {}

    def poll() -> int:
        for i in range(n_tasks):
            if i in counted:
                continue
            for path in (part_path(out_dir, i), staging_path(out_dir, i)) if dedup else (part_path(out_dir, i),):
                if storage.exists(path):
                    counted[i] = file_stats(path).get("records_in", 0)
                    break
        return sum(counted.values())

    return poll


def run_ingest(
    sources: list[str],
    out_dir: str,
    *,
    dedup: bool = True,
    source: str | None = None,
    encoding: str | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    workers: int | None = None,
    beam_args: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the ingest job and return its summary (also written to `out_dir/_summary.json`)."""
    tasks = plan(sources, source=source, encoding=encoding, max_record_bytes=max_record_bytes)
    options = pipeline_options(beam_args, workers=workers)
    config = {"dedup": dedup, "source": source, "encoding": encoding}
    run_info = {"job": "ingest", "sources": sources, "config": config, "fingerprint": fingerprint(tasks, config)}
    finished = prepare_output(out_dir, run_info, overwrite=overwrite)
    if finished is not None:
        log.info("%s already holds this finished run; nothing to do", out_dir)
        return {**finished, "skipped": True}
    start = time.monotonic()
    poll = _poll_records(out_dir, len(tasks), dedup)
    with ProgressLine("ingest", "records", poll, enabled=progress):
        run(lambda p: p | Ingest(tasks, out_dir, dedup=dedup), options)
    elapsed = time.monotonic() - start
    counts = summarize(out_dir, len(tasks))
    summary = {
        **run_info,
        **counts,
        "tasks": len(tasks),
        "files": len(tasks),
        "elapsed_s": round(elapsed, 3),
        "docs_per_s": round(counts["records_in"] / elapsed, 1) if elapsed > 0 else None,
        "runner": options.get_all_options().get("runner"),
        "workers": options.get_all_options().get("direct_num_workers"),
    }
    storage.remove_tree(storage.join(out_dir, STAGING_DIR))
    storage.write_json(summary, storage.join(out_dir, SUMMARY_FILE))
    return summary
