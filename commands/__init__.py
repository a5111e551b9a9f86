"""The `corpusmill` command: one sub-command module per verb.

Each module in `COMMANDS` has `register(subparsers)`, which adds its parser and sets
`func(args) -> int`. Only this entry point configures logging.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from corpusmill.commands.interrupt import MESSAGE, exit_on_interrupt
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
        with exit_on_interrupt():
            return int(args.func(args) or 0)
    except CorpusmillError as exc:
        # Expected failures (bad path, bad option, finished output) get one line, not a traceback.
        print(f"corpusmill {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # raised before the handlers were in place
        print(MESSAGE, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
