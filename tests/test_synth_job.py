"""The synthesize job end to end: accounting, dedup, decontamination, determinism, runners."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpusmill.corpus import open_corpus
from corpusmill.errors import OutputExistsError
from corpusmill.pipelines.synthesize import overshoot, run_synthesize
from corpusmill.synth.decontaminate import shipped_benchmarks
from corpusmill.synth.math_llm import LLMMath
from corpusmill.synth.math_programmatic import ProgrammaticMath
from tests.beam_runners import RUNNERS, runner_kwargs
from tests.synth_llm_double import client_config, scripted_server


def _parts(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("part-*.parquet"))}


@pytest.mark.parametrize("runner", RUNNERS)
def test_programmatic_math_job(runner: str, tmp_path: Path) -> None:
    out = tmp_path / "math"
    s = run_synthesize(
        ProgrammaticMath(seed=1, langs=["en", "zh", "ar"]),
        str(out),
        n=overshoot(40),
        target=40,
        **runner_kwargs(runner),
    )
    assert s["docs"] == 40 and s["records_in"] == 60
    assert s["records_in"] == s["docs"] + s["dead_letters_total"] + s["surplus"]
    assert s["duplicate_rate"] < 0.05 and set(s["by_language"]) == {"en", "zh", "ar"}
    with open_corpus(str(out)) as corpus:
        rows = corpus.sql("SELECT source, count(*) FROM documents GROUP BY source").fetchall()
        assert rows == [("synth/math", 40)]
        kept = [
            r[0] for r in corpus.sql("SELECT json_extract(meta, '$.index')::INT FROM documents ORDER BY 1").fetchall()
        ]
    assert kept == sorted(kept) and kept[-1] < 60  # the first 40 unique items by index
    assert json.loads((out / "_summary.json").read_text())["docs"] == 40


def test_rerun_skips_and_output_is_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    first = run_synthesize(ProgrammaticMath(seed=2), str(a), n=30, workers=1)
    run_synthesize(ProgrammaticMath(seed=2), str(b), n=30, workers=1)
    assert _parts(a) == _parts(b) and _parts(a)
    again = run_synthesize(ProgrammaticMath(seed=2), str(a), n=30, workers=1)
    assert again["skipped"] and again["fingerprint"] == first["fingerprint"]
    with pytest.raises(OutputExistsError):
        run_synthesize(ProgrammaticMath(seed=3), str(a), n=30, workers=1)


GSM8K_FIRST = json.loads(Path(shipped_benchmarks()[0]).read_text(encoding="utf-8").splitlines()[0])["question"]


def _invent_answer(prompt: str) -> str:
    if "Write one new" in prompt:
        if "percentages" in prompt:  # the model regurgitates a GSM8K test problem
            return GSM8K_FIRST
        if "functions" in prompt or "linear equations" in prompt:  # two topics, the same problem
            return "A train travels 60 kilometres in 1 hour. At the same speed, how far does it go in 7 hours?"
        topic = prompt.split("new, self-contained ")[1].split(" problem")[0]
        return f"A {topic} puzzle: what is 6 times 7 when you add nothing to it and think of {topic} all the while?"
    return "Multiply the two numbers step by step.\nAnswer: 42\n"


def test_llm_job_drops_benchmark_copies_and_duplicates_and_reruns_from_cache(monkeypatch, tmp_path: Path) -> None:
    topics = ["percentages", "functions", "linear equations", "geometry", "probability"]
    with scripted_server(monkeypatch, _invent_answer) as server:
        cfg = client_config(server, cache_dir=str(tmp_path / "cache"))
        gen = LLMMath(cfg, mode="invent", topics=topics, langs=["en"], samples=2)
        s = run_synthesize(gen, str(tmp_path / "a"), n=5, workers=1)
        asked = server.completions
        again = run_synthesize(
            LLMMath(cfg, mode="invent", topics=topics, langs=["en"], samples=2), str(tmp_path / "b"), n=5, workers=1
        )
        assert server.completions == asked  # every answer came from the cache
    assert s["removed_by_decontamination"] == 1 and s["removed_by_dedup"] == 1 and s["docs"] == 3
    assert s["dead_letters"] == {"decontaminate/benchmark_overlap": 1, "dedup/near_duplicate": 1}
    assert again["docs"] == 3 and _parts(tmp_path / "a") == _parts(tmp_path / "b")
    assert s["llm"]["generate"]["requests"] == 10 and s["llm"]["generate"]["cache_hits"] == 0
    assert again["llm"]["generate"]["cache_hits"] == 10 and not (tmp_path / "a" / "_llm_ledger.json").exists()
    with open_corpus(str(tmp_path / "a")) as corpus:
        (msg,) = corpus.sql("SELECT message FROM dead_letters WHERE reason = 'benchmark_overlap'").fetchall()[0]
    assert "gsm8k_test" in msg
