"""The test LLM server with answers scripted per test: real HTTP, real OpenAI protocol.

`corpusmill.llm.testing.LLMTestServer` answers by its rule `fake_answers.answer_text(text,
images)`; a test swaps in a function of the prompt text so that the model says exactly what
the test needs (a wrong answer, failing code, a copied benchmark problem...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from corpusmill.llm import ClientConfig, fake_answers
from corpusmill.llm.testing import LLMTestServer


@contextmanager
def scripted_server(monkeypatch: pytest.MonkeyPatch, answer: Callable[[str], str]) -> Iterator[LLMTestServer]:
    monkeypatch.setattr(fake_answers, "answer_text", lambda text, images: answer(text))
    with LLMTestServer() as server:
        yield server


def client_config(server: LLMTestServer, cache_dir: str | None = None) -> ClientConfig:
    return ClientConfig(
        urls=(server.url,), model="test-model", retries=1, backoff=0.01, timeout=30, cache_dir=cache_dir
    )
