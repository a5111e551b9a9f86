"""In-process vLLM behind the client's interface (`run_batch`, `ledger`), for GPU machines.

Optional: `pip install corpusmill[vllm]` in an environment where vLLM and Beam resolve
together (usually they do not, which is why jobs normally reach `vllm serve` over HTTP).
vLLM is imported only when a `LocalVLLM` is built.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections.abc import Sequence
from typing import Any

from corpusmill.errors import ConfigError
from corpusmill.llm import wire
from corpusmill.llm.types import Failure, Ledger, Request, Response, Result

INSTALL_HINT = (
    "in-process vLLM needs the vllm package on a GPU machine (`pip install corpusmill[vllm]`); "
    "otherwise run `vllm serve MODEL` and give its URL to ClientConfig(urls=...)"
)


class LocalVLLM:
    """Runs requests on a `vllm.LLM` in this process; results and failures as from `LLMClient`."""

    def __init__(self, model: str, **engine_args: Any) -> None:
        try:
            import vllm
        except ImportError as exc:
            raise ConfigError(INSTALL_HINT) from exc
        self._vllm = vllm
        self.model = model
        self._llm = vllm.LLM(model=model, **engine_args)
        self._ledger = Ledger()
        self._lock = threading.Lock()  # one engine: batches from several threads run one at a time

    @property
    def ledger(self) -> Ledger:
        return copy.deepcopy(self._ledger)

    def __enter__(self) -> LocalVLLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._llm = None

    def run_batch(self, requests: Sequence[Request]) -> list[Result]:
        """Results in request order; a batch the engine rejects is retried one request at a time."""
        with self._lock:
            start = time.monotonic()
            try:
                results = self._generate(list(requests))
            except (ValueError, RuntimeError):
                results = [self._one(r) for r in requests]
            seconds = (time.monotonic() - start) / max(1, len(requests))
            results = [_with_cost(r, seconds) for r in results]
            for result in results:
                self._ledger.add(result)
            return results

    def _one(self, request: Request) -> Result:
        try:
            return self._generate([request])[0]
        except (ValueError, RuntimeError) as exc:
            reason = "context_length_exceeded" if wire.CONTEXT_RE.search(str(exc)) else "bad_request"
            return Failure(request.tag, reason, type(exc).__name__, str(exc))

    def _generate(self, requests: list[Request]) -> list[Result]:
        results: list[Result | None] = [None] * len(requests)
        for chat in (True, False):
            picked = [i for i, r in enumerate(requests) if r.is_chat == chat]
            if not picked:
                continue
            params = [self._sampling(requests[i]) for i in picked]
            if chat:
                conversations = [[m.to_openai() for m in requests[i].messages] for i in picked]
                outputs = self._llm.chat(conversations, sampling_params=params, use_tqdm=False)
            else:
                outputs = self._llm.generate(
                    [requests[i].prompt for i in picked], sampling_params=params, use_tqdm=False
                )
            for i, output in zip(picked, outputs):
                results[i] = self._result(requests[i], output)
        return [r for r in results if r is not None]

    def _sampling(self, request: Request) -> Any:
        fields = {**request.sampling(), **(request.extra or {})}
        if request.json_schema is not None:
            schema = dict(request.json_schema)
            params_mod = self._vllm.sampling_params
            if hasattr(params_mod, "StructuredOutputsParams"):  # vLLM >= 0.11
                fields["structured_outputs"] = params_mod.StructuredOutputsParams(json=schema)
            else:
                fields["guided_decoding"] = params_mod.GuidedDecodingParams(json=schema)
        return self._vllm.SamplingParams(**fields)

    def _result(self, request: Request, output: Any) -> Result:
        texts = tuple(c.text for c in output.outputs)
        response = Response(
            tag=request.tag, text=texts[0] if texts else "", texts=texts,
            finish_reason=str(output.outputs[0].finish_reason or "") if output.outputs else "",
            model=self.model, prompt_tokens=len(output.prompt_token_ids or ()),
            completion_tokens=sum(len(c.token_ids) for c in output.outputs),
        )  # fmt: skip
        return wire.check_json(request, response) if request.json_schema is not None else response


def _with_cost(result: Result, seconds: float) -> Result:
    """One engine call per request in the ledger, with an equal share of the batch's time."""
    return dataclasses.replace(result, attempts=1, seconds=seconds)
