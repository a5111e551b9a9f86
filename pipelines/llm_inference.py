"""Beam: run LLM requests carried by elements, one client per worker process.

`LLMInference` takes `(key, Request)` pairs, so every element brings its own prompt, images,
sampling and JSON schema, and returns `LLMOutputs`:

- `results`: `(key, Response)` pairs;
- `dead_letters`: `corpusmill.schema.dead_letter` rows (`id` and `uri` = key) for requests that
  failed; a failed request never fails the bundle;
- `ledger`: one dict, the summed `Ledger.as_dict()` of every batch, for the job summary.

The client (HTTP session, concurrency bound, cache) is shared by every thread of a worker
process through `apache_beam.utils.shared`. The same figures are also Beam counters under
`llm/<stage>` for live monitoring (`ledger_from_metrics` reads them back).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.utils import shared

from corpusmill.errors import ConfigError
from corpusmill.llm import ClientConfig, LLMClient, Request, Response
from corpusmill.llm.types import LEDGER_FIELDS, Backend, Ledger
from corpusmill.pipelines.common import DEAD_LETTER_TAG, BeamCounters
from corpusmill.schema import dead_letter

RESULTS_TAG = "results"
LEDGER_TAG = "ledger"


class LLMOutputs(NamedTuple):
    results: beam.PCollection  # (key, Response)
    dead_letters: beam.PCollection  # dead-letter rows
    ledger: beam.PCollection  # one dict: the stage's ledger


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
        generate = _GenerateFn(self.backend, self.stage)
        outputs = (
            pairs
            | "Batch" >> beam.BatchElements(min_batch_size=self.batch_size, max_batch_size=self.batch_size)
            | "Generate" >> beam.ParDo(generate).with_outputs(DEAD_LETTER_TAG, LEDGER_TAG, main=RESULTS_TAG)
        )
        ledger = outputs[LEDGER_TAG] | "SumLedger" >> beam.CombineGlobally(_SumLedgers())
        return LLMOutputs(outputs[RESULTS_TAG], outputs[DEAD_LETTER_TAG], ledger)


class _GenerateFn(beam.DoFn):
    def __init__(self, backend: Callable[[], Backend], stage: str) -> None:
        self._backend, self._stage = backend, stage
        self._shared = shared.Shared()  # pickled with the DoFn: every copy in a process finds one client
        self._client: Backend | None = None
        self._counters = BeamCounters(f"llm/{stage}")

    def setup(self) -> None:
        self._client = self._shared.acquire(self._backend)

    def process(self, batch: list[tuple[str, Request]]) -> Iterator[Any]:
        assert self._client is not None
        ledger = Ledger()
        for (key, _), result in zip(batch, self._client.run_batch([r for _, r in batch]), strict=True):
            ledger.add(result)
            if isinstance(result, Response):
                yield key, result
            else:
                yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, dead_letter(
                    id=key, uri=key, stage=self._stage, reason=result.reason, error=result.error,
                    message=result.message))  # fmt: skip
        self._count(ledger)
        yield beam.pvalue.TaggedOutput(LEDGER_TAG, ledger)

    def _count(self, ledger: Ledger) -> None:
        values = {name: getattr(ledger, name) for name in LEDGER_FIELDS}
        values["milliseconds"] = int(ledger.seconds * 1000)
        values.update({f"failure_{reason}": n for reason, n in ledger.failure_reasons.items()})
        for name, n in values.items():
            if n:
                self._counters.inc(name, n)


class _SumLedgers(beam.CombineFn):
    def create_accumulator(self) -> Ledger:
        return Ledger()

    def add_input(self, total: Ledger, ledger: Ledger) -> Ledger:
        total.merge(ledger)
        return total

    def merge_accumulators(self, totals: Iterable[Ledger]) -> Ledger:
        merged = Ledger()
        for total in totals:
            merged.merge(total)
        return merged

    def extract_output(self, total: Ledger) -> dict[str, Any]:
        return total.as_dict()


def ledger_from_metrics(result: Any, stage: str) -> dict[str, Any]:
    """The ledger of `stage` from a finished pipeline's counters, shaped as `Ledger.as_dict()`."""
    counters = result.metrics().query(MetricsFilter().with_namespace(f"llm/{stage}"))["counters"]
    totals: dict[str, int] = {}
    for c in counters:
        value = c.committed if c.committed is not None else c.attempted
        totals[c.key.metric.name] = totals.get(c.key.metric.name, 0) + int(value or 0)
    out: dict[str, Any] = {name: totals.get(name, 0) for name in LEDGER_FIELDS}
    out["seconds"] = round(totals.get("milliseconds", 0) / 1000, 3)
    out["failure_reasons"] = {k[len("failure_") :]: v for k, v in sorted(totals.items()) if k.startswith("failure_")}
    return out
