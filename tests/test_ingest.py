"""The ingest job on real small inputs: formats, bad records, accounting, determinism, runners."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from corpusmill.corpus import open_corpus
from corpusmill.errors import InputNotFoundError, OutputExistsError
from corpusmill.extractors.text import readers
from corpusmill.pipelines.ingest import run_ingest
from tests.beam_runners import RUNNERS, runner_kwargs


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


@pytest.fixture()
def mixed_inputs(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    rows = [{"text": f"Dokument {i} über Wörter.", "lang": "de", "id": f"d{i}"} for i in range(40)]
    rows += [{"text": "Dokument 0 über Wörter."}]  # exact duplicate of d0
    rows += ["this is not json", {"title": "no text"}, {"text": 5}, {"text": " \n\t "}, [1, 2]]
    _jsonl(src / "a.jsonl", rows)
    with (src / "b.jsonl").open("wb") as fh:
        fh.write(b'{"text": "mostly fine ' + b"x" * 400 + b' \xff end"}\n')  # 1 bad byte: repaired
        fh.write(b'{"text": "\xff\xfe\xfd\xfc\xfb"}\n')  # all bad: dead letter
        fh.write('{"text": "e\u0301t\u00e9 \u0007bell\u200b ok\\r\\nline"}\n'.encode())
    whole = gzip.compress(b"".join(json.dumps({"text": f"gz line {i}"}).encode() + b"\n" for i in range(300)))
    (src / "c.jsonl.gz").write_bytes(whole[: len(whole) // 2])  # truncated
    (src / "d.jsonl.zst").write_bytes(
        zstandard.ZstdCompressor().compress(
            b"".join(json.dumps({"text": f"zst line {i}", "n": i}).encode() + b"\n" for i in range(20))
        )
    )
    txt = src / "texts"
    txt.mkdir()
    (txt / "one.txt").write_text("A plain text file.\n", encoding="utf-8")
    (txt / "two.txt").write_text("Another one, in Ελληνικά.", encoding="utf-8")
    (txt / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    table = pa.table({"text": ["hf row one", "hf row two", None], "url": ["u1", "u2", "u3"], "score": [0.5, 0.7, 0.1]})
    pq.write_table(table, src / "e.parquet")
    return src


def _all_rows(out: Path) -> list[dict]:
    return pq.read_table(sorted(out.glob("part-*.parquet"))).to_pylist()


def test_every_record_accounted_and_bad_ones_dead_lettered(mixed_inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs"
    s = run_ingest([str(mixed_inputs)], str(out), workers=1)
    assert s["records_in"] == s["docs"] + s["dead_letters_total"] + s["duplicates"]
    assert s["duplicates"] == 1
    assert s["dead_letters"] == {
        "binary_file": 1,
        "empty_text": 1,
        "invalid_json": 2,
        "invalid_utf8": 1,
        "missing_text": 3,
        "unreadable_input": 1,
    }
    dead = pq.read_table(sorted((out / "_dead_letters").glob("*.parquet"))).to_pylist()
    assert len(dead) == s["dead_letters_total"]
    assert all(d["stage"] == "ingest" and d["message"] for d in dead)
    assert any(d["reason"] == "binary_file" and d["uri"].endswith("image.png") for d in dead)
    rows = {r["text"]: r for r in _all_rows(out)}
    # the truncated .gz keeps what was readable before the damage
    assert 0 < sum(t.startswith("gz line") for t in rows) < 300
    assert sum(t.startswith("zst line") for t in rows) == 20
    assert {"hf row one", "hf row two", "A plain text file.", "Another one, in Ελληνικά."} <= set(rows)
    assert json.loads(rows["hf row one"]["meta"]) == {"score": 0.5, "url": "u1"}
    assert rows["Dokument 3 über Wörter."]["id"] == "d3"
    assert json.loads(rows["Dokument 3 über Wörter."]["meta"]) == {"lang": "de"}


def test_text_is_normalized(mixed_inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs"
    run_ingest([str(mixed_inputs / "b.jsonl")], str(out), workers=1)
    texts = [r["text"] for r in _all_rows(out)]
    # NFC composes e + combining acute; BEL is removed; CRLF becomes LF; zero-width space is kept
    assert "\u00e9t\u00e9 bell\u200b ok\nline" in texts
    repaired = next(r for r in _all_rows(out) if r["text"].startswith("mostly fine"))
    assert "\ufffd" in repaired["text"] and json.loads(repaired["meta"]) == {"utf8_repaired_bytes": 1}


def test_ids_are_stable_and_reruns_byte_identical(mixed_inputs: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run_ingest([str(mixed_inputs)], str(a), workers=1)
    run_ingest([str(mixed_inputs)], str(b), workers=1)
    files = sorted(p.name for p in a.glob("part-*.parquet"))
    assert files and files == sorted(p.name for p in b.glob("part-*.parquet"))
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    ids = [r["id"] for r in _all_rows(a)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("runner", RUNNERS)
def test_runners_give_the_same_bytes(runner: str, mixed_inputs: Path, tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    run_ingest([str(mixed_inputs)], str(ref), workers=1)
    out = tmp_path / runner
    s = run_ingest([str(mixed_inputs)], str(out), **runner_kwargs(runner))
    assert s["records_in"] == s["docs"] + s["dead_letters_total"] + s["duplicates"]
    for p in sorted(ref.glob("part-*.parquet")):
        assert (out / p.name).read_bytes() == p.read_bytes()


def test_jsonl_byte_ranges_split_lines_exactly_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"text": f"line {i} " + "é" * (i % 7)} for i in range(500)]
    src = _jsonl(tmp_path / "big.jsonl", rows)
    monkeypatch.setattr(readers, "JSONL_CHUNK_BYTES", 97)  # ranges cut lines in odd places
    tasks = readers.plan([str(src)])
    assert len(tasks) > 50
    got = [r.text for t in tasks for r in readers.read_task(t)]
    assert got == [r["text"] for r in rows]
    s = run_ingest([str(src)], str(tmp_path / "out"), workers=2, dedup=False)
    assert s["docs"] == 500 and s["tasks"] == len(tasks)


def test_missing_input_fails_before_work(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="input not found"):
        run_ingest([str(tmp_path / "nope.jsonl")], str(tmp_path / "out"), workers=1)
    assert not (tmp_path / "out").exists()


def test_finished_output_is_skipped_or_refused(mixed_inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs"
    first = run_ingest([str(mixed_inputs)], str(out), workers=1)
    again = run_ingest([str(mixed_inputs)], str(out), workers=1)
    assert again["skipped"] and again["docs"] == first["docs"]
    other = _jsonl(tmp_path / "other.jsonl", [{"text": "something else"}])
    with pytest.raises(OutputExistsError, match="--overwrite"):
        run_ingest([str(other)], str(out), workers=1)
    replaced = run_ingest([str(other)], str(out), workers=1, overwrite=True)
    assert replaced["docs"] == 1


def test_interrupted_run_resumes_with_same_bytes(mixed_inputs: Path, tmp_path: Path) -> None:
    ref, out = tmp_path / "ref", tmp_path / "out"
    run_ingest([str(mixed_inputs)], str(ref), workers=1)
    run_ingest([str(mixed_inputs)], str(out), workers=1)
    # simulate a crash after some files: drop the summary and one finished part
    (out / "_summary.json").unlink()
    victim = sorted(out.glob("part-*.parquet"))[-1]
    victim.unlink()
    s = run_ingest([str(mixed_inputs)], str(out), workers=1)
    assert not s.get("skipped")
    assert victim.read_bytes() == (ref / victim.name).read_bytes()


def test_corpus_views_on_fsspec_memory_filesystem(mixed_inputs: Path, tmp_path: Path) -> None:
    import fsspec

    local = tmp_path / "docs"
    run_ingest([str(mixed_inputs)], str(local), workers=1)
    mem = fsspec.filesystem("memory")
    for p in local.rglob("*.parquet"):
        mem.pipe(f"/corpus/{p.relative_to(local)}", p.read_bytes())
    with open_corpus("memory://corpus") as corpus:
        assert set(corpus.views) == {"documents", "dead_letters"}
        n = corpus.sql("SELECT count(*) FROM documents").fetchall()[0][0]
        assert n == len(_all_rows(local))
        reasons = dict(corpus.sql("SELECT reason, count(*) FROM dead_letters GROUP BY 1").fetchall())
        assert reasons["missing_text"] == 3


def test_annotations_join_as_corpus_view(mixed_inputs: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    run_ingest([str(mixed_inputs)], str(docs), workers=1)
    ids = [r["id"] for r in _all_rows(docs)]
    ann = tmp_path / "ann"
    ann.mkdir()
    pq.write_table(pa.table({"id": ids[:3], "lang": ["deu_Latn"] * 3}), ann / "part-00000.parquet")
    with open_corpus(str(docs), str(ann)) as corpus:
        assert corpus.sql("SELECT count(*) FROM corpus WHERE lang = 'deu_Latn'").fetchall()[0][0] == 3
        assert corpus.sql("SELECT count(*) FROM corpus").fetchall()[0][0] == len(ids)


def test_corpusmill_documents_reingest_with_uri_and_meta(mixed_inputs: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    run_ingest([str(mixed_inputs / "a.jsonl")], str(first), workers=1)
    again = tmp_path / "again"
    s = run_ingest([str(first)], str(again), workers=1)
    assert s["dead_letters_total"] == 0  # the first run's _dead_letters/ are not inputs
    before = {r["id"]: r for r in _all_rows(first)}
    after = {r["id"]: r for r in _all_rows(again)}
    assert after.keys() == before.keys()
    for doc_id, row in after.items():
        assert (row["uri"], row["source"], json.loads(row["meta"])) == (
            before[doc_id]["uri"],
            before[doc_id]["source"],
            json.loads(before[doc_id]["meta"]),
        )


@pytest.mark.parametrize("runner", ["in_process", "two_workers"])
def test_a_reused_id_with_another_text_is_a_dead_letter(runner: str, tmp_path: Path) -> None:
    # Two sources that both number their records from 1: the second "1" and "2" are other
    # documents, the repeated ("3", same text) is an exact duplicate.
    first = _jsonl(
        tmp_path / "a.jsonl",
        [{"id": "1", "text": "Erste Zeile."}, {"id": "2", "text": "Zweite."}, {"id": "3", "text": "Dritte."}],
    )
    second = _jsonl(
        tmp_path / "b.jsonl",
        [
            {"id": "1", "text": "Another first line."},
            {"id": "3", "text": "Dritte."},
            {"id": "2", "text": "Another second."},
            {"id": "4", "text": "Erste Zeile."},
        ],
    )
    out = tmp_path / "docs"
    s = run_ingest([str(first), str(second)], str(out), **runner_kwargs(runner))
    assert (s["records_in"], s["docs"], s["duplicates"]) == (7, 3, 2)
    assert s["dead_letters"] == {"duplicate_id": 2}
    assert s["records_in"] == s["docs"] + s["dead_letters_total"] + s["duplicates"]
    rows = _all_rows(out)
    assert sorted((r["id"], r["text"]) for r in rows) == [("1", "Erste Zeile."), ("2", "Zweite."), ("3", "Dritte.")]
    dead = pq.read_table(sorted((out / "_dead_letters").glob("*.parquet"))).to_pylist()
    assert sorted(d["id"] for d in dead) == ["1", "2"]
    assert all(d["reason"] == "duplicate_id" and "b.jsonl" in d["uri"] for d in dead)
    with open_corpus(str(out)) as corpus:
        assert corpus.sql("SELECT count(*), count(DISTINCT id) FROM documents").fetchall() == [(3, 3)]
        assert corpus.sql("SELECT count(*) FROM dead_letters WHERE reason = 'duplicate_id'").fetchall() == [(2,)]
