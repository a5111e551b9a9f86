"""Requests/s of our LLM client against the `openai` package, on the test server with 50 ms latency.

The server runs in its own process (`python -m corpusmill.llm.testing`), so this process's
CPU time is the clients' alone. Three runs on the same kind of requests:

* peer: a plain sequential loop with `openai.OpenAI` (what a script would do);
* peer, async: `openai.AsyncOpenAI` with 64 requests in flight (the fair fight on overhead);
* ours: `LLMClient.run_batch` at concurrency 64.

Prints requests/s, the ratio to the sequential loop (target >= 30x) and CPU ms per request
(target < 1 ms for ours). `python -m bench.llm_client [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request

import openai

from corpusmill.llm import ClientConfig, LLMClient, Request, user

MODEL = "test-model"
CONCURRENCY = 64


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "corpusmill.llm.testing", "--port", str(port),
                             "--latency", str(latency)], env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("test server did not start")


def prompts(n: int, offset: int) -> list[str]:
    return [f"Summarize document number {offset + i} in one short sentence." for i in range(n)]


def measure(run, n: int) -> tuple[float, float]:
    """(requests/s, CPU ms per request) of `run()`, which sends `n` requests."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, cpu / n * 1000


def peer_sequential(url: str, texts: list[str]) -> None:
    client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
    for text in texts:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": text}], max_tokens=32)
    client.close()


def peer_async(url: str, texts: list[str]) -> None:
    async def main() -> None:
        client = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0)
        bound = asyncio.Semaphore(CONCURRENCY)

        async def one(text: str) -> None:
            async with bound:
                await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": text}],
                                                     max_tokens=32)  # fmt: skip

        await asyncio.gather(*(one(t) for t in texts))
        await client.close()

    asyncio.run(main())


def ours(client: LLMClient, texts: list[str]) -> None:
    results = client.run_batch([Request(messages=(user(t),), max_tokens=32) for t in texts])
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{len(failed)} requests failed, e.g. {failed[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args(argv)
    n_seq, n_conc = (20, 400) if args.quick else (100, 4000)
    proc, url = start_server(args.latency)
    try:
        config = ClientConfig(urls=(url,), model=MODEL, concurrency=CONCURRENCY, retries=0)
        with LLMClient(config) as client:
            ours(client, prompts(CONCURRENCY, 10**7))  # warm the connection pool
            ours_rps, ours_cpu = measure(lambda: ours(client, prompts(n_conc, 0)), n_conc)
        seq_rps, seq_cpu = measure(lambda: peer_sequential(url, prompts(n_seq, 10**6)), n_seq)
        async_rps, async_cpu = measure(lambda: peer_async(url, prompts(n_conc, 2 * 10**6)), n_conc)
    finally:
        proc.terminate()
        proc.wait()
    print(f"test server latency {args.latency * 1000:.0f} ms, concurrency {CONCURRENCY}")
    print(f"{'client':<34}{'requests':>9}{'req/s':>9}{'CPU ms/req':>12}")
    for name, n, rps, cpu in (("openai sequential loop (peer)", n_seq, seq_rps, seq_cpu),
                              ("openai AsyncOpenAI x64 (peer)", n_conc, async_rps, async_cpu),
                              ("corpusmill LLMClient x64", n_conc, ours_rps, ours_cpu)):  # fmt: skip
        print(f"{name:<34}{n:>9}{rps:>9.0f}{cpu:>12.3f}")
    print(f"ratio ours / sequential loop: {ours_rps / seq_rps:.1f}x (target >= 30x)")
    print(
        f"ratio ours / AsyncOpenAI x64: {ours_rps / async_rps:.2f}x; CPU per request {ours_cpu:.3f} ms (target < 1 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
