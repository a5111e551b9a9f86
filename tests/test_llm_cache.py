"""The content-keyed response cache: keys, durability, several writers, re-runs without requests."""

from __future__ import annotations

import json
import os

import pymupdf

from corpusmill.llm import ClientConfig, Image, LLMClient, Request, user
from corpusmill.llm.cache import ResponseCache, cache_key
from corpusmill.llm.testing import LLMTestServer
from corpusmill.llm.types import Failure, Response

SCHEMA = {"type": "object", "properties": {"label": {"enum": ["a", "b", "c"]}}, "required": ["label"]}


def png(width: int) -> bytes:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, 8), False)
    pix.clear_with(255)  # a new pixmap's samples are uninitialized memory: make them the same every time
    return pix.tobytes("png")


def test_key_covers_content_not_tag():
    base = Request(messages=(user("read", Image(png(10))),), temperature=0.0, tag="a")
    key = cache_key(base, "m")
    assert cache_key(base.replace(tag="b"), "m") == key
    assert cache_key(Request(messages=(user("read", Image(png(10))),), temperature=0.0), "m") == key
    others = [
        cache_key(base, "other-model"),
        cache_key(base.replace(messages=(user("read", Image(png(11))),)), "m"),
        cache_key(base.replace(temperature=0.5), "m"),
        cache_key(base.replace(json_schema=SCHEMA), "m"),
        cache_key(base.replace(extra={"top_k": 3}), "m"),
        cache_key(Request(prompt="read"), "m"),
    ]
    assert len({key, *others}) == 1 + len(others)


def test_rerun_sends_no_request_and_gives_the_same_results(tmp_path):
    requests = [Request(messages=(user(f"doc {i}"),), json_schema=SCHEMA, tag=f"d{i}") for i in range(30)]
    requests.append(Request(messages=(user("word " * 5000),), tag="too-long"))
    with LLMTestServer() as server:
        cfg = ClientConfig(urls=(server.url,), model="test-model", backoff=0.01, cache_dir=str(tmp_path / "cache"))
        with LLMClient(cfg) as client:
            first = client.run_batch(requests)
        assert server.completions == 31
        with LLMClient(cfg) as client:
            second = client.run_batch(requests)
            assert client.ledger.cache_hits == 31 and client.ledger.http_requests == 0
        assert server.completions == 31
    assert all(r.cached for r in second) and not any(r.cached for r in first)

    def strip(r):
        return r.tag, r.ok, getattr(r, "text", None), getattr(r, "parsed", None), getattr(r, "reason", None)

    assert [strip(r) for r in first] == [strip(r) for r in second]
    assert second[-1].reason == "context_length_exceeded"  # permanent failures are cached too


def test_identical_requests_in_flight_are_sent_once(tmp_path):
    with LLMTestServer(latency=0.05) as server:
        cfg = ClientConfig(urls=(server.url,), cache_dir=str(tmp_path))
        with LLMClient(cfg) as client:
            results = client.run_batch([Request(prompt="same", tag=str(i)) for i in range(10)])
            assert client.ledger.cache_hits == 9
        assert server.completions == 1
    assert [r.tag for r in results] == [str(i) for i in range(10)]
    assert {r.text for r in results} == {"echo: same"} and sum(r.cached for r in results) == 9


def test_transient_failures_are_not_cached(tmp_path):
    with LLMTestServer() as server:
        cfg = ClientConfig(urls=(server.url,), retries=0, cache_dir=str(tmp_path))
        server.inject("500")
        with LLMClient(cfg) as client:
            assert client.generate(Request(prompt="x")).reason == "server_error"
        with LLMClient(cfg) as client:
            assert client.generate(Request(prompt="x")).ok
        assert server.completions == 2


def test_several_writers_and_a_torn_line(tmp_path):
    ok = Response(tag="", text="t", texts=("t",), finish_reason="stop", model="m", prompt_tokens=1, completion_tokens=1)
    writers = [ResponseCache(str(tmp_path)) for _ in range(3)]
    for n, cache in enumerate(writers):
        cache.put(f"k{n}", ok)
    writers[0].put("bad", Failure(tag="", reason="bad_request", error="HTTP 400", message="no"))
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 3  # one file per writer, no locks
    with open(tmp_path / files[0], "a") as fh:
        fh.write('{"key": "cut-short", "ok": tr')  # a crash in the middle of a write
    reader = ResponseCache(str(tmp_path))
    assert len(reader) == 4 and reader.get("cut-short") is None
    assert reader.get("bad")["reason"] == "bad_request" and reader.get("k2")["texts"] == ["t"]
    for cache in writers:
        cache.close()


def test_object_store_paths_write_segments():
    root = "memory://llm-cache-test/segments"
    ok = Response(tag="", text="t", texts=("t",), finish_reason="stop", model="m", prompt_tokens=1, completion_tokens=1)
    cache = ResponseCache(root, flush_every=2)
    for n in range(5):
        cache.put(f"k{n}", ok)
    assert len(ResponseCache(root)) == 4  # two full segments written so far
    cache.close()
    reopened = ResponseCache(root)
    assert len(reopened) == 5 and json.dumps(reopened.get("k4")["texts"]) == '["t"]'
