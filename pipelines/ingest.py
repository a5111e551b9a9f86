"""The ingest job: sources -> normalized documents (+ dead letters, a run summary).

    tasks (byte ranges / files / row groups) -> Reshuffle -> _StageFn (read, normalize, write)
        [dedup] -> content and id hash slices -> GroupByKey(partition)
                -> duplicate texts and duplicate ids per task
                -> CoGroupByKey(task) -> _finalize (write final files and duplicate-id dead letters)

Only task descriptors and hashes move through the runner, never document text, so
the job scales with workers instead of with the runner's serialization.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam

from corpusmill import storage
from corpusmill.extractors.text.ingest_tasks import (
    STAGING_DIR,
    HashSlice,
    duplicate_rows,
    finalize,
    stage,
    summarize,
)
from corpusmill.extractors.text.readers import MAX_RECORD_BYTES, ReadTask, plan
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import BeamCounters
from corpusmill.pipelines.job import Work, fingerprint, rate, run_job
from corpusmill.progress import poll_ticks


class _StageFn(beam.DoFn):
    def __init__(self, out_dir: str, dedup: bool, progress: str | None) -> None:
        self.out_dir, self.dedup, self.progress = out_dir, dedup, progress

    def setup(self) -> None:
        self.counters = BeamCounters("ingest", self.progress)

    def process(self, element: tuple[int, ReadTask]):
        index, task = element
        slices = stage(task, index, self.out_dir, dedup=self.dedup, counters=self.counters)
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

    def __init__(self, tasks: list[ReadTask], out_dir: str, *, dedup: bool, progress: str | None = None) -> None:
        super().__init__()
        self.tasks, self.out_dir, self.dedup, self.progress = tasks, out_dir, dedup, progress

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        indexed = (
            pbegin | "Tasks" >> beam.Create(list(enumerate(self.tasks)), reshuffle=False) | "Spread" >> beam.Reshuffle()
        )
        slices = indexed | "Read" >> beam.ParDo(_StageFn(self.out_dir, self.dedup, self.progress))
        if not self.dedup:
            return slices
        drops = slices | "ByPartition" >> beam.GroupByKey() | "FindDuplicates" >> beam.FlatMap(_duplicates_in_partition)
        task_keys = indexed | "TaskKeys" >> beam.Map(lambda kv: (kv[0], None))
        return (
            {"task": task_keys, "drop": drops}
            | "JoinDrops" >> beam.CoGroupByKey()
            | "Finalize" >> beam.Map(_finalize, self.out_dir)
        )


def run_ingest(
    sources: list[str],
    out_dir: str,
    *,
    dedup: bool = True,
    source: str | None = None,
    encoding: str | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    follow_links: bool = False,
    workers: int | None = None,
    beam_args: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the ingest job and return its summary (also written to `out_dir/_summary.json`)."""
    tasks = plan(
        sources, source=source, encoding=encoding, max_record_bytes=max_record_bytes, follow_links=follow_links
    )
    config: dict[str, Any] = {"dedup": dedup, "source": source}
    if encoding:  # only when given, so runs without it keep their fingerprint
        config["encoding"] = encoding
    if max_record_bytes != MAX_RECORD_BYTES:
        config["max_record_bytes"] = max_record_bytes
    # The planned byte ranges, not only the paths, identify the inputs: a grown file is new input.
    planned = [(t.kind, t.paths, t.names, t.source, t.start, t.end) for t in tasks]

    def work(ticks: str | None) -> Work:
        build = lambda p: p | Ingest(tasks, out_dir, dedup=dedup, progress=ticks)  # noqa: E731
        return Work(build, poll_ticks(out_dir, "records"), "records")

    def count(elapsed: float) -> dict[str, Any]:
        counts = summarize(out_dir, len(tasks))
        storage.remove_tree(storage.join(out_dir, STAGING_DIR))
        return {**counts, "tasks": len(tasks), "files": len(tasks), "docs_per_s": rate(counts["records_in"], elapsed)}

    return run_job(
        "ingest",
        out_dir,
        {"sources": sources, "config": config},
        key=fingerprint(planned, config),
        plan=work,
        count=count,
        options=pipeline_options(beam_args, workers=workers),
        overwrite=overwrite,
        progress=progress,
    )
