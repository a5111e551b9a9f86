"""Ingest decodes legacy encodings, takes --encoding, and refuses giant records with bounded memory."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpusmill.errors import ConfigError
from corpusmill.extractors.text import readers
from corpusmill.pipelines.ingest import run_ingest
from tests.beam_runners import runner_kwargs

# Our own sentences, a few lines each: detection needs some text to go on.
FRENCH = (
    "Le château près de la forêt était habité par un vieux pêcheur. Il racontait à ses enfants des "
    "histoires d'été, de neige et de fêtes oubliées. « Écoutez bien », disait-il, « la rivière garde nos secrets. »\n"
) * 3
GERMAN = (
    "Die Straße führte über die Brücke – „schön“, sagte sie, und lächelte. Der Preis betrug 20 € für "
    "zwei Nächte… Ärger gab es keinen, nur Müdigkeit.\n"
) * 3
CHINESE = (
    "今天天气很好，我们一起去公园散步。孩子们在草地上玩耍，老人们在树下下棋。春天来了，花都开了，空气里有一种淡淡的香味。\n"
    * 3
)
JAPANESE = (
    "今日はとても良い天気です。私たちは公園へ散歩に行きました。子供たちは芝生の上で遊んでいて、お年寄りは木の下で将棋をしていました。\n"
    * 3
)
RUSSIAN = (
    "Сегодня очень хорошая погода. Мы пошли гулять в парк. Дети играли на траве, а старики сидели на скамейках.\n" * 3
)
NOTEPAD = "A note saved by Notepad: Привет, мир! Ünïcödé survives.\n" * 3
CZECH = "Příliš žluťoučký kůň úpěl ďábelské ódy."

CASES = {
    "latin1.txt": (FRENCH, "latin-1"),
    "cp1252.txt": (GERMAN, "cp1252"),
    "gb18030.txt": (CHINESE, "gb18030"),
    "sjis.txt": (JAPANESE, "shift_jis"),
    "koi8r.txt": (RUSSIAN, "koi8-r"),
    "utf16-bom.txt": (NOTEPAD, "utf-16"),  # Python writes a byte-order mark for "utf-16"
    "utf16le-nobom.txt": (NOTEPAD.replace("Notepad", "a tool that writes no byte-order mark"), "utf-16-le"),
    "plain.txt": ("Plain UTF-8: ναι, да, 是.\n", "utf-8"),
}


def _rows(out: Path) -> dict[str, dict]:
    return {r["uri"].rsplit("/", 1)[-1]: r for r in pq.read_table(sorted(out.glob("part-*.parquet"))).to_pylist()}


def _dead(out: Path) -> list[dict]:
    files = sorted((out / "_dead_letters").glob("*.parquet"))
    return pq.read_table(files).to_pylist() if files else []


def test_legacy_encodings_are_detected_per_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name, (text, codec) in CASES.items():
        (src / name).write_bytes(text.encode(codec))
    summary = run_ingest([str(src)], str(tmp_path / "out"), progress=False, **runner_kwargs("in_process"))
    assert summary["dead_letters_total"] == 0 and summary["docs"] == len(CASES)
    rows = _rows(tmp_path / "out")
    for name, (text, _) in CASES.items():
        assert rows[name]["text"] == text.strip(), name
        assert "\ufffd" not in rows[name]["text"]
        meta = json.loads(rows[name]["meta"])
        assert meta["encoding"] and 0 < meta["encoding_confidence"] <= 1, (name, meta)
    assert json.loads(rows["plain.txt"]["meta"]) == {"encoding": "utf-8", "encoding_confidence": 1.0}
    assert json.loads(rows["utf16-bom.txt"]["meta"])["encoding"] == "utf-16"


def test_mostly_english_latin1_file_is_decoded_not_repaired(tmp_path: Path) -> None:
    # Under 1% of its bytes are not UTF-8: the old reader kept U+FFFD for each accented letter.
    text = "The menu of the small cafe listed a crème brûlée. " + "Plain English words fill this line. " * 60
    (tmp_path / "menu.txt").write_bytes(text.encode("latin-1"))
    doc = next(readers.read_task(readers.plan([str(tmp_path / "menu.txt")])[0]))
    assert doc.text == text and doc.meta["encoding"] != "utf-8" and "utf8_repaired_bytes" not in doc.meta


def test_encoding_flag_fixes_a_file_detection_gets_wrong(tmp_path: Path) -> None:
    path = tmp_path / "czech.txt"
    path.write_bytes(CZECH.encode("iso8859-2"))
    guessed = next(readers.read_task(readers.plan([str(path)])[0]))
    assert guessed.text != CZECH  # the premise: too little text for detection to tell Latin-2 apart
    run_ingest([str(path)], str(tmp_path / "out"), encoding="iso8859-2", progress=False, **runner_kwargs("in_process"))
    row = _rows(tmp_path / "out")["czech.txt"]
    assert row["text"] == CZECH and json.loads(row["meta"]) == {"encoding": "iso8859-2", "encoding_confidence": 1.0}


def test_encoding_flag_applies_to_jsonl_lines(tmp_path: Path) -> None:
    path = tmp_path / "legacy.jsonl"
    path.write_bytes(json.dumps({"text": FRENCH.strip()}, ensure_ascii=False).encode("latin-1") + b"\n")
    run_ingest([str(path)], str(tmp_path / "out"), encoding="latin-1", progress=False, **runner_kwargs("in_process"))
    assert next(iter(_rows(tmp_path / "out").values()))["text"] == FRENCH.strip()


def test_unknown_encoding_fails_before_work(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown encoding"):
        readers.plan([str(tmp_path / "a.txt")], encoding="klingon-8")


def test_a_2gb_single_line_file_is_a_dead_letter_read_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "src" / "dump.txt"
    big.parent.mkdir()
    with big.open("wb") as fh:  # sparse: 2 GiB on paper, nothing on disk
        fh.truncate(2 * 1024**3)
    (tmp_path / "src" / "ok.txt").write_text("A small, ordinary text file.", encoding="utf-8")
    tracemalloc.start()
    got = list(readers.read_task(readers.plan([str(big)])[0]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [d["reason"] for d in got] == ["record_too_large"] and "2,147,483,648 bytes" in got[0]["message"]
    assert peak < 16 * 1024**2
    summary = run_ingest([str(tmp_path / "src")], str(tmp_path / "out"), progress=False, **runner_kwargs("in_process"))
    assert summary["records_in"] == 2 and summary["docs"] == 1 and summary["dead_letters"] == {"record_too_large": 1}


def test_a_jsonl_line_over_the_limit_is_skipped_unread(tmp_path: Path) -> None:
    # The same code path as a 2 GB line, at a limit the test can afford: 1 MiB against a 40 MiB line.
    path = tmp_path / "one-line.jsonl"
    with path.open("wb") as fh:
        fh.write(b'{"text": "before"}\n{"text": "')
        fh.truncate(40 * 1024**2)
        fh.seek(0, 2)
        fh.write(b'"}\n{"text": "after"}\n')
    tasks = readers.plan([str(path)], max_record_bytes=1 << 20)
    tracemalloc.start()
    got = [r for t in tasks for r in readers.read_task(t)]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    texts = [r.text for r in got if isinstance(r, readers.Record)]
    dead = [r for r in got if not isinstance(r, readers.Record)]
    assert texts == ["before", "after"] and [d["reason"] for d in dead] == ["record_too_large"]
    assert peak < 3 * readers.JSONL_CHUNK_BYTES  # one range in memory, never the whole line
