"""Ctrl-C and SIGTERM end a command with one line, not a screen of tracebacks.

A job's outputs are written under temporary names and renamed when complete, so stopping at
any instant loses nothing that a rerun cannot redo (the kill -9 tests show it). An interrupt
therefore stops the run the way kill -9 would, but politely: it says how to resume, stops
every process the command started (Beam workers, PDF children, a served model), and exits
at once. Unwinding through Beam instead would print a traceback from each of its threads and
workers, and could wait minutes on a worker busy with a long record.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType

MESSAGE = "interrupted; rerun the same command to resume"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _descendants(pid: int) -> list[int]:
    """Every living process below `pid`, from /proc (none where there is no /proc)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:  # ended meanwhile
            continue
        # The command name (field 2) is in parentheses and may hold spaces: split after it.
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_descendants() -> None:
    """SIGKILL every process this one started, with the process groups they lead (a served
    model's or a PDF child's own programs)."""
    me = os.getpid()
    for pid in _descendants(me):
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pid and pid != os.getpgid(me):
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    for sig in _SIGNALS:  # a second Ctrl-C while stopping changes nothing
        signal.signal(sig, signal.SIG_IGN)
    print(MESSAGE, file=sys.stderr, flush=True)
    stop_descendants()
    sys.stdout.flush()
    os._exit(128 + signum)


@contextlib.contextmanager
def exit_on_interrupt() -> Iterator[None]:
    """Within this block SIGINT and SIGTERM print `MESSAGE`, stop the children and exit with
    128 + the signal number; the earlier handlers come back afterwards. A no-op off the main
    thread, where Python cannot install handlers."""
    try:
        previous = {sig: signal.signal(sig, _on_signal) for sig in _SIGNALS}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
