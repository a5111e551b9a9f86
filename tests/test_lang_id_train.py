"""Rebuilding the language-ID model: reproducible files, a card, a usable model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from corpusmill.annotators.lang_id import LangId

# shared/ sits beside the checkout (CI) or beside the folder of worktrees.
_REPO = Path(__file__).resolve().parents[1]
SIB200 = next(
    (d / "shared/data/sib200" for d in (_REPO.parent, _REPO.parent.parent) if (d / "shared/data/sib200").is_dir()),
    _REPO.parent / "shared/data/sib200",
)
CODES = {
    "eng_Latn": "English",
    "fra_Latn": "French",
    "rus_Cyrl": "Russian",
    "zho_Hans": "Chinese",
    # A close pair, so the rebuild also trains and writes a pair model.
    "hrv_Latn": "Croatian",
    "bos_Latn": "Bosnian",
}


@pytest.fixture(scope="module")
def small_sib200(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SIB200.is_dir():
        pytest.skip(f"SIB-200 not found at {SIB200} (shared/ beside the checkout)")
    root = tmp_path_factory.mktemp("shared")
    for code in CODES:
        shutil.copytree(SIB200 / code, root / "data" / "sib200" / code)
    rows = ["family\tname\tiso639_3\tscript\tcode\tnote"]
    rows += [f"x\t{name}\t{code[:3]}\t{code[4:]}\t{code}\t" for code, name in CODES.items()]
    (root / "qwen3_languages.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def test_rebuild_is_reproducible_and_usable(small_sib200: Path, tmp_path: Path) -> None:
    data, qwen3 = small_sib200 / "data" / "sib200", small_sib200 / "qwen3_languages.tsv"
    # Each build in a fresh process, as users run it (fastText trains once per process).
    for out in ("a", "b"):
        command = [
            sys.executable,
            "-m",
            "corpusmill.annotators.training.langid",
            "--sib200",
            str(data),
            "--out",
            str(tmp_path / out),
            "--qwen3",
            str(qwen3),
            "--bucket",
            "50000",
            "--dim",
            "16",
            "--epoch",
            "3",
        ]
        subprocess.run(command, check=True, cwd=_REPO, env={**os.environ, "PYTHONPATH": str(_REPO)})
    first = json.loads((tmp_path / "a" / "lid.json").read_text(encoding="utf-8"))
    for name in ("lid.ftz", "lid_pairs.npz", "lid_letters.npz", "lid.json", "lid.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first["labels"] == sorted(CODES)
    assert [pair["labels"] for pair in first["pairs"]] == [["hrv_Latn", "bos_Latn"]]
    card = (tmp_path / "a" / "lid.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in card and all(f"| `{code}` |" in card for code in CODES)

    annotator = LangId(model_path=str(tmp_path / "a" / "lid.ftz"))
    text = "La bibliothèque ouvre à neuf heures tous les matins et ferme le soir à sept heures."
    out = annotator.label(pa.table({"id": ["1"], "text": [text]}))
    assert out.column("lang").to_pylist() == ["fra_Latn"]
    assert out.column("lang_model_version").to_pylist() == [first["version"]]


def test_ud_reader_takes_text_lines_by_split_and_marks_tunable_licenses(tmp_path: Path) -> None:
    from corpusmill.annotators.training import ud

    conllu = (
        "# newdoc id = a\n# sent_id = 1\n# text = Erste Zeile.\n1\tErste\t_\n\n# sent_id = 2\n# text = Zweite Zeile.\n"
    )
    folder = tmp_path / "UD_German-GSD"
    folder.mkdir()
    (folder / "de_gsd-ud-test.conllu").write_text(conllu, encoding="utf-8")
    (folder / "de_gsd-ud-train.conllu").write_text(conllu.replace("Zeile", "Reihe"), encoding="utf-8")
    test = ud.read_rows(tmp_path, "test")
    assert [(row["lang"], row["doc"], row["text"]) for row in test] == [
        ("deu_Latn", "a", "Erste Zeile."),
        ("deu_Latn", "a", "Zweite Zeile."),
    ]
    # Train and dev share out the train file's groups between them, never test text.
    train, dev = ud.read_rows(tmp_path, "train"), ud.read_rows(tmp_path, "dev")
    assert sorted(row["text"] for row in train + dev) == ["Erste Reihe.", "Zweite Reihe."]
    assert {row["doc"] for row in train}.isdisjoint({row["doc"] for row in dev})
    assert ud.tunable("CC BY-SA") and not ud.tunable("CC BY-NC-SA") and not ud.tunable("GPL-3.0")
    assert not ud.tunable("C-UDA 1.0")
    with pytest.raises(ValueError, match="unknown split"):
        ud.read_rows(tmp_path, "devtest")
    # A treebank without a test file: its dev file is test text, never training text.
    latvian = tmp_path / "UD_Latvian-LVTB"
    latvian.mkdir()
    (latvian / "lv_lvtb-ud-dev.conllu").write_text("# text = Pirmā rinda.\n", encoding="utf-8")
    assert [row["text"] for row in ud.read_rows(tmp_path, "test") if row["lang"] == "lvs_Latn"] == ["Pirmā rinda."]
    assert all(row["lang"] != "lvs_Latn" for row in ud.read_rows(tmp_path, "train") + ud.read_rows(tmp_path, "dev"))


def test_ud_groups_split_long_documents_and_test_rows_take_turns() -> None:
    from corpusmill.annotators.training import ud

    sides = {ud.pooled_split("UD_X", "train:", index) for index in range(0, 50 * 40, 50)}
    assert sides == {"train", "dev"}  # one long document still feeds both
    # Sentences of one group stay together.
    assert len({ud.pooled_split("UD_X", "train:", index) for index in range(50, 100)}) == 1
    rows = [{"lang": "eng_Latn", "source": "A", "doc": "d", "text": f"a{i}"} for i in range(7)]
    rows += [{"lang": "eng_Latn", "source": "B", "doc": "d", "text": f"b{i}"} for i in range(3)]
    turns = [row["text"] for row in ud.in_turns(rows)]
    assert turns == ["a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "a5", "a6"]


def test_extra_training_rows_cap_filter_and_hold_out(small_sib200: Path, tmp_path: Path) -> None:
    from corpusmill.annotators.sib200 import read_language
    from corpusmill.annotators.training.langid import extra_training_rows

    data = small_sib200 / "data" / "sib200"
    dev_sentence = read_language(data, "fra_Latn", "dev")[0]
    train_rows = [
        {"lang": "eng_Latn", "source": "UD_English-EWT", "doc": "d", "text": f"Sentence number {word}."}
        for word in ("one", "two", "three", "four")
    ]
    train_rows += [
        # A non-commercial treebank, a label SIB-200 lacks here, SIB-200 dev text, held-out text.
        {"lang": "eng_Latn", "source": "UD_English-LinES", "doc": "d", "text": "Not for training."},
        {"lang": "deu_Latn", "source": "UD_German-GSD", "doc": "d", "text": "Kein Etikett hier."},
        {"lang": "fra_Latn", "source": "UD_French-GSD", "doc": "d", "text": dev_sentence},
        {"lang": "fra_Latn", "source": "UD_French-GSD", "doc": "d", "text": "Une phrase de test."},
    ]
    held = [{"lang": "fra_Latn", "source": "UD_French-GSD", "doc": "t", "text": "une phrase de TEST"}]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train_rows), encoding="utf-8")
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in held), encoding="utf-8")
    rows = extra_training_rows([tmp_path / "train.jsonl"], data, sorted(CODES), [tmp_path / "test.jsonl"], cap=3)
    assert [code for code, _ in rows] == ["eng_Latn"] * 3
    assert {text for _, text in rows} < {r["text"] for r in train_rows[:4]}
