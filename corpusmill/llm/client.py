"""An async client for OpenAI-compatible servers (vLLM first), usable from plain code.

The client runs its own event loop on a background thread, so synchronous code (a Beam DoFn,
a script) calls `run_batch` and async code awaits `agenerate_many`; both share one HTTP
session, one concurrency bound and one ledger. Per request it: answers from the cache if it
can, sends to the least busy server that is not set aside, retries transient failures with
exponential backoff and jitter, checks guided JSON against its schema, and returns a result.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import logging
import random
import threading
import time
import weakref
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import aiohttp

from corpusmill.errors import ConfigError
from corpusmill.llm import wire
from corpusmill.llm.cache import ResponseCache, cache_key, from_record
from corpusmill.llm.types import Failure, Ledger, Request, Result

log = logging.getLogger(__name__)
T = TypeVar("T")

# An answer of 32k tokens is well under 1 MiB even as escaped JSON; 8 MiB leaves room for `n`
# choices while 64 requests in flight stay far from the memory of a worker.
MAX_ANSWER_BYTES = 8 * 2**20
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ClientConfig:
    """How to reach the servers and how hard to try.

    `urls`: base URLs (`http://host:8000` gets `/v1` appended; any other path is kept, e.g.
    `https://example.com/compatible-mode/v1`). `model`: default model for requests that name
    none; None asks the first server's /v1/models (set it for resumable jobs, since it is part of
    the cache key). `guided`: how guided JSON is asked for: "both" (vLLM), "response_format"
    (hosted OpenAI-style APIs) or "guided_json" (older vLLM). `cache_dir`: where the response
    cache lives (under the job's output), None for no cache.

    Limits: `timeout` bounds one HTTP attempt (connect, wait, read); `deadline` bounds one
    request over all its attempts and the waits between them (None: only `retries` bounds it);
    `max_answer_bytes` bounds an answer's body, checked while it is read, so a server that
    streams gigabytes costs this much memory and no more.
    """

    urls: tuple[str, ...]
    model: str | None = None
    api_key: str | None = None
    concurrency: int = 64
    timeout: float = 600.0
    retries: int = 4
    backoff: float = 1.0
    backoff_max: float = 60.0
    set_aside_after: int = 3
    set_aside_seconds: float = 30.0
    guided: str = "both"
    cache_dir: str | None = None
    deadline: float | None = 1800.0
    max_answer_bytes: int = MAX_ANSWER_BYTES

    def __post_init__(self) -> None:
        urls = (self.urls,) if isinstance(self.urls, str) else tuple(self.urls)
        if not urls:
            raise ConfigError("ClientConfig: give at least one server URL")
        object.__setattr__(self, "urls", tuple(normalize_url(u) for u in urls))
        if self.concurrency < 1 or self.timeout <= 0 or self.retries < 0:
            raise ConfigError("ClientConfig: concurrency >= 1, timeout > 0 and retries >= 0 are required")
        if (self.deadline is not None and self.deadline <= 0) or self.max_answer_bytes < 1024:
            raise ConfigError("ClientConfig: deadline > 0 (or None) and max_answer_bytes >= 1024 are required")
        if self.guided not in wire.GUIDED_MODES:
            raise ConfigError(f"ClientConfig: guided must be one of {', '.join(wire.GUIDED_MODES)}")


@dataclass(frozen=True)
class LLMLimits:
    """The limits a command line puts on a job's clients (`--llm-timeout`, `--llm-deadline`,
    `--llm-retries`, `--llm-max-answer-mb`); None keeps the client's default. They bound how
    long and how much a run spends, never what it writes, so they are no part of a run's
    identity: a re-run may change them."""

    timeout: float | None = None
    deadline: float | None = None  # 0: no deadline beyond the retries
    retries: int | None = None
    max_answer_bytes: int | None = None

    def client_kwargs(self) -> dict[str, Any]:
        """The `ClientConfig` fields these limits set."""
        out = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        if out.get("deadline") == 0:
            out["deadline"] = None
        return out


def normalize_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"not an http(s) server URL: {url!r} (e.g. http://localhost:8000/v1)")
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path or '/v1'}"


class _Server:
    """One base URL with its load and health; a server failing again and again is set aside."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.inflight = 0
        self.sent = 0
        self.failures_in_row = 0
        self.aside_until = 0.0


class _Pool:
    def __init__(self, urls: Sequence[str], set_aside_after: int, set_aside_seconds: float) -> None:
        self.servers = [_Server(u) for u in urls]
        self.set_aside_after, self.set_aside_seconds = set_aside_after, set_aside_seconds

    def pick(self) -> _Server:
        """The least busy server in service; if all are set aside, the one back soonest."""
        now = time.monotonic()
        ready = [s for s in self.servers if s.aside_until <= now]
        if not ready:
            return min(self.servers, key=lambda s: s.aside_until)
        return min(ready, key=lambda s: (s.inflight, s.sent))

    def succeeded(self, server: _Server) -> None:
        server.failures_in_row = 0

    def failed(self, server: _Server) -> None:
        server.failures_in_row += 1
        if server.failures_in_row >= self.set_aside_after and len(self.servers) > 1:
            if server.aside_until <= time.monotonic():
                log.warning("llm server %s failed %d times in a row: set aside for %.0fs",
                            server.url, server.failures_in_row, self.set_aside_seconds)  # fmt: skip
            server.aside_until = time.monotonic() + self.set_aside_seconds


class _Attempt(NamedTuple):
    server: _Server
    result: Result
    retry_after: float | None
    seconds: float  # on the wire, not waiting for a concurrency slot
    deadline: float | None  # when the request as a whole gives up (monotonic clock)


class LLMClient:
    """Send `Request`s to OpenAI-compatible servers; every request ends as one `Result`.

    Use as a context manager (`with LLMClient(cfg) as c: c.run_batch(reqs)`) or call `close()`;
    it opens itself on first use. Thread-safe: several threads may call `run_batch` at once.
    """

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._cache = ResponseCache(config.cache_dir) if config.cache_dir else None
        self._pool = _Pool(config.urls, config.set_aside_after, config.set_aside_seconds)
        self._ledger = Ledger()
        self._ledger_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: aiohttp.ClientSession | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._default_model: str | None = config.model
        self._model_lock: asyncio.Lock | None = None
        self._random = random.Random()
        self._finalizer: weakref.finalize | None = None
        self._pending: dict[str, asyncio.Future[Result]] = {}
        self._model_failed_at = -1e9

    # -- plain-code interface -------------------------------------------------------------

    def run_batch(self, requests: Sequence[Request]) -> list[Result]:
        """Results for `requests`, in the same order; never raises for a single request."""
        results = self._call(self._run_many(list(requests))).result()
        if self._cache is not None:
            self._cache.flush()
        return results

    def generate(self, request: Request) -> Result:
        return self.run_batch([request])[0]

    async def agenerate_many(self, requests: Sequence[Request]) -> list[Result]:
        """`run_batch` for async callers (any event loop)."""
        return await asyncio.wrap_future(self._call(self._run_many(list(requests))))

    async def agenerate(self, request: Request) -> Result:
        return (await self.agenerate_many([request]))[0]

    @property
    def ledger(self) -> Ledger:
        """A snapshot of what this client has spent so far."""
        with self._ledger_lock:
            return copy.deepcopy(self._ledger)

    def __enter__(self) -> LLMClient:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> LLMClient:
        with self._open_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="corpusmill-llm", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
                asyncio.run_coroutine_threadsafe(self._start(), loop).result()
                # Beam's Shared drops clients by garbage collection, without close(): the
                # finalizer still closes the session and ends the loop thread.
                self._finalizer = weakref.finalize(self, _shutdown, loop, thread, self._session)
        return self

    def close(self) -> None:
        with self._open_lock:
            if self._finalizer is not None:
                self._finalizer()
                self._finalizer, self._loop = None, None
            if self._cache is not None:
                self._cache.close()

    def _call(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        self.open()
        assert self._loop is not None
        if threading.current_thread() is self._thread:
            coro.close()
            raise ConfigError("LLMClient.run_batch was called from the client's own event loop")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    # -- the event loop side --------------------------------------------------------------

    async def _start(self) -> None:
        headers = {"Content-Type": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        connector = aiohttp.TCPConnector(limit=self.config.concurrency + 8, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(headers=headers, connector=connector, raise_for_status=False)
        self._semaphore = asyncio.Semaphore(self.config.concurrency)
        self._model_lock = asyncio.Lock()

    async def _run_many(self, requests: list[Request]) -> list[Result]:
        return list(await asyncio.gather(*(self._run_one(r) for r in requests)))

    async def _run_one(self, request: Request) -> Result:
        try:
            result = await self._answer(request)
        except Exception as exc:  # a bug or an unforeseen error must still leave a result for the element
            log.exception("llm request %r failed unexpectedly", request.tag)
            result = Failure(request.tag, "internal_error", type(exc).__name__, str(exc))
        with self._ledger_lock:
            self._ledger.add(result)
        return result

    async def _answer(self, request: Request) -> Result:
        problem = wire.schema_problem(request)
        if problem is not None:
            return problem
        model = request.model or await self._resolve_model()
        if model is None:
            return Failure(request.tag, "unreachable", "NoModel", f"no server answered /models at {self.config.urls}")
        if self._cache is None:
            return await self._send(request, model)
        key = cache_key(request, model)
        record = self._cache.get(key)
        if record is not None:
            return from_record(record, request.tag)
        pending = self._pending.get(key)
        if pending is not None:  # the same request is in flight: share its answer, send nothing
            result = await asyncio.shield(pending)
            return dataclasses.replace(result, tag=request.tag, attempts=0, seconds=0.0, cached=True)
        return await self._send_and_store(key, request, model)

    async def _send_and_store(self, key: str, request: Request, model: str) -> Result:
        assert self._cache is not None and self._loop is not None
        future: asyncio.Future[Result] = self._loop.create_future()
        self._pending[key] = future
        try:
            result = await self._send(request, model)
            if result.ok or not result.transient:
                self._cache.put(key, result)
            future.set_result(result)
            return result
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark it retrieved: waiters, if any, get it too
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._pending[key]

    async def _send(self, request: Request, model: str) -> Result:
        """Try `request` up to 1 + retries times; transient failures back off, others return.

        The deadline starts when the first attempt gets its concurrency slot (time queued
        behind other requests of the batch does not count) and covers every attempt and wait.
        """
        body = wire.build_body(request, model, self.config.guided)
        path = wire.endpoint(request)
        seconds = 0.0
        attempt = 0
        deadline: float | None = None
        while True:
            attempt += 1
            server, result, retry_after, spent, deadline = await self._post(path, body, request, deadline)
            seconds += spent
            if result.ok or not result.transient:
                self._pool.succeeded(server)
            else:
                self._pool.failed(server)
            if result.ok or not result.transient or attempt > self.config.retries:
                return dataclasses.replace(result, attempts=attempt, seconds=seconds)
            delay = self._backoff(attempt, retry_after)
            if deadline is not None and time.monotonic() + delay >= deadline:
                return self._past_deadline(request, result, attempt, seconds)
            log.debug("llm %s on %s (attempt %d): %s", result.reason, server.url, attempt, result.message)
            await asyncio.sleep(delay)

    def _past_deadline(self, request: Request, last: Failure, attempts: int, seconds: float) -> Failure:
        message = (
            f"no answer within the deadline of {self.config.deadline}s ({attempts} attempts; last: {last.message})"
        )
        return Failure(request.tag, "timeout", "DeadlineExceeded", message, last.status, attempts, seconds)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with equal jitter, at least what the server's Retry-After asks."""
        ceiling = min(self.config.backoff_max, self.config.backoff * 2 ** (attempt - 1))
        delay = ceiling / 2 + self._random.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff_max))
        return delay

    async def _post(self, path: str, body: bytes, request: Request, deadline: float | None) -> _Attempt:
        """One HTTP attempt on the server picked once a concurrency slot is free; its timeout is
        the per-attempt one, shortened to what is left of the request's deadline."""
        assert self._semaphore is not None
        async with self._semaphore:
            server = self._pool.pick()
            server.inflight += 1
            server.sent += 1
            start = time.monotonic()
            if deadline is None and self.config.deadline is not None:
                deadline = start + self.config.deadline
            timeout = self.config.timeout if deadline is None else min(self.config.timeout, deadline - start)
            try:
                outcome = await self._exchange(server.url + path, body, request, max(timeout, 0.001))
            finally:
                server.inflight -= 1
            seconds = time.monotonic() - start
        if isinstance(outcome, Failure):
            return _Attempt(server, outcome, None, seconds, deadline)
        status, raw, retry_header = outcome
        if status == 200:
            return _Attempt(server, wire.parse_response(request, raw), None, seconds, deadline)
        failure = wire.http_failure(request.tag, status, raw)
        return _Attempt(server, failure, _seconds(retry_header), seconds, deadline)

    async def _exchange(
        self, url: str, body: bytes, request: Request, timeout: float
    ) -> tuple[int, bytes, str | None] | Failure:
        """(status, body, Retry-After) of one POST, or the failure of the connection itself."""
        assert self._session is not None
        limit = self.config.max_answer_bytes
        try:
            async with self._session.post(url, data=body, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                raw = await _read_bounded(resp, limit)
                if raw is None:
                    resp.close()  # drop the connection: the rest of the body is never read
                    return _failure(
                        request, "answer_too_large", "AnswerTooLarge", f"the answer exceeds {limit:,} bytes"
                    )
                return resp.status, raw, resp.headers.get("Retry-After")
        except TimeoutError:
            return _failure(request, "timeout", "TimeoutError", f"no answer within {timeout:.1f}s")
        except aiohttp.ClientConnectorError as exc:
            return _failure(request, "unreachable", type(exc).__name__, str(exc))
        except (aiohttp.ClientError, OSError) as exc:
            return _failure(request, "connection_error", type(exc).__name__, str(exc) or repr(exc))

    async def _resolve_model(self) -> str | None:
        """The model named in the config, else the first one the servers list.

        Asked with the same retries as a request; after a failure, requests fail at once for
        `set_aside_seconds` instead of each waiting through the retries again.
        """
        if self._default_model is not None:
            return self._default_model
        assert self._model_lock is not None
        async with self._model_lock:
            if time.monotonic() - self._model_failed_at < self.config.set_aside_seconds:
                return self._default_model
            for attempt in range(1, self.config.retries + 2):
                for server in self._pool.servers:
                    self._default_model = self._default_model or await self._first_model(server.url)
                if self._default_model is not None or attempt > self.config.retries:
                    break
                await asyncio.sleep(self._backoff(attempt, None))
            if self._default_model is None:
                self._model_failed_at = time.monotonic()
        return self._default_model

    async def _first_model(self, url: str) -> str | None:
        assert self._session is not None
        try:
            timeout = aiohttp.ClientTimeout(total=min(self.config.timeout, 30.0))
            async with self._session.get(url + "/models", timeout=timeout) as resp:
                raw = await _read_bounded(resp, self.config.max_answer_bytes)
                if raw is None:
                    resp.close()
                    raise ValueError(f"the model list exceeds {self.config.max_answer_bytes:,} bytes")
            data = json.loads(raw)
            return str(data["data"][0]["id"])
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("llm server %s: cannot list models (%s)", url, exc)
            return None


def _shutdown(loop: asyncio.AbstractEventLoop, thread: threading.Thread, session: aiohttp.ClientSession | None) -> None:
    closing = asyncio.run_coroutine_threadsafe(session.close(), loop) if session is not None else None
    if threading.current_thread() is thread:  # a collection ran on the loop thread: cannot wait here
        loop.call_soon_threadsafe(loop.stop)
        return
    if closing is not None:
        closing.result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


async def _read_bounded(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, read in chunks and given up on (None) as soon as it passes `limit` bytes,
    so memory is bounded by the limit whatever the server sends or declares."""
    declared = resp.content_length
    if declared is not None and declared > limit:
        return None
    buf = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        buf += chunk
        if len(buf) > limit:
            return None
    return bytes(buf)


def _failure(request: Request, reason: str, error: str, message: str) -> Failure:
    return Failure(tag=request.tag, reason=reason, error=error, message=message)


def _seconds(header: str | None) -> float | None:
    try:
        return float(header) if header else None
    except ValueError:
        return None  # an HTTP-date Retry-After: our own backoff applies


def run_batch(config: ClientConfig, requests: Sequence[Request]) -> list[Result]:
    """One-shot convenience: open a client, run `requests`, close it."""
    with LLMClient(config) as client:
        return client.run_batch(requests)
