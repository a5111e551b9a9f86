"""Run untrusted parsing in a child process with a time limit and a memory limit.

`IsolatedRunner` keeps one child Python process (started on first use, restarted after it
is killed) and streams the items of a generator function run inside it back to the
parent. The child has its own session (so a kill also reaches programs it started, such
as `tesseract`) and an address-space limit; the parent waits for each item at most
`item_timeout` seconds and for the whole call at most until `deadline`. A hung or crashed
child is killed and reported as an exception naming what happened; the next call starts a
fresh child.

We use `subprocess` and pickled frames on the child's stdin/stdout rather than
`multiprocessing`: the latter re-imports the parent's `__main__` in "spawn" children (the
CLI, a Beam worker), and "fork" would copy a Beam worker's threads and locks.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from corpusmill.errors import RecordError

log = logging.getLogger(__name__)

FRAME_HEADER = struct.Struct("!Q")
# A fresh interpreter importing pymupdf takes a second or more on a loaded machine; that
# wait is not the document's fault, so it has its own, generous limit.
STARTUP_TIMEOUT_S = 120.0


class ChildTimeout(Exception):
    """The child did not answer in time; `whole` is True when the overall deadline passed."""

    def __init__(self, message: str, *, whole: bool) -> None:
        super().__init__(message)
        self.whole = whole


class ChildCrashed(Exception):
    """The child died (a signal, the out-of-memory killer, a crash in C code)."""


class ChildMemoryError(Exception):
    """The child ran out of its memory allowance."""


class ChildError(Exception):
    """The child's function raised an unexpected exception; the message names it."""


def write_frame(stream: Any, obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(FRAME_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exact(fd: int, n: int, deadline: float) -> bytes | None:
    """`n` bytes from `fd`; None on timeout; b"" on end of file."""
    chunks, got = [], 0
    while got < n:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            return None
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return b""
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class IsolatedRunner:
    """One reusable child process; see the module docstring."""

    def __init__(self, *, memory_limit_mb: int | None = None, preload: tuple[str, ...] = ()) -> None:
        self.memory_limit_mb = memory_limit_mb
        self.preload = preload  # modules the child imports before it says it is ready
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        env = dict(os.environ)
        # The child must import the same code as the parent, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self._proc = proc = subprocess.Popen(
            [sys.executable, "-m", "extractors.pdf.child", str(self.memory_limit_mb or 0), *self.preload],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True, env=env,
        )
        try:
            kind, _ = self._receive(proc, STARTUP_TIMEOUT_S, time.monotonic() + STARTUP_TIMEOUT_S)
        except (ChildTimeout, ChildCrashed) as exc:
            self.kill()
            raise ChildCrashed(f"child process did not start: {exc}") from exc
        if kind != "ready":
            self.kill()
            raise ChildCrashed(f"child process sent {kind!r} instead of ready")
        return proc

    @property
    def child_pid(self) -> int | None:
        """Process id of the running child, if any (for monitoring and benchmarks)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def kill(self) -> None:
        """Kill the child and everything it started; the next call starts a new one."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()

    close = kill

    def stream(self, fn: Callable[..., Iterator[Any]], args: tuple, *, item_timeout: float, deadline: float) -> Iterator[Any]:
        """Yield what `fn(*args)` yields in the child; raise a Child* error or RecordError."""
        proc = self._start()
        finished = False
        try:
            try:
                write_frame(proc.stdin, (fn, args))
            except (BrokenPipeError, OSError) as exc:
                raise ChildCrashed(f"child process not accepting work: {exc}") from exc
            while True:
                kind, payload = self._receive(proc, item_timeout, deadline)
                if kind == "item":
                    yield payload
                    continue
                finished = True
                if kind == "done":
                    return
                self._raise(kind, payload)
        finally:
            if not finished:  # a timeout, a crash, or a caller that stopped early
                self.kill()

    def _receive(self, proc: subprocess.Popen[bytes], item_timeout: float, deadline: float) -> tuple[str, Any]:
        until = min(time.monotonic() + item_timeout, deadline)
        fd = proc.stdout.fileno()  # type: ignore[union-attr]
        header = _read_exact(fd, FRAME_HEADER.size, until)
        body = _read_exact(fd, FRAME_HEADER.unpack(header)[0], until) if header else header
        if body is None:
            whole = until >= deadline
            raise ChildTimeout("time limit of the whole document" if whole else "time limit of one page", whole=whole)
        if body == b"":
            raise ChildCrashed(f"child process died (exit code {proc.wait()})")
        return pickle.loads(body)

    @staticmethod
    def _raise(kind: str, payload: Any) -> None:
        if kind == "record_error":
            raise RecordError(*payload)
        if kind == "memory":
            raise ChildMemoryError(payload)
        raise ChildError(payload)
