"""The one place that builds Beam PipelineOptions for every corpusmill job.

Locally we default to the FnApiRunner: the DirectRunner would first try to download the
Prism runner binary, which fails offline. Any other Beam flag passes through untouched, so
`--runner DataflowRunner --project ... --region ...`, a Spark or Flink runner, or
`--runner PortableRunner --job_endpoint embed` need no code change.
"""

from __future__ import annotations

import os

from apache_beam.options.pipeline_options import PipelineOptions

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
        n = workers or default_workers()
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


PORTABLE_EMBED_ARGS = [
    "--runner=PortableRunner",
    "--job_endpoint=embed",
    "--environment_type=LOOPBACK",
]
