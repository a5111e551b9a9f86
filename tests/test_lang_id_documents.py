"""LangId on whole documents: headers, mixtures, no-language text, bad input, bounded cost."""

from __future__ import annotations

import tracemalloc

import pyarrow as pa
import pytest

from corpusmill.annotators.lang_id import LangId
from corpusmill.annotators.langid.boilerplate import drop_repeated_lines, is_boilerplate, weight
from corpusmill.annotators.langid.calibration import Calibration, fit
from corpusmill.annotators.langid.noise import shape_reason

# Written for these tests: an English licence-style header and prose in other languages.
HEADER = (
    "This electronic edition is distributed free of charge under the terms of the Open Shelf License.\n"
    "You may copy it, give it away or re-use it under the terms of the license included with this file\n"
    "or online at www.openshelf-library.example.org. Copyright status was checked for the United States only.\n"
    "Release date: May 2, 2012 [eBook #1234]. Character set encoding: UTF-8. Produced by volunteers.\n"
    "*** START OF THE OPEN SHELF EBOOK ***\n\n"
) * 4
FRENCH = (
    "Le lendemain matin, la pluie tombait encore sur les toits du village. Marie ouvrit la fenêtre "
    "et regarda les enfants qui couraient vers l'école en riant, les mains sur la tête.\n\n"
)
GERMAN = (
    "Am nächsten Morgen regnete es immer noch auf die Dächer des Dorfes. Marie öffnete das Fenster "
    "und sah den Kindern nach, die lachend zur Schule liefen, die Hände über dem Kopf.\n\n"
)
JAPANESE = "翌朝も村の屋根には雨が降り続いていた。マリーは窓を開け、頭に手をのせて笑いながら学校へ走っていく子どもたちを眺めた。\n\n"
ENGLISH = (
    "The next morning the rain was still falling on the roofs of the village. Marie opened the window "
    "and watched the children running to school, laughing, with their hands over their heads.\n\n"
)
MINIFIED_JS = (
    '!function(e,t){"use strict";"object"==typeof module&&"object"==typeof module.exports?module.exports='
    'e.document?t(e,!0):function(e){if(!e.document)throw new Error("needs a document");return t(e)}:t(e)}'
    '("undefined"!=typeof window?window:this,function(C,e){var t=[],r=Object.getPrototypeOf,s=t.slice;'
    "for(var i=0;i<t.length;i++){t[i]=s.call(t,i)}return r})"
) * 20


@pytest.fixture(scope="module")
def lang_id() -> LangId:
    annotator = LangId()
    annotator.setup()
    return annotator


def _label(annotator: LangId, texts: list[str | None]) -> list[dict]:
    batch = pa.table({"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.large_string())})
    return annotator.label(batch).to_pylist()


def _shares(row: dict) -> dict[str, float]:
    return {entry["lang"]: entry["share"] for entry in row["langs"]}


def test_empty_text_is_und_with_no_languages(lang_id: LangId) -> None:
    (row,) = _label(lang_id, [""])
    assert (row["lang"], row["lang_score"], row["lang_mix"], row["langs"]) == ("und", 0.0, 0.0, [])


def test_one_word_is_not_near_certain(lang_id: LangId) -> None:
    for word in ("Bibliothek", "library", "bibliothèque"):
        (row,) = _label(lang_id, [word])
        # Calibrated: a single word may get a language, but never a score near 1.
        assert row["lang"] == "und" or row["lang_score"] < 0.95, row


def test_book_with_english_header_is_its_body_language(lang_id: LangId) -> None:
    (row,) = _label(lang_id, [HEADER + FRENCH * 12])
    assert row["lang"] == "fra_Latn"
    # The header is down-weighted: it is a small part of the document's vote.
    assert _shares(row).get("eng_Latn", 0.0) < 0.15


def test_fifty_megabytes_with_an_english_header_is_bounded(lang_id: LangId) -> None:
    body = FRENCH * (50_000_000 // len(FRENCH.encode()))
    column = pa.array([HEADER[:2048] + body], pa.large_string())
    del body
    tracemalloc.start()
    try:
        (row,) = lang_id.label(pa.table({"id": ["big"], "text": column})).to_pylist()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert row["lang"] == "fra_Latn"
    # Windows are cut from the Arrow buffer: the 50 MB never becomes a Python string.
    assert peak < 2_000_000


def test_half_japanese_half_english_reports_both(lang_id: LangId) -> None:
    (row,) = _label(lang_id, [JAPANESE * 12 + ENGLISH * 6])
    shares = _shares(row)
    assert set(shares) == {"jpn_Jpan", "eng_Latn"}
    assert 0.25 < shares["jpn_Jpan"] < 0.75 and row["lang_mix"] > 0.25


def test_windows_that_disagree_evenly_are_decided_deterministically(lang_id: LangId) -> None:
    doc = FRENCH * 10 + GERMAN * 10
    first = _label(lang_id, [doc, ENGLISH, doc])
    again = _label(lang_id, [ENGLISH, doc])
    assert first[0] == first[2] == again[1]
    shares = _shares(first[0])
    assert first[0]["lang"] in {"fra_Latn", "deu_Latn"} and set(shares) == {"fra_Latn", "deu_Latn"}
    assert 0.3 < first[0]["lang_mix"] < 0.7


@pytest.mark.parametrize(
    "text",
    [
        "!!! ??? ... --- ((( ))) *** ### ;;; ::: ,,, ''' \"\"\" ~~~",
        MINIFIED_JS,
        "xqzv wkfp bnrt lzmq ghjd vxcn plkj mnbv qwxz",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
    ],
)
def test_no_language_is_und(lang_id: LangId, text: str) -> None:
    (row,) = _label(lang_id, [text])
    assert row["lang"] == "und" and row["langs"] == []


def test_shape_rules() -> None:
    assert shape_reason(MINIFIED_JS) == "code"
    assert shape_reason("SGVsbG8gd29ybGQsIHRoaXMgaXMgYmFzZTY0IHRleHQ=") == "hex_or_base64"
    assert shape_reason("Lorem ipsum dolor sit amet.") == "lorem_ipsum"
    # Real prose with numbers, a date inside Chinese and Italian words is language.
    assert shape_reason("COVID19 cases rose in 2020 in many countries (see table 3).") is None
    assert shape_reason("2010年9月，该公司在北京成立了新的研究中心。") is None
    assert shape_reason("Nulla è più bello del mare in estate, dice sempre mia nonna.") is None


def test_boilerplate_weights() -> None:
    assert is_boilerplate(HEADER[:300]) and weight(HEADER[:300]) < 0.5
    assert weight(FRENCH) == 1.0
    assert weight("Home\nAbout us\nProducts\nContact\nLog in") < 0.5
    pieces = drop_repeated_lines(["Page header of the site\nFirst text", "Page header of the site\nSecond text"])
    assert pieces == ["Page header of the site\nFirst text", "Second text"]


def test_calibration_is_monotone_and_fits_each_band() -> None:
    # Short answers: right half the time whatever the raw score; long ones: right when raw is high.
    answers = [(0.5 + 0.5 * (i % 100) / 100, 20, i % 2 == 0) for i in range(1000)]
    answers += [(0.5 + 0.5 * (i % 100) / 100, 500, (i % 100) >= 50) for i in range(1000)]
    calibration = fit(answers)
    assert abs(calibration(0.99, 20) - 0.5) < 0.1
    assert calibration(0.99, 500) > 0.9 and calibration(0.6, 500) < 0.1
    scores = [calibration(x / 100, 500) for x in range(101)]
    assert scores == sorted(scores)
    assert Calibration.from_json(calibration.to_json()) == calibration


def test_prior_for_short_text_favours_web_languages() -> None:
    from corpusmill.annotators.langid.prior import OTHER_WEIGHT, QWEN3_WEIGHT, weights

    prior = weights(["eng_Latn", "lim_Latn", "fon_Latn"], frozenset({"eng_Latn", "lim_Latn"}))
    assert prior == {"eng_Latn": 1.0, "lim_Latn": QWEN3_WEIGHT, "fon_Latn": OTHER_WEIGHT}
