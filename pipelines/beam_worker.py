"""Entry point of the worker processes of a local multi-process run (`--workers N`, N > 1).

It runs Beam's own SDK harness (`sdk_worker_main`) and differs in two ways:

- its stderr shows errors only. Beam's entry point logs a dozen INFO lines per worker while
  it connects (its log level comes from the pipeline options only once they are parsed);
  what a worker logs after that still reaches the driver through the Fn API log service,
  except the warning that no main session was staged: local runs never stage one.
- once the harness has finished (all bundles done, channels closed, log handler flushed),
  the process ends with `os._exit` instead of a full interpreter teardown. That teardown
  (gRPC threads, thousands of modules) takes ~0.3 s, and FnApiRunner waits for its workers
  one after another: a fixed cost of 0.3 s per worker at the end of every job.
"""

from __future__ import annotations

import logging
import os
import sys


class _NoMainSessionWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No semi_persistent_directory found")


def main() -> None:
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
