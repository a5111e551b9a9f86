"""Counters that room code updates, and the progress line the CLI prints.

Room code takes a `CounterSink` (default: `NO_COUNTERS`); a Beam DoFn maps it onto
`Metrics.counter`, the CLI onto a rate line. Nothing here prints unless asked to.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO


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


class ProgressLine:
    """Prints `<job>: <n> <unit> (<rate> <unit>/s)` every `interval` s while a job runs.

    `poll` returns the number of units done so far; it runs on a background thread, so it
    must be cheap (e.g. count rows in finished output footers). With `enabled=False` no
    thread starts and nothing is printed.
    """

    def __init__(
        self,
        job: str,
        unit: str,
        poll: Callable[[], int],
        *,
        enabled: bool = True,
        interval: float = 5.0,
        stream: TextIO = sys.stderr,
    ) -> None:
        self.job, self.unit, self.poll, self.interval, self.stream = job, unit, poll, interval, stream
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
            elapsed = max(time.monotonic() - self._start, 1e-9)
            print(
                f"{self.job}: {done:,} {self.unit} in {elapsed:,.0f}s ({done / elapsed:,.0f} {self.unit}/s)",
                file=self.stream,
                flush=True,
            )
