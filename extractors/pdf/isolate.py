"""Run untrusted parsing in a child process with a time limit and a memory limit.

`IsolatedRunner` keeps one child Python process (started on first use, restarted after it
is killed, reused for many calls) and hands the parent the items of a generator function
run inside it. The child has its own session (so a kill also reaches programs it started,
such as `tesseract`) and an address-space limit; the parent gives each unit of work at
most `item_timeout` seconds and the whole call at most until `deadline`. A hung or crashed
child is killed and reported as an exception naming what happened, after the items it
finished; the next call starts a fresh child.

The function marks the unit of work it starts (a page) by yielding `Progress(n)`. Markers
are not sent as messages: the child writes the unit and the time it started into 16 bytes
of memory shared with the parent (no system call, so marking every page costs nothing).
The parent reads them while it waits, to apply `item_timeout` to each unit, and when
something goes wrong, to say which unit hung or crashed the child (`.progress` of the
exception).

Items do not go through the pipe either: the child appends each one, pickled, to a file
shared with the parent (`ItemLog`, an unnamed temporary file). Appending to a
file wakes nobody, where a pipe message per page woke the parent for every page; the
parent reads the log once, when the call ends, however it ends: a page finished just
before the child hung or crashed is still delivered. The pipe carries one frame per call
(done, or the error that ended it).

We use `subprocess` and pickled frames on the child's stdin/stdout rather than
`multiprocessing`: the latter re-imports the parent's `__main__` in "spawn" children (the
CLI, a Beam worker), and "fork" would copy a Beam worker's threads and locks.
"""

from __future__ import annotations

import logging
import mmap
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

from corpusmill.errors import RecordError

log = logging.getLogger(__name__)

FRAME_HEADER = struct.Struct("!Q")
PROGRESS = struct.Struct("=qq")  # the unit started last, and when (time.monotonic_ns)
# A fresh interpreter importing pymupdf takes a second or more on a loaded machine; that
# wait is not the document's fault, so it has its own, generous limit.
STARTUP_TIMEOUT_S = 120.0


NO_PROGRESS = -1


@dataclass(frozen=True)
class Progress:
    """Yielded by a child function when it starts unit `unit` (kept in shared memory)."""

    unit: int


class ChildFailure(Exception):
    """The child failed; `progress` is the unit it had started last (None if none)."""

    def __init__(self, message: str, *, progress: int | None = None) -> None:
        super().__init__(message)
        self.progress = progress


class ChildTimeout(ChildFailure):
    """The child did not answer in time; `whole` is True when the overall deadline passed."""

    def __init__(self, message: str, *, whole: bool, progress: int | None = None) -> None:
        super().__init__(message, progress=progress)
        self.whole = whole


class ChildCrashed(ChildFailure):
    """The child died (a signal, the out-of-memory killer, a crash in C code)."""


class ChildMemoryError(ChildFailure):
    """The child ran out of its memory allowance."""


class ChildError(Exception):
    """The child's function raised an unexpected exception; the message names it."""


def _own_or_attach(fd: int | None) -> tuple[IO[bytes] | None, int]:
    """Parent (`fd` None): a new unnamed temporary file and its descriptor. Child: the
    descriptor it inherited, and no file object of its own."""
    if fd is None:
        file = tempfile.TemporaryFile()
        return file, file.fileno()
    return None, fd


class ProgressCell:
    """16 bytes of a file mapped into memory by parent and child: the last unit started,
    and when (CLOCK_MONOTONIC is one clock for all processes of a machine).

    The parent makes one (`ProgressCell()`, an unnamed temporary file) and passes its file
    descriptor to the child, which attaches to it (`ProgressCell(fd)`).
    """

    def __init__(self, fd: int | None = None) -> None:
        self._file, self.fd = _own_or_attach(fd)
        if self._file is not None:
            os.ftruncate(self.fd, PROGRESS.size)
        self.map = mmap.mmap(self.fd, PROGRESS.size)

    def close(self) -> None:
        self.map.close()
        if self._file is not None:
            self._file.close()

    def set(self, unit: int) -> None:
        PROGRESS.pack_into(self.map, 0, unit, time.monotonic_ns())

    def get(self) -> int | None:
        unit = PROGRESS.unpack_from(self.map, 0)[0]
        return None if unit == NO_PROGRESS else unit

    def started(self) -> float:
        """When the last unit started, in `time.monotonic()` seconds."""
        return PROGRESS.unpack_from(self.map, 0)[1] / 1e9


class ItemLog:
    """A file shared by parent and child: the child appends one frame per item, the parent
    reads every complete frame when a call has ended (see the module docstring).

    The parent makes one (`ItemLog()`) and passes its file descriptor to the child, which
    attaches to it (`ItemLog(fd)`). Frames are written with `pwrite` at offsets the child
    keeps, so a frame cut short by a crash is recognized by its length and ignored.
    """

    def __init__(self, fd: int | None = None) -> None:
        # An unnamed file on disk rather than memory: its pages can be evicted, so a
        # document's page images (VLM OCR) do not take their size in memory a second time.
        self._file, self.fd = _own_or_attach(fd)
        self.size = 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def clear(self) -> None:
        """Parent, before each call: empty the log."""
        os.ftruncate(self.fd, 0)

    def rewind(self) -> None:
        """Child, at the start of each call: write from the start (the parent emptied the log)."""
        self.size = 0

    def append(self, obj: Any) -> None:
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        frame = memoryview(FRAME_HEADER.pack(len(payload)) + payload)
        while frame:
            written = os.pwrite(self.fd, frame, self.size)
            self.size += written
            frame = frame[written:]

    def items(self) -> Iterator[Any]:
        """Parent: the objects of every complete frame, in order, read one at a time."""
        length, pos = os.fstat(self.fd).st_size, 0
        while pos + FRAME_HEADER.size <= length:
            size = FRAME_HEADER.unpack(os.pread(self.fd, FRAME_HEADER.size, pos))[0]
            start, pos = pos + FRAME_HEADER.size, pos + FRAME_HEADER.size + size
            if pos > length:
                break  # cut short by a crash
            yield pickle.loads(os.pread(self.fd, size, start))


def write_frame(stream: Any, obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(FRAME_HEADER.pack(len(payload)) + payload)
    stream.flush()


class _FrameReader:
    """Reads frames from a child's stdout with deadlines, buffering whatever arrives: one
    `select` and one `read` usually bring a whole frame, often several."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def _fill(self, n: int, deadline: float) -> bool | None:
        """Buffer at least `n` bytes: True; None on timeout; False on end of file."""
        while len(self.buffer) < n:
            # Past the deadline, still take what has arrived (the parent may have been slow).
            wait = max(0.0, deadline - time.monotonic())
            if not select.select([self.fd], [], [], wait)[0]:
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def frame(self, deadline: float) -> bytes | Literal[False] | None:
        """The next frame's payload; None on timeout; False on end of file."""
        size = FRAME_HEADER.size
        got = self._fill(size, deadline)
        if got:
            size += FRAME_HEADER.unpack_from(self.buffer)[0]
            got = self._fill(size, deadline)
        if not got:
            return got
        payload = bytes(self.buffer[FRAME_HEADER.size : size])
        del self.buffer[:size]
        return payload


class IsolatedRunner:
    """One reusable child process; see the module docstring."""

    def __init__(self, *, memory_limit_mb: int | None = None, preload: tuple[str, ...] = ()) -> None:
        self.memory_limit_mb = memory_limit_mb
        self.preload = preload  # modules the child imports before it says it is ready
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: _FrameReader | None = None
        self._progress: ProgressCell | None = None
        self._log: ItemLog | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        env = dict(os.environ)
        # The child must import the same code as the parent, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        if self._progress is None:
            self._progress = ProgressCell()
        if self._log is None:
            self._log = ItemLog()
        fds = (self._progress.fd, self._log.fd)
        self._proc = proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "corpusmill.extractors.pdf.child",
                str(self.memory_limit_mb or 0),
                *map(str, fds),
                *self.preload,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            pass_fds=fds,
        )
        assert proc.stdout is not None  # stdout=PIPE
        self._reader = _FrameReader(proc.stdout.fileno())
        try:
            kind, _ = self._receive(proc, time.monotonic() + STARTUP_TIMEOUT_S)
        except ChildFailure as exc:
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
        proc, self._proc, self._reader = self._proc, None, None
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

    def close(self) -> None:
        """Kill the child and free the shared progress cell and item log."""
        self.kill()
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _last_started(self) -> int | None:
        return self._progress.get() if self._progress is not None else None

    def stream(
        self, fn: Callable[..., Iterator[Any]], args: tuple, *, item_timeout: float, deadline: float
    ) -> Iterator[Any]:
        """Yield what `fn(*args)` yielded in the child, once it has ended; then raise the
        Child* error or RecordError that ended it, if any.

        A child that died between two calls (killed from outside, say by the OOM killer) may not
        be noticed until this call finds its pipe closed: when a reused child crashes before
        yielding anything, the input gets one fresh child before it is blamed for the crash."""
        reused = self._proc is not None and self._proc.poll() is None
        items: list[Any] = []
        try:
            for item in self._stream_once(fn, args, item_timeout=item_timeout, deadline=deadline):
                items.append(item)
                yield item
        except ChildCrashed:
            if not reused or items:
                raise
            log.info("the reused child process was gone; retrying the input in a fresh one")
            yield from self._stream_once(fn, args, item_timeout=item_timeout, deadline=deadline)

    def _stream_once(
        self, fn: Callable[..., Iterator[Any]], args: tuple, *, item_timeout: float, deadline: float
    ) -> Iterator[Any]:
        proc = self._start()
        assert self._progress is not None and self._log is not None
        self._log.clear()
        self._progress.set(NO_PROGRESS)  # stamps the time: opening is timed like a unit
        failure: ChildFailure | None = None
        try:
            try:
                write_frame(proc.stdin, (fn, args))
            except (BrokenPipeError, OSError) as exc:
                raise ChildCrashed(f"child process not accepting work: {exc}") from exc
            kind, payload = self._wait_end(proc, item_timeout, deadline)
        except ChildFailure as exc:
            failure, kind, payload = exc, "", None
            self.kill()
        except BaseException:
            self.kill()
            raise
        yield from self._log.items()
        if failure is not None:
            raise failure
        if kind != "done":
            self._raise(kind, payload, self._last_started())

    def _wait_end(self, proc: subprocess.Popen[bytes], item_timeout: float, deadline: float) -> tuple[str, Any]:
        """The frame that ends a call, giving each unit `item_timeout` from when it started."""
        assert self._progress is not None
        while True:
            started = self._progress.started()
            until = min(started + item_timeout, deadline)
            try:
                return self._receive(proc, until)
            except ChildTimeout:
                if until < deadline and self._progress.started() != started:
                    continue  # the child moved on to a new unit meanwhile
                whole = until >= deadline
                message = "time limit of the whole document" if whole else "time limit of one page"
                raise ChildTimeout(message, whole=whole, progress=self._last_started()) from None

    def _receive(self, proc: subprocess.Popen[bytes], until: float) -> tuple[str, Any]:
        assert self._reader is not None
        body = self._reader.frame(until)
        if body is None:
            raise ChildTimeout("no answer in time", whole=False, progress=self._last_started())
        if body is False:
            raise ChildCrashed(f"child process died (exit code {proc.wait()})", progress=self._last_started())
        return pickle.loads(body)

    @staticmethod
    def _raise(kind: str, payload: Any, progress: int | None) -> None:
        if kind == "record_error":
            raise RecordError(*payload)
        if kind == "memory":
            raise ChildMemoryError(payload, progress=progress)
        raise ChildError(payload)
