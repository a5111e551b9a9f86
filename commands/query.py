"""`corpusmill query "SQL"` and `corpusmill stats DOCS_DIR`: DuckDB over the Parquet corpus."""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

from corpusmill.corpus import open_corpus
from corpusmill.errors import ConfigError

FORMATS = ("table", "csv", "json", "parquet")


def register(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser(
        "query",
        help="run DuckDB SQL over the corpus",
        description=(
            "Views: documents, dead_letters (if any); with --annotations also annotations and "
            "corpus (= documents joined to annotations by id); with --dedup also dedup (near-duplicate clusters, "
            "joined into corpus, so `WHERE dup_keep` keeps one document per cluster); with --shards (or --tokens) "
            "also token_counts, and corpus gains n_tokens. Example: corpusmill query "
            '"SELECT source, count(*) FROM documents GROUP BY 1" --docs out/docs'
        ),
    )
    q.add_argument("sql", help="a DuckDB SQL query")
    q.add_argument("--docs", required=True, metavar="DOCS_DIR")
    q.add_argument("--annotations", metavar="ANN_DIR")
    q.add_argument("--dedup", metavar="DUP_DIR", help="the `corpusmill dedup` sidecar to join into `corpus`")
    q.add_argument(
        "--shards",
        "--tokens",
        dest="tokens",
        metavar="DIR",
        help="SHARDS_DIR of `corpusmill mix` (or its _tokens/<tokenizer>/ folder): adds n_tokens to the corpus view",
    )
    q.add_argument("--format", choices=FORMATS, default="table")
    q.add_argument("-o", "--out", metavar="FILE", help="write the result here (required for parquet)")
    q.set_defaults(func=_query)

    s = sub.add_parser("stats", help="documents and characters by source, dead letters by reason")
    s.add_argument("docs", metavar="DOCS_DIR")
    s.set_defaults(func=_stats)


def _relation(corpus, sql: str) -> duckdb.DuckDBPyRelation:
    try:
        return corpus.sql(sql)
    except duckdb.Error as exc:
        raise ConfigError(f"query failed: {str(exc).splitlines()[0]} (views: {', '.join(corpus.views)})") from None


def _query(args: argparse.Namespace) -> int:
    with open_corpus(args.docs, args.annotations, dedup=args.dedup, tokens=args.tokens) as corpus:
        rel = _relation(corpus, args.sql)
        if rel is None:  # a statement without a result (e.g. SET)
            return 0
        if args.format == "parquet":
            if not args.out:
                raise ConfigError("--format parquet needs -o FILE")
            rel.write_parquet(args.out, compression="zstd")
        elif args.format == "csv":
            if args.out:
                rel.write_csv(args.out)
            else:
                _print_csv(rel)
        elif args.format == "json":
            _write_json(rel, args.out)
        else:
            if args.out:
                rel.write_csv(args.out, sep="\t")
            else:
                print(rel.limit(10_000), end="")
    return 0


def _print_csv(rel: duckdb.DuckDBPyRelation) -> None:
    import csv

    writer = csv.writer(sys.stdout)
    writer.writerow(rel.columns)
    for row in rel.fetchall():
        writer.writerow(row)


def _write_json(rel: duckdb.DuckDBPyRelation, out: str | None) -> None:
    cols = rel.columns
    fh = open(out, "w", encoding="utf-8") if out else sys.stdout
    try:
        for row in rel.fetchall():
            fh.write(json.dumps(dict(zip(cols, row)), ensure_ascii=False, default=str) + "\n")
    finally:
        if out:
            fh.close()


def _stats(args: argparse.Namespace) -> int:
    with open_corpus(args.docs) as corpus:
        total = corpus.sql("SELECT count(*), coalesce(sum(length(text)), 0) FROM documents").fetchall()[0]
        print(f"documents: {total[0]:,}   characters: {total[1]:,}")
        rows = corpus.sql(
            "SELECT source, count(*) AS docs, sum(length(text)) AS chars FROM documents "
            "GROUP BY source ORDER BY docs DESC, source"
        ).fetchall()
        print(f"{'source':<30} {'docs':>12} {'chars':>16}")
        for source, docs, chars in rows:
            print(f"{source:<30} {docs:>12,} {chars:>16,}")
        if "dead_letters" in corpus.views:
            print("dead letters:")
            for stage, reason, n in corpus.sql(
                "SELECT stage, reason, count(*) FROM dead_letters GROUP BY ALL ORDER BY 3 DESC, 1, 2"
            ).fetchall():
                print(f"  {stage}/{reason}: {n:,}")
    return 0
