"""The one place that builds Beam PipelineOptions for every corpusmill job.

Locally we default to the FnApiRunner: the DirectRunner would first try to download the
Prism runner binary, which fails offline. Any other Beam flag passes through untouched, so
`--runner DataflowRunner --project ... --region ...`, a Spark or Flink runner, or
`--runner PortableRunner --job_endpoint embed` need no code change.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.transforms.environments import SubprocessSDKEnvironment

LOCAL_RUNNER = "FnApiRunner"


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def pipeline_options(beam_args: list[str] | None = None, *, workers: int | None = None) -> PipelineOptions:
    """PipelineOptions from pass-through Beam flags plus corpusmill's local defaults.

    `workers` sets local parallelism: 1 runs in-process (no pickling round trips), more uses
    FnApiRunner's multi_processing mode with that many worker processes. It is ignored by
    remote runners, which size their own fleets.
    """
    args = list(beam_args or [])
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append(f"--runner={LOCAL_RUNNER}")
    options = PipelineOptions(args)
    std = options.get_all_options()
    if std.get("runner") in (LOCAL_RUNNER, "DirectRunner"):
        # --workers wins; else Beam's own --direct_num_workers if given; else one per CPU.
        given = any(a == "--direct_num_workers" or a.startswith("--direct_num_workers=") for a in args)
        n = workers or (std.get("direct_num_workers") if given else None) or default_workers()
        overrides: dict[str, object] = {"direct_num_workers": n}
        if not std.get("default_sdk_harness_log_level"):
            # Worker processes otherwise log every channel they open at INFO.
            overrides["default_sdk_harness_log_level"] = "WARNING"
        if not std.get("direct_running_mode") or std.get("direct_running_mode") == "in_memory":
            overrides["direct_running_mode"] = "in_memory" if n == 1 else "multi_processing"
        if std.get("runner") == "DirectRunner":
            # DirectRunner would otherwise switch to Prism, which it downloads.
            overrides["runner"] = LOCAL_RUNNER
        options = PipelineOptions(args, **overrides)
    return options


class _WorkersRunner(fn_runner.FnApiRunner):
    """FnApiRunner whose worker processes start through `corpusmill.pipelines.beam_worker`.

    In multi_processing mode FnApiRunner starts Beam's own worker entry point; given a
    default environment and the in_memory mode it starts ours instead, with the same
    number of workers (`direct_num_workers`) and the same bundle splitting.
    """

    def __init__(self) -> None:
        command = f"{shlex.quote(sys.executable)} -m corpusmill.pipelines.beam_worker"
        super().__init__(default_environment=SubprocessSDKEnvironment.from_command_string(command))

    def run_pipeline(self, pipeline, options):  # noqa: ANN001, ANN201 (Beam's signature)
        direct = options.view_as(DirectOptions)
        mode, direct.direct_running_mode = direct.direct_running_mode, "in_memory"
        quiet, logger = _DropMessage("direct_running_mode should be"), logging.getLogger(fn_runner.__name__)
        logger.addFilter(quiet)
        try:
            return super().run_pipeline(pipeline, options)
        finally:
            logger.removeFilter(quiet)
            direct.direct_running_mode = mode


class _DropMessage(logging.Filter):
    """Drops FnApiRunner's warning that in_memory mode with N workers is not parallel:
    with a subprocess environment (ours) it is."""

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


def local_runner(options: PipelineOptions) -> fn_runner.FnApiRunner | None:
    """The runner instance for a local multi-process run; None lets Beam pick from `options`."""
    std = options.get_all_options()
    if std.get("runner") == LOCAL_RUNNER and std.get("direct_running_mode") == "multi_processing":
        return _WorkersRunner()
    return None


PORTABLE_EMBED_ARGS = [
    "--runner=PortableRunner",
    "--job_endpoint=embed",
    "--environment_type=LOOPBACK",
]
