"""LangId with the shipped model: languages, scripts, mixed and bad input, bounded cost."""

from __future__ import annotations

import pickle
import random
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pytest

from corpusmill.annotators.lang_id import DEFAULT_MODEL, LangId
from corpusmill.annotators.langid.sample import MAX_WINDOWS, WINDOW_BYTES, spans
from corpusmill.annotators.langid.scripts import detect_script
from corpusmill.errors import ModelNotFoundError

# shared/ sits beside the checkout (CI) or beside the folder of worktrees.
_REPO = Path(__file__).resolve().parents[1]
SIB200 = next(
    (d / "shared/data/sib200" for d in (_REPO.parent, _REPO.parent.parent) if (d / "shared/data/sib200").is_dir()),
    _REPO.parent / "shared/data/sib200",
)

# Written for these tests (not from SIB-200), two or three sentences each.
TEXTS = {
    "eng_Latn": "The library opens at nine every morning. Children come after school to read and do their homework.",
    "fra_Latn": "La bibliothèque ouvre à neuf heures tous les matins. Les enfants viennent après l'école pour lire et faire leurs devoirs.",
    "deu_Latn": "Die Bibliothek öffnet jeden Morgen um neun Uhr. Nach der Schule kommen die Kinder, um zu lesen und ihre Hausaufgaben zu machen.",
    "rus_Cyrl": "Библиотека открывается каждое утро в девять часов. После школы дети приходят туда читать и делать домашние задания.",
    "zho_Hans": "图书馆每天早上九点开门。孩子们放学后来这里看书和做作业。",
    "zho_Hant": "圖書館每天早上九點開門。孩子們放學後來這裡看書和做作業，家長們則在附近的公園散步。",
    "yue_Hant": "圖書館每朝九點開門。啲細路放學之後就嚟呢度睇書同做功課，佢哋好鍾意喺度傾偈。",
    "jpn_Jpan": "図書館は毎朝九時に開きます。子どもたちは放課後にここへ来て、本を読んだり宿題をしたりします。",
    "kor_Hang": "도서관은 매일 아침 아홉 시에 문을 엽니다. 아이들은 방과 후에 와서 책을 읽고 숙제를 합니다.",
    "arb_Arab": "تفتح المكتبة أبوابها في الساعة التاسعة من صباح كل يوم. ويأتي الأطفال بعد المدرسة للقراءة وأداء واجباتهم المدرسية.",
    "urd_Arab": "لائبریری ہر صبح نو بجے کھلتی ہے۔ بچے اسکول کے بعد یہاں پڑھنے اور اپنا ہوم ورک کرنے آتے ہیں۔",
    "hin_Deva": "पुस्तकालय हर सुबह नौ बजे खुलता है। बच्चे स्कूल के बाद यहाँ पढ़ने और अपना गृहकार्य करने आते हैं।",
    "mar_Deva": "ग्रंथालय दररोज सकाळी नऊ वाजता उघडते. मुले शाळेनंतर येथे वाचन करण्यासाठी आणि गृहपाठ करण्यासाठी येतात.",
    "ell_Grek": "Η βιβλιοθήκη ανοίγει κάθε πρωί στις εννέα. Τα παιδιά έρχονται μετά το σχολείο για να διαβάσουν.",
    "tha_Thai": "ห้องสมุดเปิดทุกเช้าเวลาเก้าโมง เด็ก ๆ มาที่นี่หลังเลิกเรียนเพื่ออ่านหนังสือและทำการบ้าน",
}


@pytest.fixture(scope="module")
def lang_id() -> LangId:
    annotator = LangId()
    annotator.setup()
    return annotator


def _label(annotator: LangId, texts: list[str | None]) -> list[dict]:
    batch = pa.table({"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.large_string())})
    return annotator.label(batch).to_pylist()


def test_languages_in_several_scripts(lang_id: LangId) -> None:
    rows = _label(lang_id, list(TEXTS.values()))
    got = {code: row["lang"] for code, row in zip(TEXTS, rows)}
    assert got == {code: code for code in TEXTS}
    for code, row in zip(TEXTS, rows):
        assert row["script"] == code.split("_")[1]
        assert 0.0 < row["lang_score"] <= 1.0 and row["lang_mix"] == pytest.approx(0.0)
        assert row["langs"] == [{"lang": code, "share": pytest.approx(1.0)}]


def test_columns_rows_order_and_provenance(lang_id: LangId) -> None:
    texts = [TEXTS["deu_Latn"], "", TEXTS["kor_Hang"]]
    batch = pa.table({"id": ["a", "b", "c"], "text": texts})  # plain `string`, not large
    out = lang_id.label(batch)
    assert out.schema == LangId.columns and out.num_rows == 3
    assert out.column("lang").to_pylist() == ["deu_Latn", "und", "kor_Hang"]
    assert set(out.column("lang_model").to_pylist()) == {lang_id.model_name}
    assert set(out.column("lang_model_version").to_pylist()) == {lang_id.version}


def test_mixed_document_reports_majority_and_share(lang_id: LangId) -> None:
    english = TEXTS["eng_Latn"] + " It also lends books, newspapers and films to everyone who lives in the town."
    german = TEXTS["deu_Latn"] + " Sie leiht auch Bücher, Zeitungen und Filme an alle aus, die in der Stadt wohnen."
    doc = "\n\n".join([english, english, english, german])
    half = "\n\n".join([TEXTS["rus_Cyrl"] * 2, TEXTS["fra_Latn"] * 2, TEXTS["rus_Cyrl"] * 2, TEXTS["fra_Latn"] * 2])
    mostly, mixed = _label(lang_id, [doc, half])
    assert mostly["lang"] == "eng_Latn"
    assert 0.1 < mostly["lang_mix"] < 0.4
    assert mixed["lang"] in {"rus_Cyrl", "fra_Latn"}
    assert mixed["lang_mix"] > 0.4
    assert {entry["lang"] for entry in mixed["langs"]} == {"rus_Cyrl", "fra_Latn"}


@pytest.mark.parametrize(
    "text, script",
    [
        ("", "Zyyy"),
        (None, "Zyyy"),
        ("   \n\t ", "Zyyy"),
        ("12345 678.90 -- 2024-01-31 !!! ??? (42) [7] 3,14 %", "Zyyy"),
        ("Tab. 3: 12 45 67 89 10 11 12 13 14 15 16 17 18 19 20 21 22 23", "Latn"),
        ("ok", "Latn"),
    ],
)
def test_no_language_without_letters(lang_id: LangId, text: str | None, script: str) -> None:
    (row,) = _label(lang_id, [text])
    assert row["lang"] == "und"
    assert row["script"] == script


def test_binary_looking_text_is_und(lang_id: LangId) -> None:
    noise = bytes(random.Random(7).randrange(256) for _ in range(4000)).decode("utf-8", errors="replace")
    (row,) = _label(lang_id, [noise])
    assert row == {**row, "lang": "und", "script": "Zzzz"}


def test_script_detection() -> None:
    assert detect_script(TEXTS["jpn_Jpan"]).script == "Jpan"
    assert detect_script(TEXTS["zho_Hans"]).script == "Hani"
    assert detect_script(TEXTS["ell_Grek"]).script == "Grek"
    assert detect_script(TEXTS["hin_Deva"] + " 2024 (ok)").script == "Deva"
    assert detect_script("1234 !?").letters == 0


def test_fifty_megabyte_document_is_sampled(lang_id: LangId) -> None:
    paragraph = TEXTS["fra_Latn"] + "\n"
    big = paragraph * (50_000_000 // len(paragraph.encode()))
    column = pa.array([big, TEXTS["eng_Latn"]], pa.large_string())
    del big
    span = spans(column)[0]
    assert span.windows() == MAX_WINDOWS
    assert all(len(span.window(k, MAX_WINDOWS).encode()) <= WINDOW_BYTES for k in range(MAX_WINDOWS))
    tracemalloc.start()
    try:
        out = lang_id.label(pa.table({"id": ["big", "small"], "text": column}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.column("lang").to_pylist() == ["fra_Latn", "eng_Latn"]
    # The 50 MB text never becomes one Python string: Python-side memory stays small.
    assert peak < 2_000_000


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="corpusmill.annotators.training.langid"):
        LangId(model_path=str(tmp_path / "lid.ftz"))
    # A model whose metadata lists close-pair models needs their file beside it.
    for name in ("lid.ftz", "lid.json"):
        (tmp_path / name).write_bytes((DEFAULT_MODEL.parent / name).read_bytes())
    with pytest.raises(ModelNotFoundError, match="lid_pairs.npz"):
        LangId(model_path=str(tmp_path / "lid.ftz"))


def test_picklable_before_and_after_setup(lang_id: LangId) -> None:
    copy = pickle.loads(pickle.dumps(lang_id))
    assert copy.version == lang_id.version and copy.model_path == DEFAULT_MODEL
    assert _label(copy, [TEXTS["ell_Grek"]])[0]["lang"] == "ell_Grek"


def test_sib200_dev_paragraphs() -> None:
    """A regression guard on real dev data (the model card has the full table)."""
    if not SIB200.is_dir():
        pytest.skip(f"SIB-200 not found at {SIB200} (shared/ beside the checkout)")
    from corpusmill.annotators.langid.evaluate import accuracy, dev_predictions
    from corpusmill.annotators.langid.model import LidModel

    codes = ["eng_Latn", "zho_Hans", "jpn_Jpan", "hin_Deva", "mai_Deva", "arz_Arab", "tpi_Latn", "kea_Latn"]
    lid = LidModel.load(DEFAULT_MODEL)
    scores = accuracy(dev_predictions(lid.label_text, SIB200, codes, paragraph=True))
    assert min(scores.values()) >= 0.9, scores


def test_sliced_and_chunked_input(lang_id: LangId) -> None:
    codes = ["fra_Latn", "rus_Cyrl", "ell_Grek", "hin_Deva"]
    chunked = pa.chunked_array([[TEXTS[codes[0]], TEXTS[codes[1]]], [TEXTS[codes[2]], TEXTS[codes[3]]]])
    table = pa.table({"id": codes, "text": chunked})
    assert lang_id.label(table).column("lang").to_pylist() == codes
    # A slice starts inside the Arrow buffers (offset != 0).
    assert lang_id.label(table.slice(1, 2)).column("lang").to_pylist() == codes[1:3]
    sliced = pa.array([TEXTS[c] for c in codes]).slice(1, 2)
    assert lang_id.label(pa.table({"id": ["a", "b"], "text": sliced})).column("lang").to_pylist() == codes[1:3]


def test_weak_answer_for_a_standard_like_arabic_variety_falls_back_to_standard_arabic() -> None:
    from corpusmill.annotators.langid.model import ChunkLabel, LidModel

    lid = LidModel.load(DEFAULT_MODEL)
    lid.thresholds = {"acq_Arab": 0.5, "lmo_Latn": 0.5}
    assert lid.aggregate([ChunkLabel("acq_Arab", 0.3, "Arab", 120)]).lang == "arb_Arab"
    assert lid.aggregate([ChunkLabel("acq_Arab", 0.7, "Arab", 120)]).lang == "acq_Arab"
    assert lid.aggregate([ChunkLabel("lmo_Latn", 0.3, "Latn", 120)]).lang == "und"


def test_the_alphabet_separates_macedonian_from_serbian(lang_id: LangId) -> None:
    from corpusmill.annotators.langid.rules import south_slavic_alphabet

    # Written for this test: Macedonian with ѓ, Serbian with ћ.
    mkd = "Библиотеката се отвора секое утро во девет часот. Децата доаѓаат по училиште за да читаат."
    srp = "Библиотека се отвара свако јутро у девет сати. Деца долазе после школе да читају и раде домаћи задатак."
    assert [row["lang"] for row in _label(lang_id, [mkd, srp])] == ["mkd_Cyrl", "srp_Cyrl"]
    assert south_slavic_alphabet("Куќата е голема.", "srp_Cyrl") == "mkd_Cyrl"
    assert south_slavic_alphabet("Кућа је велика.", "mkd_Cyrl") == "srp_Cyrl"
    assert (
        south_slavic_alphabet("Ќ и ћ заедно.", "srp_Cyrl") == "srp_Cyrl"
    )  # both alphabets' letters: the model decides
    assert south_slavic_alphabet("Кућа је велика.", "bul_Cyrl") == "bul_Cyrl"


def test_pointed_yiddish_reads_as_the_plain_letters(lang_id: LangId) -> None:
    from corpusmill.annotators.langid.text import normalize

    # Written for this test in YIVO spelling (points, ligatures); SIB-200's Yiddish has neither.
    pointed = "דער ייִדישער שרײַבער האָט געשריבן װעגן זײַן שטעטל, און די קינדער האָבן געלייענט זײַנע ביכער אין דער שול."
    plain = "דער יידישער שרייבער האט געשריבן וועגן זיין שטעטל, און די קינדער האבן געלייענט זיינע ביכער אין דער שול."
    assert normalize(pointed) == normalize(plain)
    assert normalize("\ufb2e") == "\u05d0"  # a presentation form: alef with patah
    rows = _label(lang_id, [pointed, plain])
    assert rows[0]["lang"] == rows[1]["lang"] == "ydd_Hebr"
    assert rows[0]["lang_score"] == rows[1]["lang_score"]
