"""Beam pieces every corpusmill job shares: counters, dead letters, running a pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions

from corpusmill import storage
from corpusmill.errors import OutputExistsError
from corpusmill.layout import DEAD_LETTERS_DIR, LEDGER_FILE, RUN_FILE, SUMMARY_FILE
from corpusmill.llm.types import Usage, fold_usage, usage_as_dict
from corpusmill.pipelines.beam_options import local_runner
from corpusmill.progress import ProgressTicks
from corpusmill.schema import DEAD_LETTER_SCHEMA, DeadLetter

log = logging.getLogger(__name__)

DEAD_LETTER_TAG = "dead_letter"
DEAD_LETTER_ROWS_PER_FILE = 100_000


class BeamCounters:
    """A `corpusmill.progress.CounterSink` that counts into Beam Metrics under `namespace`,
    and, given a job's progress folder, into the tick file the driver's progress line reads."""

    def __init__(self, namespace: str, progress: str | None = None) -> None:
        self.namespace = namespace
        self._counters: dict[str, Any] = {}
        self._ticks = ProgressTicks(progress) if progress else None

    def inc(self, name: str, n: int = 1) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter(self.namespace, name)
        counter.inc(n)
        if self._ticks is not None:
            self._ticks.inc(name, n)

    def flush(self) -> None:
        """Write the tick file now (a DoFn calls this when an element's work is done)."""
        if self._ticks is not None:
            self._ticks.flush()


def _write_dead_letter_files(rows: list[DeadLetter], out_dir: str, stage: str) -> list[str]:
    # Sorted so that the files are byte-identical whatever order workers produced rows in.
    rows = sorted(rows, key=lambda r: (r["uri"], r["id"] or "", r["reason"], r["message"]))
    paths = []
    for n, start in enumerate(range(0, len(rows), DEAD_LETTER_ROWS_PER_FILE)):
        path = storage.join(out_dir, DEAD_LETTERS_DIR, f"{stage}-{n:05d}.parquet")
        chunk = rows[start : start + DEAD_LETTER_ROWS_PER_FILE]
        storage.write_parquet(pa.Table.from_pylist(chunk, schema=DEAD_LETTER_SCHEMA), path)
        paths.append(path)
    return paths


class WriteDeadLetters(beam.PTransform):
    """Writes dead-letter dicts to `<out_dir>/_dead_letters/<stage>-NNNNN.parquet`.

    Dead letters are expected to be a small share of a job's records, so they are gathered
    in one place and sorted; the output is deterministic. Returns the written paths.
    """

    def __init__(self, out_dir: str, stage: str) -> None:
        super().__init__()
        self.out_dir, self.stage = out_dir, stage

    def expand(self, dead_letters: beam.PCollection) -> beam.PCollection:
        out_dir, stage = self.out_dir, self.stage
        return (
            dead_letters
            | "Gather" >> beam.combiners.ToList()
            | "Write" >> beam.FlatMap(_write_dead_letter_files, out_dir, stage)
        )


def _write_usage(usages: list[Usage], out_dir: str) -> None:
    usage = usage_as_dict(fold_usage(usages))
    if usage:  # read by `corpusmill report` (and folded into the summary by some jobs)
        storage.write_json(usage, storage.join(out_dir, LEDGER_FILE))


class WriteUsage(beam.PTransform):
    """Folds the LLM usages (`UsesLLM.take_ledger()`) a job's workers took into one
    `<out_dir>/_llm_ledger.json`, per step; nothing is written when no request was made."""

    def __init__(self, out_dir: str) -> None:
        super().__init__()
        self.out_dir = out_dir

    def expand(self, usages: beam.PCollection) -> beam.PCollection:
        return (
            usages
            | "Nonempty" >> beam.Filter(bool)
            | "Gather" >> beam.combiners.ToList()
            | "Write" >> beam.Map(_write_usage, self.out_dir)
        )


def run(build: Callable[[beam.Pipeline], None], options: PipelineOptions) -> None:
    """Build and run a pipeline to completion; raise if the runner reports failure."""
    pipeline = beam.Pipeline(runner=local_runner(options), options=options)
    build(pipeline)
    result = pipeline.run()
    state = result.wait_until_finish()
    if state not in (None, "DONE", beam.runners.runner.PipelineState.DONE):
        raise RuntimeError(f"pipeline ended in state {state}")


def prepare_output(out_dir: str, run_info: dict[str, Any], *, overwrite: bool) -> dict[str, Any] | None:
    """Claim `out_dir` for a run identified by `run_info["fingerprint"]`.

    Returns the earlier summary when this exact run already finished there (the caller skips
    the work); raises OutputExistsError when the folder holds another run or foreign files;
    otherwise writes `_run.json` so that an interrupted run can be resumed by the same command.
    """
    summary_path, run_path = storage.join(out_dir, SUMMARY_FILE), storage.join(out_dir, RUN_FILE)
    if overwrite:
        storage.remove_tree(out_dir)
    elif storage.exists(summary_path):
        summary = storage.read_json(summary_path)
        if summary.get("fingerprint") == run_info["fingerprint"]:
            return summary
        raise OutputExistsError(
            f"{out_dir} already holds a finished run of other inputs or options; "
            "choose a new output folder or pass --overwrite"
        )
    elif storage.exists(run_path):
        if storage.read_json(run_path).get("fingerprint") != run_info["fingerprint"]:
            raise OutputExistsError(
                f"{out_dir} holds an unfinished run of other inputs or options; "
                "choose a new output folder or pass --overwrite"
            )
        # A resumed run: files a killed attempt was writing are redone, their halves removed,
        # so the finished folder holds the same files as an uninterrupted run.
        storage.remove_temp_files(out_dir)
    elif storage.exists(out_dir) and storage.expand(out_dir):
        raise OutputExistsError(f"{out_dir} is not empty and holds no corpusmill run; choose a new output folder")
    storage.write_json(run_info, run_path)
    return None
