"""Pipeline options and the local runner: defaults, pass-through, and the worker processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from corpusmill.pipelines.beam_options import PORTABLE_EMBED_ARGS, local_runner, pipeline_options

_REPO = Path(__file__).resolve().parents[1]


def test_local_defaults_by_worker_count() -> None:
    one = pipeline_options([], workers=1).get_all_options()
    two = pipeline_options([], workers=2).get_all_options()
    assert (one["runner"], one["direct_running_mode"], one["direct_num_workers"]) == ("FnApiRunner", "in_memory", 1)
    assert (two["runner"], two["direct_running_mode"], two["direct_num_workers"]) == (
        "FnApiRunner",
        "multi_processing",
        2,
    )


def test_beams_own_worker_count_is_kept_unless_workers_is_given() -> None:
    assert pipeline_options(["--direct_num_workers=3"]).get_all_options()["direct_num_workers"] == 3
    assert pipeline_options(["--direct_num_workers=3"], workers=2).get_all_options()["direct_num_workers"] == 2
    options = pipeline_options(["--direct_num_workers", "3"]).get_all_options()
    assert (options["direct_num_workers"], options["direct_running_mode"]) == (3, "multi_processing")


def test_remote_flags_pass_through_unchanged() -> None:
    args = ["--runner=DataflowRunner", "--project=p", "--region=europe-west4", "--temp_location=gs://b/tmp"]
    options = pipeline_options(args, workers=4).get_all_options()
    assert (options["runner"], options["project"], options["region"]) == ("DataflowRunner", "p", "europe-west4")
    assert options["direct_num_workers"] == 1  # local parallelism is not imposed on a remote runner


@pytest.mark.parametrize(
    ("args", "workers", "ours"),
    [([], 2, True), ([], 1, False), (PORTABLE_EMBED_ARGS, None, False), (["--runner=DataflowRunner"], 2, False)],
)
def test_local_runner_only_for_local_worker_processes(args: list[str], workers: int | None, ours: bool) -> None:
    runner = local_runner(pipeline_options(args, workers=workers))
    assert (runner is not None) == ours


# A job whose DoFn records which process ran each element and how that process was started.
_JOB = """
import os, sys
import apache_beam as beam
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import run

out = sys.argv[1]

def record(x):
    with open(os.path.join(out, f"{x}.txt"), "w") as f:
        f.write(f"{os.getpid()} " + open("/proc/self/cmdline", "rb").read().replace(b"\\0", b" ").decode())

run(lambda p: p | beam.Create(list(range(8))) | beam.Reshuffle() | beam.Map(record), pipeline_options([], workers=2))
"""


def test_two_workers_run_through_corpusmill_worker_quietly(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _JOB, str(tmp_path)],
        cwd=_REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    records = [p.read_text().split(" ", 1) for p in sorted(tmp_path.glob("*.txt"))]
    assert len(records) == 8
    assert all("-m corpusmill.pipelines.beam_worker" in cmdline for _, cmdline in records)
    assert len({pid for pid, _ in records}) == 2  # both worker processes got elements
    # Beam's own entry point prints a dozen INFO lines per worker and a main-session warning.
    assert "INFO" not in result.stderr and "semi_persistent_directory" not in result.stderr
    assert "direct_running_mode should be" not in result.stderr
