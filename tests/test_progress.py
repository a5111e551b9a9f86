"""Progress lines that move: workers' tick files summed by the driver, totals and ETAs where known."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from corpusmill import progress
from corpusmill.pipelines.annotate import build_annotators, run_annotate
from corpusmill.pipelines.ingest import run_ingest
from tests.beam_runners import runner_kwargs

WORDS = "the river old house morning letter garden winter captain village road evening friend".split()


def test_line_shows_total_and_eta():
    line = progress.ProgressLine("annotate", "documents", lambda: 0, total=1000, enabled=False)
    assert line.line(250, 10.0) == "annotate: 250/1,000 documents in 10s (25 documents/s, ETA 30s)"
    assert progress.ProgressLine("ingest", "records", lambda: 0, enabled=False).line(5, 1.0) == (
        "ingest: 5 records in 1s (5 records/s)"
    )
    assert progress.format_eta(3725) == "1h02m" and progress.format_eta(75) == "1m15s"


def test_ticks_of_several_workers_add_up(tmp_path: Path):
    a, b = progress.ProgressTicks(str(tmp_path)), progress.ProgressTicks(str(tmp_path))
    a.inc("docs", 3)
    b.inc("docs", 4)
    a.inc("docs", 5)
    a.flush()
    b.flush()
    assert progress.read_ticks(str(tmp_path), "docs") == 12 and progress.read_ticks(str(tmp_path), "pages") == 0


def test_a_tick_file_being_written_is_not_counted_twice(tmp_path: Path):
    # storage writes a `.tmp-*` sibling, then renames it: a poll in between must not add both.
    ticks = progress.ProgressTicks(str(tmp_path))
    ticks.inc("docs", 7)
    ticks.flush()
    (tmp_path / ".tmp-0123abcd-worker.json").write_text('{"docs": 9}')
    assert progress.read_ticks(str(tmp_path), "docs") == 7


def _counts(err: str, job: str) -> list[int]:
    return [int(m.replace(",", "")) for m in re.findall(rf"^{job}: ([\d,]+)", err, re.M)]


@pytest.fixture()
def fast_progress(monkeypatch):
    # Print and tick often, so a job of a few seconds shows several lines (the counts, not the timing, are checked).
    monkeypatch.setattr(progress, "DEFAULT_INTERVAL_S", 0.05)
    monkeypatch.setattr(progress, "TICK_EVERY_S", 0.01)


def test_ingest_and_annotate_progress_counts_move(tmp_path: Path, fast_progress, capfd):
    src = tmp_path / "src.jsonl"
    lines = [" ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(40)) + f" {i}" for i in range(6_000)]
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in lines), encoding="utf-8")
    docs = tmp_path / "docs"
    run_ingest([str(src)], str(docs), progress=True, **runner_kwargs("in_process"))
    ingest_counts = _counts(capfd.readouterr().err, "ingest")
    annotators = build_annotators(["n_chars", "quality", "gates"])
    run_annotate(str(docs), str(tmp_path / "ann"), annotators=annotators, progress=True, **runner_kwargs("in_process"))
    err = capfd.readouterr().err
    counts = _counts(err, "annotate")
    assert len(set(counts)) >= 2, repr(err[:600])
    assert counts == sorted(counts) and max(counts) <= 6_000
    assert "/6,000 documents" in err and "ETA" in err
    assert len(set(ingest_counts)) >= 2, ingest_counts
    assert not (docs / progress.PROGRESS_DIR).exists() and not (tmp_path / "ann" / progress.PROGRESS_DIR).exists()
