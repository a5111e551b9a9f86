"""`corpusmill dedup DOCS_DIR -o DUP_DIR`: near-duplicate clusters (MinHash-LSH) as a sidecar."""

from __future__ import annotations

import argparse

from corpusmill.commands.common import add_job_flags, print_counts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dedup",
        help="find near-duplicate documents (MinHash-LSH) and mark one kept document per cluster",
        description=(
            "Cluster near-duplicates among DOCS_DIR/*.parquet in one Beam job and write DUP_DIR/part-NNNNN.parquet "
            "(one row per document id: dup_cluster, dup_cluster_size, dup_keep, dup_jaccard_est, dup_rule). "
            "`corpusmill query --dedup DUP_DIR` joins it into the `corpus` view, so a recipe can say WHERE dup_keep. "
            "Shingles are word n-grams (character n-grams in Chinese, Japanese, Thai); bands and rows follow "
            "from --threshold unless given, and the S-curve of the banding is printed."
        ),
    )
    p.add_argument("docs", metavar="DOCS_DIR")
    p.add_argument("-o", "--out", required=True, metavar="DUP_DIR")
    p.add_argument("--threshold", type=float, default=0.8, help="Jaccard similarity of near-duplicates (default 0.8)")
    p.add_argument("--ngram", type=int, default=5, help="tokens per shingle (default 5)")
    p.add_argument("--hashes", type=int, default=112, help="MinHash functions when --bands/--rows are not given")
    p.add_argument("--bands", type=int, default=None, help="LSH bands (with --rows)")
    p.add_argument("--rows", type=int, default=None, help="hashes per band (with --bands)")
    p.add_argument("--annotations", default=None, metavar="ANN_DIR", help="labels with edu_score, for --keep edu_score")
    p.add_argument(
        "--keep",
        choices=["edu_score", "first"],
        default="edu_score",
        help="which document of a cluster stays: the highest edu_score (needs --annotations; "
        "clusters with a missing score fall back to first) or the first in corpus order",
    )
    p.add_argument(
        "--no-check",
        action="store_true",
        help="take every LSH candidate pair as a duplicate, without the signature Jaccard check",
    )
    p.add_argument("--seed", type=int, default=1)
    add_job_flags(p)
    p.set_defaults(func=_dedup)


def _dedup(args: argparse.Namespace) -> int:
    from corpusmill.dedup.config import DedupConfig, s_curve
    from corpusmill.pipelines.dedup import run_dedup  # Beam only when a job runs

    config = DedupConfig(
        threshold=args.threshold,
        ngram=args.ngram,
        num_perm=args.hashes,
        bands=args.bands,
        rows=args.rows,
        seed=args.seed,
        verify=not args.no_check,
        keep=args.keep if args.annotations else "first",
    )
    if args.keep == "edu_score" and not args.annotations:
        print("dedup: no --annotations given, so the kept document of a cluster is the first (--keep first)")
    print(s_curve(config))
    s = run_dedup(
        args.docs,
        args.out,
        config=config,
        annotations=args.annotations,
        workers=args.workers,
        beam_args=args.beam_args,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    print_counts("dedup", s, args.out)
    print(
        f"  clusters={s.get('clusters', 0):,} no_signature={s.get('no_signature', 0):,} "
        f"keep_fallback_docs={s.get('keep_fallback_docs', 0):,} passes={s.get('passes')}"
    )
    return 0
