"""Near-duplicate selection and benchmark decontamination on real text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from corpusmill.errors import ConfigError, InputNotFoundError
from corpusmill.synth.decontaminate import Decontaminator, benchmark_texts, shipped_benchmarks
from corpusmill.synth.dedup import NearDupConfig, select, signature
from corpusmill.synth.math_programmatic import math_document

BASE = (
    "The library opens at nine in the morning and closes at six in the evening on weekdays, "
    "while on weekends it opens at ten and closes at four, and on holidays it stays closed all day. "
    "Members may borrow up to twelve books at a time for three weeks, renew them twice online, "
    "and return them through the slot beside the main door when the building is closed."
)


def test_near_duplicates_are_found_and_the_first_is_kept() -> None:
    texts = {
        "a": BASE,
        "b": BASE.replace("door when", "entrance when"),  # one word changed: near-duplicate of a
        "c": "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen inside chloroplasts.",
        "d": BASE,  # exact copy
    }
    entries = [(i, k, signature(t)) for i, (k, t) in enumerate(texts.items())]
    sel = select(entries)
    assert sel.keep == {"a", "c"}
    assert sel.duplicates == {"b": "a", "d": "a"}
    assert sel.duplicate_rate == pytest.approx(0.5)


def test_target_stops_keeping_and_counts_surplus() -> None:
    entries = [(i, f"m{i}", signature(math_document(i)["text"])) for i in range(30)]
    sel = select(entries, target=20)
    assert len(sel.keep) == 20 and len(sel.surplus) == 10 - len(sel.duplicates)


def test_programmatic_math_is_diverse() -> None:
    entries = [(i, str(i), signature(math_document(i)["text"])) for i in range(1500)]
    assert select(entries).duplicate_rate < 0.01


def test_near_dup_config_is_checked() -> None:
    with pytest.raises(ConfigError):
        NearDupConfig(threshold=1.5)


def test_a_copied_gsm8k_problem_is_caught_and_original_text_is_not() -> None:
    gsm8k = shipped_benchmarks()[0]
    question = json.loads(open(gsm8k, encoding="utf-8").readline())["question"]
    dec = Decontaminator()
    copied = f"Problem: {question.upper()}\n\nSolution: 16 - 3 - 4 = 9 eggs, 9 * 2 = 18 dollars."
    hit = dec.check(copied)
    assert hit is not None and hit.benchmark == "gsm8k_test"
    assert dec.check(math_document(0)["text"]) is None
    assert dec.benchmarks["humaneval"] > 1000


def test_a_copied_humaneval_prompt_is_caught() -> None:
    first = json.loads(gzip.decompress(Path(shipped_benchmarks()[1]).read_bytes()).decode().splitlines()[0])
    code = first["prompt"] + "    return any(abs(a - b) < threshold for a in numbers for b in numbers if a is not b)\n"
    hit = Decontaminator().check(code)
    assert hit is not None and hit.benchmark == "humaneval"


def test_user_benchmarks_jsonl_gz_and_text(tmp_path) -> None:
    secret = "the quick brown fox jumps over the lazy dog while seven purple elephants dance in the moonlight"
    gz = tmp_path / "mine.jsonl.gz"
    gz.write_bytes(gzip.compress((json.dumps({"problem": secret, "id": 1}) + "\n").encode()))
    txt = tmp_path / "notes.txt"
    txt.write_text(
        "a private exam question about seventeen green frogs sitting on a log near the quiet river bank today"
    )
    dec = Decontaminator([str(gz), str(txt)])
    assert dec.check("Intro. " + secret + " Outro.").benchmark == "mine"
    assert (
        dec.check("Seventeen green frogs sitting on a log near the quiet river bank today, said the exam").benchmark
        == "notes"
    )
    assert dec.check("Nothing in common with either file at all, not a single long phrase.") is None
    assert list(benchmark_texts(str(gz))) == [secret]


def test_missing_or_bad_benchmark_files_are_config_errors(tmp_path) -> None:
    with pytest.raises(InputNotFoundError):
        Decontaminator([str(tmp_path / "missing.jsonl")])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(ConfigError):
        Decontaminator([str(bad)])
    with pytest.raises(ConfigError):
        Decontaminator(ngram=3)
