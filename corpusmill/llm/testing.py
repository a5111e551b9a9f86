"""A real OpenAI-protocol HTTP server on localhost, for tests and GPU-free dry runs.

Answers are rule based and deterministic (see `fake_answers`): chat echoes the last user turn
and reports image sizes, guided JSON returns a value valid under the schema, prompts longer
than the context window get vLLM's 400. Faults can be injected two ways:

* `rates={"500": 0.1, "drop": 0.05}`: a fixed share of distinct request bodies (chosen by a
  hash, so the same ones on every run) fail their first `fault_repeats` attempts, then succeed;
* `inject("429", count=5)`: the next 5 completion requests fail that way.

Kinds: "429", "500", "malformed" (200 with a cut-off body), "drop" (connection closed without
an answer), "hang" (no answer for `hang_seconds`), "off_schema" (JSON that breaks the schema),
"null_content" (200 whose message content is null), "huge" (200 whose body streams on for
`huge_bytes`, in chunks, without a Content-Length).

A whole outage: `outage(after=40)` answers 40 more completion requests, then the server goes
away (connections in use are cut, new ones refused) until `restore()` reopens the same port.

    with LLMTestServer(latency=0.05) as server:
        client = LLMClient(ClientConfig(urls=(server.url,)))

From a shell: `python -m corpusmill.llm.testing --port 8000 [--latency 0.05] [--rate 500=0.1]`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from corpusmill.errors import ConfigError
from corpusmill.llm import fake_answers as rules

FAULT_KINDS = ("429", "500", "malformed", "drop", "hang", "off_schema", "null_content", "huge")
_HUGE_CHUNK = b"x" * 2**20


class LLMTestServer:
    """Serve /health, /v1/models, /v1/chat/completions and /v1/completions on a background thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        models: tuple[str, ...] = ("test-model",),
        latency: float = 0.0,
        context_window: int = 4096,
        rates: Mapping[str, float] | None = None,
        fault_repeats: int = 1,
        hang_seconds: float = 300.0,
        huge_bytes: int = 100 * 2**20,
        seed: int = 0,
    ) -> None:
        rates = dict(rates or {})
        unknown = set(rates) - set(FAULT_KINDS)
        if unknown or sum(rates.values()) > 1:
            raise ConfigError(f"LLMTestServer: fault kinds are {FAULT_KINDS} and rates must sum to <= 1")
        self.host, self.port, self.models = host, port, tuple(models)
        self.latency, self.context_window = latency, context_window
        self.rates, self.fault_repeats, self.hang_seconds, self.seed = rates, fault_repeats, hang_seconds, seed
        self.huge_bytes = huge_bytes
        self.stats: Counter[str] = Counter()
        self.last_body = b""  # the body of the last completion request, as sent
        self.answered: Counter[str] = Counter()  # completion bodies (by hash) answered with a 200
        self._inflight = 0
        self._scripted: list[str] = []
        self._attempts: Counter[bytes] = Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._answers_left: int | None = None  # completions before an outage; None: no outage planned
        self._down = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def completions(self) -> int:
        """Completion requests received so far (chat and text, faulty or not)."""
        return self.stats["completion_requests"]

    def inject(self, kind: str, count: int = 1) -> None:
        if kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._scripted.extend([kind] * count)

    def outage(self, *, after: int = 0) -> None:
        """Answer `after` more completion requests, then go away until `restore()`."""
        with self._lock:
            self._answers_left = after
        if after <= 0:
            self._call(self._go_down())

    def restore(self) -> None:
        """End an outage: listen on the same port again and answer as before."""
        with self._lock:
            self._answers_left = None
        self._call(self._come_back())

    def _call(self, coro: Any) -> Any:
        assert self._loop is not None, "start the server first"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __enter__(self) -> LLMTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LLMTestServer:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="llm-test-server", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), loop).result()
        return self

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        assert self._thread is not None
        self._thread.join()
        loop.close()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._completion)
        app.router.add_post("/v1/completions", self._completion)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self.port)
        await self._site.start()
        self.port = self._runner.addresses[0][1]  # the real port when 0 asked for any free one

    async def _go_down(self) -> None:
        """Stop listening: a client now finds the port closed, as when a server process dies."""
        if not self._down and self._site is not None:
            self._down = True
            self.stats["outages"] += 1
            await self._site.stop()

    async def _come_back(self) -> None:
        if self._down:
            assert self._runner is not None
            self._site = web.TCPSite(self._runner, self.host, self.port)
            await self._site.start()
            self._down = False

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        self.stats["health_requests"] += 1
        return web.Response(text="")

    async def _models(self, request: web.Request) -> web.Response:
        self.stats["model_requests"] += 1
        data = [{"id": m, "object": "model", "owned_by": "corpusmill", "max_model_len": self.context_window}
                for m in self.models]  # fmt: skip
        return web.json_response({"object": "list", "data": data})

    async def _completion(self, request: web.Request) -> web.StreamResponse:
        self._inflight += 1
        self.stats["max_inflight"] = max(self.stats["max_inflight"], self._inflight)
        try:
            return await self._complete(request)
        finally:
            self._inflight -= 1

    def _out_of_service(self) -> bool:
        """True when this request falls into an outage (and starts it, when it is the first)."""
        with self._lock:
            if self._answers_left is None:
                return False
            self._answers_left -= 1
            return self._answers_left < 0

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.stats["completion_requests"] += 1
        self.last_body = raw
        if self._out_of_service():
            self.stats["outage_requests"] += 1
            await self._go_down()
            assert request.transport is not None
            request.transport.abort()  # a connection kept alive from before the outage is cut too
            return web.Response()
        fault = self._fault_for(raw)
        if fault:
            self.stats[f"fault_{fault}"] += 1
        if fault == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if fault == "hang":
            await asyncio.sleep(self.hang_seconds)
        elif self.latency:
            await asyncio.sleep(self.latency)
        if fault in ("429", "500"):
            status, kind = int(fault), "RateLimitError" if fault == "429" else "InternalServerError"
            return _error(status, kind, "injected fault", headers={"Retry-After": "0"} if status == 429 else None)
        if fault == "malformed":
            return web.Response(
                body=b'{"id": "cmpl-x", "choices": [{"index": 0, "mess', content_type="application/json"
            )
        if fault == "huge":
            return await self._stream_huge(request)
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "BadRequestError", "request body is not JSON")
        chat = request.path.endswith("/chat/completions")
        if fault == "null_content":
            return web.json_response({"id": "cmpl-null", "model": body.get("model"), "choices": [
                {"index": 0, "finish_reason": "stop",
                 **({"message": {"role": "assistant", "content": None}} if chat else {"text": None})}]})  # fmt: skip
        response = self._answer(body, chat, off_schema=fault == "off_schema")
        if response.status == 200:
            self.answered[hashlib.blake2b(raw, digest_size=16).hexdigest()] += 1
        return response

    async def _stream_huge(self, request: web.Request) -> web.StreamResponse:
        """A 200 answer whose text goes on for `huge_bytes` (chunked: no length to check up front).
        It stops early when the client hangs up; `stats["huge_bytes_sent"]` says how far it got."""
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        try:
            await resp.write(b'{"id": "cmpl-huge", "choices": [{"index": 0, "message": {"content": "')
            sent = 0
            while sent < self.huge_bytes:
                await resp.write(_HUGE_CHUNK)
                sent += len(_HUGE_CHUNK)
                self.stats["huge_bytes_sent"] += len(_HUGE_CHUNK)
            await resp.write(b'"}, "finish_reason": "length"}]}')
            await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client gave up reading, as it should
        return resp

    def _fault_for(self, raw: bytes) -> str | None:
        with self._lock:
            if self._scripted:
                return self._scripted.pop(0)
            if not self.rates:
                return None
            digest = hashlib.blake2b(raw, digest_size=8, key=str(self.seed).encode()).digest()
            self._attempts[digest] += 1
            if self._attempts[digest] > self.fault_repeats:
                return None
        u = int.from_bytes(digest, "big") / 2**64
        for kind, rate in self.rates.items():
            if u < rate:
                return kind
            u -= rate
        return None

    def _answer(self, body: dict[str, Any], chat: bool, *, off_schema: bool) -> web.Response:
        problem = self._check(body, chat)
        if problem is not None:
            return problem
        text, images = rules.prompt_parts(body)
        used = rules.prompt_tokens(body)
        schema = _schema_of(body)
        choices = []
        for i in range(int(body.get("n") or 1)):
            if schema is not None:
                value = rules.off_schema_value(schema) if off_schema else json.dumps(rules.schema_value(schema, text))
                answer, finish = value, "stop"
            else:
                suffix = f" #{i}" if i else ""
                answer, finish = rules.truncate(
                    rules.answer_text(text, images) + suffix, body.get("max_tokens"), body.get("stop")
                )
            choice: dict[str, Any] = {"index": i, "finish_reason": finish}
            choice.update({"message": {"role": "assistant", "content": answer}} if chat else {"text": answer})
            choices.append(choice)
        completion = sum(len((c["message"]["content"] if chat else c["text"]).split()) for c in choices)
        return web.json_response({
            "id": f"cmpl-{hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=8).hexdigest()}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()), "model": body["model"], "choices": choices,
            "usage": {"prompt_tokens": used, "completion_tokens": completion, "total_tokens": used + completion},
        })  # fmt: skip

    def _check(self, body: dict[str, Any], chat: bool) -> web.Response | None:
        """vLLM's 404 for an unknown model and 400s for a bad body or an overlong prompt."""
        if body.get("model") not in self.models:
            return _error(404, "NotFoundError", f"The model `{body.get('model')}` does not exist.")
        if (chat and not body.get("messages")) or (not chat and "prompt" not in body):
            return _error(400, "BadRequestError", "messages (chat) or prompt (completions) is required")
        used = rules.prompt_tokens(body)
        wanted = used + int(body.get("max_tokens") or 0)
        if wanted > self.context_window:
            return _error(400, "BadRequestError",
                          f"This model's maximum context length is {self.context_window} tokens. However, you "
                          f"requested {wanted} tokens ({used} in the messages, {wanted - used} in the completion). "
                          "Please reduce the length of the messages or completion.")  # fmt: skip
        return None


def _schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return fmt["json_schema"]["schema"]
    return body.get("guided_json")


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """An error body as vLLM sends it: OpenAI's `{"error": {...}}` shape."""
    payload = {"error": {"message": message, "type": kind, "param": None, "code": status}}
    return web.json_response(payload, status=status, headers=headers)


def _parse_rate(text: str) -> tuple[str, float]:
    kind, _, share = text.partition("=")
    try:
        return kind, float(share)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rate wants KIND=SHARE, e.g. 500=0.1, not {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m corpusmill.llm.testing",
        description="A local OpenAI-compatible server with deterministic answers, for dry runs without a GPU.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", action="append", help="model name to serve (repeatable; default test-model)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--context-window", type=int, default=4096, help="tokens (words) a request may use")
    parser.add_argument(
        "--rate",
        type=_parse_rate,
        action="append",
        default=[],
        help=f"inject a fault into a share of requests: KIND=SHARE, KIND in {', '.join(FAULT_KINDS)}",
    )
    args = parser.parse_args(argv)
    server = LLMTestServer(host=args.host, port=args.port, models=tuple(args.model or ["test-model"]),
                           latency=args.latency, context_window=args.context_window, rates=dict(args.rate))  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        print(f"serving OpenAI API at {server.url} (models: {', '.join(server.models)})", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
