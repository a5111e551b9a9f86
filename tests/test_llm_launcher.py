"""The server launcher on a real child process (the test server started as a command), and the
optional in-process vLLM backend's install hint."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

import pytest

from corpusmill.errors import ConfigError
from corpusmill.llm import ClientConfig, LLMClient, Request
from corpusmill.llm.launcher import VLLMServer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {"PYTHONPATH": REPO}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command() -> list[str]:
    # Stands in for `vllm serve {model} --host {host} --port {port}`: same placeholders, same API.
    return [
        sys.executable,
        "-m",
        "corpusmill.llm.testing",
        "--model",
        "{model}",
        "--host",
        "{host}",
        "--port",
        "{port}",
    ]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition, what: str, limit: float = 60.0) -> None:
    """Poll until `condition()`; the limit only stops a hung test, it asserts nothing about speed."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def test_start_restart_after_death_and_stop(tmp_path):
    log_path = str(tmp_path / "server.log")
    server = VLLMServer("tiny", command=serve_command(), port=free_port(), env=ENV, log_path=log_path, stop_grace=5)
    with server:
        config = ClientConfig(urls=(server.url,), backoff=0.2, retries=20)
        with LLMClient(config) as client:
            assert client.generate(Request(prompt="before")).text == "echo: before"
            first_pid = server.pid
            os.killpg(first_pid, signal.SIGKILL)  # the server dies mid-job
            wait_for(lambda: server.restarts == 1 and server.pid != first_pid and server.ready(), "a restart")
            assert client.generate(Request(prompt="after")).text == "echo: after"
        pgid = server.pid
    assert not group_alive(pgid)
    with open(log_path) as fh:
        assert fh.read().count("serving OpenAI API at") == 2


def test_command_that_exits_is_a_config_error(tmp_path):
    command = [sys.executable, "-c", "import sys; sys.exit(3)"]
    with pytest.raises(ConfigError, match="exited with code 3"):
        VLLMServer("m", command=command, port=free_port()).start()


def test_missing_program_and_bad_placeholder_are_config_errors():
    with pytest.raises(ConfigError, match="cannot start"):
        VLLMServer("m", command="/no/such/vllm serve {model}", port=free_port()).start()
    with pytest.raises(ConfigError, match="placeholder"):
        VLLMServer("m", command="vllm serve {checkpoint}")
