"""`PdfExtractor` against its contract, for each OCR engine: text layer only, Tesseract, VLM.

Real PDFs made with pymupdf: prose with a text layer, a blank page, a scanned page, corrupt
bytes. The contract: one PDF in, one document or one dead letter out, never an exception; the
text layer comes back as written; blank pages cost nothing and an all-blank file is a dead
letter; the same bytes give the same row; the extractor pickles before `setup()` (Beam ships
it), and parsing runs in a child process whose death costs no more than a restart.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import signal
from collections.abc import Callable, Iterator

import pyarrow as pa
import pymupdf
import pytest

from corpusmill.extractors.pdf import samples
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.extractors.pdf.extractor import STAGE, Extraction, PdfExtractor, document_id
from corpusmill.extractors.pdf.metrics import char_error_rate
from corpusmill.extractors.pdf.ocr_tesseract import available_langs
from corpusmill.llm.testing import LLMTestServer
from corpusmill.schema import DEAD_LETTER_SCHEMA, DOCUMENT_SCHEMA


def _with_blank_pages(data: bytes, blanks: int) -> bytes:
    doc = pymupdf.open("pdf", data) if data else pymupdf.open()
    for _ in range(blanks):
        doc.new_page(width=samples.A4.width, height=samples.A4.height)
    return doc.tobytes()


PROSE, PROSE_TEXT = samples.single_column_pdf(pages=3, seed=3)  # 3 pages: running heads are recognized
ONE_PAGE, ONE_PAGE_TEXT = samples.single_column_pdf(pages=1, seed=4, running_head=False)
SCAN, _ = samples.mixed_pdf()  # a text page, then a picture of `SCAN_TEXT`
SCAN_TEXT = samples.image_only_pdf()[1]
INPUTS = {
    "prose.pdf": PROSE,
    "page_then_blank.pdf": _with_blank_pages(ONE_PAGE, 1),
    "blank.pdf": _with_blank_pages(b"", 2),
    "scan.pdf": SCAN,
    "corrupt.pdf": b"%PDF-1.7\n" + random.Random(0).randbytes(3000),
    "empty.pdf": b"",
}
DEAD = {"blank.pdf": "no_text", "corrupt.pdf": "corrupt_pdf", "empty.pdf": "not_a_pdf"}

ENGINES: dict[str, Callable[[str], PdfConfig]] = {
    "text_layer": lambda url: PdfConfig(ocr="off"),
    "tesseract": lambda url: PdfConfig(ocr="tesseract", ocr_langs="eng", ocr_dpi=150, detect_orientation=False),
    "vlm": lambda url: PdfConfig(llm_url=url, detect_orientation=False),
}


@pytest.fixture(scope="module")
def server() -> Iterator[LLMTestServer]:
    with LLMTestServer(context_window=32768) as running:
        yield running


@pytest.fixture(scope="module", params=sorted(ENGINES))
def config(request: pytest.FixtureRequest, server: LLMTestServer) -> PdfConfig:
    if request.param == "tesseract" and "eng" not in available_langs():
        pytest.skip("Tesseract with English data is not installed (make sysdeps)")
    return ENGINES[request.param](server.url)


@pytest.fixture(scope="module")
def extracted(config: PdfConfig) -> dict[str, Extraction]:
    """Every input through one extractor, in order: a bad file must not disturb the next."""
    with PdfExtractor(config) as extractor:
        return {name: extractor.extract(f"mem://{name}", data, name=name) for name, data in INPUTS.items()}


def _pages(result: Extraction) -> list[dict]:
    assert result.document is not None
    return json.loads(result.document["meta"])["pages"]


def test_one_document_or_one_dead_letter_per_file(extracted: dict[str, Extraction]) -> None:
    for name, result in extracted.items():
        if name in DEAD:
            assert result.document is None and len(result.dead_letters) == 1, name
            (row,) = result.dead_letters
            assert (row["stage"], row["reason"], row["id"]) == (STAGE, DEAD[name], document_id(name))
            assert row["message"] and row["error"]
        else:
            assert result.document is not None, (name, result.dead_letters)
            assert result.document["id"] == document_id(name) and result.document["uri"] == f"mem://{name}"
            pa.Table.from_pylist([result.document], schema=DOCUMENT_SCHEMA)
        pa.Table.from_pylist(result.dead_letters, schema=DEAD_LETTER_SCHEMA)


def test_text_layer_comes_back_as_written(extracted: dict[str, Extraction]) -> None:
    result = extracted["prose.pdf"]
    assert result.document is not None and result.dead_letters == []
    assert char_error_rate(PROSE_TEXT, result.document["text"]) < 0.01
    assert [p["route"] for p in _pages(result)] == ["text"] * 3
    meta = json.loads(result.document["meta"])
    assert meta["extractor"] == "corpusmill.pdf" and meta["extractor_version"]  # labels name their maker


def test_blank_page_adds_nothing(extracted: dict[str, Extraction]) -> None:
    result = extracted["page_then_blank.pdf"]
    assert result.document is not None and result.dead_letters == []
    assert char_error_rate(ONE_PAGE_TEXT, result.document["text"]) < 0.01
    pages = _pages(result)
    assert len(pages) == 2 and pages[1]["span"][0] == pages[1]["span"][1]


def test_scanned_page_goes_to_the_ocr_engine(config: PdfConfig, extracted: dict[str, Extraction]) -> None:
    result = extracted["scan.pdf"]
    assert result.document is not None
    text_page, scan_page = _pages(result)
    assert text_page["route"] == "text" and scan_page["route"] == "ocr"
    scanned = result.document["text"][slice(*scan_page["span"])]
    if config.ocr_engine == "none":  # the page is a dead letter of its own; the document stays
        assert scanned == "" and [(d["stage"], d["reason"]) for d in result.dead_letters] == [
            ("extract_pdf_page", "ocr_unavailable")
        ]
    elif config.ocr_engine == "tesseract":
        assert scan_page["engine"] == "tesseract" and result.dead_letters == []
        assert char_error_rate(" ".join(SCAN_TEXT.split()), " ".join(scanned.split())) < 0.05
    else:  # the test server echoes the prompt and the size of the page image it received
        assert scan_page["engine"] == "vlm" and scanned.endswith("[image 919x1300 png]")


def test_same_bytes_same_rows(config: PdfConfig, extracted: dict[str, Extraction]) -> None:
    with PdfExtractor(config) as extractor:
        for name in ("corrupt.pdf", "scan.pdf", "prose.pdf"):  # reversed order, fresh extractor
            again = extractor.extract(f"mem://{name}", INPUTS[name], name=name)
            assert again.document == extracted[name].document and again.dead_letters == extracted[name].dead_letters


def test_sample_pdfs_are_reproducible() -> None:
    assert samples.mixed_pdf()[0] == SCAN and samples.single_column_pdf(pages=3, seed=3)[0] == PROSE


def test_picklable_and_the_child_can_die(config: PdfConfig, extracted: dict[str, Extraction]) -> None:
    clone = pickle.loads(pickle.dumps(PdfExtractor(config)))
    with clone:
        first = clone.extract("mem://prose.pdf", PROSE, name="prose.pdf")
        pid = clone.child_pid
        assert pid is not None and pid != os.getpid()  # parsing ran in a child process
        # The child dies between two documents (an OOM kill, say); the next document is sent at
        # once, before the parent has reaped it, and must not be blamed for the crash.
        os.kill(pid, signal.SIGKILL)
        second = clone.extract("mem://prose.pdf", PROSE, name="prose.pdf")
        assert second.dead_letters == []
        assert clone.child_pid not in (None, pid)  # a fresh child took over
    assert first.document == second.document == extracted["prose.pdf"].document
