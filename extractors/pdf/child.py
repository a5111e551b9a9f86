"""Entry point of the isolated child process
(`python -m corpusmill.extractors.pdf.child LIMIT_MB PROGRESS_FD LOG_FD [MODULE...]`).

Imports the given modules, writes a `("ready", None)` frame, then reads pickled
`(function, args)` frames from stdin, runs each generator function, records its
`Progress` markers in the shared cell and appends the other items to the shared item log,
then writes one of `("done", None)`, `("record_error", (reason, message))`,
`("memory", message)` or `("error", message)`. Only the parent
(`isolate.IsolatedRunner`) starts it, with frames it made itself.
"""

from __future__ import annotations

import importlib
import os
import pickle
import resource
import sys
from typing import Any

from corpusmill.errors import RecordError
from corpusmill.extractors.pdf.isolate import FRAME_HEADER, ItemLog, Progress, ProgressCell, write_frame

_MEMORY_WORDS = ("out of memory", "malloc", "cannot allocate")


def _limit_memory(limit_mb: int) -> None:
    if limit_mb > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = limit_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard < 0 else min(limit, hard), hard))


def _read_frame(stream: Any) -> Any:
    header = stream.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        return None
    return pickle.loads(stream.read(FRAME_HEADER.unpack(header)[0]))


def _run(task: tuple, out: Any, progress: ProgressCell, log: ItemLog) -> None:
    fn, args = task
    log.rewind()
    try:
        for item in fn(*args):
            if isinstance(item, Progress):
                progress.set(item.unit)
            else:
                log.append(item)
        write_frame(out, ("done", None))
    except RecordError as exc:
        write_frame(out, ("record_error", (exc.reason, str(exc))))
    except MemoryError as exc:
        write_frame(out, ("memory", f"MemoryError: {exc}"))
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        write_frame(out, ("memory" if any(w in text.lower() for w in _MEMORY_WORDS) else "error", text))


def main() -> None:
    _limit_memory(int(sys.argv[1]))
    progress, log = ProgressCell(int(sys.argv[2])), ItemLog(int(sys.argv[3]))
    # Frames own the real stdout; anything printed by libraries goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    stdin = sys.stdin.buffer
    for module in sys.argv[4:]:
        importlib.import_module(module)
    if "pymupdf" in sys.modules:  # MuPDF's own messages would only be noise on stderr
        sys.modules["pymupdf"].TOOLS.mupdf_display_errors(False)
        sys.modules["pymupdf"].TOOLS.mupdf_display_warnings(False)
    write_frame(out, ("ready", None))
    while (task := _read_frame(stdin)) is not None:
        _run(task, out, progress, log)


if __name__ == "__main__":
    main()
