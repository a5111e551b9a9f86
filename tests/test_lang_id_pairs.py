"""Close-pair models: features, markers, training, saving, and their place in LID."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from corpusmill.annotators.lang_id import LangId
from corpusmill.annotators.langid.close_pairs import (
    ClosePairs,
    Markers,
    PairModel,
    featurize,
    read_markers,
    save,
    sentences,
)
from corpusmill.annotators.training.langid_pairs import balanced_threshold, fit, train_pair
from tests.test_lang_id_train import SIB200

ZWNJ = "\u200c"


def test_persian_zwnj_is_a_feature() -> None:
    pair = ("prs_Arab", "pes_Arab")
    markers = {code: Markers() for code in pair}
    joined = featurize(f"می{ZWNJ}خواهم", pair, markers)
    plain = featurize("میخواهم", pair, markers)
    assert joined.keys() != plain.keys()


def test_marker_stems_match_inflected_words() -> None:
    croatian = read_markers("hrv_Latn")
    bosnian = read_markers("bos_Latn")
    assert croatian.count(["znanstvenicima", "tijekom", "kuća"]) == 2
    assert bosnian.count(["naučnicima", "tokom", "hemijskim", "kuća"]) == 3
    assert read_markers("eng_Latn") == Markers()


def test_sentences_split_on_latin_and_cjk_ends() -> None:
    assert sentences("Prva rečenica. Druga? Treća!") == ["Prva rečenica.", "Druga?", "Treća!"]
    assert sentences("第一句。第二句！") == ["第一句。", "第二句！"]


def test_fit_separates_and_threshold_balances() -> None:
    from scipy.sparse import csr_matrix

    x = csr_matrix(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]))
    weights, bias = fit(x, np.array([0.0, 0.0, 1.0, 1.0]))
    scores = x @ weights + bias
    assert (scores[:2] < 0).all() and (scores[2:] > 0).all()
    threshold, first, second = balanced_threshold(np.array([-2.0, -1.0, 0.5]), np.array([1.0, 2.0, 0.7]))
    assert (first, second, threshold) == (1.0, 1.0, 0.7)


def test_save_load_round_trip_is_byte_stable(tmp_path: Path) -> None:
    model = PairModel(
        ("hrv_Latn", "bos_Latn"), np.array([3, 7], np.int32), np.array([0.5, -0.25], np.float32), 0.1, 0.0
    )
    save([model], tmp_path / "a_pairs.npz")
    save([model], tmp_path / "b_pairs.npz")
    assert (tmp_path / "a_pairs.npz").read_bytes() == (tmp_path / "b_pairs.npz").read_bytes()
    meta = {"pairs": [{"labels": ["hrv_Latn", "bos_Latn"], "bias": 0.1, "threshold": 0.0}]}
    loaded = ClosePairs.load(tmp_path / "a.ftz", meta).by_label["bos_Latn"]
    assert loaded.buckets.tolist() == [3, 7] and loaded.weights.tolist() == [0.5, -0.25]
    assert ClosePairs.load(tmp_path / "a.ftz", {}).by_label == {}


@pytest.mark.skipif(not SIB200.is_dir(), reason="SIB-200 not found (shared/ beside the checkout)")
def test_trained_pair_beats_chance_on_held_out_windows() -> None:
    model, report = train_pair(SIB200, ("prs_Arab", "pes_Arab"))
    cv = report["cv_window_accuracy"]
    assert cv["prs_Arab"] > 0.9 and cv["pes_Arab"] > 0.9
    assert model.decide(f"این کتاب را می{ZWNJ}خوانم و به کتابخانه می{ZWNJ}روم.") == "pes_Arab"


# Written for this test (not SIB-200): the same news item in each standard.
CROATIAN = (
    "Tijekom prošlog tjedna znanstvenici sa sveučilišta objavili su da je tisuću obitelji "
    "dobilo pomoć. Vjerojatno će se sustav promijeniti do prosinca, rekao je ravnatelj."
)
BOSNIAN = (
    "Tokom prošle sedmice naučnici sa univerziteta objavili su da je hiljadu porodica "
    "dobilo pomoć. Vjerovatno će se sistem promijeniti do decembra, rekao je direktor."
)


def test_shipped_model_separates_croatian_and_bosnian() -> None:
    lang_id = LangId()
    out = lang_id.label(pa.table({"id": ["hr", "bs"], "text": [CROATIAN, BOSNIAN]}))
    assert out.column("lang").to_pylist() == ["hrv_Latn", "bos_Latn"]


def test_shipped_model_reads_the_persian_zwnj() -> None:
    text = (
        f"من هر روز به کتابخانه می{ZWNJ}روم و کتاب{ZWNJ}های تازه می{ZWNJ}خوانم. "
        f"دانشگاه{ZWNJ}ها در تهران برنامه{ZWNJ}های زیادی برای دانشجویان دارند."
    )
    out = LangId().label(pa.table({"id": ["with", "without"], "text": [text, text.replace(ZWNJ, " ")]}))
    # Iranian orthography joins with the ZWNJ; the same words spaced apart read as Dari.
    assert out.column("lang").to_pylist() == ["pes_Arab", "prs_Arab"]
