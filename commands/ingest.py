"""`corpusmill ingest SRC... -o DOCS_DIR`."""

from __future__ import annotations

import argparse

from corpusmill.commands.common import add_job_flags, print_counts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest",
        help="read JSONL (.gz/.zst), Parquet or folders of .txt into a normalized Parquet corpus",
        description=(
            "Read sources, decode text files (UTF-8, or the legacy encoding detected per file; "
            "--encoding overrides), normalize text (NFC, control characters removed, invalid UTF-8 repaired "
            "or dead-lettered), drop exact duplicates, and write DOCS_DIR/part-NNNNN.parquet, "
            "DOCS_DIR/_dead_letters/ and DOCS_DIR/_summary.json. A JSONL row needs `text`; `id` and "
            "`source` are used when present, every other field goes to `meta`."
        ),
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="file, folder or glob (local, gs://, s3://)")
    p.add_argument("-o", "--out", required=True, metavar="DOCS_DIR", help="output folder")
    p.add_argument("--source", default=None, help="source name for rows without one (default: input name)")
    p.add_argument("--no-dedup", dest="dedup", action="store_false", help="keep exact duplicates")
    p.add_argument(
        "--encoding",
        default=None,
        metavar="CODEC",
        help="decode every input as CODEC (e.g. latin-1, cp1252, gb18030, shift_jis, koi8-r, utf-16) "
        "instead of UTF-8 with per-file detection of legacy encodings",
    )
    p.add_argument(
        "--max-record-mb",
        type=float,
        default=None,
        metavar="MB",
        help="a JSONL line or text file larger than this is a `record_too_large` dead letter, "
        "skipped unread (default: 64)",
    )
    p.add_argument(
        "--follow-links",
        action="store_true",
        help="read symbolic links in input folders that point outside them "
        "(default: each is a `link_outside_input` dead letter)",
    )
    add_job_flags(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from corpusmill.extractors.text.readers import MAX_RECORD_BYTES
    from corpusmill.pipelines.ingest import run_ingest  # Beam is imported only when a job runs

    summary = run_ingest(
        args.sources,
        args.out,
        dedup=args.dedup,
        source=args.source,
        encoding=args.encoding,
        max_record_bytes=int(args.max_record_mb * 2**20) if args.max_record_mb else MAX_RECORD_BYTES,
        follow_links=args.follow_links,
        workers=args.workers,
        beam_args=args.beam_args,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    print_counts("ingest", summary, args.out)
    return 0
