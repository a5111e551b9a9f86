"""The `corpusmill` command: one sub-command module per verb.

Each module in `COMMANDS` has `register(subparsers)`, which adds its parser and sets
`func(args) -> int`. Only this entry point configures logging.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import logging
import os
import sys
from typing import NoReturn

from corpusmill.errors import CorpusmillError

COMMANDS = [
    "corpusmill.commands.ingest",
    "corpusmill.commands.query",
    "corpusmill.commands.extract_pdf",
    "corpusmill.commands.demo",
    "corpusmill.commands.annotate",
    "corpusmill.commands.dedup",
    "corpusmill.commands.llm",
    "corpusmill.commands.report",
    "corpusmill.commands.mix",
    "corpusmill.commands.mix_search",
    "corpusmill.commands.shards",
    "corpusmill.commands.synth",
]


class _QuietBeamImport(logging.Filter):
    """Drops Beam's import-time warning about missing GCP client libraries: corpusmill reaches
    cloud storage through fsspec, so the warning only confuses a new user."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("apitools not found")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corpusmill",
        description=(
            "Turn raw text, PDFs and seed topics into a labeled, queryable pretraining corpus, "
            "then into mixed, tokenized training shards. Start with `corpusmill demo`."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["mix", "search"]:  # `mix search` is the `mix-search` command (mix's RECIPE is positional)
        argv[:2] = ["mix-search"]
    # Unknown flags are Beam pipeline options (--runner, --project, ...) for the jobs that
    # take them; every other command rejects them.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "beam_args_ok", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.beam_args = extra
    logging.captureWarnings(True)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_QuietBeamImport())
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CorpusmillError as exc:
        # Expected failures (bad path, bad option, finished output) get one line, not a traceback.
        print(f"corpusmill {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())


def run() -> NoReturn:
    """The `corpusmill` program: `main()`, then an exit that skips the interpreter's teardown.

    When a command has finished, native threads it never started itself are still alive:
    Arrow's CPU and IO thread pools (std::thread workers behind every Parquet read), gRPC's
    C-core and EventEngine threads (the Fn API servers and channels of Beam's multi-process
    and portable runners). A normal exit tears the interpreter down and then runs C++ static
    destructors while those threads run: a pool destroyed with a worker still joinable, or a
    daemon thread ended by `pthread_exit` inside C++ code as it takes the GIL back, calls
    `std::terminate`: "terminate called without an active exception", exit status 134, after
    the output was complete. So, as Beam's own workers do (`pipelines/beam_worker.py`), the
    program runs Python's exit handlers (logging flushed, LLM clients and temporary folders
    closed), flushes its streams and ends the process at once. `main()` itself returns, so
    tests and other Python callers keep an interpreter that goes on.
    """
    code = main()
    for step in (atexit._run_exitfuncs, sys.stdout.flush, sys.stderr.flush):
        try:
            step()
        except Exception:  # noqa: BLE001 (a closed pipe: nothing is left to report it to)
            pass
    os._exit(code)
