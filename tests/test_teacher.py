"""Teacher labeling and the teacher -> student loop against the OpenAI-protocol test server."""

from __future__ import annotations

import gzip
import json
import math
import socket
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from corpusmill import storage
from corpusmill.annotators.training.students import sample_documents, spearman
from corpusmill.commands import main as cli_main
from corpusmill.corpus import open_corpus
from corpusmill.llm.testing import LLMTestServer
from corpusmill.pipelines.annotate import build_annotators, run_annotate
from corpusmill.sample_data import sample_jsonl
from corpusmill.schema import DOCUMENT_SCHEMA, stable_id


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    with gzip.open(sample_jsonl(), "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(160), fh)]
    rows = [
        {"id": stable_id("t", str(i)), "text": t, "source": "sib200", "uri": f"s://{i}", "meta": "{}"}
        for i, t in enumerate(texts)
    ]
    for f in range(2):
        storage.write_parquet(
            pa.Table.from_pylist(rows[f::2], schema=DOCUMENT_SCHEMA), str(folder / f"part-{f:05d}.parquet")
        )
    return folder


def test_spearman_matches_hand_computed_values() -> None:
    assert spearman(np.array([1, 2, 3, 4]), np.array([10, 20, 30, 40])) == pytest.approx(1.0)
    assert spearman(np.array([1, 2, 3, 4]), np.array([4, 3, 2, 1])) == pytest.approx(-1.0)
    # ties: ranks of x = [0.5, 0.5, 2, 3]; Pearson of the ranks with [0, 1, 2, 3]
    assert spearman(np.array([1, 1, 2, 3]), np.array([1, 2, 3, 4])) == pytest.approx(0.9486832980505138)
    assert math.isnan(spearman(np.array([2, 2, 2]), np.array([1, 2, 3])))


def test_sample_is_deterministic_and_bounded(docs: Path) -> None:
    a = sample_documents(str(docs), 30, seed=1)
    assert a == sample_documents(str(docs), 30, seed=1) and len(a) == 30
    assert a != sample_documents(str(docs), 30, seed=2)


def test_teacher_labels_in_the_annotate_job(docs: Path, tmp_path: Path) -> None:
    with LLMTestServer() as server:
        annotators = build_annotators(["n_chars", "teacher"], teacher_url=server.url)
        summary = run_annotate(str(docs), str(tmp_path / "ann"), annotators=annotators, workers=1, progress=False)
    assert summary["docs"] == 160 and summary["dead_letters_total"] == 0
    rows = (
        open_corpus(str(docs), str(tmp_path / "ann"))
        .sql("SELECT count(*), min(teacher_edu), max(teacher_edu), count(DISTINCT teacher_domain) FROM corpus")
        .fetchall()[0]
    )
    assert rows[0] == 160 and 0 <= rows[1] <= rows[2] <= 5 and rows[3] > 1
    ledger = storage.read_json(str(tmp_path / "ann" / "_llm_ledger.json"))["teacher"]
    assert ledger["requests"] == ledger["responses"] == 160 and ledger["prompt_tokens"] > 0


@pytest.mark.parametrize("fault", ["500", "off_schema"])
def test_failing_teacher_is_dead_lettered_and_the_job_goes_on(docs: Path, tmp_path: Path, fault: str) -> None:
    # A third of the requests fail every attempt; no retries keep the test fast.
    with LLMTestServer(rates={fault: 0.33}, fault_repeats=1000) as server:
        annotators = build_annotators(["n_chars", "teacher"], teacher_url=server.url, teacher_retries=0)
        summary = run_annotate(str(docs), str(tmp_path / "ann"), annotators=annotators, workers=1, progress=False)
    assert summary["docs"] == 160
    dead = summary["dead_letters"]
    assert len(dead) == 1 and next(iter(dead)).startswith("annotate/teacher:teacher_")
    failed = summary["dead_letters_total"]
    assert 20 < failed < 100
    nulls = (
        open_corpus(str(docs), str(tmp_path / "ann"))
        .sql("SELECT count(*) FILTER (teacher_edu IS NULL), count(*) FILTER (n_chars IS NULL) FROM corpus")
        .fetchall()[0]
    )
    assert nulls == (failed, 0)
    ledger = storage.read_json(str(tmp_path / "ann" / "_llm_ledger.json"))["teacher"]
    assert ledger["requests"] == 160 and ledger["failures"] == failed


def test_annotate_serves_its_own_teacher_for_the_run(docs: Path, tmp_path: Path) -> None:
    # `--serve` starts the server command (here the OpenAI-protocol test server in its own
    # process, as `vllm serve` would be), labels through it, and stops it when the job ends.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve_cmd = f"{sys.executable} -m corpusmill.llm.testing --model {{model}} --host {{host}} --port {{port}}"
    out = tmp_path / "ann"
    args = ["annotate", str(docs), "-o", str(out), "--annotators", "n_chars,teacher", "--workers", "1", "--quiet"]
    assert cli_main([*args, "--serve", "teacher-m", "--serve-cmd", serve_cmd, "--serve-port", str(port)]) == 0
    summary = storage.read_json(str(out / "_summary.json"))
    assert summary["docs"] == 160 and summary["dead_letters_total"] == 0
    assert storage.read_json(str(out / "_llm_ledger.json"))["teacher"]["responses"] == 160
    models = open_corpus(str(docs), str(out)).sql("SELECT DISTINCT teacher_model FROM corpus").fetchall()
    assert models == [("llm:teacher-m",)]
    with pytest.raises(ConnectionRefusedError):  # the server is gone with the job
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_unreachable_teacher(docs: Path, tmp_path: Path) -> None:
    annotators = build_annotators(["n_chars", "teacher"], teacher_url="http://127.0.0.1:9/v1", teacher_retries=0)
    summary = run_annotate(str(docs), str(tmp_path / "ann"), annotators=annotators, workers=1, progress=False)
    assert summary["docs"] == 160 and summary["dead_letters_total"] == 160


def test_teacher_to_student_end_to_end(docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    models = tmp_path / "models"
    with LLMTestServer() as server:
        for task in ("edu", "domain", "field", "safety"):
            args = [
                "annotators",
                "train",
                task,
                "--teacher-url",
                server.url,
                "--sample",
                "150",
                str(docs),
                "-o",
                str(models),
            ]
            assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "train edu: labeled=150" in out and "spearman=" in out and "train domain" in out
    metrics = storage.read_json(str(models / "edu_student.json"))
    assert metrics["train"] + metrics["held_out"] == 150 and metrics["teacher_model"] == "test-model"
    assert math.isnan(metrics["spearman"]) or -1 <= metrics["spearman"] <= 1
    card = (models / "edu_student.md").read_text(encoding="utf-8")
    assert "Spearman vs teacher on held-out" in card and "test-model" in card
    summary = run_annotate(
        str(docs),
        str(tmp_path / "ann"),
        annotators=build_annotators(["edu", "domain", "safety"], models_dir=str(models)),
        workers=1,
        progress=False,
    )
    assert summary["docs"] == 160
    row = (
        open_corpus(str(docs), str(tmp_path / "ann"))
        .sql(
            "SELECT count(*) FILTER (edu_model = 'edu_student'), count(field), any_value(field_model), "
            "any_value(safety_model), any_value(domain_model) FROM corpus"
        )
        .fetchall()[0]
    )
    # Short sample documents fall under the edu floor; every other one is scored by the student.
    assert row[0] > 0 and row[1] == 160 and row[2] == "field_student"
    assert row[3] == "safety_student+lexicon+urls" and row[4] == "domain_student"
