"""`corpusmill demo`: the whole pipeline end to end on bundled sample data.

PDFs (generated) -> extract-pdf; programmatic math -> synth; both plus the bundled
multilingual sample -> ingest (one corpus, exact dedup) -> annotate -> dedup (near-duplicate
clusters, MinHash-LSH) -> mix (three Qwen3-style
stages at a small budget) -> report. Every step is the same job the CLI runs.
"""

from __future__ import annotations

import argparse
import os

import corpusmill
from corpusmill.commands.common import print_counts

# Small enough to finish in about a minute on 2 cores, large enough that every stage of the
# default recipes gets sequences.
DEMO_BUDGET_TOKENS = 300_000
DEMO_S3_BUDGET_TOKENS = 150_000
DEMO_MATH_ITEMS = 200
DEMO_MIRRORS = 60
# A mixture search over scripts with the synthetic math held out as the target: tiny proxies
# (about 13 k non-embedding parameters, 16 k tokens each), so it takes seconds; docs/mixing.md has real sizes.
DEMO_SEARCH = {
    "name": "demo-search",
    "seed": 0,
    "proxies": 12,
    "first_match": True,
    "stage": {"name": "s1", "seq_len": 64, "proxy_tokens": 16_384, "budget_tokens": 300_000},
    "buckets": [
        {"name": "latin", "where": "script = 'Latn'", "max_repeats": 4},
        {"name": "cjk", "where": "script IN ('Hans', 'Hant', 'Jpan', 'Kore')", "max_repeats": 4},
        {"name": "arabic_cyrillic", "where": "script IN ('Arab', 'Cyrl')", "max_repeats": 4},
        {"name": "other", "where": "TRUE", "max_repeats": 4},
    ],
    "targets": [{"name": "math", "where": "source = 'synth/math'", "weight": 1.0}],
    "model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "vocab_size": 512, "batch_size": 8, "learning_rate": 0.01},
    "fit": {"folds": 3, "candidates": 5000, "top": 50},
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the pipeline end to end on the bundled multilingual sample")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: CPU count)")
    p.set_defaults(func=_run)


def _step(n: int, text: str) -> None:
    print(f"\n[{n}] {text}", flush=True)


def _run(args: argparse.Namespace) -> int:
    from corpusmill.commands.extract_pdf import print_pdf_counts
    from corpusmill.extractors.pdf.samples import write_sample_pdfs
    from corpusmill.pipelines.annotate import run_annotate
    from corpusmill.pipelines.extract_pdf import run_extract_pdf
    from corpusmill.pipelines.ingest import run_ingest
    from corpusmill.pipelines.synthesize import overshoot, run_synthesize
    from corpusmill.sample_data import sample_jsonl
    from corpusmill.sample_data.mirrors import write_mirrors
    from corpusmill.synth.math_programmatic import ProgrammaticMath

    out, w = os.path.abspath(args.out), args.workers
    paths = {
        k: os.path.join(out, k) for k in ("pdfs", "pdf_docs", "synth_math", "docs", "annotations", "dedup", "shards")
    }

    _step(1, f"extract-pdf: generated sample PDFs -> {paths['pdf_docs']}")
    pdfs = write_sample_pdfs(paths["pdfs"])
    summary = run_extract_pdf(pdfs, paths["pdf_docs"], workers=w, overwrite=True, progress=False)
    print_pdf_counts(summary, paths["pdf_docs"])

    _step(2, f"synth math --programmatic: {DEMO_MATH_ITEMS} verified problems -> {paths['synth_math']}")
    summary = run_synthesize(
        ProgrammaticMath(seed=0, langs=["en", "zh", "fr", "ar"]),
        paths["synth_math"],
        n=overshoot(DEMO_MATH_ITEMS),
        target=DEMO_MATH_ITEMS,
        workers=w,
        overwrite=True,
        progress=False,
    )
    print_counts("synth", summary, paths["synth_math"])

    # corpusmill's own Python source stands in for a code crawl.
    code = os.path.join(os.path.dirname(os.path.abspath(corpusmill.__file__)), "*.py")
    # Edited copies of some sample documents (other header/footer, a few words changed): the
    # near-duplicates that exact dedup at ingest cannot catch and step 5 finds.
    os.makedirs(out, exist_ok=True)
    mirrors = write_mirrors(os.path.join(out, "sample_mirrors.jsonl"), DEMO_MIRRORS)
    _step(
        3,
        f"ingest: bundled sample (+{DEMO_MIRRORS} edited copies) + PDF documents + synthetic math + Python code -> {paths['docs']}",
    )
    summary = run_ingest(
        [sample_jsonl(), mirrors, paths["pdf_docs"], paths["synth_math"], code],
        paths["docs"],
        workers=w,
        overwrite=True,
        progress=False,
    )
    print_counts("ingest", summary, paths["docs"])

    _step(4, f"annotate: language, quality, education value, domain, safety -> {paths['annotations']}")
    summary = run_annotate(paths["docs"], paths["annotations"], workers=w, overwrite=True, progress=False)
    print_counts("annotate", summary, paths["annotations"])

    _step(5, f"dedup: near-duplicate clusters (MinHash-LSH), one kept per cluster -> {paths['dedup']}")
    _dedup(paths, w)

    _step(6, f"mix: Qwen3-style stages s1/s2/s3 at a demo budget, WHERE dup_keep -> {paths['shards']}")
    _mix(paths, w)

    _step(7, "query: the labeled corpus with DuckDB")
    _queries(paths)

    _step(8, f"mix search: bucket shares chosen by {DEMO_SEARCH['proxies']} + 1 tiny proxy models -> {out}/search")
    search_dir = _search(paths, out)

    _step(9, "report")
    from corpusmill.report import build_report

    report = build_report(
        paths["docs"],
        os.path.join(out, "report.html"),
        annotations=paths["annotations"],
        dedup=paths["dedup"],
        shards=paths["shards"],
        runs=[paths["pdf_docs"], paths["synth_math"]],
        search=search_dir,
    )
    print(f"report: {report.path} ({len(report.charts)} charts)")
    print(f"\ndemo finished; outputs under {out}")
    print(
        f'try: corpusmill query "SELECT lang, count(*) FROM corpus GROUP BY 1 ORDER BY 2 DESC" '
        f"--docs {paths['docs']} --annotations {paths['annotations']} --dedup {paths['dedup']}"
    )
    return 0


def _dedup(paths: dict[str, str], workers: int | None) -> None:
    from corpusmill.dedup.config import DedupConfig, s_curve
    from corpusmill.pipelines.dedup import run_dedup

    config = DedupConfig()
    print(s_curve(config))
    summary = run_dedup(
        paths["docs"],
        paths["dedup"],
        config=config,
        annotations=paths["annotations"],
        workers=workers,
        overwrite=True,
        progress=False,
    )
    print_counts("dedup", summary, paths["dedup"])


def _mix(paths: dict[str, str], workers: int | None) -> None:
    from corpusmill.mixers.recipe import default_recipe
    from corpusmill.pipelines.mix import run_mix

    recipe = default_recipe("qwen3").with_budget(DEMO_BUDGET_TOKENS).with_stage_budgets({"s3": DEMO_S3_BUDGET_TOKENS})
    result = run_mix(
        recipe,
        paths["docs"],
        paths["annotations"],
        paths["shards"],
        workers=workers,
        overwrite=True,
        progress=False,
        dedup=paths["dedup"],
    )
    print(result.describe())


def _search(paths: dict[str, str], out: str) -> str | None:
    import importlib.util
    import time

    if not all(importlib.util.find_spec(m) for m in ("jax", "optax", "lightgbm")):
        print("skipped: the proxy models need the search extra (pip install 'corpusmill[search]')")
        return None
    from corpusmill import storage
    from corpusmill.mixers.search_space import space_from_dict
    from corpusmill.pipelines.mix_search import run_search

    search_dir = os.path.join(out, "search")
    storage.remove_tree(search_dir)
    start = time.monotonic()
    # One worker: the proxies are tiny, so a second process would only compile the model again.
    result = run_search(
        space_from_dict(DEMO_SEARCH),
        paths["docs"],
        paths["annotations"],
        search_dir,
        workers=1,
        progress=False,
        dedup=paths["dedup"],
    )
    print(result.describe())
    print(f"mix search took {time.monotonic() - start:.1f} s; run it: corpusmill mix {search_dir}/recipe.yaml ...")
    return search_dir


def _queries(paths: dict[str, str]) -> None:
    from corpusmill.corpus import open_corpus

    with open_corpus(paths["docs"], paths["annotations"], dedup=paths["dedup"]) as corpus:
        print(
            corpus.sql(
                "SELECT lang, count(*) AS docs, round(avg(edu_score), 2) AS edu, sum(n_chars) AS chars "
                "FROM corpus GROUP BY lang ORDER BY chars DESC LIMIT 8"
            )
        )
        print(corpus.sql("SELECT domain, count(*) AS docs FROM corpus GROUP BY domain ORDER BY docs DESC"))
