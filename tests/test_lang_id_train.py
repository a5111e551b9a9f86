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
    # No dev file: dev text comes from train, never from test.
    assert [row["text"] for row in ud.read_rows(tmp_path, "dev")] == ["Erste Reihe.", "Zweite Reihe."]
    assert ud.tunable("CC BY-SA") and not ud.tunable("CC BY-NC-SA") and not ud.tunable("GPL-3.0")
