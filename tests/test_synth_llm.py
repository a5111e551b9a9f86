"""LLM-backed generators against the test server: what verification keeps and rejects."""

from __future__ import annotations

import json

import pytest

from corpusmill.errors import ConfigError
from corpusmill.llm import ClientConfig
from corpusmill.progress import DictCounters
from corpusmill.synth.code_gen import LLMCode
from corpusmill.synth.families import FAMILIES
from corpusmill.synth.math_item import plain
from corpusmill.synth.math_llm import LLMMath
from corpusmill.synth.math_programmatic import item_rng
from corpusmill.synth.math_render import render
from corpusmill.synth.sandbox import Limits
from corpusmill.synth.textbook import LLMTextbook, seeds_from_corpus
from tests.synth_llm_double import client_config, scripted_server

NAMES = tuple(FAMILIES)


def _split(outcomes):
    outcomes = list(outcomes)
    docs = {o.index: o.document for o in outcomes if o.document}
    dead = {o.index: o.dead_letter for o in outcomes if o.dead_letter}
    return docs, dead


def test_solve_keeps_right_answers_and_rejects_wrong_or_malformed(monkeypatch) -> None:
    items = {i: FAMILIES[NAMES[i]].generate(item_rng(5, i)) for i in range(6)}
    questions = {render(it, "en").question: (i, it) for i, it in items.items()}
    replies = {
        0: lambda it: f"1. We compute carefully.\nAnswer: {it.answer_latex}",
        1: lambda it: "1. A slip in the arithmetic.\nAnswer: 123457",  # wrong final answer
        2: lambda it: "I am not sure how to solve this.",  # no final answer at all
        3: lambda it: "Answer: 3 + * / 4)",  # malformed answer
        4: lambda it: f"Steps...\nSo the result is $\\boxed{{{plain(it.answer)}}}$.",  # (x, y) as a tuple
        5: lambda it: "Answer: __import__('os').system('echo pwned')",  # hostile answer
    }

    def answer(prompt: str) -> str:
        i, it = next(v for q, v in questions.items() if q in prompt)
        return replies[i](it)

    with scripted_server(monkeypatch, answer) as server:
        gen = LLMMath(client_config(server), mode="solve", seed=5, langs=["en"])
        counters = DictCounters()
        docs, dead = _split(gen.generate(0, 6, counters))
        gen.close()
    assert sorted(docs) == [0, 4]
    assert {i: d["reason"] for i, d in dead.items()} == {
        1: "wrong_answer",
        2: "no_final_answer",
        3: "unparseable_answer",
        5: "unparseable_answer",
    }
    meta = json.loads(docs[0]["meta"])
    assert meta["model"] == "test-model" and meta["verification"]["method"] == "sympy_equivalence"
    assert meta["template"].startswith("math_solve.txt@") and docs[0]["source"] == "synth/math"
    assert counters.counts["verified"] == 2 and counters.counts["dead_wrong_answer"] == 1


def test_invent_keeps_only_agreeing_samples(monkeypatch) -> None:
    calls = {"n": 0}

    def answer(prompt: str) -> str:
        if "Write one new" in prompt:
            return (
                "Tom has 3 boxes with 4 pens each. How many pens does he have?" if "percentages" not in prompt else ""
            )
        calls["n"] += 1
        # Every sample gets the same text from the test server: agreement when the answer parses.
        return "3 boxes times 4 pens.\nAnswer: 12\n" if "3 boxes" in prompt else "Answer: ?"

    with scripted_server(monkeypatch, answer) as server:
        gen = LLMMath(
            client_config(server),
            mode="invent",
            topics=["arithmetic word problems", "percentages"],
            langs=["en"],
            samples=3,
        )
        docs, dead = _split(gen.generate(0, 2))
        gen.close()
    assert list(docs) == [0] and dead[1]["reason"] == "malformed_answer"
    v = json.loads(docs[0]["meta"])["verification"]
    assert v["method"] == "majority_vote" and v["answer"] == "12" and v["votes"] == 3 and v["samples"] == 3


CODE = {
    "passing": (
        "def add(a: int, b: int) -> int:\n    return a + b",
        "def test_add():\n    assert add(2, 3) == 5\n\ndef test_neg():\n    assert add(-1, 1) == 0",
    ),
    "failing": ("def add(a, b):\n    return a - b", "def test_add():\n    assert add(2, 3) == 5"),
    "looping": ("def spin():\n    while True:\n        pass", "def test_spin():\n    spin()"),
    "forking": ("import os\ndef bomb():\n    while True:\n        os.fork()", "def test_bomb():\n    bomb()"),
    "hogging": (
        "def hog():\n    a = []\n    while True:\n        a.append(bytearray(10**7))",
        "def test_hog():\n    hog()",
    ),
    "escaping": (
        "def leak():\n    open('/tmp/corpusmill-leak.txt', 'w').write('x')\n    return 1",
        "def test_leak():\n    try:\n        leak()\n    except PermissionError:\n        pass",
    ),
    "phoning": (
        "import socket\ndef call():\n    socket.create_connection(('10.1.2.3', 80), timeout=1)",
        "def test_call():\n    call()",
    ),
}


def _code_answer(prompt: str) -> str:
    if "task area: garbled" in prompt:
        return "Here is some code: def f(): pass"  # malformed: no fenced blocks
    topic = next(t for t in CODE if f"task area: {t}" in prompt)
    solution, tests = CODE[topic]
    return f"```python\n{solution}\n```\n\n```python\n{tests}\n```"


def test_code_kept_only_when_tests_pass_and_bad_code_is_contained(monkeypatch) -> None:
    topics = [*CODE, "garbled"]
    limits = Limits(cpu_seconds=2, wall_seconds=3, memory_mb=256, file_size_mb=1, processes=8)
    with scripted_server(monkeypatch, _code_answer) as server:
        gen = LLMCode(client_config(server), topics=topics, limits=limits, sandboxes=2)
        docs, dead = _split(gen.generate(0, len(topics)))
        gen.close()
    reasons = {topics[i]: d["reason"] for i, d in dead.items()}
    assert list(docs) == [0]
    assert reasons["failing"] == "tests_failed"
    assert reasons["looping"] in ("timeout", "cpu_limit")
    assert reasons["forking"] in ("process_limit", "tests_failed", "timeout", "cpu_limit")
    assert reasons["hogging"] in ("memory_limit", "tests_failed")
    assert reasons["escaping"] == "sandbox_violation"  # the code caught the refusal; the log did not
    assert reasons["phoning"] == "sandbox_violation"
    assert reasons["garbled"] == "malformed_answer"
    meta = json.loads(docs[0]["meta"])
    assert meta["tests"] == {"count": 2, "passed": 2, "results": {"test_add": "passed", "test_neg": "passed"}}
    assert meta["verification"]["sandbox"]["status"] == "ok" and docs[0]["source"] == "synth/code"


def test_textbook_length_control_and_prompt_mix(monkeypatch) -> None:
    def answer(prompt: str) -> str:
        if "tiny" in prompt:
            return "Too short."
        if "endless" in prompt:
            return "word " * 5000  # the server cuts it at max_tokens: finish_reason "length"
        return " ".join(["Photosynthesis converts light into chemical energy."] * 20)

    with scripted_server(monkeypatch, answer) as server:
        gen = LLMTextbook(
            client_config(server), topics=["photosynthesis", "tiny", "endless"], words=100, langs=["en", "fr", "sw"]
        )
        docs, dead = _split(gen.generate(0, 6))
        prompts = [gen.request(i).messages[0].parts[0] for i in range(6)]
        gen.close()
    assert sorted(docs) == [0, 3]
    assert {i: d["reason"] for i, d in dead.items()} == {1: "too_short", 2: "truncated", 4: "too_short", 5: "truncated"}
    assert all("about 100 words" in p for p in prompts)
    meta = json.loads(docs[0]["meta"])
    assert meta["params"]["topic"] == "photosynthesis" and meta["verification"]["words"] == 120
    assert meta["language"] in ("en", "fr", "sw") and meta["template"].startswith("textbook_topic.txt@")


def test_textbook_seeds_from_an_annotated_corpus(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpusmill.schema import DOCUMENT_SCHEMA

    docs, ann = tmp_path / "docs", tmp_path / "ann"
    docs.mkdir()
    ann.mkdir()
    rows = [
        {"id": f"d{i}", "text": f"Document {i} about cells and energy.", "source": "t", "uri": f"u{i}", "meta": "{}"}
        for i in range(4)
    ]
    pq.write_table(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), docs / "part-00000.parquet")
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(4)], "edu_score": [1, 4, 2, 5]}), ann / "part-00000.parquet")
    seeds = seeds_from_corpus(str(docs), str(ann), where="edu_score >= 3")
    assert seeds == ["Document 1 about cells and energy.", "Document 3 about cells and energy."]


def test_textbook_accepts_every_qwen3_language_by_flores_code() -> None:
    cfg = ClientConfig(urls=("http://127.0.0.1:9/v1",), model="m")
    gen = LLMTextbook(cfg, topics=["tides"], langs=["tel_Telu"], words=100)
    assert "in Telugu for" in gen.request(0).messages[0].parts[0]
    with pytest.raises(ConfigError, match="FLORES"):
        LLMTextbook(cfg, topics=["tides"], langs=["xx_Xxxx"])
