"""The `corpusmill` command as a user meets it: help, one-line errors, query formats, stats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpusmill.commands import main

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "corpusmill.commands", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cli")
    src = base / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"text": f"text {i}", "source": "web" if i % 2 else "books"}) + "\n" for i in range(10))
        + "broken line\n",
        encoding="utf-8",
    )
    out = base / "docs"
    assert main(["ingest", str(src), "-o", str(out), "--workers", "1", "--quiet"]) == 0
    return out


def test_help_lists_the_verbs() -> None:
    r = _cli("--help")
    assert r.returncode == 0
    for verb in ("ingest", "query", "stats", "demo"):
        assert verb in r.stdout


def test_missing_path_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    r = _cli("ingest", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o"))
    assert r.returncode == 2
    assert "input not found" in r.stderr and "Traceback" not in r.stderr
    assert len([line for line in r.stderr.splitlines() if "error" in line]) == 1


def test_bad_option_fails_fast(tmp_path: Path) -> None:
    r = _cli("stats", str(tmp_path), "--frobnicate")
    assert r.returncode == 2 and "unrecognized arguments" in r.stderr


def test_query_formats(docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sql = "SELECT source, count(*) AS n FROM documents GROUP BY source ORDER BY source"
    assert main(["query", sql, "--docs", str(docs), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["source,n", "books,5", "web,5"]
    assert main(["query", sql, "--docs", str(docs), "--format", "json"]) == 0
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [
        {"source": "books", "n": 5},
        {"source": "web", "n": 5},
    ]
    target = tmp_path / "r.parquet"
    assert main(["query", sql, "--docs", str(docs), "--format", "parquet", "-o", str(target)]) == 0
    assert pq.read_table(target).to_pylist() == [{"source": "books", "n": 5}, {"source": "web", "n": 5}]
    assert main(["query", sql, "--docs", str(docs)]) == 0
    assert "books" in capsys.readouterr().out


def test_query_errors_name_the_views(docs: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["query", "SELECT nope FROM documents", "--docs", str(docs)]) == 2
    err = capsys.readouterr().err
    assert "query failed" in err and "documents" in err


def test_stats(docs: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["stats", str(docs)]) == 0
    out = capsys.readouterr().out
    assert "documents: 10" in out and "books" in out and "ingest/invalid_json: 1" in out
