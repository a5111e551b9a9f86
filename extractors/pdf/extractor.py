"""`PdfExtractor`: one PDF's bytes in, one document (or a dead letter) out.

The untrusted part (parsing, rendering, Tesseract) runs in an isolated child process
(`isolate`, `worker`); a page that hangs or crashes the child costs that page only: the
child is restarted after it. VLM OCR and the rewrite step go through the LLM client from
this process. Pages are assembled in order with running heads removed (`assemble`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pymupdf

from corpusmill import storage
from corpusmill.errors import RecordError
from corpusmill.extractors.pdf import ocr_vlm
from corpusmill.extractors.pdf.assemble import PageText, join_pages, page_text, repeated_edges
from corpusmill.extractors.pdf.config import VLM, PdfConfig
from corpusmill.extractors.pdf.isolate import (
    ChildCrashed,
    ChildError,
    ChildFailure,
    ChildMemoryError,
    ChildTimeout,
    IsolatedRunner,
)
from corpusmill.extractors.pdf.rewrite import RewriteOutcome, rewrite_pages
from corpusmill.extractors.pdf.route import OCR, TEXT
from corpusmill.extractors.pdf.worker import DocInfo, PageResult, extract_pages
from corpusmill.llm import ClientConfig, Ledger, LLMClient, Usage
from corpusmill.llm.types import is_transient
from corpusmill.progress import NO_COUNTERS, CounterSink
from corpusmill.schema import DeadLetter, dead_letter, meta_json, stable_id

log = logging.getLogger(__name__)

NAME = "corpusmill.pdf"
VERSION = "2"  # 2: page-quality routing, OCR per script, single-page boilerplate, text repairs, table headers
SOURCE = "pdf"
STAGE = "extract_pdf"
PAGE_STAGE = "extract_pdf_page"
TEXT_ENGINE = f"pymupdf-{pymupdf.VersionBind}"
_CHILD_REASONS = {ChildTimeout: "timeout", ChildCrashed: "crashed", ChildMemoryError: "memory_limit"}


@dataclass
class Extraction:
    """The outcome for one PDF: a document row or not, plus dead-letter rows."""

    document: dict[str, Any] | None
    dead_letters: list[DeadLetter] = field(default_factory=list)
    pages: list[PageResult] = field(default_factory=list)


def document_id(name: str) -> str:
    return stable_id(SOURCE, name)


class PdfExtractor:
    """Reads PDFs per `config`. Call `setup()` once (or use `with`), then `extract()`."""

    def __init__(
        self,
        config: PdfConfig,
        *,
        cache_dir: str | None = None,
        counters: CounterSink = NO_COUNTERS,
        worker: Callable[..., Iterator[Any]] = extract_pages,
    ) -> None:
        self.config, self.cache_dir, self.counters, self.worker = config, cache_dir, counters, worker
        self._runner: IsolatedRunner | None = None
        self._vlm: LLMClient | None = None
        self._rewriter: LLMClient | None = None
        self._ledgers: dict[str, Ledger] = {}

    def _client(self, url: str, model: str | None, name: str) -> LLMClient:
        cache = storage.join(self.cache_dir, name) if self.cache_dir else None
        limits = self.config.llm.client_kwargs()
        return LLMClient(ClientConfig(urls=(url,), model=model, cache_dir=cache, **limits)).open()

    def setup(self) -> PdfExtractor:
        self._runner = IsolatedRunner(memory_limit_mb=self.config.memory_limit_mb, preload=(self.worker.__module__,))
        if self.config.ocr_engine == VLM and self._vlm is None:
            self._vlm = self._client(self.config.llm_url, self.config.vlm_model, "vlm")  # type: ignore[arg-type]
        if self.config.rewrite_url and self._rewriter is None:
            self._rewriter = self._client(self.config.rewrite_url, self.config.rewrite_model, "rewrite")
        return self

    def take_ledger(self) -> Usage:
        """LLM usage since the last call, per step ("vlm", "rewrite") (`corpusmill.llm.UsesLLM`)."""
        taken, self._ledgers = self._ledgers, {}
        return taken

    def _ledger(self, step: str) -> Ledger:
        return self._ledgers.setdefault(step, Ledger())

    @property
    def child_pid(self) -> int | None:
        """Process id of the child process parsing PDFs, if one is running."""
        return self._runner.child_pid if self._runner is not None else None

    def close(self) -> None:
        for closeable in (self._runner, self._vlm, self._rewriter):
            if closeable is not None:
                closeable.close()
        self._runner = self._vlm = self._rewriter = None

    def __enter__(self) -> PdfExtractor:
        return self.setup()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def extract(self, uri: str, data: bytes, *, name: str | None = None) -> Extraction:
        """The document of one PDF, or a dead letter; never raises for a bad file.

        The document id derives from `name` (a path relative to the input folder; default
        `uri`), so the same files give the same ids wherever they are stored.
        """
        doc_id = document_id(name or uri)
        error: Exception
        try:
            return self._extract(uri, doc_id, data)
        except RecordError as exc:
            reason, error = exc.reason, exc
        except Exception as exc:  # a bug met by one file must not stop the job: log it, go on
            log.exception("extracting %s failed", uri)
            reason, error = "internal_error", exc
        self.counters.inc("docs_dead")
        self.counters.inc(f"dead_{reason}")
        row = dead_letter(
            uri=uri, stage=STAGE, reason=reason, error=type(error).__name__, message=str(error), id=doc_id
        )
        return Extraction(None, [row])

    def _extract(self, uri: str, doc_id: str, data: bytes) -> Extraction:
        if len(data) > self.config.max_bytes:
            raise RecordError("file_too_large", f"{len(data)} bytes, limit is {self.config.max_bytes} (max_bytes)")
        info, pages = self._read_pages(data)
        if self._vlm is not None:
            settings = ocr_vlm.VlmSettings(model=self.config.vlm_model)
            ocr_vlm.read_pages(self._vlm, pages, uri, settings, self._ledger("vlm"))
        texts, dropped = self._page_texts(pages)
        rewrites = self._rewrite(uri, pages, texts)
        text, spans = join_pages(texts)
        dead = [self._page_dead_letter(uri, doc_id, p) for p in pages if p.error]
        if not text.strip():
            reasons = sorted({p.error[0] for p in pages if p.error}) or ["blank_pages"]
            # Pages the VLM could not read for a transient reason may yet have text: the PDF
            # fails with that reason, so a re-run retries it instead of taking it as empty.
            transient = [r for r in reasons if is_transient(PAGE_STAGE, r)]
            raise RecordError(transient[0] if transient else "no_text", f"no page yielded text ({', '.join(reasons)})")
        page_meta = [_page_meta(p, s, d, rewrites.get(p.number)) for p, s, d in zip(pages, spans, dropped, strict=True)]
        meta = _doc_meta(info, page_meta)
        self._count(pages, rewrites)
        row = {"id": doc_id, "text": text, "source": SOURCE, "uri": uri, "meta": meta_json(meta)}
        return Extraction(row, dead, pages)

    def _read_pages(self, data: bytes) -> tuple[DocInfo, list[PageResult]]:
        """All pages read in the child, restarting it past a page that hangs or crashes it."""
        assert self._runner is not None, "call setup() first"
        cfg, results = self.config, dict[int, PageResult]()
        info: DocInfo | None = None
        deadline = time.monotonic() + cfg.time_limit_s
        while True:
            args = (data, cfg, frozenset(results), _script_hint(results.values()))
            try:
                for item in self._runner.stream(
                    self.worker, args, item_timeout=cfg.page_time_limit_s, deadline=deadline
                ):
                    if isinstance(item, DocInfo):
                        info = item
                    else:
                        results[item.number] = item
                break
            except ChildFailure as exc:
                reason = _CHILD_REASONS[type(exc)]
                if info is None:
                    raise RecordError(reason, f"while opening the PDF: {exc}") from exc
                page = exc.progress if exc.progress not in results else None
                if page is None or (isinstance(exc, ChildTimeout) and exc.whole):
                    _fail_rest(results, info.pages, reason, str(exc))  # keep what was read
                    break
                results[page] = _failed(page, f"page_{reason}", str(exc))
            except ChildError as exc:
                raise RecordError("extract_error", str(exc)) from exc
        assert info is not None
        return info, [results[n] for n in sorted(results)]

    def _page_texts(self, pages: list[PageResult]) -> tuple[list[str], list[int]]:
        readable = [PageText(p.number, p.blocks, p.height) for p in pages]
        boilerplate = repeated_edges([p for p in readable if p.blocks])
        out = [page_text(p, boilerplate) for p in readable]
        return [t for t, _ in out], [d for _, d in out]

    def _rewrite(self, uri: str, pages: list[PageResult], texts: list[str]) -> dict[int, RewriteOutcome]:
        if self._rewriter is None:
            return {}
        scope = {OCR} if self.config.rewrite_scope == "ocr" else {OCR, TEXT}
        todo = [i for i, p in enumerate(pages) if p.route in scope and not p.error and texts[i].strip()]
        if not todo:
            return {}
        outcomes = rewrite_pages(
            self._rewriter,
            [texts[i] for i in todo],
            [f"{uri}#page={pages[i].number + 1}" for i in todo],
            model=self.config.rewrite_model,
            ledger=self._ledger("rewrite"),
        )
        for i, outcome in zip(todo, outcomes, strict=True):
            texts[i] = outcome.text
        return {pages[i].number: o for i, o in zip(todo, outcomes, strict=True)}

    def _page_dead_letter(self, uri: str, doc_id: str, page: PageResult) -> DeadLetter:
        reason, message = page.error  # type: ignore[misc]
        return dead_letter(
            uri=f"{uri}#page={page.number + 1}",
            stage=PAGE_STAGE,
            reason=reason,
            error="PageError",
            message=message,
            id=f"{doc_id}:p{page.number + 1}",
        )

    def _count(self, pages: list[PageResult], rewrites: dict[int, RewriteOutcome]) -> None:
        self.counters.inc("docs_out")
        self.counters.inc("pages", len(pages))
        for page in pages:
            self.counters.inc("pages_failed" if page.error else f"pages_{page.route}")
            if page.why == "blank_scan":  # an OCR page with nothing printed: no text, no OCR run
                self.counters.inc("pages_blank_scan")
        for outcome in rewrites.values():
            self.counters.inc(f"rewrite_{outcome.status}")


def _failed(number: int, reason: str, message: str) -> PageResult:
    return PageResult(number, "failed", reason, {}, 0.0, error=(reason, message))


def _fail_rest(results: dict[int, PageResult], pages: int, reason: str, message: str) -> None:
    for number in range(pages):
        if number not in results:
            results[number] = _failed(number, reason, message)


def _script_hint(pages: Any) -> str:
    scripts: Counter[str] = Counter()
    for page in pages:
        if page.route == TEXT and page.signals.get("script"):
            scripts[page.signals["script"]] += page.signals.get("chars", 0)
    return scripts.most_common(1)[0][0] if scripts else ""


def _page_meta(page: PageResult, span: tuple[int, int], dropped: int, rewrite: RewriteOutcome | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "page": page.number + 1,
        "route": page.route,
        "why": page.why,
        "score": page.signals.get("score"),
        "signals": page.signals,
        "span": list(span),
        "engine": page.engine or ("text_layer" if page.route == TEXT else None),
        "engine_version": page.engine_version or (TEXT_ENGINE if page.route == TEXT else None),
    }
    if page.rotation:
        meta["rotation_corrected"] = page.rotation
    if page.tokens:
        meta["llm_tokens"] = list(page.tokens)
    if dropped:
        meta["boilerplate_blocks"] = dropped
    if page.error:
        meta["error"] = page.error[0]
    if rewrite is not None:
        meta["rewrite"] = rewrite.as_meta()
    return meta


def _doc_meta(info: DocInfo, pages: list[dict[str, Any]]) -> dict[str, Any]:
    routes = Counter("failed" if p.get("error") else p["route"] for p in pages)
    return {
        "extractor": NAME,
        "extractor_version": VERSION,
        "page_count": info.pages,
        "repaired": info.repaired,
        "encrypted": info.encrypted,
        "routes": dict(sorted(routes.items())),
        "pages": pages,
    }
