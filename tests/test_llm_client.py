"""The LLM client against the local OpenAI-protocol server: answers, parameters, every bad input."""

from __future__ import annotations

import asyncio
import json
import socket

import pymupdf
import pytest

from corpusmill.errors import ConfigError
from corpusmill.llm import ClientConfig, Failure, Image, LLMClient, Request, Response, system, user
from corpusmill.llm.testing import LLMTestServer

SCORE = {
    "type": "object",
    "properties": {"score": {"type": "integer", "minimum": 0, "maximum": 5}, "topic": {"type": "string"}},
    "required": ["score", "topic"],
}


def config(*urls: str, **kw) -> ClientConfig:
    # Tiny backoff keeps retry tests fast; the schedule itself is what is under test.
    return ClientConfig(urls=urls, backoff=0.01, backoff_max=0.05, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def image(width: int, height: int, fmt: str) -> bytes:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    return pix.tobytes(fmt)


@pytest.fixture
def server():
    with LLMTestServer() as srv:
        yield srv


def test_chat_with_images_reports_their_sizes(server):
    request = Request(messages=(system("You OCR."), user("read these", Image(image(37, 21, "png")),
                                                         Image(image(40, 30, "jpg")))), tag="p1")  # fmt: skip
    with LLMClient(config(server.url)) as client:
        result = client.generate(request)
    assert isinstance(result, Response), result
    assert result.text == "echo: read these [image 37x21 png] [image 40x30 jpeg]"
    assert result.tag == "p1" and result.model == "test-model" and result.attempts == 1
    sent = json.loads(server.last_body)["messages"][1]["content"]
    assert sent[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert sent[2]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_per_request_sampling_reaches_the_server(server):
    requests = [
        Request(prompt="one two three four five", max_tokens=3),
        Request(messages=(user("alpha beta STOP gamma"),), stop=("STOP",)),
        Request(messages=(user("twice"),), n=2, temperature=0.7, top_p=0.9, seed=7, extra={"top_k": 5}),
    ]
    with LLMClient(config(server.url, model="test-model")) as client:
        short, stopped, two = client.run_batch(requests)
    assert (short.text, short.finish_reason) == ("echo: one two", "length")
    assert stopped.text == "echo: alpha beta "
    assert two.texts == ("echo: twice", "echo: twice #1")
    body = json.loads(server.last_body)
    assert {k: body[k] for k in ("n", "temperature", "top_p", "seed", "top_k")} == {
        "n": 2, "temperature": 0.7, "top_p": 0.9, "seed": 7, "top_k": 5}  # fmt: skip


@pytest.mark.parametrize("guided", ["both", "response_format", "guided_json"])
def test_guided_json_is_sent_parsed_and_checked(server, guided):
    request = Request(messages=(user("rate physics lecture notes"),), json_schema=SCORE)
    with LLMClient(config(server.url, guided=guided)) as client:
        result = client.generate(request)
    assert result.ok, result
    assert 0 <= result.parsed["score"] <= 5 and result.parsed["topic"] in "rate physics lecture notes"
    body = json.loads(server.last_body)
    assert ("response_format" in body) == (guided != "guided_json")
    assert ("guided_json" in body) == (guided != "response_format")


def test_unreachable_server_ends_as_failure():
    with LLMClient(config(f"http://127.0.0.1:{free_port()}", model="m", retries=2)) as client:
        results = client.run_batch([Request(prompt="x", tag=str(i)) for i in range(3)])
    assert [(r.tag, r.reason, r.attempts) for r in results] == [(str(i), "unreachable", 3) for i in range(3)]
    assert client.ledger.failure_reasons == {"unreachable": 3}


def test_unreachable_server_without_model_name_fails_cleanly():
    with LLMClient(config(f"http://127.0.0.1:{free_port()}")) as client:
        result = client.generate(Request(prompt="x"))
    assert isinstance(result, Failure) and result.reason == "unreachable"


def test_500_for_a_while_then_recovery(server):
    server.inject("500", 3)
    with LLMClient(config(server.url, retries=4)) as client:
        result = client.generate(Request(prompt="hello"))
        assert result.ok and result.attempts == 4
        assert client.ledger.retries == 3 and client.ledger.http_requests == 4


def test_500_longer_than_the_retries_is_a_failure(server):
    server.inject("500", 10)
    with LLMClient(config(server.url, retries=2)) as client:
        result = client.generate(Request(prompt="hello"))
    assert (result.reason, result.status, result.attempts) == ("server_error", 500, 3)


def test_429_burst_is_absorbed(server):
    server.inject("429", 30)
    requests = [Request(prompt=f"p{i}", tag=str(i)) for i in range(20)]
    with LLMClient(config(server.url, retries=6, concurrency=8)) as client:
        results = client.run_batch(requests)
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert [r.text for r in results] == [f"echo: p{i}" for i in range(20)]
    assert server.stats["fault_429"] == 30 and client.ledger.retries == 30


def test_malformed_body_is_retried(server):
    server.inject("malformed")
    with LLMClient(config(server.url)) as client:
        result = client.generate(Request(prompt="hello"))
    assert result.ok and result.attempts == 2


def test_malformed_body_every_time_is_a_failure(server):
    server.inject("malformed", 5)
    with LLMClient(config(server.url, retries=1)) as client:
        result = client.generate(Request(prompt="hello"))
    assert result.reason == "malformed_response" and result.attempts == 2


def test_dropped_connection_is_retried(server):
    server.inject("drop", 2)
    with LLMClient(config(server.url)) as client:
        result = client.generate(Request(prompt="hello"))
    assert result.ok and result.attempts == 3


def test_answer_off_the_schema_is_schema_mismatch(server):
    server.inject("off_schema")
    with LLMClient(config(server.url)) as client:
        bad, good = client.run_batch([Request(prompt="a", json_schema=SCORE), Request(prompt="b", json_schema=SCORE)])
    assert (bad.reason, bad.attempts) == ("schema_mismatch", 1)
    assert "is not of type 'object'" in bad.message
    assert good.ok and set(good.parsed) == {"score", "topic"}


def test_context_window_exceeded_is_not_retried(server):
    long = Request(messages=(user("word " * 5000),), tag="long")
    with LLMClient(config(server.url)) as client:
        result = client.generate(long)
    assert (result.reason, result.status, result.attempts) == ("context_length_exceeded", 400, 1)
    assert "maximum context length" in result.message


def test_hanging_connection_times_out_then_retries(server):
    server.inject("hang")
    with LLMClient(config(server.url, timeout=0.5)) as client:
        result = client.generate(Request(prompt="hello"))
    assert result.ok and result.attempts == 2


def test_hanging_every_time_is_a_timeout_failure(server):
    server.inject("hang", 3)
    with LLMClient(config(server.url, timeout=0.3, retries=2)) as client:
        result = client.generate(Request(prompt="hello"))
    assert (result.reason, result.attempts) == ("timeout", 3)


def test_unknown_model_and_invalid_schema_fail_without_retry(server):
    bad_schema = Request(prompt="x", json_schema={"type": "no-such-type"})
    with LLMClient(config(server.url)) as client:
        unknown, invalid = client.run_batch([Request(prompt="x", model="nope"), bad_schema])
    assert (unknown.reason, unknown.attempts) == ("not_found", 1)
    assert invalid.reason == "invalid_request"
    assert server.completions == 1  # the invalid schema was never sent


def test_unexpected_error_still_gives_a_result(server):
    with LLMClient(config(server.url)) as client:
        broken, fine = client.run_batch([Request(prompt="x", extra={"x": object()}), Request(prompt="y")])
    assert (broken.reason, broken.error, broken.transient) == ("internal_error", "TypeError", False)
    assert fine.ok


def test_concurrency_is_bounded(server):
    server.latency = 0.02
    with LLMClient(config(server.url, concurrency=5)) as client:
        results = client.run_batch([Request(prompt=f"p{i}") for i in range(40)])
    assert all(r.ok for r in results)
    assert 1 < server.stats["max_inflight"] <= 5


def test_load_is_spread_over_servers():
    with LLMTestServer(latency=0.01) as a, LLMTestServer(latency=0.01) as b:
        with LLMClient(config(a.url, b.url, concurrency=8)) as client:
            results = client.run_batch([Request(prompt=f"p{i}") for i in range(40)])
    assert all(r.ok for r in results)
    assert a.completions + b.completions == 40 and a.completions >= 10 and b.completions >= 10


def test_failing_server_is_set_aside():
    with LLMTestServer(rates={"500": 1.0}, fault_repeats=10**9) as bad, LLMTestServer() as good:
        cfg = config(bad.url, good.url, concurrency=1, set_aside_after=2, set_aside_seconds=600)
        with LLMClient(cfg) as client:
            results = client.run_batch([Request(prompt=f"p{i}") for i in range(20)])
    assert all(r.ok for r in results)
    assert bad.completions == 2 and good.completions == 20


def test_async_interface(server):
    async def main() -> list:
        with LLMClient(config(server.url)) as client:
            return await client.agenerate_many([Request(prompt="a"), Request(prompt="b")])

    assert [r.text for r in asyncio.run(main())] == ["echo: a", "echo: b"]


def test_bad_config_and_requests_raise_config_error():
    with pytest.raises(ConfigError):
        ClientConfig(urls=("localhost:8000",))
    with pytest.raises(ConfigError):
        ClientConfig(urls=("http://h:1",), guided="xml")
    with pytest.raises(ConfigError):
        Request(prompt="x", messages=(user("y"),))
    with pytest.raises(ConfigError):
        Request(messages=({"role": "user", "content": "raw dicts are not messages"},))
    with pytest.raises(ConfigError):
        Image(b"not an image")
    assert ClientConfig(urls="http://h:8000").urls == ("http://h:8000/v1",)
