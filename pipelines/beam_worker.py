"""Entry point of the worker processes of a local multi-process run (`--workers N`, N > 1).

It runs Beam's own SDK harness (`sdk_worker_main`) and differs in two ways:

- its stderr shows errors only. Beam's entry point logs a dozen INFO lines per worker while
  it connects (its log level comes from the pipeline options only once they are parsed);
  what a worker logs after that still reaches the driver through the Fn API log service,
  except the warning that no main session was staged: local runs never stage one.
- it ignores SIGINT and ends when the driver does (see `_exit_with_parent`);
- once the harness has finished (all bundles done, channels closed, log handler flushed),
  the process ends with `os._exit` instead of a full interpreter teardown. That teardown
  (gRPC threads, thousands of modules) takes ~0.3 s, and FnApiRunner waits for its workers
  one after another: a fixed cost of 0.3 s per worker at the end of every job.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time


class _NoMainSessionWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No semi_persistent_directory found")


def _exit_with_parent(interval_s: float = 0.5) -> None:
    """Ends this worker when the driver is gone (killed with -9, say): an orphan would go on
    writing into the output folder that a resumed run is filling."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def main() -> None:
    # Ctrl-C reaches the whole foreground process group; the driver decides what happens
    # (commands/interrupt.py stops this worker), instead of each worker printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    handler = logging.StreamHandler()
    handler.setLevel(logging.ERROR)
    logging.basicConfig(handlers=[handler])
    from apache_beam.runners.worker import sdk_worker_main

    logging.getLogger(sdk_worker_main.__name__).addFilter(_NoMainSessionWarning())
    sdk_worker_main.main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
