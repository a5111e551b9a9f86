"""`corpusmill llm check URL`: is this OpenAI-compatible server wired up right?

Lists the served models, sends one chat request and one guided-JSON request, and reports
latency and token counts, so users see a wrong URL, model name or guided-JSON mode before a
job spends hours on dead letters.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
from typing import Any

from corpusmill.llm import ClientConfig, LLMClient, Request, user
from corpusmill.llm.client import normalize_url
from corpusmill.llm.wire import GUIDED_MODES

CHECK_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("llm", help="check the LLM servers jobs will call")
    sub = parser.add_subparsers(dest="llm_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="list models, send one request, report latency")
    check.add_argument("url", help="server base URL, e.g. http://localhost:8000/v1")
    check.add_argument("--model", help="model to ask (default: the first one the server lists)")
    check.add_argument("--api-key", help="bearer token, for servers started with --api-key")
    check.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each answer")
    check.add_argument("--guided", choices=GUIDED_MODES, default="both", help="how to ask for guided JSON")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    url = normalize_url(args.url)
    try:
        models = list_models(url, args.api_key, args.timeout)
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as exc:
        print(f"{url}/models: unreachable or not an OpenAI-compatible server ({exc})")
        return 1
    print(f"models at {url}: {', '.join(models) or '(none)'}")
    model = args.model or (models[0] if models else None)
    if model is None:
        print("no model to ask: pass --model")
        return 1
    config = ClientConfig(urls=(url,), model=model, api_key=args.api_key, timeout=args.timeout,
                          retries=0, guided=args.guided)  # fmt: skip
    checks = {
        "chat": Request(messages=(user("Reply with the single word OK."),), max_tokens=8, temperature=0.0),
        "guided json": Request(
            messages=(user('Answer {"ok": true} as JSON.'),), max_tokens=32, temperature=0.0, json_schema=CHECK_SCHEMA
        ),  # fmt: skip
    }
    failed = 0
    with LLMClient(config) as client:
        for name, request in checks.items():
            start = time.monotonic()
            result = client.generate(request)
            ms = (time.monotonic() - start) * 1000
            if result.ok:
                print(f"{name}: ok in {ms:,.0f} ms ({result.prompt_tokens} prompt + "
                      f"{result.completion_tokens} completion tokens): {result.text[:80]!r}")  # fmt: skip
            else:
                failed += 1
                print(f"{name}: FAILED after {ms:,.0f} ms: {result.reason}: {result.message[:300]}")
    return 1 if failed else 0


def list_models(url: str, api_key: str | None, timeout: float) -> list[str]:
    request = urllib.request.Request(f"{url}/models")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        data: Any = json.load(resp)
    return [str(m["id"]) for m in data["data"]]
