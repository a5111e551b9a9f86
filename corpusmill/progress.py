"""Counters that room code updates, and the progress line the CLI prints.

Room code takes a `CounterSink` (default: `NO_COUNTERS`); a Beam DoFn maps it onto
`Metrics.counter`, the CLI onto a rate line. Nothing here prints unless asked to.

Beam's counters reach the driver only when the pipeline ends, so a moving progress line
needs its own channel: each worker process keeps its running counts in one small JSON file
under the job's `_progress/` folder (`ProgressTicks`, rewritten at most every `TICK_EVERY_S`
and at the end of each element's work), and the driver sums those files (`read_ticks`).
It costs one tiny write per worker per second, on any filesystem fsspec reaches.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol, TextIO

from corpusmill import storage

PROGRESS_DIR = "_progress"
TICK_EVERY_S = 1.0
DEFAULT_INTERVAL_S = 5.0


class CounterSink(Protocol):
    def inc(self, name: str, n: int = 1) -> None: ...


class _NoCounters:
    def inc(self, name: str, n: int = 1) -> None:
        return None


NO_COUNTERS: CounterSink = _NoCounters()


class DictCounters:
    """Counts into a plain dict; handy outside Beam and in tests."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def inc(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


def progress_dir(out_dir: str) -> str:
    return storage.join(out_dir, PROGRESS_DIR)


class ProgressTicks:
    """A worker process's running counts, kept in `<folder>/<process>.json` for the driver to sum.

    Picklable (only the folder travels); the file name is drawn per process on first use.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._counts: dict[str, int] = {}
        self._path: str | None = None
        self._last = 0.0

    def __getstate__(self) -> dict[str, object]:
        return {"folder": self.folder}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(str(state["folder"]))  # type: ignore[misc]

    def inc(self, name: str, n: int = 1) -> None:
        self._counts[name] = self._counts.get(name, 0) + n
        if time.monotonic() - self._last >= TICK_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if self._path is None:
            self._path = storage.join(self.folder, f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json")
        self._last = time.monotonic()
        try:
            storage.write_json(self._counts, self._path)
        except OSError:  # progress is a courtesy: a failed write must not fail the work
            pass


def read_ticks(folder: str, name: str) -> int:
    """The sum of `name` over every worker's tick file under `folder` (0 before any)."""
    total = 0
    for path in storage.expand(storage.join(folder, "*.json")):
        try:
            total += int(storage.read_json(path).get(name, 0))
        except (OSError, ValueError):  # a file being replaced: the next poll reads it
            continue
    return total


def poll_ticks(out_dir: str, name: str) -> Callable[[], int]:
    folder = progress_dir(out_dir)
    return lambda: read_ticks(folder, name)


def format_eta(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressLine:
    """Prints `<job>: <n>[/<total>] <unit> in <t>s (<rate> <unit>/s[, ETA <eta>])` every `interval` s.

    `poll` returns the number of units done so far; it runs on a background thread, so it
    must be cheap (e.g. sum the workers' tick files). With `enabled=False` no thread starts
    and nothing is printed.
    """

    def __init__(
        self,
        job: str,
        unit: str,
        poll: Callable[[], int],
        *,
        enabled: bool = True,
        interval: float | None = None,
        total: int | None = None,
        stream: TextIO | None = None,
    ) -> None:
        interval = DEFAULT_INTERVAL_S if interval is None else interval
        stream = stream or sys.stderr  # looked up now: the CLI or a test may have replaced it
        self.job, self.unit, self.poll, self.interval, self.stream = job, unit, poll, interval, stream
        self.total = total
        self.enabled = enabled
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._start = 0.0

    def __enter__(self) -> ProgressLine:
        self._start = time.monotonic()
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join(timeout=self.interval + 1)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                done = self.poll()
            except Exception:  # a transient listing error must not kill the job's progress thread
                continue
            print(self.line(done, time.monotonic() - self._start), file=self.stream, flush=True)

    def line(self, done: int, elapsed: float) -> str:
        elapsed = max(elapsed, 1e-9)
        rate = done / elapsed
        count = f"{done:,}/{self.total:,}" if self.total else f"{done:,}"
        text = f"{self.job}: {count} {self.unit} in {elapsed:,.0f}s ({rate:,.0f} {self.unit}/s"
        if self.total and done and rate > 0:
            text += f", ETA {format_eta(max(self.total - done, 0) / rate)}"
        return text + ")"
