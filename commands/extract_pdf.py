"""`corpusmill extract-pdf PDF... -o DOCS_DIR`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from corpusmill.commands.common import (
    add_job_flags,
    add_llm_flags,
    add_serve_flags,
    llm_limits,
    print_retryable,
    with_served_model,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract-pdf",
        help="extract PDFs into documents, routing each page to its text layer or to OCR",
        description=(
            "Read PDFs (files, folders of *.pdf, globs; local, gs://, s3://) into one document per "
            "PDF: pages with a good text layer are read directly (multi-column order, tables as "
            "Markdown, running heads removed); scanned or garbled pages go to OCR (a VLM behind "
            "--llm-url, else Tesseract). Writes DOCS_DIR/part-NNNNN.parquet, "
            "DOCS_DIR/_dead_letters/ and DOCS_DIR/_summary.json. See docs/pdf.md."
        ),
    )
    p.add_argument("pdfs", nargs="+", metavar="PDF", help="PDF file, folder or glob")
    p.add_argument("-o", "--out", required=True, metavar="DOCS_DIR", help="output folder")
    p.add_argument(
        "--ocr",
        choices=("auto", "vlm", "tesseract", "off"),
        default="auto",
        help="OCR engine for pages without a usable text layer; auto: the VLM if "
        "--llm-url is given, else Tesseract if installed, else such pages are dead-lettered",
    )
    p.add_argument("--llm-url", default=None, help="OpenAI-compatible server of a vision-language model (VLM OCR)")
    p.add_argument("--vlm-model", default=None, help="model name on --llm-url (default: the server's first)")
    p.add_argument(
        "--rewrite-url",
        default=None,
        help="OpenAI-compatible LLM server for the guarded rewrite step (off when not given)",
    )
    p.add_argument("--rewrite-model", default=None, help="model name on --rewrite-url")
    p.add_argument("--rewrite-scope", choices=("ocr", "all"), default="ocr", help="pages to rewrite (default: ocr)")
    p.add_argument(
        "--ocr-langs",
        default=None,
        help="Tesseract models for every OCR page, e.g. eng+chi_sim (default: per page, the model of its script)",
    )
    p.add_argument("--ocr-dpi", type=int, default=200, help="Tesseract render resolution (default: 200)")
    p.add_argument("--pdfs-per-part", type=int, default=None, help="PDFs per output part file (default: 8)")
    p.add_argument("--max-pages", type=int, default=5000, help="dead-letter PDFs with more pages (default: 5000)")
    p.add_argument(
        "--time-limit",
        type=float,
        default=3600.0,
        help="seconds per PDF (default: 3600; a scanned book needs ~4 s a page with Tesseract)",
    )
    p.add_argument("--page-time-limit", type=float, default=180.0, help="seconds per page (default: 180)")
    p.add_argument("--memory-limit-mb", type=int, default=3072, help="memory of the parsing process (default: 3072)")
    add_serve_flags(p, "--llm-url")
    add_llm_flags(p)
    add_job_flags(p)
    p.set_defaults(func=with_served_model(_run, url="llm_url", model="vlm_model"))


def config_from_args(args: argparse.Namespace) -> Any:
    from corpusmill.extractors.pdf.config import PdfConfig

    return PdfConfig(
        ocr=args.ocr,
        llm_url=args.llm_url,
        vlm_model=args.vlm_model,
        rewrite_url=args.rewrite_url,
        rewrite_model=args.rewrite_model,
        rewrite_scope=args.rewrite_scope,
        ocr_langs=args.ocr_langs,
        ocr_dpi=args.ocr_dpi,
        max_pages=args.max_pages,
        time_limit_s=args.time_limit,
        page_time_limit_s=args.page_time_limit,
        memory_limit_mb=args.memory_limit_mb,
        llm=llm_limits(args),
    )


def print_pdf_counts(summary: dict[str, Any], out: str) -> None:
    """Closing lines: PDFs in/out/dead-lettered, pages by route, page-level dead letters."""
    if summary.get("skipped"):
        print(f"extract-pdf: {out} already holds this finished run; nothing to do", file=sys.stderr)
    dead = summary.get("dead_letters", {})
    print(
        f"extract-pdf: in={summary.get('records_in', 0):,} out={summary.get('docs', 0):,} "
        f"dead_letters={sum(dead.values()):,} pages={summary.get('pages', 0):,} "
        f"elapsed={summary.get('elapsed_s', 0):.1f}s ({summary.get('pages_per_s') or 0:,.1f} pages/s)"
    )
    routes = ", ".join(f"{k}={v:,}" for k, v in summary.get("routes", {}).items())
    engines = ", ".join(f"{k}={v:,}" for k, v in summary.get("engines", {}).items())
    print(f"  pages by route: {routes or 'none'}; by engine: {engines or 'none'}")
    if summary.get("rewrites"):
        print("  rewrites: " + ", ".join(f"{k}={v:,}" for k, v in summary["rewrites"].items()))
    for step, ledger in summary.get("llm", {}).items():
        print(
            f"  LLM {step}: {ledger.get('requests', 0):,} requests ({ledger.get('cache_hits', 0):,} from cache, "
            f"{ledger.get('failures', 0):,} failed), {ledger.get('prompt_tokens', 0):,} prompt + "
            f"{ledger.get('completion_tokens', 0):,} completion tokens"
        )
    for reason, n in dead.items():
        print(f"  dead letter {reason}: {n:,}")
    for reason, n in summary.get("page_dead_letters", {}).items():
        print(f"  page dead letter {reason}: {n:,}")
    print_retryable(summary)
    print(f"  output: {out}")


def _run(args: argparse.Namespace) -> int:
    from corpusmill.extractors.pdf.parts import PDFS_PER_PART
    from corpusmill.pipelines.extract_pdf import run_extract_pdf  # Beam is imported only when a job runs

    summary = run_extract_pdf(
        args.pdfs,
        args.out,
        config_from_args(args),
        pdfs_per_part=args.pdfs_per_part or PDFS_PER_PART,
        workers=args.workers,
        beam_args=args.beam_args,
        overwrite=args.overwrite,
        progress=not args.quiet,
        retry_failed=args.retry_failed,
    )
    print_pdf_counts(summary, args.out)
    return 0
