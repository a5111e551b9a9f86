"""PDF extraction speed and accuracy: our text-layer route vs a bare `page.get_text()` loop.

Both read the same generated PDFs (two-column papers, one-column pages with running heads,
a ruled table) in this one run. Ours is measured twice: the room code in this process
(analysis, routing, reading order, tables, running heads, de-hyphenation), and the whole
`PdfExtractor` as the job runs it (parsing in an isolated child process). Then Tesseract
pages/s and CER on rasterized pages. Run: `python -m bench.pdf_extract [--quick]`.
"""

from __future__ import annotations

import argparse
import time

import pymupdf

from extractors.pdf import samples
from extractors.pdf.config import PdfConfig
from extractors.pdf.extractor import PdfExtractor
from extractors.pdf.metrics import char_error_rate
from tests.pdf_cases import read_in_process


def corpus(docs: int) -> list[tuple[bytes, str]]:
    """`docs` PDFs with their expected text, a mix of the layouts above."""
    makers = [
        lambda i: samples.two_column_pdf(pages=10, seed=i),
        lambda i: samples.single_column_pdf(pages=10, seed=i),
        lambda i: samples.table_pdf(),
    ]
    return [makers[i % len(makers)](i) for i in range(docs)]


def plain_get_text(pdfs: list[tuple[bytes, str]]) -> tuple[float, list[str], int]:
    """(pages/s, texts, pages) of the peer: open, `page.get_text()` per page, join."""
    start, pages, texts = time.perf_counter(), 0, []
    for data, _ in pdfs:
        with pymupdf.open(stream=data, filetype="pdf") as doc:
            texts.append("\n".join(page.get_text() for page in doc))
            pages += doc.page_count
    return pages / (time.perf_counter() - start), texts, pages


def ours_in_process(pdfs: list[tuple[bytes, str]]) -> tuple[float, list[str]]:
    config = PdfConfig(ocr="off")
    read_in_process(pdfs[-1][0], config)  # warm-up: regex compilation, table-finder import
    start, pages, texts = time.perf_counter(), 0, []
    for data, _ in pdfs:
        text, results = read_in_process(data, config)
        pages += len(results)
        texts.append(text)
    return pages / (time.perf_counter() - start), texts


def ours_isolated(pdfs: list[tuple[bytes, str]], config: PdfConfig) -> tuple[float, list[str]]:
    texts, pages = [], 0
    with PdfExtractor(config) as extractor:
        extractor.extract("bench://warm-up.pdf", pdfs[0][0])  # child start-up is paid once per worker
        start = time.perf_counter()
        for i, (data, _) in enumerate(pdfs):
            result = extractor.extract(f"bench://{i}.pdf", data)
            pages += len(result.pages)
            texts.append(result.document["text"] if result.document else "")
        return pages / (time.perf_counter() - start), texts


def cer(pdfs: list[tuple[bytes, str]], texts: list[str]) -> float:
    """Character error rate over the whole set (each PDF weighted by its length)."""
    total = sum(len(expected) for _, expected in pdfs)
    return sum(char_error_rate(expected, text) * len(expected) for (_, expected), text in zip(pdfs, texts)) / total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=60, help="generated PDFs (a third of them 10-page papers)")
    ap.add_argument("--scans", type=int, default=4, help="rasterized pages for the Tesseract figure")
    ap.add_argument("--quick", action="store_true", help="12 PDFs and 2 scans")
    args = ap.parse_args()
    docs, scans = (12, 2) if args.quick else (args.docs, args.scans)
    pdfs = corpus(docs)
    peer, texts, pages = plain_get_text(pdfs)
    print(f"{len(pdfs)} PDFs, {pages} pages")
    print(f"plain page.get_text() loop: {peer:8.1f} pages/s  CER {cer(pdfs, texts):.4f}")
    ours, texts = ours_in_process(pdfs)
    print(f"our text route, in process: {ours:8.1f} pages/s  CER {cer(pdfs, texts):.4f}  ratio {ours / peer:.2f}")
    ours, texts = ours_isolated(pdfs, PdfConfig(ocr="off"))
    print(f"our extractor, child proc.: {ours:8.1f} pages/s  CER {cer(pdfs, texts):.4f}  ratio {ours / peer:.2f}")
    rasters = [samples.image_only_pdf("\n\n".join(samples.paragraphs(2, 40 + i)), dpi=200) for i in range(scans)]
    rate, texts = ours_isolated(rasters, PdfConfig(ocr="tesseract"))
    print(f"Tesseract OCR (200 dpi, orientation check): {rate:.2f} pages/s ({1 / rate:.1f} s/page)  "
          f"CER {cer(rasters, texts):.4f}")


if __name__ == "__main__":
    main()
