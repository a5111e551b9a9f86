"""The annotate job end to end: one row per document, dead letters, re-runs, runners, CLI."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pyarrow as pa
import pytest

from corpusmill import storage
from corpusmill.annotators import domain as domain_module
from corpusmill.annotators.base import Annotator, constant
from corpusmill.annotators.registry import DEFAULT_ANNOTATORS
from corpusmill.commands import main as cli_main
from corpusmill.corpus import open_corpus
from corpusmill.errors import ModelNotFoundError, OutputExistsError, RecordError
from corpusmill.pipelines.annotate import build_annotators, run_annotate
from corpusmill.schema import DOCUMENT_SCHEMA
from tests.beam_runners import RUNNERS, runner_kwargs

BUILTIN = ["n_chars", "quality", "edu", "domain", "safety"]


class Fussy(Annotator):
    """Fails on documents containing BOOM (raising, as a buggy model would)."""

    name = "fussy"
    version = "1"
    columns = pa.schema([pa.field("fussy", pa.string()), pa.field("fussy_model", pa.string())])

    def label(self, batch: pa.Table) -> pa.Table:
        if any("BOOM" in t for t in batch.column("text").to_pylist()):
            raise RecordError("boom_found", "this labeler cannot read BOOM")
        return pa.table({"fussy": constant("ok", batch.num_rows), "fussy_model": constant("fussy", batch.num_rows)})


def _docs(folder: Path, texts_per_file: list[list[str]]) -> Path:
    for f, texts in enumerate(texts_per_file):
        rows = [
            {"id": f"f{f}-{i}", "text": t, "source": "t", "uri": f"mem://{f}/{i}", "meta": "{}"}
            for i, t in enumerate(texts)
        ]
        storage.write_parquet(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), str(folder / f"part-{f:05d}.parquet"))
    return folder


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    prose = "The museum opens a new exhibition about the history of flight. Visitors can see early planes."
    return _docs(
        tmp_path / "docs",
        [
            [prose, "", "BOOM goes the dynamite", "1234 5678 !!!", "你好，世界。", "\x00\x01\ufffd"],
            [f"{prose} Part {i}." for i in range(25)] + ["BOOM again"],
        ],
    )


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


@pytest.mark.parametrize("runner", RUNNERS)
def test_one_row_per_document_and_dead_letters(docs: Path, tmp_path: Path, runner: str) -> None:
    ann = tmp_path / "ann"
    annotators = [*build_annotators(BUILTIN), Fussy()]
    summary = run_annotate(str(docs), str(ann), annotators=annotators, progress=False, **runner_kwargs(runner))
    assert summary["records_in"] == summary["docs"] == 32
    assert summary["dead_letters"] == {"annotate/fussy:boom_found": 2}
    assert summary["labels_total"] == 32 * 6
    corpus = open_corpus(str(docs), str(ann))
    rows = corpus.sql("SELECT id, fussy, domain, n_chars, edu_model, safety FROM corpus ORDER BY id").fetchall()
    assert len(rows) == 32 and len({r[0] for r in rows}) == 32
    boom = [r for r in rows if r[0] in ("f0-2", "f1-25")]
    assert all(r[1] is None and r[2] is not None for r in boom)  # other labels survive
    dead = corpus.sql(f"SELECT id, stage FROM read_parquet('{ann}/_dead_letters/*.parquet') ORDER BY id").fetchall()
    assert dead == [("f0-2", "annotate/fussy"), ("f1-25", "annotate/fussy")]
    assert not (ann / "_llm_ledger.json").exists()  # no LLM-backed labeler ran


def test_deterministic_and_rerun_skips(docs: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    first = run_annotate(str(docs), str(a), annotators=build_annotators(BUILTIN), workers=1, progress=False)
    run_annotate(str(docs), str(b), annotators=build_annotators(BUILTIN), workers=2, progress=False)
    assert first["files_labeled"] == 2 and _digest(a) == _digest(b)
    (a / "part-00001.parquet").unlink()  # as if the job died before this file (and its summary)
    (a / "_summary.json").unlink()
    again = run_annotate(str(docs), str(a), annotators=build_annotators(BUILTIN), workers=1, progress=False)
    assert again["files_labeled"] == 1 and _digest(a) == _digest(b)
    assert run_annotate(str(docs), str(a), annotators=build_annotators(BUILTIN), workers=1, progress=False)["skipped"]
    with pytest.raises(OutputExistsError):
        run_annotate(str(docs), str(a), annotators=build_annotators(["n_chars"]), workers=1, progress=False)


def test_missing_model_stops_before_the_job(docs: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(domain_module, "PACKAGE_MODELS", str(tmp_path / "nowhere"))
    with pytest.raises(ModelNotFoundError, match="domain.ftz"):
        build_annotators(["domain"])
    code = cli_main(["annotate", str(docs), "-o", str(tmp_path / "ann"), "--annotators", "domain", "--workers", "1"])
    assert code == 2 and "domain.ftz" in capsys.readouterr().err
    assert not (tmp_path / "ann").exists()
    with pytest.raises(ModelNotFoundError, match="models folder"):
        build_annotators(["edu"], models_dir=str(tmp_path / "no-such-dir"))


def test_cli_annotate_with_every_default_labeler(docs: Path, tmp_path: Path, capsys) -> None:
    if importlib.util.find_spec("corpusmill.annotators.lang_id") is None:
        pytest.skip("lang_id lands from its own branch")
    ann = tmp_path / "ann"
    assert cli_main(["annotate", str(docs), "-o", str(ann), "--workers", "1", "--quiet"]) == 0
    assert "annotate: in=32 out=32 dead_letters=0" in capsys.readouterr().out
    summary = storage.read_json(str(ann / "_summary.json"))
    assert [a for a, _ in summary["annotators"]] == list(DEFAULT_ANNOTATORS)
    row = (
        open_corpus(str(docs), str(ann))
        .sql("SELECT lang, script, domain, safety, edu_score, q_n_words FROM corpus WHERE id = 'f1-0'")
        .fetchall()[0]
    )
    assert row[0] == "eng_Latn" and row[1] == "Latn" and None not in row


def test_other_model_versions_are_refused_in_the_same_folder(docs: Path, tmp_path: Path) -> None:
    from corpusmill.annotators.edu import EduValue

    ann = str(tmp_path / "ann")
    run_annotate(str(docs), ann, annotators=[EduValue()], workers=1, progress=False)
    student = EduValue()
    student.model_name, student.model_version = "edu_student", "0123456789ab"  # as if a student were found
    with pytest.raises(OutputExistsError):
        run_annotate(str(docs), ann, annotators=[student], workers=1, progress=False)
