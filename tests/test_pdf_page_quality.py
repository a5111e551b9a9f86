"""Page-quality routing (issue 18): garbled and glyph-order text layers, blank scans,
the OCR acceptance check, and the pieces OCR pages are built from.

PDFs are generated (`extractors.pdf.ocr_samples`) to reproduce each fault; OCR runs only
where a test needs it (a few pages: Tesseract takes seconds a page).
"""

from __future__ import annotations

import json

import pymupdf
import pytest

from corpusmill.extractors.pdf import ocr_rapid, ocr_samples
from corpusmill.extractors.pdf.analysis import analyze_page
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.extractors.pdf.extractor import PAGE_STAGE, STAGE, PdfExtractor
from corpusmill.extractors.pdf.ink import MIN_INK, ink_share
from corpusmill.extractors.pdf.metrics import char_error_rate
from corpusmill.extractors.pdf.ocr_check import OcrWord, check_ocr
from corpusmill.extractors.pdf.ocr_cpu import _candidates
from corpusmill.extractors.pdf.ocr_tesseract import available_langs, recognize, script_model
from corpusmill.extractors.pdf.ocr_words import Word, clean_line, words_to_blocks
from corpusmill.extractors.pdf.render import tesseract_binary
from corpusmill.extractors.pdf.route import OCR, TEXT, route_page
from corpusmill.extractors.pdf.script_check import implausible_share
from tests.pdf_cases import read_in_process

SHAPED = ("Bengali", "Devanagari", "Tamil", "Thai", "Arabic")
needs_tesseract = pytest.mark.skipif("eng" not in available_langs(), reason="Tesseract data missing: make sysdeps")


def _route(data: bytes) -> tuple[str, str]:
    page = pymupdf.open("pdf", data)[0]
    decision = route_page(analyze_page(page, page.get_text()))
    return decision.route, decision.why


def _reasons(result) -> list[tuple[str, str]]:
    return [(d["stage"], d["reason"]) for d in result.dead_letters]


# --- routing -------------------------------------------------------------------------


def test_page_of_only_replacement_characters_goes_to_ocr_not_blank() -> None:
    data = ocr_samples.replacement_char_pdf(n=1)  # one short line: under the 32-char "blank" bar
    assert set(pymupdf.open("pdf", data)[0].get_text().split()[0]) == {"\ufffd"}
    assert _route(data) == (OCR, "garbled_text_layer")


def test_replacement_characters_never_reach_the_text_without_ocr() -> None:
    text, pages = read_in_process(ocr_samples.replacement_char_pdf(), PdfConfig(ocr="off"))
    assert "\ufffd" not in text
    assert pages[0].error is not None and pages[0].error[0] == "ocr_unavailable"


@pytest.mark.parametrize("script", SHAPED)
def test_glyph_order_text_layer_goes_to_ocr(script: str) -> None:
    data, truth = ocr_samples.shaped_text_pdf(script)
    layer = pymupdf.open("pdf", data)[0].get_text()
    assert char_error_rate(truth, layer) > 0.02  # the fault is there...
    assert implausible_share(truth) == 0.0  # ...and the true text shows none of its marks
    assert _route(data) == (OCR, "glyph_order_text_layer")


@pytest.mark.parametrize("script", ["Latin", "Cyrillic", "Han"])
def test_unshaped_scripts_keep_their_text_layer(script: str) -> None:
    data, truth = ocr_samples.shaped_text_pdf(script)
    assert _route(data) == (TEXT, "good_text_layer")
    assert char_error_rate(truth, read_in_process(data)[0]) < 0.01


def test_implausible_sequences_are_counted_per_word() -> None:
    # A Bengali vowel sign before its consonant, a Latin letter inside a Devanagari word,
    # Arabic presentation forms; each a share of the page's words of that script.
    assert implausible_share("িক আমি তুমি সে তারা আমরা") == pytest.approx(1 / 6)
    assert implausible_share("हम तुम वह मȶक यह वे") == pytest.approx(1 / 6)
    assert implausible_share("ﺍﻟﻠﻐﺔ ﺍﻟﻌﺮﺑﻴﺔ ﺟﻤﻴﻠﺔ ﺟﺪﺍ ﻭﻫﻲ") == 1.0
    assert implausible_share("কি আমি তুমি সে তারা আমরা") == 0.0
    assert implausible_share("Ján Mináč ṭhīk café naïve æsir") == 0.0


# --- blank pages and the ink check ------------------------------------------------------


@needs_tesseract
@pytest.mark.skipif(tesseract_binary() is None, reason="word confidences need the tesseract program")
def test_blank_scan_reads_as_garbage_which_both_guards_stop() -> None:
    # The fault: OCR of a blank sheet whose back shows through gives a screen of text...
    page = pymupdf.open("pdf", ocr_samples.blank_scan_pdf())[0]
    blocks, _, words = recognize(page.get_pixmap(dpi=200), "eng", 200 / 72)
    text = "\n".join(b.text for b in blocks)
    assert len(text) > 200
    # ...which the ink check never lets OCR see, and the acceptance check would reject.
    assert ink_share(page) < MIN_INK
    assert check_ocr(text, words).reason == "ocr_low_confidence"


def test_blank_scan_has_no_ink_and_a_printed_line_has() -> None:
    blank = pymupdf.open("pdf", ocr_samples.blank_scan_pdf())[0]
    assert ink_share(blank) < MIN_INK
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 100), "The library opens at nine.", fontsize=12)
    line = pymupdf.open("pdf", ocr_samples.scan_of(doc.tobytes()))[0]
    assert ink_share(line) > MIN_INK


@needs_tesseract
def test_blank_scan_yields_no_text_not_ocr_garbage() -> None:
    text_page = ocr_samples.shaped_text_pdf("Latin")[0]
    doc = pymupdf.open("pdf", text_page)
    doc.insert_pdf(pymupdf.open("pdf", ocr_samples.blank_scan_pdf()))
    with PdfExtractor(PdfConfig(ocr="tesseract")) as extractor:
        result = extractor.extract("mem://with-blank.pdf", doc.tobytes())
        alone = extractor.extract("mem://blank.pdf", ocr_samples.blank_scan_pdf())
    meta = json.loads(result.document["meta"])
    assert [(p["route"], p["why"]) for p in meta["pages"]] == [(TEXT, "good_text_layer"), (OCR, "blank_scan")]
    assert meta["pages"][1]["span"][0] == meta["pages"][1]["span"][1]  # no text at all
    assert result.dead_letters == []
    assert _reasons(alone) == [(STAGE, "no_text")]


def test_page_number_alone_on_a_scan_is_blank() -> None:
    # "4)" was what OCR made of such pages; there is too little ink to be worth reading.
    doc = pymupdf.open()
    doc.new_page().insert_text((300, 780), "4)", fontsize=11)
    _, pages = read_in_process(ocr_samples.scan_of(doc.tobytes()), PdfConfig(ocr="off"))
    assert (pages[0].why, pages[0].blocks, pages[0].error) == ("blank_scan", [], None)


def test_undecodable_image_is_a_dead_letter_not_a_blank_page() -> None:
    # An image MuPDF cannot decode renders as nothing; its content is lost, not absent.
    doc = pymupdf.open("pdf", ocr_samples.scan_of(ocr_samples.shaped_text_pdf("Latin")[0], dpi=72))
    xref = doc[0].get_images()[0][0]
    doc.update_stream(xref, b"\xff\xd8\xff\xe0 not really a JPEG" * 10, compress=0)
    doc.xref_set_key(xref, "Filter", "/DCTDecode")
    doc.xref_set_key(xref, "DecodeParms", "null")
    _, pages = read_in_process(doc.tobytes(), PdfConfig(ocr="off"))
    assert pages[0].error is not None and pages[0].error[0] == "image_decode_error"


def test_blank_scan_without_ocr_is_not_an_ocr_dead_letter() -> None:
    # Nothing to recognize, so no engine is missing either.
    _, pages = read_in_process(ocr_samples.blank_scan_pdf(), PdfConfig(ocr="off"))
    assert (pages[0].why, pages[0].error) == ("blank_scan", None)


# --- the OCR acceptance check ------------------------------------------------------------


def test_ocr_check_rejects_tiny_and_garbage_output() -> None:
    assert check_ocr("").reason == "ocr_no_text"
    assert check_ocr("4)").reason == "ocr_too_short"
    soup = "|| ~~ =-= ;: ,,, ^^ @ }{ 1l1 ||| " * 10 + "ab cd ef gh ij kl"
    assert check_ocr(soup).reason == "ocr_garbage"
    noise = "Tlie qnick bro wn fcx jnmps ovcr tlie lazv dog"
    assert check_ocr(noise, [OcrWord(w, 31.0) for w in noise.split()]).reason == "ocr_low_confidence"
    good = "The quick brown fox jumps over the lazy dog near the river bank."
    verdict = check_ocr(good, [OcrWord(w, 93.0) for w in good.split()])
    assert verdict.ok and verdict.stats["confidence"] == 93.0


def test_indic_vowel_signs_count_as_letters() -> None:
    assert check_ocr("কিছু লোক বিদেশে থাকে। আমি বাংলায় গান গাই।").ok


@needs_tesseract
def test_rejected_ocr_is_a_page_dead_letter_with_its_reason() -> None:
    # Page 2 is a scan of ruled bars: ink, but nothing OCR can read as text.
    bars = pymupdf.open()
    page = bars.new_page()
    for y in range(80, 760, 24):
        page.draw_rect(pymupdf.Rect(72, y, 520, y + 8), color=(0, 0, 0), fill=(0, 0, 0))
    doc = pymupdf.open("pdf", ocr_samples.shaped_text_pdf("Latin")[0])
    doc.insert_pdf(pymupdf.open("pdf", ocr_samples.scan_of(bars.tobytes(), dpi=100)))
    with PdfExtractor(PdfConfig(ocr="tesseract")) as extractor:
        result = extractor.extract("mem://bars.pdf", doc.tobytes())
    assert result.document is not None  # the text page is kept
    [(stage, reason)] = _reasons(result)
    assert stage == PAGE_STAGE and reason in {"ocr_no_text", "ocr_too_short", "ocr_low_confidence", "ocr_garbage"}
    assert json.loads(result.document["meta"])["pages"][1]["error"] == reason


# --- OCR per script ----------------------------------------------------------------------


def test_script_candidates_order_and_limits() -> None:
    # The page's own text layer, then OSD, then the document, then Latin; two reads at most.
    assert _candidates("Bengali", "Malayalam", "Latin", None) == ["Bengali", "Malayalam"]
    assert _candidates("", "Han", "Han", None) == ["Han", "Latin"]
    assert _candidates("", "", "", None) == ["Latin"]
    assert _candidates("", "Han", "Latin", "eng") == ["Han"]  # --ocr-langs pins one read


@needs_tesseract
@pytest.mark.skipif(script_model("Bengali", available_langs()) is None, reason="tesseract-ocr-script-beng missing")
def test_glyph_order_bengali_page_is_read_with_the_bengali_model() -> None:
    data, truth = ocr_samples.shaped_text_pdf("Bengali")
    text, pages = read_in_process(data, PdfConfig(ocr="tesseract"))
    assert pages[0].why == "glyph_order_text_layer"
    assert "Bengali" in pages[0].engine_version
    layer_cer = char_error_rate(truth, pymupdf.open("pdf", data)[0].get_text())
    assert char_error_rate(truth, text) < min(0.1, layer_cer / 2)


@needs_tesseract
@pytest.mark.skipif(script_model("Bengali", available_langs()) is None, reason="tesseract-ocr-script-beng missing")
def test_scan_without_text_layer_gets_its_script_from_osd() -> None:
    # A sideways Bengali scan in an English document: OSD turns it and names its script,
    # which beats the document's text pages (English) for choosing the model.
    data, truth = ocr_samples.shaped_text_pdf("Bengali", sentences=10)
    doc = pymupdf.open("pdf", ocr_samples.shaped_text_pdf("Latin")[0])
    doc.insert_pdf(pymupdf.open("pdf", ocr_samples.scan_of(data, rotate=90)))
    text, pages = read_in_process(doc.tobytes(), PdfConfig(ocr="tesseract"))
    assert pages[1].why == "no_text_layer" and pages[1].rotation in (90, 270)
    assert "Bengali" in pages[1].engine_version
    assert char_error_rate(truth, text.split("\n\n", 1)[1]) < 0.1


@pytest.mark.skipif(not ocr_rapid.available(), reason="RapidOCR not installed: pip install 'corpusmill[rapidocr]'")
def test_han_scan_is_read_by_rapidocr_in_the_isolated_child() -> None:
    # OSD names the script (no text layer says it); onnxruntime fits the child's memory limit.
    data, truth = ocr_samples.shaped_text_pdf("Han")
    with PdfExtractor(PdfConfig(ocr="tesseract")) as extractor:
        result = extractor.extract("mem://han-scan.pdf", ocr_samples.scan_of(data))
    assert result.dead_letters == [], result.dead_letters[0]["message"]
    page = json.loads(result.document["meta"])["pages"][0]
    assert page["engine"] == "rapidocr" and page["engine_version"].startswith("rapidocr-1.4")
    assert page["signals"]["ocr_check"]["confidence"] > 80
    assert char_error_rate("".join(truth.split()), "".join(result.document["text"].split())) < 0.05


@needs_tesseract
def test_huge_image_page_is_read_within_bounded_memory() -> None:
    # 10,000 x 10,000 pixels (100 MB decoded) under a 1 GiB address-space limit: the page
    # is rendered at the OCR resolution, never at the image's own.
    config = PdfConfig(ocr="tesseract", memory_limit_mb=1024, detect_orientation=False)
    with PdfExtractor(config) as extractor:
        result = extractor.extract("mem://huge.pdf", ocr_samples.huge_image_pdf())
    reasons = [d["reason"] for d in result.dead_letters]
    assert not {"memory_limit", "page_memory_limit", "crashed", "page_crashed", "timeout"} & set(reasons)
    # Black bars, no words: the OCR answer is rejected by the check and the page accounted for.
    assert result.document is None and reasons == ["no_text"]


# --- words into blocks -------------------------------------------------------------------


def test_engine_spaces_inside_unspaced_scripts_are_removed() -> None:
    assert clean_line("ภา ษา ไท ย and more") == "ภาษาไทย and more"
    assert clean_line("图 书 馆") == "图书馆"
    assert clean_line("தமிழ்\u200c மொழி") == "தமிழ் மொழி"


def test_line_fragments_join_into_lines_and_paragraphs() -> None:
    # Two fragments of one printed line (touching: cut inside a word), then a second line,
    # then a paragraph far below; in pixels at scale 2.
    words = [
        Word(300, 100, 500, 130, "ing words", 90, 2, 0),
        Word(100, 100, 298, 130, "Frag", 90, 1, 0),
        Word(100, 135, 480, 165, "next line", 90, 3, 0),
        Word(100, 400, 480, 430, "Far below", 90, 4, 0),
    ]
    blocks = words_to_blocks(words, 2.0)
    assert [b.text for b in blocks] == ["Fraging words next line", "Far below"]
    assert blocks[0].x0 == 50 and blocks[0].y0 == 50


def test_right_to_left_fragments_read_right_first() -> None:
    words = [Word(100, 100, 200, 130, "العالم", 90, 1, 0), Word(260, 100, 400, 130, "مرحبا", 90, 2, 0)]
    assert [b.text for b in words_to_blocks(words, 1.0)] == ["مرحبا العالم"]
