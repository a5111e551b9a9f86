"""Every shipped generator against the `Generator` contract (synth/base.py).

The programmatic generator runs as is; the LLM generators ask the local OpenAI-protocol test
server, scripted so that each of them keeps some items and rejects others. The contract: every
index of [start, end) gets exactly one outcome (a DOCUMENT_SCHEMA row or a dead letter), item `i`
depends only on the config, the seed and `i` (so any split of a range gives the same items),
generators pickle before and after use, kept items name their generator and its version, and a
server that cannot be reached costs dead letters, not the job.
"""

from __future__ import annotations

import json
import pickle
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pytest

from corpusmill.llm import ClientConfig, fake_answers
from corpusmill.llm.testing import LLMTestServer
from corpusmill.schema import DEAD_LETTER_SCHEMA, DOCUMENT_SCHEMA
from corpusmill.synth.base import Generator, Outcome
from corpusmill.synth.code_gen import LLMCode
from corpusmill.synth.families import FAMILIES
from corpusmill.synth.math_llm import LLMMath
from corpusmill.synth.math_programmatic import ProgrammaticMath, item_rng
from corpusmill.synth.math_render import render
from corpusmill.synth.sandbox import Limits
from corpusmill.synth.textbook import LLMTextbook

SEED, OTHER_SEED, START = 7, 8, 3
MATH_FAMILIES = tuple(FAMILIES)[:3]
TEXTBOOK_TOPICS = ("photosynthesis", "volcanoes", "tides")  # "tides" gets an answer too short to keep
CODE_TOPICS = ("adding numbers", "garbled")  # "garbled" gets an answer without code blocks
PASSING_CODE = (
    "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```\n\n"
    "```python\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_zero():\n    assert add(0, 0) == 0\n```"
)


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[ClientConfig, int], Generator]
    count: int  # items per run: small, since the LLM ones go over HTTP and code runs in sandboxes
    llm: bool = True


CASES = [
    Case("programmatic_math", lambda client, seed: ProgrammaticMath(seed=seed, langs=["en", "fr"]), 24, llm=False),
    Case(
        "llm_math",
        lambda client, seed: LLMMath(client, mode="solve", seed=seed, langs=["en"], families=MATH_FAMILIES),
        6,
    ),
    Case("llm_textbook", lambda client, seed: LLMTextbook(client, topics=TEXTBOOK_TOPICS, seed=seed, words=50), 6),
    Case(
        "llm_code",
        lambda client, seed: LLMCode(
            client,
            seed=seed,
            topics=CODE_TOPICS,
            sandboxes=1,
            limits=Limits(cpu_seconds=2, wall_seconds=5, memory_mb=256, file_size_mb=1, processes=8),
        ),
        4,
    ),
]


def _math_answers() -> dict[str, str]:
    """Question -> scripted answer for the items LLMMath asks about: right, except every third."""
    answers = {}
    for seed in (SEED, OTHER_SEED):
        for i in range(START + 8):
            item = FAMILIES[MATH_FAMILIES[i % len(MATH_FAMILIES)]].generate(item_rng(seed, i))
            answers[render(item, "en").question] = "Answer: 123457" if i % 3 == 1 else f"Answer: {item.answer_latex}"
    return answers


def _answer(prompt: str, math: dict[str, str]) -> str:
    if "task area: " in prompt:
        return "Here is some code: def f(): pass" if "task area: garbled" in prompt else PASSING_CODE
    for topic in TEXTBOOK_TOPICS:
        if topic in prompt:
            return "Too short." if topic == "tides" else " ".join([f"{topic} matters because"] * 12) + "."
    return next((answer for question, answer in math.items() if question in prompt), "I do not know.")


@pytest.fixture(scope="module")
def server() -> Iterator[LLMTestServer]:
    math = _math_answers()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fake_answers, "answer_text", lambda text, images: _answer(text, math))
        with LLMTestServer() as running:
            yield running


def _client(url: str) -> ClientConfig:
    return ClientConfig(urls=(url,), model="test-model", retries=0, backoff=0.01, timeout=30)


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


def _make(case: Case, server: LLMTestServer, seed: int = SEED) -> Generator:
    return case.make(_client(server.url), seed)


def _run(gen: Generator, start: int, end: int) -> dict[int, Outcome]:
    outcomes = list(gen.outcomes(start, end))
    by_index = {o.index: o for o in outcomes}
    assert len(by_index) == len(outcomes), "an index got two outcomes"
    return by_index


def test_every_index_has_one_valid_outcome(case: Case, server: LLMTestServer) -> None:
    gen = _make(case, server)
    out = _run(gen, START, START + case.count)
    gen.close()
    assert sorted(out) == list(range(START, START + case.count))
    docs = [o.document for o in out.values() if o.document is not None]
    dead = [o.dead_letter for o in out.values() if o.dead_letter is not None]
    assert all((o.document is None) != (o.dead_letter is None) for o in out.values())
    assert docs, "every generator keeps some items"
    assert dead or not case.llm, "the scripted answers make each LLM generator reject some items"
    assert pa.Table.from_pylist(docs, schema=DOCUMENT_SCHEMA).num_rows == len(docs)
    assert all(set(d) == set(DOCUMENT_SCHEMA.names) and d["text"].strip() for d in docs)
    assert len({d["id"] for d in docs}) == len(docs)
    for row in dead:
        assert set(DEAD_LETTER_SCHEMA.names) <= set(row) and row["stage"] and row["reason"] and row["uri"]
    assert pa.Table.from_pylist(dead, schema=DEAD_LETTER_SCHEMA).num_rows == len(dead)


def test_kept_items_name_their_generator_and_version(case: Case, server: LLMTestServer) -> None:
    gen = _make(case, server)
    docs = [o.document for o in _run(gen, START, START + case.count).values() if o.document]
    gen.close()
    assert gen.name and gen.version and gen.kind
    config = json.loads(json.dumps(gen.config()))  # stored in the run's summary: must be JSON
    assert config["generator"] == gen.name and config["version"] == gen.version
    for doc in docs:
        meta = json.loads(doc["meta"])
        assert meta["generator"].startswith("corpusmill.synth.") and meta["generator_version"] == gen.version
        assert doc["source"] == gen.source and meta["index"] == int(doc["uri"].rsplit("/", 1)[1])


def test_deterministic_and_any_split_gives_the_same_items(case: Case, server: LLMTestServer) -> None:
    end, cut = START + case.count, START + case.count // 2
    first, second, split = _make(case, server), _make(case, server), _make(case, server)
    whole = _run(first, START, end)
    assert _run(second, START, end) == whole
    assert {**_run(split, cut, end), **_run(split, START, cut)} == whole
    other = _make(case, server, seed=OTHER_SEED)
    moved = _run(other, START, end)
    for g in (first, second, split, other):
        g.close()
    ids = {o.document["id"] for o in whole.values() if o.document}
    assert ids.isdisjoint(o.document["id"] for o in moved.values() if o.document), "the seed must change ids"


def test_picklable_before_and_after_use(case: Case, server: LLMTestServer) -> None:
    fresh = _make(case, server)
    clone = pickle.loads(pickle.dumps(fresh))
    used = _make(case, server)
    expected = _run(used, START, START + case.count)  # an LLM generator holds an open client now
    revived = pickle.loads(pickle.dumps(used))
    assert _run(clone, START, START + case.count) == expected
    assert _run(revived, START, START + case.count) == expected
    for g in (clone, used, revived):
        g.close()


@pytest.mark.parametrize("case", [c for c in CASES if c.llm], ids=lambda c: c.name)
def test_unreachable_server_dead_letters_every_item(case: Case) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gen = case.make(_client(f"http://127.0.0.1:{port}/v1"), SEED)
    out = _run(gen, START, START + 3)
    gen.close()
    assert sorted(out) == [START, START + 1, START + 2]
    assert all(o.document is None and o.dead_letter is not None for o in out.values())
    assert {o.dead_letter["reason"] for o in out.values() if o.dead_letter} <= {"unreachable", "connection_error"}
