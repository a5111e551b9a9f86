"""Fault suite for model calls: server outages and re-runs; huge, slow and null answers.

Everything talks real HTTP to `LLMTestServer`. The outage tests run each LLM job (annotate's
teacher, extract-pdf's VLM, synth) on the three runners: the server goes away mid-run, the
job finishes with transient dead letters, the server comes back, and the same call again
retries exactly the failed items: the server counts what it is sent.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from corpusmill import storage
from corpusmill.commands import main as cli_main
from corpusmill.extractors.pdf import samples
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.llm import ClientConfig, LLMClient, LLMLimits, Request, user
from corpusmill.llm.testing import LLMTestServer
from corpusmill.llm.types import is_transient
from corpusmill.pipelines.annotate import build_annotators, run_annotate
from corpusmill.pipelines.beam_options import PORTABLE_EMBED_ARGS
from corpusmill.pipelines.extract_pdf import run_extract_pdf
from corpusmill.pipelines.synthesize import run_synthesize
from corpusmill.sample_data import sample_jsonl
from corpusmill.schema import DOCUMENT_SCHEMA, stable_id
from corpusmill.synth.math_llm import LLMMath
from tests.beam_runners import RUNNERS, runner_kwargs
from tests.synth_llm_double import client_config, scripted_server

# -- the client's limits ------------------------------------------------------------------------


def test_a_huge_answer_trips_the_limit_while_it_is_read() -> None:
    # Each answer would stream 200 MiB (chunked: no Content-Length to refuse up front).
    with LLMTestServer(rates={"huge": 1.0}, fault_repeats=1000, huge_bytes=200 * 2**20) as server:
        config = ClientConfig(urls=(server.url,), model="test-model", retries=0, max_answer_bytes=2**20)
        tracemalloc.start()
        try:
            with LLMClient(config) as client:
                results = client.run_batch([Request(prompt=f"page {i}") for i in range(4)])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert [(r.reason, r.transient) for r in results] == [("answer_too_large", False)] * 4
    assert "1,048,576 bytes" in results[0].message
    # The client hung up after ~1 MiB of each: the server got rid of little more than its
    # socket buffers, and the process never held more than a few MiB (800 MiB were offered).
    assert server.stats["huge_bytes_sent"] < 4 * 24 * 2**20
    assert peak < 48 * 2**20


def test_content_null_is_a_malformed_answer() -> None:
    with LLMTestServer(rates={"null_content": 1.0}, fault_repeats=1000) as server:
        config = ClientConfig(urls=(server.url,), model="test-model", retries=1, backoff=0.01)
        with LLMClient(config) as client:
            chat, completion = client.run_batch([Request(messages=(user("hello"),)), Request(prompt="hello")])
    for result in (chat, completion):
        assert (result.ok, result.reason, result.transient, result.attempts) == (False, "malformed_response", True, 2)
        assert "null" in result.message


def test_slow_answers_trip_the_attempt_timeout_and_the_item_deadline() -> None:
    with LLMTestServer(rates={"hang": 1.0}, fault_repeats=1000, hang_seconds=120) as server:
        one_attempt = ClientConfig(urls=(server.url,), model="test-model", retries=0, timeout=0.3)
        with LLMClient(one_attempt) as client:
            slow = client.generate(Request(prompt="slow"))
        # Ten retries of 0.5 s each would hang for 5.5 s; the deadline of 1.2 s over all of
        # them ends the request after at most three attempts (0.5 + 0.5 + what is left).
        bounded = ClientConfig(
            urls=(server.url,), model="test-model", retries=10, backoff=0.01, timeout=0.5, deadline=1.2
        )
        with LLMClient(bounded) as client:
            slower = client.generate(Request(prompt="slower"))
    assert (slow.reason, slow.error, slow.attempts, slow.transient) == ("timeout", "TimeoutError", 1, True)
    assert (slower.reason, slower.error, slower.transient) == ("timeout", "DeadlineExceeded", True)
    assert 1 <= slower.attempts <= 3 and "deadline of 1.2s" in slower.message


def test_cli_limits_reach_the_client() -> None:
    limits = LLMLimits(timeout=2.0, deadline=0, retries=1, max_answer_bytes=4096)
    config = ClientConfig(urls=("http://127.0.0.1:9",), **limits.client_kwargs())
    assert (config.timeout, config.deadline, config.retries, config.max_answer_bytes) == (2.0, None, 1, 4096)
    assert ClientConfig(urls=("http://127.0.0.1:9",), **LLMLimits().client_kwargs()) == ClientConfig(
        urls=("http://127.0.0.1:9",)
    )


def test_which_dead_letters_are_transient() -> None:
    assert is_transient("annotate/teacher", "teacher_unreachable")
    assert is_transient("extract_pdf_page", "vlm_server_error") and is_transient("extract_pdf", "vlm_timeout")
    assert is_transient("llm", "rate_limited") and is_transient("llm", "malformed_response")
    assert not is_transient("annotate/teacher", "teacher_schema_mismatch")
    assert not is_transient("extract_pdf_page", "vlm_context_length_exceeded")
    assert not is_transient("llm", "answer_too_large")
    assert not is_transient("extract_pdf", "timeout")  # the PDF child's own time limit
    assert not is_transient("extract_pdf_page", "page_timeout")


# -- annotate's teacher: outage, re-run, --retry-failed ----------------------------------------

N_DOCS = 40


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    with gzip.open(sample_jsonl(), "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(N_DOCS), fh)]
    rows = [
        {"id": stable_id("f", str(i)), "text": t, "source": "s", "uri": f"s://{i}", "meta": "{}"}
        for i, t in enumerate(texts)
    ]
    for f in range(2):
        table = pa.Table.from_pylist(rows[f::2], schema=DOCUMENT_SCHEMA)
        storage.write_parquet(table, str(folder / f"part-{f:05d}.parquet"))
    return folder


def _annotate(docs: Path, out: Path, url: str, **runner: object) -> dict:
    annotators = build_annotators(
        ["n_chars", "teacher"],
        teacher_url=url,
        teacher_model="test-model",
        teacher_cache_dir=str(out / "_llm_cache" / "teacher"),
        teacher_limits=LLMLimits(retries=0),
    )
    return run_annotate(str(docs), str(out), annotators=annotators, progress=False, **runner)  # type: ignore[arg-type]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("part-*.parquet"))}


@pytest.fixture(scope="module")
def clean_labels(docs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("clean") / "ann"
    with LLMTestServer() as server:
        assert _annotate(docs, out, server.url, workers=1)["dead_letters_total"] == 0
    return _files(out)


def _answered_once(server: LLMTestServer, total: int) -> None:
    """Over all runs, every distinct request was answered, and none twice."""
    assert len(server.answered) == total and set(server.answered.values()) == {1}


@pytest.mark.parametrize("runner", RUNNERS)
def test_teacher_outage_then_rerun_sends_only_the_failed(
    docs: Path, clean_labels: dict[str, bytes], tmp_path: Path, runner: str
) -> None:
    out = tmp_path / "ann"
    with LLMTestServer() as server:
        server.outage(after=15)
        first = _annotate(docs, out, server.url, **runner_kwargs(runner))
        server.restore()
        before = server.completions
        second = _annotate(docs, out, server.url, **runner_kwargs(runner))
        sent = server.completions - before
        third = _annotate(docs, out, server.url, **runner_kwargs(runner))
        _answered_once(server, N_DOCS)
        assert server.completions - before == sent  # the finished run sent nothing
    assert server.stats["outages"] == 1
    assert first["retryable"] == first["dead_letters_total"] == N_DOCS - 15
    assert all(k.split(":")[1] in ("teacher_unreachable", "teacher_connection_error") for k in first["dead_letters"])
    assert sent == second["retried"] == N_DOCS - 15
    assert second["retryable"] == second["dead_letters_total"] == 0 and not second["skipped"]
    assert third["skipped"] and third["retryable"] == 0
    assert _files(out) == clean_labels  # byte for byte what a run without an outage writes


def test_final_failures_stay_final_and_retry_failed_is_explicit(
    docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "ann"
    args = ["annotate", str(docs), "-o", str(out), "--annotators", "n_chars,teacher", "--workers", "1"]
    args += ["--teacher-model", "test-model", "--quiet", "--llm-retries", "0"]
    assert cli_main([*args, "--retry-failed", "--teacher-url", "http://127.0.0.1:9/v1"]) == 2
    assert "holds no run to retry" in capsys.readouterr().err
    # Answers that break the schema are final: cached, never retried.
    with LLMTestServer(rates={"off_schema": 0.3}, fault_repeats=1000) as server:
        assert cli_main([*args, "--teacher-url", server.url]) == 0
        asked = server.completions
        first = storage.read_json(str(out / "_summary.json"))
        assert cli_main([*args, "--teacher-url", server.url, "--retry-failed"]) == 0
        assert server.completions == asked
    assert first["dead_letters_total"] > 0 and first["retryable"] == 0
    assert set(first["dead_letters"]) == {"annotate/teacher:teacher_schema_mismatch"}
    assert "already holds this finished run" in capsys.readouterr().err
    # An outage is retried by --retry-failed, which says what it did.
    out2 = tmp_path / "ann2"
    args[3] = str(out2)
    with LLMTestServer() as server:
        server.outage(after=0)
        assert cli_main([*args, "--teacher-url", server.url]) == 0
        assert "run the same command again to retry only those" in capsys.readouterr().err
        server.restore()
        assert cli_main([*args, "--teacher-url", server.url, "--retry-failed"]) == 0
        assert server.completions - server.stats["outage_requests"] == N_DOCS
    assert f"retried {N_DOCS} items" in capsys.readouterr().out


def test_cli_llm_timeout_bounds_a_slow_teacher(docs: Path, tmp_path: Path) -> None:
    out = tmp_path / "ann"
    with LLMTestServer(rates={"hang": 1.0}, fault_repeats=1000, hang_seconds=300) as server:
        args = ["annotate", str(docs), "-o", str(out), "--annotators", "n_chars,teacher", "--workers", "1"]
        args += ["--teacher-url", server.url, "--teacher-model", "test-model", "--quiet"]
        assert cli_main([*args, "--llm-timeout", "1", "--llm-retries", "0"]) == 0
    summary = storage.read_json(str(out / "_summary.json"))
    assert (
        summary["dead_letters"]
        == {"annotate/teacher:teacher_timeout": N_DOCS}
        == {"annotate/teacher:teacher_timeout": summary["retryable"]}
    )
    messages = storage.read_parquet(str(out / "_dead_letters" / "annotate-part-00000.parquet"), ["message"])
    assert set(messages.column("message").to_pylist()) == {"no answer within 1.0s"}  # not the default 120 s


def test_teacher_run_exits_zero_in_a_fresh_process(docs: Path, tmp_path: Path) -> None:
    # The whole command in its own interpreter, to its very end, with label dead letters, so
    # that the summary reads Parquet files last thing before the interpreter exits. In process
    # (the teacher on the main thread) and on the portable runner (on the runner's threads).
    with LLMTestServer(rates={"off_schema": 0.3}, fault_repeats=1000) as server:
        for name, runner in (("in_process", ["--workers", "1"]), ("portable", PORTABLE_EMBED_ARGS)):
            out = tmp_path / name
            cmd = [sys.executable, "-m", "corpusmill.commands", "annotate", str(docs), "-o", str(out), "--quiet"]
            cmd += ["--annotators", "n_chars,lang_id,teacher", "--teacher-url", server.url, *runner]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-2000:]
            assert "terminate called" not in done.stderr
            summary = storage.read_json(str(out / "_summary.json"))
            assert summary["docs"] == N_DOCS and summary["dead_letters_total"] > 0


# Reads Parquet through fsspec file objects, as every job's summary does, while two threads
# keep the GIL busy, then lets the interpreter exit.
_READ_THEN_EXIT = """
import sys, threading
from corpusmill import storage
def spin():
    while True:
        pass
for _ in range(2):
    threading.Thread(target=spin, daemon=True).start()
for _ in range(5):
    for path in sys.argv[1:]:
        storage.read_parquet(path, ["id"])
"""


def test_reading_parquet_just_before_exit_does_not_abort(docs: Path) -> None:
    # The cause of the 134 exits: `pq.read_table` on a Python file object lets Arrow's C++
    # threads read it and free its buffers; one freed the last buffer while the interpreter
    # was exiting, took the GIL back inside a destructor, was ended by pthread_exit:
    # std::terminate. Reading that way, 9 of 30 such processes aborted (1 of 12 with only
    # pre-buffering off); with `storage.read_parquet` as it is, none of 40.
    paths = [str(p) for p in sorted(docs.glob("*.parquet"))]
    outcomes = []
    for _ in range(3):  # 12 processes, 4 at a time
        procs = [
            subprocess.Popen([sys.executable, "-c", _READ_THEN_EXIT, *paths], stderr=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        outcomes += [(p.wait(timeout=300), "terminate called" in (p.stderr.read() if p.stderr else "")) for p in procs]
    assert outcomes == [(0, False)] * 12


# -- extract-pdf's VLM: outage and re-run ------------------------------------------------------

SCANS = 5
VLM_WINDOW = 32768  # a page request asks for up to 4,096 tokens


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scans")
    for i in range(SCANS - 1):
        text = "\n\n".join(samples.paragraphs(1, 20 + i, sentences=2))
        (folder / f"scan{i}.pdf").write_bytes(samples.image_only_pdf(text, dpi=72)[0])
    (folder / "mixed.pdf").write_bytes(samples.mixed_pdf()[0])  # a text page and a scanned one
    return folder


def _extract(scans: Path, out: Path, url: str, **runner: object) -> dict:
    config = PdfConfig(llm_url=url, vlm_model="test-model", detect_orientation=False, llm=LLMLimits(retries=0))
    return run_extract_pdf([str(scans)], str(out), config, pdfs_per_part=2, progress=False, **runner)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clean_scans(scans: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("clean_pdf") / "docs"
    with LLMTestServer(context_window=VLM_WINDOW) as server:
        summary = _extract(scans, out, server.url, workers=1)
    assert summary["docs"] == SCANS and summary["engines"] == {"text_layer": 1, "vlm": SCANS}
    return _files(out)


@pytest.mark.parametrize("runner", RUNNERS)
def test_vlm_outage_then_rerun_sends_only_the_failed_pages(
    scans: Path, clean_scans: dict[str, bytes], tmp_path: Path, runner: str
) -> None:
    out = tmp_path / "docs"
    with LLMTestServer(context_window=VLM_WINDOW) as server:
        server.outage(after=2)
        first = _extract(scans, out, server.url, **runner_kwargs(runner))
        server.restore()
        before = server.completions
        second = _extract(scans, out, server.url, **runner_kwargs(runner))
        sent = server.completions - before
        third = _extract(scans, out, server.url, **runner_kwargs(runner))
        _answered_once(server, SCANS)
    # Three page reads failed: a scan-only PDF so becomes a dead letter with the VLM's reason
    # (not `no_text`), the mixed PDF keeps its text page and loses the other.
    assert first["retryable"] == 3 and first["docs"] + first["dead_letters_total"] == SCANS
    reasons = {**first["dead_letters"], **first["page_dead_letters"]}
    assert reasons and all(r in ("vlm_unreachable", "vlm_connection_error") for r in reasons)
    assert sent == second["retried"] == 3 and second["retryable"] == 0
    assert second["docs"] == SCANS and second["dead_letters_total"] == 0
    assert third["skipped"]
    assert _files(out) == clean_scans
    assert not list((out / "_dead_letters").glob("*.parquet"))


def test_failed_rewrites_are_retried_by_a_rerun(tmp_path: Path) -> None:
    # A failed rewrite keeps the page's own text (no dead letter), yet the part counts it as
    # retryable: with the rewrite server down, the re-run rewrites exactly those pages.
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "book.pdf").write_bytes(samples.single_column_pdf(pages=2, seed=3)[0])
    out = tmp_path / "docs"

    def extract(url: str) -> dict:
        config = PdfConfig(ocr="off", rewrite_url=url, rewrite_scope="all", llm=LLMLimits(retries=0))
        return run_extract_pdf([str(folder)], str(out), config, workers=1, progress=False)

    with LLMTestServer() as server:
        server.outage(after=0)
        first = extract(server.url)
        server.restore()
        second = extract(server.url)
        assert server.completions == 2
    assert first["docs"] == 1 and first["rewrites"] == {"failed": 2} and first["retryable"] == 2
    assert second["retried"] == 2 and second["retryable"] == 0 and second["rewrites"] == {"accepted": 2}


# -- synth: outage and re-run ---------------------------------------------------------------------

TOPICS = ["fractions", "functions", "geometry", "probability", "sequences"]


def _invent_answer(prompt: str) -> str:
    if "Write one new" in prompt:
        topic = prompt.split("new, self-contained ")[1].split(" problem")[0]
        return f"A {topic} puzzle: what is 6 times 7 when you add nothing to it and think of {topic} all the while?"
    return "Multiply the two numbers step by step.\nAnswer: 42\n"


def _synth(server: LLMTestServer, out: Path, cache: Path, **runner: object) -> dict:
    gen = LLMMath(client_config(server, str(cache)), mode="invent", topics=TOPICS, langs=["en"], samples=2)
    # No decontamination: it loads benchmark indexes in every worker and is not what is tested here.
    return run_synthesize(gen, str(out), n=len(TOPICS), decontaminate=False, progress=False, **runner)  # type: ignore[arg-type]


@pytest.mark.parametrize("runner", RUNNERS)
def test_synth_outage_then_rerun_sends_only_the_failed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, runner: str
) -> None:
    with scripted_server(monkeypatch, _invent_answer) as server:
        clean = _synth(server, tmp_path / "clean", tmp_path / "clean_cache", workers=1)
        asked = Counter(server.answered)
        server.answered.clear()
        server.outage(after=7)  # 5 problems and 2 of their 5 solutions are answered
        first = _synth(server, tmp_path / "out", tmp_path / "cache", **runner_kwargs(runner))
        server.restore()
        before = server.completions
        second = _synth(server, tmp_path / "out", tmp_path / "cache", **runner_kwargs(runner))
        sent = server.completions - before
        third = _synth(server, tmp_path / "out", tmp_path / "cache", **runner_kwargs(runner))
    assert server.answered == asked  # everything the clean run asked, each answered once
    assert first["retryable"] == 3 and set(first["dead_letters"]) <= {"llm/unreachable", "llm/connection_error"}
    assert sent == second["retried"] == 3 and second["retryable"] == 0
    assert second["docs"] == clean["docs"] == len(TOPICS) and second["dead_letters"] == {}
    assert third["skipped"]
    assert _files(tmp_path / "out") == _files(tmp_path / "clean")
