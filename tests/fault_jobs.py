"""Helpers of the fault suite: jobs run as a user runs them (a CLI process), killed or
interrupted mid-run, and a real annotator that stalls on cue so a kill lands between files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from corpusmill.annotators.quality import QualitySignals

ROOT = Path(__file__).resolve().parents[1]
STALL_DIR_ENV = "CORPUSMILL_TEST_STALL_DIR"


class StallingQuality(QualitySignals):
    """The real quality annotator (same name, version, columns, labels), which, when the
    environment names a folder, finishes the first input file it meets and then stalls for
    good on the next one, leaving `stalled-<pid>-<thread>` in that folder. A kill then finds
    at least one sidecar finished and at least one not, whatever order the runner chose."""

    def label(self, batch: pa.Table) -> pa.Table:
        folder = os.environ.get(STALL_DIR_ENV)
        if folder:
            files = {uri.split("#", 1)[0] for uri in batch.column("uri").to_pylist()}
            first = _FIRST_FILE.setdefault("file", min(files))
            if files - {first}:
                Path(folder, f"stalled-{os.getpid()}-{time.monotonic_ns()}").touch()
                time.sleep(3600)
        return super().label(batch)


_FIRST_FILE: dict[str, str] = {}


def annotate_main(docs: str, ann: str, runner: str) -> None:
    """`python -c` entry: annotate `docs` into `ann` with the stalling annotator."""
    from corpusmill.pipelines.annotate import run_annotate
    from tests.beam_runners import runner_kwargs

    run_annotate(docs, ann, annotators=[StallingQuality()], progress=True, **runner_kwargs(runner))


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A Python process in its own session (so the test can find and reap all it started)."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return start(["-m", "corpusmill.commands", *args], env)


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 240.0) -> None:
    """Poll `condition` until true; fail if the process ends first or time runs out."""
    end = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the job ended (rc {proc.returncode}) before the point to kill it:\n{err[-3000:]}")
        if time.monotonic() > end:
            kill_session(proc)
            raise AssertionError("the job never reached the point to kill it")
        time.sleep(0.02)


def session_pids(proc: subprocess.Popen[str]) -> list[int]:
    """Living processes of `proc`'s session (its workers, their children), zombies excluded."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[3]) == proc.pid and fields[0] != b"Z":  # field 6: session id
            pids.append(int(entry))
    return pids


def kill_session(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def kill_driver(proc: subprocess.Popen[str]) -> None:
    """kill -9 of the job's own process only, as an OOM killer or a lost node does; its
    workers must notice and end by themselves (checked, then the rest reaped)."""
    proc.kill()
    proc.communicate()
    end = time.monotonic() + 30
    while session_pids(proc) and time.monotonic() < end:
        time.sleep(0.1)
    left = session_pids(proc)
    kill_session(proc)
    assert not left, f"processes outlived the killed driver: {left}"


def files_of(root: Path, skip: tuple[str, ...] = ("_summary.json",)) -> dict[str, bytes]:
    """Every file under `root` by relative path, bookkeeping that holds timings left out."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and path.name not in skip:
            out[rel] = path.read_bytes()
    return out
