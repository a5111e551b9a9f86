"""Run untrusted Python in a child process with limits, and say what happened.

Isolation, from strongest to weakest (each recorded in `RunResult.isolation`):
- own network namespace (`unshare(CLONE_NEWNET)`, or inside a new user namespace when not root):
  no interface but a downed loopback, so nothing can connect anywhere;
- resource limits: CPU seconds, address space, file size, open files, processes, no core dumps;
- started as root, the child becomes `nobody` (after importing the common stdlib modules,
  since the interpreter's own files may not be readable by `nobody`): the process limit then counts only sandbox
  processes, and the file system is read-only except world-writable places;
- an audit hook refuses network calls, writes, renames and removals outside the working
  directory, starting other programs, and ctypes, and logs each refusal (the code may catch the error; the log stays);
- an empty temporary working directory, a wall-clock timeout, and its own process group,
  killed as a whole at the end.
This contains buggy and careless generated code. It is not a boundary against code written
to escape (an audit hook can be bypassed by native code that gets past it; a process that
calls `setsid` leaves the group): for hostile input, run the job inside gVisor or a VM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import resources

from corpusmill.errors import ConfigError

NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 5
    wall_seconds: float = 10.0
    memory_mb: int = 512
    file_size_mb: int = 16
    processes: int = 16
    open_files: int = 64
    output_chars: int = 20_000  # of stdout and of stderr kept in the result

    def __post_init__(self) -> None:
        if min(self.cpu_seconds, self.memory_mb, self.file_size_mb, self.processes, self.open_files) < 1:
            raise ConfigError(f"sandbox limits must be positive: {self}")
        if self.wall_seconds <= 0:
            raise ConfigError("sandbox wall_seconds must be positive")


@dataclass(frozen=True)
class RunResult:
    """`status`: ok, error, timeout, cpu_limit, memory_limit, file_size_limit, process_limit, killed."""

    status: str
    returncode: int | None
    stdout: str
    stderr: str
    wall_seconds: float
    violations: tuple[str, ...] = ()
    isolation: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and not self.violations

    def to_meta(self) -> dict[str, object]:
        """What goes into `meta`: the verdict and the isolation, not timings or output
        (they differ between runs, and documents must be byte-identical on a re-run)."""
        return {
            "status": self.status,
            "returncode": self.returncode,
            "violations": list(self.violations),
            "isolation": dict(self.isolation),
        }


def _boot_source() -> str:
    return (resources.files("corpusmill.synth") / "sandbox_boot.py").read_text(encoding="utf-8")


def run_python(code: str, limits: Limits = Limits()) -> RunResult:
    """Execute `code` as `__main__` in a sandboxed child; never raises for anything the code does."""
    with tempfile.TemporaryDirectory(prefix="corpusmill-sandbox-") as root:
        work = os.path.join(root, "work")
        os.mkdir(work, 0o700)
        os.chmod(root, 0o711)  # `nobody` may pass through to its working dir, not list ours
        if os.geteuid() == 0:
            os.chown(work, NOBODY, NOBODY)
        paths = {
            name: os.path.join(root, name) for name in ("code.py", "config.json", "isolation.json", "violations.log")
        }
        with open(paths["code.py"], "w", encoding="utf-8") as fh:
            fh.write(code)
        config = {
            **asdict(limits),
            "workdir": work,
            "code_path": paths["code.py"],
            "isolation_path": paths["isolation.json"],
            "violations_path": paths["violations.log"],
        }
        with open(paths["config.json"], "w", encoding="utf-8") as fh:
            json.dump(config, fh)
        with open(os.path.join(root, "stdout"), "w+b") as out, open(os.path.join(root, "stderr"), "w+b") as err:
            returncode, timed_out, wall = _run_child(paths["config.json"], work, out, err, limits)
            # The temporary folder's random name would make messages differ between runs.
            stdout = _tail(out, limits.output_chars).replace(root, "<sandbox>")
            stderr = _tail(err, limits.output_chars).replace(root, "<sandbox>")
        violations = _read_violations(paths["violations.log"])
        isolation = _read_json(paths["isolation.json"])
    status = _status(returncode, timed_out, stderr)
    return RunResult(status, returncode, stdout, stderr, wall, violations, {**isolation, "audit_hook": True})


def _run_child(config_path: str, work: str, out, err, limits: Limits) -> tuple[int | None, bool, float]:
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _boot_source(), config_path],
        cwd=work,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=err,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"},
        start_new_session=True,  # its own process group, so one killpg ends it and its children
        close_fds=True,
    )
    timed_out = False
    try:
        proc.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # also reaps children the code left behind
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    return (None if timed_out else proc.returncode), timed_out, time.monotonic() - start


def _status(returncode: int | None, timed_out: bool, stderr: str) -> str:
    if timed_out:
        return "timeout"
    if returncode == 0:
        return "ok"
    if returncode is not None and returncode < 0:
        return {int(signal.SIGXCPU): "cpu_limit", int(signal.SIGXFSZ): "file_size_limit"}.get(-returncode, "killed")
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if last.startswith("MemoryError"):
        return "memory_limit"
    if "[Errno 27] File too large" in last:
        return "file_size_limit"
    if last.startswith("BlockingIOError") and "Resource temporarily unavailable" in last:
        return "process_limit"
    return "error"


def _tail(fh, limit: int) -> str:
    fh.flush()
    size = fh.seek(0, os.SEEK_END)
    fh.seek(max(0, size - 4 * limit))
    return fh.read().decode("utf-8", "replace")[-limit:]


def _read_violations(path: str) -> tuple[str, ...]:
    if not os.path.exists(path):
        return ()
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()[:100]
    out = []
    for line in lines:
        try:
            out.append(str(json.loads(line)))
        except json.JSONDecodeError:
            out.append(line[:200])
    return tuple(out)


def _read_json(path: str) -> dict[str, object]:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError):
        return {"net_namespace": False, "user": "unknown"}
