"""`corpusmill llm check URL` against the local server."""

from __future__ import annotations

import argparse
import socket

from corpusmill.commands import llm as llm_cli
from corpusmill.llm.testing import LLMTestServer


def check(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    llm_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["llm", "check", *argv])
    return args.func(args)


def test_check_lists_models_and_reports_latency(capsys):
    with LLMTestServer(models=("qwen-test", "other")) as server:
        code = check(server.url.removesuffix("/v1"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "models at http://127.0.0.1:" in out and "qwen-test, other" in out
    assert "chat: ok in " in out and "guided json: ok in " in out and "echo: Reply with" in out


def test_check_reports_a_server_whose_guided_json_breaks(capsys):
    with LLMTestServer(rates={"off_schema": 1.0}) as server:  # plain chat is unaffected
        code = check(server.url, "--model", "test-model")
    out = capsys.readouterr().out
    assert code == 1
    assert "chat: ok" in out and "guided json: FAILED" in out and "schema_mismatch" in out


def test_check_reports_a_server_error(capsys):
    with LLMTestServer() as server:
        server.inject("500")
        code = check(server.url)
    out = capsys.readouterr().out
    assert code == 1 and "chat: FAILED" in out and "server_error" in out and "guided json: ok" in out


def test_check_of_an_unreachable_url(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert check(f"http://127.0.0.1:{port}/v1", "--timeout", "2") == 1
    assert "unreachable" in capsys.readouterr().out
