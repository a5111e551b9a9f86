"""The child process: a page that hangs, crashes or exhausts memory costs that page only."""

from __future__ import annotations

import json
import os
import time

import pytest

from corpusmill.extractors.pdf import samples
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.extractors.pdf.extractor import PAGE_STAGE, STAGE, PdfExtractor
from corpusmill.extractors.pdf.isolate import ChildTimeout, IsolatedRunner, ItemLog
from corpusmill.extractors.pdf.metrics import char_error_rate
from corpusmill.extractors.pdf.worker import extract_pages
from tests import pdf_workers

CONFIG = PdfConfig(ocr="off", page_time_limit_s=1.0, time_limit_s=60.0, memory_limit_mb=1536)


def test_runner_streams_items_and_survives_a_timeout() -> None:
    runner = IsolatedRunner()
    try:
        far = time.monotonic() + 60
        assert list(runner.stream(pdf_workers.count_up, (3,), item_timeout=30, deadline=far)) == [0, 1, 2]
        with pytest.raises(ChildTimeout):
            list(runner.stream(pdf_workers.hang_while_opening, (b"", CONFIG), item_timeout=0.5, deadline=far))
        # The hung child was killed; the next call gets a fresh one.
        assert list(runner.stream(pdf_workers.count_up, (2,), item_timeout=30, deadline=far)) == [0, 1]
    finally:
        runner.close()


def test_the_time_limit_applies_to_each_unit_not_to_the_call() -> None:
    runner = IsolatedRunner()
    try:
        far = time.monotonic() + 60
        # Four units of 0.5 s: the call takes longer than one unit's limit, no unit does.
        assert list(runner.stream(pdf_workers.slow_units, (4, 0.5), item_timeout=1.5, deadline=far)) == [0, 1, 2, 3]
    finally:
        runner.close()


def test_item_log_drops_a_frame_cut_short() -> None:
    log = ItemLog()
    try:
        log.clear()
        log.append({"page": 0})
        complete = log.size
        log.append("x" * 100)
        os.ftruncate(log.fd, log.size - 10)  # the child died while writing the second item
        assert list(log.items()) == [{"page": 0}]
        os.ftruncate(log.fd, complete)
        assert list(log.items()) == [{"page": 0}]
    finally:
        log.close()


@pytest.mark.parametrize(
    ("worker", "reason"),
    [
        (pdf_workers.hang_on_second_page, "page_timeout"),
        (pdf_workers.crash_on_second_page, "page_crashed"),
        (pdf_workers.exhaust_memory_on_second_page, "page_memory_limit"),
    ],
)
def test_a_bad_page_costs_only_that_page(worker, reason: str) -> None:
    data, _ = samples.single_column_pdf(pages=3, running_head=False)
    with PdfExtractor(CONFIG, worker=worker) as extractor:
        result = extractor.extract("mem://three.pdf", data)
    assert result.document is not None
    pages = json.loads(result.document["meta"])["pages"]
    assert [p["route"] for p in pages] == ["text", "failed", "text"]
    assert pages[1]["error"] == reason
    assert [(d["stage"], d["reason"], d["uri"]) for d in result.dead_letters] == [
        (PAGE_STAGE, reason, "mem://three.pdf#page=2")
    ]
    expected_first = samples.single_column_pdf(pages=1, running_head=False)[1]
    assert char_error_rate(expected_first, result.document["text"][: len(expected_first)]) < 0.01


def test_a_pdf_that_hangs_the_parser_is_a_dead_letter() -> None:
    data, _ = samples.single_column_pdf(pages=1)
    config = PdfConfig(ocr="off", page_time_limit_s=1.0, time_limit_s=2.0)
    with PdfExtractor(config, worker=pdf_workers.hang_while_opening) as extractor:
        result = extractor.extract("mem://hang.pdf", data)
        assert result.document is None
        assert [(d["stage"], d["reason"]) for d in result.dead_letters] == [(STAGE, "timeout")]
        # The same extractor goes on with the next file in a fresh child.
        extractor.worker = extract_pages
        assert extractor.extract("mem://ok.pdf", data).document is not None


def test_document_time_limit_keeps_the_pages_already_read() -> None:
    data, _ = samples.single_column_pdf(pages=3, running_head=False)
    config = PdfConfig(ocr="off", page_time_limit_s=60.0, time_limit_s=2.0)
    with PdfExtractor(config, worker=pdf_workers.hang_on_second_page) as extractor:
        extractor.extract("mem://warm-up.pdf", samples.single_column_pdf(pages=1)[0])  # child started
        result = extractor.extract("mem://slow.pdf", data)
    pages = json.loads(result.document["meta"])["pages"]
    assert [(p["route"], p.get("error")) for p in pages] == [
        ("text", None),
        ("failed", "timeout"),
        ("failed", "timeout"),
    ]
    assert [d["uri"] for d in result.dead_letters] == ["mem://slow.pdf#page=2", "mem://slow.pdf#page=3"]


def test_a_bug_met_by_one_file_is_a_dead_letter_not_a_crash() -> None:
    data, _ = samples.single_column_pdf(pages=1)
    with PdfExtractor(CONFIG, worker=pdf_workers.yield_nonsense) as extractor:
        result = extractor.extract("mem://odd.pdf", data)
        assert result.document is None
        assert [(d["stage"], d["reason"]) for d in result.dead_letters] == [(STAGE, "internal_error")]
        extractor.worker = extract_pages
        assert extractor.extract("mem://fine.pdf", data).document is not None
