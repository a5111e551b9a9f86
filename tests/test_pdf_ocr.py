"""Tesseract OCR on rasterized pages (few pages, modest dpi: OCR is the slow part)."""

from __future__ import annotations

import json

import pytest

from corpusmill.extractors.pdf import samples
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.extractors.pdf.extractor import PdfExtractor
from corpusmill.extractors.pdf.metrics import char_error_rate
from corpusmill.extractors.pdf.ocr_tesseract import available_langs, choose_langs
from corpusmill.extractors.pdf.render import tesseract_binary

pytestmark = pytest.mark.skipif(
    "eng" not in available_langs(), reason="Tesseract English data missing: run `make sysdeps`"
)
CONFIG = PdfConfig(ocr="tesseract", ocr_dpi=150)


@pytest.fixture(scope="module")
def extractor():
    with PdfExtractor(CONFIG) as ex:
        yield ex


def _ocr_page(result) -> dict:
    return next(p for p in json.loads(result.document["meta"])["pages"] if p["route"] == "ocr")


def test_tesseract_recovers_a_rasterized_page(extractor) -> None:
    data, expected = samples.mixed_pdf()  # page 1: text layer, page 2: a scan
    result = extractor.extract("mem://mixed.pdf", data)
    assert result.dead_letters == []
    meta = json.loads(result.document["meta"])
    assert [(p["route"], p["engine"]) for p in meta["pages"]] == [("text", "text_layer"), ("ocr", "tesseract")]
    assert _ocr_page(result)["engine_version"].endswith(choose_langs(None, "Latin", available_langs()))
    scan_text = result.document["text"][meta["pages"][1]["span"][0] :]
    assert char_error_rate(samples.image_only_pdf()[1], scan_text) < 0.10
    assert char_error_rate(expected, result.document["text"]) < 0.10


@pytest.mark.skipif(tesseract_binary() is None, reason="orientation detection needs the tesseract program")
def test_sideways_scan_is_turned_upright(extractor) -> None:
    data, expected = samples.image_only_pdf(samples.paragraphs(1, 5, sentences=3)[0], rotate=90)
    result = extractor.extract("mem://sideways.pdf", data)
    assert _ocr_page(result)["rotation_corrected"] in (90, 270)
    assert char_error_rate(expected, result.document["text"]) < 0.10


def test_language_packs_follow_the_text_layer() -> None:
    scripts = {"eng", "chi_sim", "Latin", "HanS", "script/Bengali"}
    assert choose_langs(None, "Han", scripts) == "HanS"  # a script model wins over a language pack
    assert choose_langs(None, "Bengali", scripts) == "script/Bengali"  # Debian's layout
    assert choose_langs(None, "Latin", scripts) == "Latin"
    assert choose_langs(None, "Thai", scripts) == "eng"  # neither model nor pack: English
    have = {"eng", "chi_sim"}
    assert choose_langs(None, "Han", have) == "chi_sim+eng"
    assert choose_langs(None, "Latin", have) == "eng"
    assert choose_langs(None, "Cyrillic", have) == "eng"  # no rus pack installed: fall back
    assert choose_langs("chi_sim", "Latin", have) == "chi_sim"


def test_unknown_language_pack_is_a_config_error() -> None:
    from corpusmill.errors import ConfigError

    with pytest.raises(ConfigError, match="not installed"):
        PdfConfig(ocr="tesseract", ocr_langs="eng+xxx")
