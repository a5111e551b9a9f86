"""Beam: run LLM requests carried by elements, one client per worker process.

`LLMInference` takes `(key, Request)` pairs, so every element brings its own prompt, images,
sampling and JSON schema, and returns `LLMOutputs(results, dead_letters)`: `(key, Response)`
pairs and dead-letter rows (`corpusmill.schema.dead_letter`, `id` and `uri` = key) for requests
that failed. A failed request never fails the bundle. The client (with its HTTP session,
concurrency bound and cache) is shared by every thread of a worker process through
`apache_beam.utils.shared`; what it spent is counted in Beam metrics under `llm/<stage>`, and
`ledger_from_metrics` turns them back into the ledger for the job summary.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.utils import shared

from corpusmill.errors import ConfigError
from corpusmill.llm import ClientConfig, LLMClient, Request, Response
from corpusmill.llm.types import LEDGER_FIELDS, Backend, Ledger
from corpusmill.schema import dead_letter

DEAD_LETTER_TAG = "dead_letter"
RESULTS_TAG = "results"


class LLMOutputs(NamedTuple):
    results: beam.PCollection  # (key, Response)
    dead_letters: beam.PCollection  # dead-letter rows


class LLMInference(beam.PTransform):
    """(key, Request) -> LLMOutputs; `stage` names the step in dead letters and metrics.

    Requests go to an `LLMClient(config)`, or to `backend()` when given: a picklable callable
    returning any object with `run_batch(requests) -> results`, such as
    `functools.partial(LocalVLLM, model)` for in-process vLLM. `batch_size` elements go to it at
    once (default: the client's concurrency), so each bundle thread keeps that many in flight.
    """

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        stage: str,
        backend: Callable[[], Backend] | None = None,
        batch_size: int | None = None,
    ) -> None:
        super().__init__()
        if (config is None) == (backend is None):
            raise ConfigError("LLMInference: give exactly one of config= (HTTP servers) or backend=")
        self.backend = backend or functools.partial(LLMClient, config)
        self.stage = stage
        self.batch_size = batch_size or (config.concurrency if config else 64)

    def expand(self, pairs: beam.PCollection) -> LLMOutputs:
        outputs = (
            pairs
            | "Batch" >> beam.BatchElements(min_batch_size=self.batch_size, max_batch_size=self.batch_size)
            | "Generate" >> beam.ParDo(_GenerateFn(self.backend, self.stage)).with_outputs(DEAD_LETTER_TAG, main=RESULTS_TAG)
        )
        return LLMOutputs(outputs[RESULTS_TAG], outputs[DEAD_LETTER_TAG])


class _GenerateFn(beam.DoFn):
    def __init__(self, backend: Callable[[], Backend], stage: str) -> None:
        self._backend, self._stage = backend, stage
        self._shared = shared.Shared()  # pickled with the DoFn: every copy in a process finds one client
        self._client: Backend | None = None
        self._counters: dict[str, Any] = {}

    def setup(self) -> None:
        self._client = self._shared.acquire(self._backend)

    def process(self, batch: list[tuple[str, Request]]) -> Iterator[Any]:
        assert self._client is not None
        for (key, _), result in zip(batch, self._client.run_batch([r for _, r in batch])):
            self._count(result)
            if isinstance(result, Response):
                yield key, result
            else:
                yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, dead_letter(
                    id=key, uri=key, stage=self._stage, reason=result.reason, error=result.error,
                    message=result.message))  # fmt: skip

    def _count(self, result: Any) -> None:
        one = Ledger()
        one.add(result)
        values = {name: getattr(one, name) for name in LEDGER_FIELDS}
        values["milliseconds"] = int(one.seconds * 1000)
        values.update({f"failure_{reason}": n for reason, n in one.failure_reasons.items()})
        for name, n in values.items():
            if n:
                counter = self._counters.get(name)
                if counter is None:
                    counter = self._counters[name] = Metrics.counter(f"llm/{self._stage}", name)
                counter.inc(n)


def ledger_from_metrics(result: Any, stage: str) -> dict[str, Any]:
    """The ledger of `stage` from a finished pipeline's metrics, as in `Ledger.as_dict()`."""
    counters = result.metrics().query(MetricsFilter().with_namespace(f"llm/{stage}"))["counters"]
    totals: dict[str, int] = {}
    for c in counters:
        value = c.committed if c.committed is not None else c.attempted
        totals[c.key.metric.name] = totals.get(c.key.metric.name, 0) + int(value or 0)
    out: dict[str, Any] = {name: totals.get(name, 0) for name in LEDGER_FIELDS}
    out["seconds"] = round(totals.get("milliseconds", 0) / 1000, 3)
    out["failure_reasons"] = {k[len("failure_") :]: v for k, v in sorted(totals.items()) if k.startswith("failure_")}
    return out
