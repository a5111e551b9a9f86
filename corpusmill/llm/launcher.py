"""Start a `vllm serve` process for a job, keep it alive, stop it at the end.

The command is configurable, so vLLM can live in a virtualenv of its own (it cannot share one
with Beam 2.77) or be replaced by SGLang or any server that speaks the OpenAI API:

    with VLLMServer("Qwen/Qwen2.5-7B-Instruct", port=8001,
                    command="/opt/vllm/bin/vllm serve {model} --host {host} --port {port}") as server:
        config = ClientConfig(urls=(server.url,), model="Qwen/Qwen2.5-7B-Instruct")

The child runs in its own process group, so stopping it also stops the workers it forks. A
watchdog restarts it (up to `max_restarts` times) if it dies while the job runs.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import IO, Any

from corpusmill.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_COMMAND = "vllm serve {model} --host {host} --port {port}"


class VLLMServer:
    """A context manager around one OpenAI-compatible server process; `url` is its base URL."""

    def __init__(
        self,
        model: str = "",
        *,
        command: str | Sequence[str] = DEFAULT_COMMAND,
        host: str = "127.0.0.1",
        port: int = 8000,
        ready_timeout: float = 1800.0,
        max_restarts: int = 3,
        stop_grace: float = 30.0,
        env: Mapping[str, str] | None = None,
        log_path: str | None = None,
    ) -> None:
        tokens = shlex.split(command) if isinstance(command, str) else list(command)
        try:
            self.args = [t.format(model=model, host=host, port=port) for t in tokens]
        except (KeyError, IndexError) as exc:
            raise ConfigError(f"server command: unknown placeholder {exc}; use {{model}}, {{host}}, {{port}}") from None
        if not self.args:
            raise ConfigError("server command is empty")
        self.host, self.port = host, port
        self.ready_timeout, self.max_restarts, self.stop_grace = ready_timeout, max_restarts, stop_grace
        self.env = None if env is None else {**os.environ, **env}
        self.log_path = log_path
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[Any] | None = None
        self._stopping = threading.Event()
        self._watchdog: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def __enter__(self) -> VLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> VLLMServer:
        """Start the process and return once it answers; ConfigError if it dies or never answers."""
        if self.log_path:
            self._log = open(self.log_path, "ab")
        self._spawn()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self._watchdog = threading.Thread(target=self._watch, name="llm-server-watchdog", daemon=True)
        self._watchdog.start()
        return self

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after `stop_grace` seconds."""
        self._stopping.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join()
        self._kill()
        if self._log is not None:
            self._log.close()
            self._log = None

    def ready(self) -> bool:
        """True when /health (vLLM, SGLang) or else /v1/models answers 200."""
        for path in ("/health", "/v1/models"):
            try:
                with urllib.request.urlopen(f"http://{self.host}:{self.port}{path}", timeout=5) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, OSError, ValueError):
                continue
        return False

    def _spawn(self) -> None:
        log.info("starting LLM server: %s", shlex.join(self.args))
        out = self._log if self._log is not None else None
        try:
            self._proc = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT if out else None, env=self.env,
                start_new_session=True,  # own process group: stop() reaches every worker it forks
            )  # fmt: skip
        except OSError as exc:
            raise ConfigError(f"cannot start LLM server {self.args[0]!r}: {exc}") from exc

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while not self._stopping.is_set():
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                raise ConfigError(f"LLM server exited with code {code} before it was ready: {shlex.join(self.args)}"
                                  + (f" (log: {self.log_path})" if self.log_path else ""))  # fmt: skip
            if self.ready():
                log.info("LLM server ready at %s", self.url)
                return
            if time.monotonic() > deadline:
                raise ConfigError(f"LLM server not ready after {self.ready_timeout:.0f}s at {self.url}")
            self._stopping.wait(0.2)

    def _watch(self) -> None:
        """Restart the server whenever it dies, until stop() or `max_restarts` is used up."""
        while not self._stopping.wait(0.2):
            assert self._proc is not None
            code = self._proc.poll()
            if code is None:
                continue
            if self.restarts >= self.max_restarts:
                log.error(
                    "LLM server died (code %s) and was restarted %d times already: giving up", code, self.restarts
                )
                return
            self.restarts += 1
            log.warning("LLM server died (code %s): restart %d of %d", code, self.restarts, self.max_restarts)
            self._kill()  # workers it forked may still hold the port or the GPU
            try:
                self._spawn()
                self._wait_ready()
            except ConfigError as exc:
                log.error("LLM server restart failed: %s", exc)

    def _kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=self.stop_grace)
        except subprocess.TimeoutExpired:
            log.warning("LLM server did not stop within %.0fs: killing it", self.stop_grace)
        _signal_group(proc.pid, signal.SIGKILL)  # whatever is left of the group, e.g. forked workers
        proc.wait()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
