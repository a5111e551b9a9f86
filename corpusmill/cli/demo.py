"""`corpusmill demo`: the main job end to end on the bundled sample data."""

from __future__ import annotations

import argparse
import os

from corpusmill.cli.common import print_counts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the pipeline end to end on the bundled multilingual sample")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: CPU count)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from corpusmill.corpus import open_corpus
    from corpusmill.sample_data import sample_jsonl
    from pipelines.ingest import run_ingest

    out = os.path.abspath(args.out)
    docs = os.path.join(out, "docs")
    print(f"[1] ingest the bundled sample -> {docs}")
    summary = run_ingest([sample_jsonl()], docs, source="sample", workers=args.workers, overwrite=True)
    print_counts("ingest", summary, docs)

    print("[2] query: documents by language (meta.lang) with DuckDB")
    with open_corpus(docs) as corpus:
        print(corpus.sql(
            "SELECT json_extract_string(meta, '$.lang') AS lang, count(*) AS docs, sum(length(text)) AS chars "
            "FROM documents GROUP BY lang ORDER BY chars DESC LIMIT 10"
        ))
    print(f"demo finished; outputs under {out}")
    print(f"try: corpusmill query \"SELECT source, count(*) FROM documents GROUP BY 1\" --docs {docs}")
    return 0
