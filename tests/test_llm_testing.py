"""The test server speaks the OpenAI protocol: the `openai` package itself talks to it."""

from __future__ import annotations

import base64
import json

import openai
import pymupdf
import pytest

from corpusmill.errors import ConfigError
from corpusmill.llm.testing import LLMTestServer

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3, "maximum": 9}}, "required": ["n"]}


@pytest.fixture
def server():
    with LLMTestServer(models=("m1", "m2")) as srv:
        yield srv


def peer(server: LLMTestServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=10)


def test_openai_package_lists_models_and_chats_with_an_image(server):
    client = peer(server)
    assert [m.id for m in client.models.list()] == ["m1", "m2"]
    png = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 12, 34), False).tobytes("png")
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    answer = client.chat.completions.create(
        model="m2",
        messages=[{"role": "user", "content": [{"type": "text", "text": "what is this"},
                                               {"type": "image_url", "image_url": {"url": url}}]}],
    )  # fmt: skip
    assert answer.choices[0].message.content == "echo: what is this [image 12x34 png]"
    assert answer.usage.prompt_tokens == 3 + 64  # three words and one image
    assert answer.usage.completion_tokens == len(answer.choices[0].message.content.split())


def test_openai_package_guided_json_and_completions(server):
    client = peer(server)
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}}
    answer = client.chat.completions.create(
        model="m1", messages=[{"role": "user", "content": "hi"}], response_format=fmt
    )
    assert 3 <= json.loads(answer.choices[0].message.content)["n"] <= 9
    guided = client.chat.completions.create(model="m1", messages=[{"role": "user", "content": "hi"}],
                                            extra_body={"guided_json": SCHEMA})  # fmt: skip
    assert guided.choices[0].message.content == answer.choices[0].message.content  # deterministic
    text = client.completions.create(model="m1", prompt="a b c d", max_tokens=2)
    assert (text.choices[0].text, text.choices[0].finish_reason) == ("echo: a", "length")


def test_openai_package_sees_the_errors_vllm_sends(server):
    client = peer(server)
    with pytest.raises(openai.BadRequestError, match="maximum context length"):
        client.completions.create(model="m1", prompt="w " * 5000)
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="nope", prompt="x")
    server.inject("429")
    with pytest.raises(openai.RateLimitError):
        client.completions.create(model="m1", prompt="x")
    server.inject("500")
    with pytest.raises(openai.InternalServerError):
        client.completions.create(model="m1", prompt="x")


def test_fault_rates_pick_the_same_bodies_every_run():
    def failing(server: LLMTestServer) -> list[int]:
        client = peer(server)
        out = []
        for i in range(200):
            try:
                client.completions.create(model="test-model", prompt=f"p{i}")
            except openai.InternalServerError:
                out.append(i)
        return out

    with LLMTestServer(rates={"500": 0.25}) as a, LLMTestServer(rates={"500": 0.25}) as b:
        first = failing(a)
        assert first == failing(b) and 20 < len(first) < 80
        assert failing(a) == []  # fault_repeats=1: the second attempt of each body succeeds


def test_bad_fault_settings_are_config_errors():
    with pytest.raises(ConfigError):
        LLMTestServer(rates={"teapot": 0.1})
    with pytest.raises(ConfigError):
        LLMTestServer(rates={"500": 0.7, "429": 0.7})
    with LLMTestServer() as server, pytest.raises(ConfigError):
        server.inject("teapot")
