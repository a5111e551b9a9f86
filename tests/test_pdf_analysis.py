"""Page analysis and routing on real pages made with pymupdf."""

from __future__ import annotations

import pymupdf
import pytest

from corpusmill.extractors.pdf import samples
from corpusmill.extractors.pdf.analysis import analyze_page, dominant_script, text_signals
from corpusmill.extractors.pdf.route import OCR, TEXT, RoutePolicy, route_page
from tests.pdf_cases import read_in_process, text_pdf

PROSE = " ".join(samples.paragraphs(2, 3))


def test_clean_prose_scores_high_and_garbage_low() -> None:
    assert text_signals(PROSE).score > 0.9
    assert text_signals("\n".join(samples.CJK_SENTENCES)).score > 0.8
    assert text_signals("\n".join(samples.CJK_SENTENCES)).script == "Han"
    cid = " ".join(f"(cid:{n})" for n in range(40, 140))
    assert text_signals(cid).score == 0.0
    pua = "".join(chr(0xE000 + i) for i in range(200))
    assert text_signals(pua).garbage_ratio > 0.9 and text_signals(pua).score == 0.0
    mojibake = PROSE.replace("e", "Ã©").replace("'", "â€™")
    assert text_signals(mojibake).score < text_signals(PROSE).score - 0.3
    soup = "Xqzrtpl Bcdfghkj %%$#@ ~~^^ Qwrtzp " * 20
    assert text_signals(soup).score < 0.5
    assert text_signals("").score == 0.0 and text_signals("   ").chars == 0


def test_technical_text_is_not_mistaken_for_garbage() -> None:
    index = "asn1_array2tree . . . . 6\nasn1_get_bit_der . . . . 19\n4 CARD32 N_PARENTS 4xN_PARENTS\n" * 10
    assert text_signals(index + "See http://www.freedesktop.org/standards for details.").score > 0.9
    # A font whose codes are shifted by three (a common broken encoding) stays garbage.
    shifted = "".join(chr(ord(c) + 3) if c != "\n" else c for c in " ".join(samples.SENTENCES))
    assert text_signals(shifted).score < 0.5


def test_dominant_script() -> None:
    assert dominant_script("Привет, мир, hello") == "Cyrillic"
    assert dominant_script("12345 !!") == ""


def _first_page_route(data: bytes) -> tuple[str, str]:
    _, pages = read_in_process(data)
    return pages[0].route, pages[0].why


def test_good_text_layer_routes_to_text() -> None:
    assert _first_page_route(text_pdf([PROSE])) == (TEXT, "good_text_layer")


def test_image_only_page_routes_to_ocr() -> None:
    data, _ = samples.image_only_pdf(dpi=72)
    doc = pymupdf.open("pdf", data)
    analysis = analyze_page(doc[0], doc[0].get_text())
    assert analysis.image_coverage > 0.9 and analysis.text.chars == 0
    assert route_page(analysis).route == OCR
    route, why = _first_page_route(data)
    assert (route, why) == (OCR, "no_text_layer")


def test_broken_font_encoding_routes_to_ocr() -> None:
    garbage = " ".join(f"(cid:{n})" for n in range(60, 160))
    assert _first_page_route(text_pdf([garbage])) == (OCR, "garbled_text_layer")
    # Symbol soup without encoding marks is still judged by its word shapes.
    soup = " ".join("#%&*" * (1 + n % 3) for n in range(120))
    assert _first_page_route(text_pdf([soup])) == (OCR, "bad_text_layer")


def test_scan_with_a_stray_text_line_routes_to_ocr() -> None:
    data, _ = samples.image_only_pdf(dpi=72)
    doc = pymupdf.open("pdf", data)
    doc[0].insert_text((72, 30), "Scanned by the library of the sample workshop", fontsize=8)
    assert _first_page_route(doc.tobytes()) == (OCR, "scan_with_sparse_text")


def test_blank_page_is_not_sent_to_ocr() -> None:
    doc = pymupdf.open()
    doc.new_page()
    doc.new_page().insert_text((72, 72), PROSE[:300], fontsize=9)
    _, pages = read_in_process(doc.tobytes())
    assert [(p.route, p.why) for p in pages] == [(TEXT, "blank"), (TEXT, "good_text_layer")]


def test_policy_is_validated() -> None:
    from corpusmill.errors import ConfigError

    with pytest.raises(ConfigError):
        RoutePolicy(min_score=2.0)
