"""The extract-pdf Beam job on real small PDFs: accounting, resumption, determinism, runners."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpusmill.commands import main
from corpusmill.corpus import open_corpus
from corpusmill.errors import InputNotFoundError
from corpusmill.extractors.pdf import samples
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.pipelines.extract_pdf import run_extract_pdf
from tests.beam_runners import RUNNERS, runner_kwargs

CONFIG = PdfConfig(ocr="off")


@pytest.fixture(scope="module")
def pdf_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pdfs")
    for name in ("two_column.pdf", "table.pdf", "chinese.pdf"):
        (folder / name).write_bytes(samples.SAMPLES[name]()[0])
    (folder / "sub").mkdir()
    (folder / "sub" / "scan.pdf").write_bytes(samples.mixed_pdf()[0])  # its scanned page: no OCR here
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    (folder / "notes.pdf").write_text("these are notes, not a PDF\n")
    (folder / "readme.txt").write_text("not picked up: folders yield *.pdf only\n")
    return folder


# FnApiRunner in process and the portable runner (the Fn API path of Spark and Flink);
# the two-process FnApiRunner adds ~10 s of worker start-up and no path the others miss.
@pytest.mark.parametrize("runner", [r for r in RUNNERS if r != "two_workers"])
def test_every_pdf_accounted_for(pdf_folder: Path, tmp_path: Path, runner: str) -> None:
    out = tmp_path / "docs"
    s = run_extract_pdf([str(pdf_folder)], str(out), CONFIG, pdfs_per_part=2, progress=False, **runner_kwargs(runner))
    assert s["records_in"] == 6 == s["docs"] + s["dead_letters_total"]
    assert s["dead_letters"] == {"corrupt_pdf": 1, "not_a_pdf": 1}
    assert s["page_dead_letters"] == {"ocr_unavailable": 1}
    assert s["pages"] == 3 + 1 + 1 + 2 and s["routes"] == {"failed": 1, "text": 6}
    assert s["parts"] == 3 and s["pages_per_s"] > 0
    with open_corpus(str(out)) as corpus:
        rows = corpus.sql("SELECT uri, text FROM documents ORDER BY uri").fetchall()
        dead = corpus.sql("SELECT stage, reason FROM dead_letters ORDER BY reason").fetchall()
    assert [Path(u).name for u, _ in rows] == ["chinese.pdf", "scan.pdf", "table.pdf", "two_column.pdf"]
    assert dead == [
        ("extract_pdf", "corrupt_pdf"),
        ("extract_pdf", "not_a_pdf"),
        ("extract_pdf_page", "ocr_unavailable"),
    ]
    assert json.loads((out / "_summary.json").read_text())["docs"] == 4


def test_rerun_skips_and_a_resumed_part_is_byte_identical(pdf_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs"
    run_extract_pdf([str(pdf_folder)], str(out), CONFIG, pdfs_per_part=2, workers=1, progress=False)
    again = run_extract_pdf([str(pdf_folder)], str(out), CONFIG, pdfs_per_part=2, workers=1, progress=False)
    assert again["skipped"] is True
    # An interrupted run (a part and the summary missing) is resumed: the lost part is
    # redone, byte for byte as before, and the finished ones are kept as they are.
    before = {p.name: p.read_bytes() for p in out.glob("part-*.parquet")}
    kept = (out / "part-00000.parquet").stat().st_mtime_ns
    (out / "part-00001.parquet").unlink()
    (out / "_summary.json").unlink()
    resumed = run_extract_pdf([str(pdf_folder)], str(out), CONFIG, pdfs_per_part=2, workers=1, progress=False)
    assert resumed["docs"] == 4 and (out / "part-00000.parquet").stat().st_mtime_ns == kept
    assert {p.name: p.read_bytes() for p in out.glob("part-*.parquet")} == before
    meta = json.loads(pq.read_table(out / "part-00000.parquet").column("meta")[0].as_py())
    assert meta["extractor"] == "corpusmill.pdf" and meta["pages"][0]["engine"] == "text_layer"


def test_missing_input_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError):
        run_extract_pdf([str(tmp_path / "nothing-here")], str(tmp_path / "out"), CONFIG, workers=1)


def test_cli(pdf_folder: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli"
    code = main(
        [
            "extract-pdf",
            str(pdf_folder / "table.pdf"),
            str(pdf_folder / "notes.pdf"),
            "-o",
            str(out),
            "--ocr",
            "off",
            "--workers",
            "1",
            "--quiet",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "in=2 out=1 dead_letters=1" in printed and "not_a_pdf: 1" in printed
    assert main(["extract-pdf", str(pdf_folder), "-o", str(tmp_path / "x"), "--ocr", "vlm"]) == 2
    assert "--llm-url" in capsys.readouterr().err


def test_job_with_vlm_ocr_and_rewrite(pdf_folder: Path, tmp_path: Path) -> None:
    from corpusmill.llm.testing import LLMTestServer

    with LLMTestServer(context_window=32768) as server:
        config = PdfConfig(llm_url=server.url, rewrite_url=server.url, detect_orientation=False)
        s = run_extract_pdf([str(pdf_folder / "sub")], str(tmp_path / "docs"), config, workers=1, progress=False)
    assert s["records_in"] == s["docs"] == 1
    assert s["engines"] == {"text_layer": 1, "vlm": 1} and s["rewrites"] == {"accepted": 1}
    # The client's ledgers, per step, summed over parts: what the report's LLM section reads.
    assert s["llm"]["vlm"]["requests"] == s["llm"]["rewrite"]["requests"] == 1
    assert s["llm"]["vlm"]["prompt_tokens"] > 0 and s["llm"]["rewrite"]["completion_tokens"] > 0
    assert s["config"]["llm_url"] is True and s["config"]["ocr_engine"] == "vlm"
    assert (tmp_path / "docs" / "_llm_cache").is_dir()


def test_same_file_name_in_two_inputs_gets_two_ids(tmp_path: Path) -> None:
    from corpusmill.extractors.pdf.extractor import document_id
    from corpusmill.extractors.pdf.parts import plan_pdfs

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.pdf").write_bytes(b"%PDF-1.7\n")
    inputs = plan_pdfs([str(tmp_path / "a"), str(tmp_path / "b" / "x.pdf")])
    assert [p.name for p in inputs] == ["a/x.pdf", "b/x.pdf"]
    assert len({document_id(p.name) for p in inputs}) == 2
