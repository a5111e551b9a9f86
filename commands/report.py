"""`corpusmill report`: one self-contained HTML page about a corpus, its mixture and its runs."""

from __future__ import annotations

import argparse

from corpusmill import storage
from corpusmill.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write one self-contained HTML page of charts about the corpus, mixed stages and runs",
        description=(
            "Charts of documents and tokens by language (all 119 Qwen3 languages), domain, education "
            "value, safety and source; per mixed stage, tokens per bucket, language and domain against "
            "the recipe; dead letters by stage and reason; PDF routes and LLM usage from run summaries. "
            "Sections appear when their inputs exist."
        ),
    )
    p.add_argument("--docs", metavar="DOCS_DIR", help="documents folder (part-*.parquet); needed unless --search alone")
    p.add_argument("--annotations", metavar="ANN_DIR", help="annotation sidecars (lang, domain, edu_score, safety...)")
    p.add_argument("--dedup", metavar="DUP_DIR", help="near-duplicate clusters (`corpusmill dedup` output)")
    p.add_argument("--shards", metavar="SHARDS_DIR", help="mix output: <stage>/manifest.json and the token sidecar")
    p.add_argument(
        "--runs",
        nargs="*",
        default=[],
        metavar="RUN_DIR",
        help="more job output folders (or _summary.json files): PDF routes, LLM usage, dead letters",
    )
    p.add_argument("--search", metavar="SEARCH_DIR", help="`corpusmill mix search` output: its search.json")
    p.add_argument("-o", "--out", required=True, metavar="FILE", help="the HTML file to write")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from corpusmill.report import build_report

    if args.search and not storage.exists(storage.join(args.search, "search.json")):
        raise ConfigError(f"--search {args.search}: no search.json (run `corpusmill mix search` first)")
    if not args.docs:
        if not args.search:
            raise ConfigError("give --docs DOCS_DIR, or --search SEARCH_DIR for a search-only report")
        from corpusmill.report.build import build_search_report

        result = build_search_report(args.search, args.out)
        print(f"report: mixture search, {len(result.charts)} charts in {result.elapsed_s:.1f}s")
        print(f"  output: {result.path}")
        return 0
    for flag, path in (
        ("--annotations", args.annotations),
        ("--shards", args.shards),
        ("--dedup", args.dedup),
        *(("--runs", r) for r in args.runs),
    ):
        if path and not storage.exists(path):
            raise ConfigError(f"{flag} {path}: not found")
    result = build_report(
        args.docs,
        args.out,
        annotations=args.annotations,
        shards=args.shards,
        runs=args.runs,
        dedup=args.dedup,
        search=args.search,
    )
    print(f"report: {result.documents:,} documents, {len(result.charts)} charts in {result.elapsed_s:.1f}s")
    print(f"  output: {result.path}")
    return 0
