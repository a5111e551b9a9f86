"""The Beam transform: per-element requests, dead letters instead of failed bundles, the ledger,
and the 2,000-request job with injected faults that a re-run answers entirely from the cache."""

from __future__ import annotations

import functools
import json

import apache_beam as beam
import pyarrow as pa
import pytest
from apache_beam.testing.util import assert_that, equal_to

from corpusmill import storage
from corpusmill.errors import ConfigError
from corpusmill.llm import ClientConfig, LLMClient, Request, user
from corpusmill.llm.testing import LLMTestServer
from corpusmill.pipelines.beam_options import local_runner, pipeline_options
from corpusmill.pipelines.common import WriteDeadLetters
from corpusmill.pipelines.llm_inference import LLMInference, ledger_from_metrics
from tests.beam_runners import RUNNERS, runner_kwargs

SCHEMA = {
    "type": "object",
    "properties": {"quality": {"type": "integer", "minimum": 0, "maximum": 3}, "lang": {"enum": ["en", "de", "fr"]}},
    "required": ["quality", "lang"],
}
WINDOW = 256  # tokens (words): small, so that overlong test prompts stay small too
RESULT_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("parsed", pa.string())])


def element(i: int) -> tuple[str, Request]:
    """Mixed per-element requests: guided JSON, plain chat with its own max_tokens, overlong prompts."""
    key = f"doc-{i:05d}"
    if i % 50 == 7:
        return key, Request(messages=(user(f"long document {i} " + "word " * 300),))  # over WINDOW
    if i % 2:
        return key, Request(messages=(user(f"label document {i} about topic {i % 13}"),), json_schema=SCHEMA, seed=i)
    return key, Request(messages=(user(f"summarize document {i} in a few words"),), max_tokens=4 + i % 5)


def elements(n: int) -> list[tuple[str, Request]]:
    return [element(i) for i in range(n)]


def run_job(n: int, config: ClientConfig, out_dir: str, batch_size: int) -> dict:
    """Run LLMInference on `n` elements built in the pipeline (as a job builds them from documents);
    write results, dead letters (the shared writer) and the ledger."""

    def write_results(rows: list[dict]) -> None:
        table = pa.Table.from_pylist(sorted(rows, key=lambda r: r["id"]), schema=RESULT_SCHEMA)
        storage.write_parquet(table, storage.join(out_dir, "results.parquet"))

    with beam.Pipeline(options=pipeline_options([], workers=1)) as pipeline:
        pairs = pipeline | beam.Create(range(n)) | "Request" >> beam.Map(element)
        outputs = pairs | LLMInference(config, stage="label", batch_size=batch_size)
        (outputs.results
         | "Row" >> beam.MapTuple(lambda k, r: {"id": k, "text": r.text, "parsed": json.dumps(r.parsed, sort_keys=True)})
         | "Gather" >> beam.combiners.ToList()
         | "Write" >> beam.Map(write_results))  # fmt: skip
        outputs.dead_letters | WriteDeadLetters(out_dir, "label")
        outputs.ledger | beam.Map(storage.write_json, storage.join(out_dir, "ledger.json"))
    return storage.read_json(storage.join(out_dir, "ledger.json"))


def test_2000_requests_with_20_percent_faults_then_a_rerun_from_cache(tmp_path):
    rates = {"500": 0.06, "429": 0.04, "malformed": 0.03, "drop": 0.03, "hang": 0.01, "off_schema": 0.03}
    pairs = elements(2000)
    outs = [str(tmp_path / "run1"), str(tmp_path / "run2")]
    with LLMTestServer(rates=rates, hang_seconds=30, context_window=WINDOW) as server:
        # Large batches let the hung requests of one batch time out together.
        config = ClientConfig(urls=(server.url,), model="test-model", timeout=1.0, retries=5, backoff=0.02,
                              backoff_max=0.2, cache_dir=str(tmp_path / "_llm_cache"))  # fmt: skip
        first = run_job(2000, config, outs[0], batch_size=1000)
        sent_first = server.completions
        second = run_job(2000, config, outs[1], batch_size=1000)
        assert server.completions == sent_first  # the re-run sent nothing
    results = storage.read_parquet(f"{outs[0]}/results.parquet").to_pylist()
    dead = storage.read_parquet(f"{outs[0]}/_dead_letters/label-00000.parquet").to_pylist()
    assert sorted([r["id"] for r in results] + [d["id"] for d in dead]) == [k for k, _ in pairs]
    assert {d["reason"] for d in dead} == {"context_length_exceeded", "schema_mismatch"}
    assert sum(d["reason"] == "context_length_exceeded" for d in dead) == 40
    assert server.stats["fault_500"] > 50 and server.stats["fault_hang"] > 5 and first["retries"] > 250
    assert first["requests"] == 2000 and first["http_requests"] == sent_first and first["cache_hits"] == 0
    assert (first["responses"], first["failures"]) == (len(results), len(dead))
    assert second["cache_hits"] == 2000 and second["http_requests"] == 0
    for name in ("results.parquet", "_dead_letters/label-00000.parquet"):
        with open(f"{outs[0]}/{name}", "rb") as a, open(f"{outs[1]}/{name}", "rb") as b:
            assert a.read() == b.read(), name


@pytest.mark.parametrize("runner", RUNNERS)
def test_transform_routes_failures_to_dead_letters(runner):
    pairs = elements(60)
    with LLMTestServer(context_window=WINDOW) as server:
        config = ClientConfig(urls=(server.url,), backoff=0.01, retries=1)
        server.inject("500", 2)  # transient: retried, never seen downstream
        kw = runner_kwargs(runner)
        options = pipeline_options(kw["beam_args"], workers=kw["workers"])
        pipeline = beam.Pipeline(runner=local_runner(options), options=options)
        outputs = pipeline | beam.Create(pairs) | LLMInference(config, stage="ocr", batch_size=16)
        kinds = outputs.results | beam.MapTuple(
            lambda k, r: (k, r.parsed is not None, r.text if k == "doc-00000" else "")
        )
        long = ("doc-00007", "doc-00057")
        expected = [(k, r.json_schema is not None, "echo: summarize document 0" if k == "doc-00000" else "")
                    for k, r in pairs if k not in long]  # fmt: skip
        assert_that(kinds, equal_to(expected), label="results")
        reasons = outputs.dead_letters | beam.Map(lambda d: (d["id"], d["uri"], d["stage"], d["reason"], d["error"]))
        assert_that(
            reasons, equal_to([(k, k, "ocr", "context_length_exceeded", "HTTP 400") for k in long]), label="dead"
        )
        summed = outputs.ledger | beam.Map(lambda d: (d["requests"], d["responses"], d["failures"], d["retries"]))
        assert_that(summed, equal_to([(60, 58, 2, 2)]), label="ledger")
        result = pipeline.run()
        result.wait_until_finish()
    ledger = ledger_from_metrics(result, "ocr")
    assert (ledger["requests"], ledger["responses"], ledger["failures"]) == (60, 58, 2)
    assert ledger["retries"] == 2 and ledger["failure_reasons"] == {"context_length_exceeded": 2}


def test_any_backend_with_run_batch_can_serve_the_transform():
    pairs = elements(10)
    with LLMTestServer(context_window=WINDOW) as server:
        backend = functools.partial(LLMClient, ClientConfig(urls=(server.url,)))
        with beam.Pipeline(options=pipeline_options([], workers=1)) as pipeline:
            outputs = pipeline | beam.Create(pairs) | LLMInference(stage="x", backend=backend, batch_size=4)
            assert_that(outputs.results | beam.Keys(), equal_to([k for k, _ in pairs if k != "doc-00007"]))
    with pytest.raises(ConfigError):
        LLMInference(stage="x")
