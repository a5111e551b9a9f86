"""The one skeleton every corpusmill job runs through.

    fingerprint the run -> claim the output folder (or find it finished) -> plan the work
    -> run the pipeline with a progress line -> time it -> count -> write `_summary.json`

A job supplies what is its own: what identifies a run (`identity`), how to plan the work
once the folder is claimed (so a resumed run plans only what is missing), and how to count
the result. The summary is written last, so its presence means the folder is complete.

A job that calls models also says how to find and reopen items that failed for a transient
reason (`Retry`): a run that ended with such failures is not finished, so the same command
run again retries exactly those (the response cache answers everything already answered).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from corpusmill import storage
from corpusmill.errors import ConfigError
from corpusmill.layout import RUN_FILE, SUMMARY_FILE
from corpusmill.pipelines.common import prepare_output, run
from corpusmill.progress import ProgressLine, progress_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Work:
    """What a job will run once its folder is claimed.

    `build` adds the job's transforms to a pipeline (None: nothing is left to do); `poll`
    counts finished `unit`s for the progress line, cheaply (e.g. the workers' tick files
    under `<out>/_progress/`), out of `total` when it is known.
    A job that iterates (dedup's label propagation) runs its later pipelines in `follow_up`,
    which gets a function that runs one pipeline from its build function.
    """

    build: Callable[[beam.Pipeline], None] | None
    poll: Callable[[], int] | None = None
    unit: str = "documents"
    total: int | None = None
    follow_up: Callable[[Callable[[Callable[[beam.Pipeline], None]], None]], None] | None = None


@dataclass(frozen=True)
class Retry:
    """How a job that calls models retries its transient failures (server down, timeout, 5xx,
    rate limit), read from its own output files.

    `pending()` counts the items of the folder that ended that way; `reopen()` removes the
    output units holding them (a part, a sidecar; the unit first, so an interrupted reopen
    leaves an unfinished folder, never a wrong one) so that `plan` does them again, and
    returns how many items it reopened. Final failures are never reopened.
    """

    pending: Callable[[], int]
    reopen: Callable[[], int]


def fingerprint(*parts: Any) -> str:
    """A run's identity: the hash of its planned inputs and its config, as JSON."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def rate(count: int | float, elapsed: float, digits: int = 1) -> float | None:
    return round(count / elapsed, digits) if elapsed > 0 else None


def run_job(
    job: str,
    out_dir: str,
    identity: dict[str, Any],
    *,
    plan: Callable[[str | None], Work],
    count: Callable[[float], dict[str, Any]],
    options: PipelineOptions,
    overwrite: bool = False,
    progress: bool = True,
    key: str | None = None,
    retry: Retry | None = None,
    retry_failed: bool = False,
) -> dict[str, Any]:
    """Run `job` into `out_dir` and return its summary (also written to `out_dir/_summary.json`).

    `identity` (inputs and config, JSON-able) is stored as the run's record and hashed into its
    fingerprint, unless the job passes its own `key` (a fingerprint of what `identity` only
    names, such as planned byte ranges). A folder holding this finished run is left as is and
    its summary returned with `skipped: True`. `plan(ticks)` gets the folder where the job's
    workers count their progress (None when progress is off); `count(elapsed)` gives the job's
    own figures. With `retry`, a folder whose run left transient failures (`retryable` in its
    summary) is not finished: the run reopens and redoes them; `retry_failed` asks for that
    explicitly and refuses a folder that holds no run.
    """
    run_info = {"job": job, **identity, "fingerprint": key or fingerprint(identity)}
    if retry_failed and overwrite:
        raise ConfigError("--retry-failed keeps what a run answered, --overwrite discards it: pass one of them")
    if retry_failed and not storage.exists(storage.join(out_dir, RUN_FILE)):
        raise ConfigError(f"--retry-failed: {out_dir} holds no run to retry; run the command without it first")
    finished = prepare_output(out_dir, run_info, overwrite=overwrite)
    if finished is not None:
        if retry is None or not finished.get("retryable"):
            log.info("%s already holds this finished run; nothing to do", out_dir)
            return {**finished, "skipped": True}
        # Unfinished again until the retry completes: an interrupted retry is resumed.
        log.info("%s: retrying %d items that failed for a transient reason", out_dir, finished["retryable"])
        storage.remove_tree(storage.join(out_dir, SUMMARY_FILE))
    reopened = retry.reopen() if retry is not None else 0
    start = time.monotonic()
    ticks = progress_dir(out_dir)
    storage.remove_tree(ticks)  # counts of an interrupted earlier attempt
    work = plan(ticks if progress else None)
    if work.build is not None:
        poll = work.poll or (lambda: 0)
        with ProgressLine(job, work.unit, poll, enabled=progress and work.poll is not None, total=work.total):
            run(work.build, options)
        if work.follow_up is not None:
            work.follow_up(lambda build: run(build, options))
    storage.remove_tree(ticks)
    elapsed = time.monotonic() - start
    all_options = options.get_all_options()
    summary = {
        **run_info,
        **count(elapsed),
        "elapsed_s": round(elapsed, 3),
        "runner": all_options.get("runner"),
        "workers": all_options.get("direct_num_workers"),
    }
    if retry is not None:
        summary.update(retried=reopened, retryable=retry.pending())
    storage.write_json(summary, storage.join(out_dir, SUMMARY_FILE))
    return summary
