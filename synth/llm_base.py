"""Shared plumbing of the LLM-backed generators: one client per worker, failures as dead letters.

The client (`corpusmill.llm`) owns transport, retries and the response cache; generators only
build `Request`s and read `Response`s. Because requests are deterministic (fixed seed and
sampling per item) and the cache is keyed by request content, a re-run of a job asks the
server nothing and produces the same documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from corpusmill.llm import ClientConfig, Failure, Ledger, LLMClient, Request, Result, Usage
from corpusmill.schema import dead_letter
from corpusmill.synth.base import Generator, Outcome


class LLMGenerator(Generator):
    """A generator that asks an OpenAI-compatible server; subclasses build prompts and judge answers."""

    batch_size = 64

    def __init__(self, client: ClientConfig, *, seed: int = 0, temperature: float = 0.7) -> None:
        self.client_config = client
        self.seed = seed
        self.temperature = temperature
        self._client: LLMClient | None = None
        self._ledger = Ledger()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None  # a live client never travels to workers; `setup` opens one there
        return state

    def setup(self) -> None:
        if self._client is None:
            self._client = LLMClient(self.client_config).open()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def ask(self, requests: Sequence[Request]) -> list[Result]:
        self.setup()
        assert self._client is not None
        results = self._client.run_batch(requests)
        for result in results:
            self._ledger.add(result)
        return results

    def take_ledger(self) -> Usage:
        ledger, self._ledger = self._ledger, Ledger()
        return {"generate": ledger}

    @property
    def model(self) -> str | None:
        return self.client_config.model

    def llm_config(self) -> dict[str, Any]:
        """What of the client decides the output (the servers' addresses do not)."""
        return {"model": self.model, "seed": self.seed, "temperature": self.temperature}

    def failed(
        self, index: int, uri: str, stage: str, reason: str, message: str, error: str = "RecordError"
    ) -> Outcome:
        return Outcome(
            index, dead_letter=dead_letter(uri=uri, stage=stage, reason=reason, error=error, message=message)
        )

    def failed_request(self, index: int, uri: str, result: Failure) -> Outcome:
        """A `Failure` from the client (timeout, server error, schema mismatch...) as a dead letter."""
        return self.failed(index, uri, "llm", result.reason, result.message, result.error)
