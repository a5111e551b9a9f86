"""Fault suite: jobs killed with -9 or interrupted mid-run, then resumed by the same command,
end with the same bytes as a run that was never stopped.

Each job runs as a user runs it (a `corpusmill` process with worker processes). The kill
lands where part of the work is finished and part is not (checked, so no test passes by
having missed its moment): ingest after some read tasks are staged, annotate between input
files (a real annotator stalls on cue), mix between tokenizing and writing shards.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from corpusmill.mixers.recipe import recipe_from_dict
from corpusmill.pipelines.annotate import run_annotate
from corpusmill.pipelines.ingest import run_ingest
from corpusmill.pipelines.mix import run_mix
from corpusmill.progress import progress_dir, read_ticks
from tests.beam_runners import RUNNERS, runner_kwargs
from tests.fault_jobs import (
    STALL_DIR_ENV,
    StallingQuality,
    cli,
    files_of,
    kill_driver,
    kill_session,
    session_pids,
    start,
    wait_for,
)
from tests.mix_corpus import write_corpus

WORDS = "alpha beta gamma delta river stone cloud paper light house window garden".split()


def _write_jsonl(folder: Path, files: int, lines: int) -> list[str]:
    """JSONL files (one read task each) with some texts repeated across them."""
    paths = []
    for f in range(files):
        path = folder / f"in{f}.jsonl"
        with path.open("w") as fh:
            for i in range(lines):
                words = [WORDS[(i * 7 + k * f + k * k) % len(WORDS)] for k in range(40)]
                fh.write(json.dumps({"text": " ".join(words) + f" {i % (lines * 2 // 3)}"}) + "\n")
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def jsonl_inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return _write_jsonl(tmp_path_factory.mktemp("src"), 6, 4000)


@pytest.fixture(scope="module")
def ingest_reference(jsonl_inputs: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "docs"
    run_ingest(jsonl_inputs, str(out), progress=False, **runner_kwargs("in_process"))
    return out


def _staged(out: Path) -> bool:
    return any((out / "_staging").glob("hashes-*.parquet"))


def _runner_flags(runner: str) -> list[str]:
    """The command-line flags of a runner of `tests/beam_runners.py`."""
    kwargs = runner_kwargs(runner)
    return (["--workers", str(kwargs["workers"])] if kwargs["workers"] else []) + kwargs["beam_args"]


@pytest.mark.parametrize("runner", RUNNERS)
def test_ingest_killed_then_resumed_is_byte_identical(runner, jsonl_inputs, ingest_reference, tmp_path):
    out = tmp_path / "docs"
    proc = cli("ingest", *jsonl_inputs, "-o", str(out), "--quiet", *_runner_flags(runner))
    wait_for(lambda: _staged(out), proc)
    kill_driver(proc)
    assert not (out / "_summary.json").exists()
    staged = sorted(p.name for p in (out / "_staging").glob("hashes-*.parquet"))
    assert 0 < len(staged) <= len(jsonl_inputs)

    again = cli("ingest", *jsonl_inputs, "-o", str(out), "--quiet", *_runner_flags(runner))
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert files_of(out) == files_of(ingest_reference)


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_interrupt_prints_one_line_and_the_rerun_resumes(how, jsonl_inputs, ingest_reference, tmp_path):
    out = tmp_path / "docs"
    proc = cli("ingest", *jsonl_inputs, "-o", str(out), "--workers", "2", "--quiet")
    wait_for(lambda: _staged(out), proc)
    if how == "SIGINT":
        # A terminal's Ctrl-C reaches the whole foreground process group, workers included.
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)  # a supervisor stops the command's own process
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + getattr(signal, how)
    assert err.strip() == "interrupted; rerun the same command to resume"
    end = time.monotonic() + 10
    while session_pids(proc) and time.monotonic() < end:
        time.sleep(0.1)
    assert not session_pids(proc), "processes outlived the interrupted command"
    kill_session(proc)

    again = cli("ingest", *jsonl_inputs, "-o", str(out), "--workers", "2", "--quiet")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert files_of(out) == files_of(ingest_reference)


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ingested documents in five files (one per input) for annotate."""
    inputs = _write_jsonl(tmp_path_factory.mktemp("small"), 5, 300)
    out = tmp_path_factory.mktemp("docs") / "docs"
    run_ingest(inputs, str(out), dedup=False, progress=False, **runner_kwargs("in_process"))
    return out


@pytest.fixture(scope="module")
def annotate_reference(docs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ann") / "ann"
    run_annotate(str(docs_dir), str(out), annotators=[StallingQuality()], progress=False, workers=1)
    return out


@pytest.mark.parametrize("runner", RUNNERS)
def test_annotate_killed_keeps_finished_files_and_resumes_identical(runner, docs_dir, annotate_reference, tmp_path):
    ann, stall = tmp_path / "ann", tmp_path / "stall"
    stall.mkdir()
    code = "import sys; from tests.fault_jobs import annotate_main; annotate_main(*sys.argv[1:])"
    proc = start(["-c", code, str(docs_dir), str(ann), runner], env={STALL_DIR_ENV: str(stall)})
    wait_for(lambda: any(stall.iterdir()), proc)
    kill_driver(proc)
    kept = {p.name: p.read_bytes() for p in ann.glob("part-*.parquet")}
    n_files = len(list(docs_dir.glob("part-*.parquet")))
    # Finished before the kill: at least the file each stalled worker had labeled first.
    assert 0 < len(kept) < n_files
    assert not (ann / "_summary.json").exists()
    # The progress line's count (documents, summed from the workers' tick files) had moved.
    labeled = sum(pq.read_metadata(ann / name).num_rows for name in kept)
    assert read_ticks(progress_dir(str(ann)), "docs") >= labeled > 0

    summary = run_annotate(
        str(docs_dir), str(ann), annotators=[StallingQuality()], progress=False, **runner_kwargs(runner)
    )
    assert summary["files_labeled"] == n_files - len(kept)
    assert files_of(ann) == files_of(annotate_reference)


RECIPE = {
    "stages": [
        {
            "name": "a",
            "seq_len": 256,
            "budget_tokens": 20000,
            "seed": 3,
            "shard_tokens": 2048,
            "buckets": [{"name": "all", "where": "TRUE", "share": 1.0, "max_repeats": 2}],
        },
        {
            "name": "b",
            "seq_len": 128,
            "budget_tokens": 8000,
            "seed": 5,
            "shard_tokens": 1024,
            "packing": "pack",
            "buckets": [{"name": "all", "where": "TRUE", "share": 1.0, "max_repeats": 2}],
        },
    ]
}


def test_mix_killed_then_resumed_is_byte_identical(tmp_path):
    docs, ann, _ = write_corpus(tmp_path / "corpus", 600, files=4)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE))
    ref = tmp_path / "ref"
    run_mix(recipe_from_dict(RECIPE), docs, ann, str(ref), progress=False, **runner_kwargs("in_process"))

    out = tmp_path / "shards"
    args = ["mix", str(recipe), "--docs", docs, "--annotations", ann, "-o", str(out), "--workers", "2", "--quiet"]
    proc = cli(*args)
    # Killed once some documents are tokenized, before any stage is finished.
    wait_for(lambda: any(out.glob("_tokens/*/part-*.parquet")), proc)
    kill_driver(proc)
    assert not list(out.glob("*/manifest.json"))

    again = cli(*args)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert files_of(out) == files_of(ref)
