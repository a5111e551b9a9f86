"""`build_report`: DuckDB aggregates + manifests + run summaries -> one HTML file."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from corpusmill import storage
from corpusmill.corpus import open_corpus
from corpusmill.layout import LEDGER_FILE
from corpusmill.report import corpus_sections as cs
from corpusmill.report import data_sections as ds
from corpusmill.report import run_sections as rs
from corpusmill.report.dedup_section import dedup_section
from corpusmill.report.html import Chart, Section, render_page
from corpusmill.report.inputs import dead_letter_files, run_summaries, stage_manifests, token_files
from corpusmill.report.queries import Composition, composition, dead_letters
from corpusmill.report.search_sections import load_search, search_section

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportResult:
    path: str
    sections: list[str]
    charts: list[str]  # `data-chart` keys, in page order
    documents: int
    elapsed_s: float


def _corpus_sections(comp: Composition) -> list[Section | None]:
    return [
        cs.languages(comp),
        cs.by_dimension(comp, "domain", "domain", "domain", "no domain label"),
        cs.education(comp),
        cs.by_dimension(comp, "safety", "safety", "safety category", "no safety label"),
        cs.by_dimension(comp, "source", "source", "source", "(none)"),
    ]


def _lang_sql(lang_from: str | None) -> str | None:
    return {"annotations": "lang", "meta": "json_extract_string(meta, '$.lang')"}.get(lang_from or "")


def _stage_dir(shards: str | None, manifest: dict) -> str | None:
    if not shards:
        return None
    own = storage.join(shards, "manifest.json")
    return shards if storage.exists(own) else storage.join(shards, str(manifest.get("stage", "")))


def build_report(
    docs: str,
    out: str,
    *,
    annotations: str | None = None,
    shards: str | None = None,
    runs: Sequence[str] = (),
    dedup: str | None = None,
    search: str | None = None,
) -> ReportResult:
    """Write the report of DOCS_DIR (and the optional inputs) to `out`; sections without input are left out."""
    start = time.monotonic()
    folders = [p for p in (docs, annotations, dedup, shards, *runs) if p]
    manifests = stage_manifests(shards)
    tokens = shards if token_files(shards, manifests) else None
    with open_corpus(docs, annotations, dedup=dedup, tokens=tokens) as corpus:
        # DuckDB draws a progress bar on long scans; a report run prints only its summary.
        corpus.con.execute("SET enable_progress_bar = false")
        comp = composition(corpus, token_files(shards, manifests))
        dl_files = dead_letter_files(folders)
        dl_groups = dead_letters(corpus.con, dl_files)
        dup = dedup_section(corpus.con, _lang_sql(comp.lang_from)) if dedup else None
        data = ds.corpus_sections(corpus) + [
            ds.stage_data_section(corpus.con, m, _stage_dir(shards, m)) for m in manifests
        ]
    summaries = run_summaries(folders)
    ledger_files = run_summaries(folders, LEDGER_FILE)
    sections = [cs.overview(comp, sum(g.count for g in dl_groups)), *_corpus_sections(comp)]
    sections.append(dup)
    sections += [rs.stage_section(m, comp) for m in manifests]
    sections += data
    sections += [
        rs.dead_letters_section(dl_groups, len(dl_files)) if dl_files else None,
        rs.pdf_section(summaries),
        rs.llm_section([*summaries, *ledger_files]),
        rs.runs_section(summaries),
        search_section(load_search(search)) if search else None,
    ]
    present = [s for s in sections if s is not None]
    inputs = ", ".join(
        f"{k} {v}" for k, v in (("docs", docs), ("annotations", annotations), ("dedup", dedup), ("shards", shards)) if v
    )
    page = render_page("corpusmill corpus report", inputs, present)
    with storage.atomic_write(out) as fh:
        fh.write(page.encode("utf-8"))
    charts = [b.key for s in present for b in s.blocks if isinstance(b, Chart)]
    elapsed = time.monotonic() - start
    log.info("report %s: %d sections, %d charts in %.2fs", out, len(present), len(charts), elapsed)
    return ReportResult(out, [s.key for s in present], charts, comp.docs, round(elapsed, 3))


def build_search_report(search: str, out: str) -> ReportResult:
    """A page with only the mixture-search section (no corpus needed)."""
    start = time.monotonic()
    section = search_section(load_search(search))
    page = render_page("corpusmill mixture search", f"search {search}", [section])
    with storage.atomic_write(out) as fh:
        fh.write(page.encode("utf-8"))
    charts = [b.key for b in section.blocks if isinstance(b, Chart)]
    return ReportResult(out, [section.key], charts, 0, round(time.monotonic() - start, 3))
