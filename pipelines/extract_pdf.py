"""The PDF extraction job: PDFs -> documents (+ dead letters, a run summary).

    parts (a few PDF paths each) -> Reshuffle -> _ExtractPartFn (read, extract, write part)

Only paths move through the runner; each worker reads its PDFs, extracts them in an
isolated child process (see `corpusmill.extractors.pdf`) and writes `part-NNNNN.parquet` itself.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import apache_beam as beam

from corpusmill import storage
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.extractors.pdf.extractor import NAME, VERSION, PdfExtractor
from corpusmill.extractors.pdf.parts import (
    PDFS_PER_PART,
    PdfInput,
    extract_part,
    pending_retries,
    plan_parts,
    plan_pdfs,
    reopen_retryable,
    summarize,
)
from corpusmill.layout import LLM_CACHE_DIR
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import BeamCounters
from corpusmill.pipelines.job import Retry, Work, fingerprint, rate, run_job
from corpusmill.progress import progress_dir, read_ticks

JOB = "extract_pdf"


class _ExtractPartFn(beam.DoFn):
    def __init__(self, config: PdfConfig, out_dir: str, progress: str | None = None) -> None:
        self.config, self.out_dir, self.progress = config, out_dir, progress

    def setup(self) -> None:
        counters = BeamCounters(JOB, self.progress)
        cache = storage.join(self.out_dir, LLM_CACHE_DIR)
        self.extractor = PdfExtractor(self.config, cache_dir=cache, counters=counters).setup()

    def process(self, element: tuple[int, tuple[PdfInput, ...]]):
        index, pdfs = element
        extract_part(index, pdfs, self.out_dir, self.extractor)
        yield index

    def teardown(self) -> None:
        # Only frees the child process early; it also exits when this process does.
        self.extractor.close()


class ExtractPdfs(beam.PTransform):
    """Extracts `parts` into `out_dir/part-NNNNN.parquet`, one file per part."""

    def __init__(
        self, parts: list[tuple[PdfInput, ...]], out_dir: str, config: PdfConfig, *, progress: str | None = None
    ) -> None:
        super().__init__()
        self.parts, self.out_dir, self.config, self.progress = parts, out_dir, config, progress

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        return (
            pbegin
            | "Parts" >> beam.Create(list(enumerate(self.parts)), reshuffle=False)
            | "Spread" >> beam.Reshuffle()
            | "Extract" >> beam.ParDo(_ExtractPartFn(self.config, self.out_dir, self.progress))
        )


def _job_config(config: PdfConfig, per_part: int) -> dict[str, Any]:
    """What decides the output bytes (server URLs do not: the same model elsewhere is fine)."""
    out = asdict(config)
    del out["llm"]  # timeouts and retries bound the cost of a run, not its output
    for key in ("llm_url", "rewrite_url"):
        out[key] = bool(out[key])
    out.update(ocr_engine=config.ocr_engine, pdfs_per_part=per_part, extractor=f"{NAME}-{VERSION}")
    return out


def _poll_pdfs(out_dir: str):
    """PDFs finished so far (documents out plus dead letters), summed over the workers' tick files."""
    folder = progress_dir(out_dir)
    return lambda: read_ticks(folder, "docs_out") + read_ticks(folder, "docs_dead")


def run_extract_pdf(
    sources: list[str],
    out_dir: str,
    config: PdfConfig | None = None,
    *,
    pdfs_per_part: int = PDFS_PER_PART,
    workers: int | None = None,
    beam_args: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    retry_failed: bool = False,
) -> dict[str, Any]:
    """Run the PDF job and return its summary (also written to `out_dir/_summary.json`).

    Parts holding pages or PDFs that failed for a transient LLM reason are extracted again
    by a re-run (or `retry_failed`), their answered pages from the response cache."""
    config = config or PdfConfig()
    parts = plan_parts(plan_pdfs(sources), pdfs_per_part)
    job_config = _job_config(config, pdfs_per_part)
    planned = [[(p.uri, p.name) for p in part] for part in parts]

    def work(ticks: str | None) -> Work:
        build = lambda p: p | ExtractPdfs(parts, out_dir, config, progress=ticks)  # noqa: E731
        return Work(build, _poll_pdfs(out_dir), "PDFs", total=sum(len(part) for part in parts))

    def count(elapsed: float) -> dict[str, Any]:
        counts = summarize(out_dir, len(parts))
        return {
            **counts,
            "parts": len(parts),
            "docs_per_s": rate(counts["records_in"], elapsed, 2),
            "pages_per_s": rate(counts["pages"], elapsed, 2),
        }

    return run_job(
        JOB,
        out_dir,
        {"sources": sources, "config": job_config},
        key=fingerprint(planned, job_config),
        plan=work,
        count=count,
        options=pipeline_options(beam_args, workers=workers),
        overwrite=overwrite,
        progress=progress,
        retry=Retry(lambda: pending_retries(out_dir, len(parts)), lambda: reopen_retryable(out_dir, len(parts))),
        retry_failed=retry_failed,
    )
