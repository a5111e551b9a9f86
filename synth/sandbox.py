"""Run untrusted Python in a child process isolated by the operating system, and say what happened.

The child runs under bubblewrap (`bwrap`, Debian package `bubblewrap`), which gives it:
- its own mount namespace: a read-only view of the system directories and the interpreter,
  an empty private writable working directory, a private `/tmp`, its own `/proc` and `/dev`;
  nothing else of the host (no home, no data, no other users' files) is visible;
- its own PID namespace: it sees only its own processes in `/proc`, and every process it
  starts, detached or not, is killed when the run ends;
- its own network namespace (no interface but a downed loopback), IPC and UTS namespaces;
- a seccomp filter (`synth/seccomp.py`) that kills it on non-Unix sockets, ptrace, mounts,
  namespace changes, kernel modules, BPF, io_uring and the like;
- resource limits (CPU seconds, address space, file size, open files, processes, no core
  dumps), and, started as root, the `nobody` user with no capabilities.
Violations are judged from outside, never reported by the code: a seccomp kill (exit by
SIGSYS), and files left in the private `/tmp` (outside its working directory). What this does
not stop: kernel exploits and side channels; for code written by an adversary with kernel
0-days, run the job inside gVisor or a VM as well.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import resources

from corpusmill.errors import ConfigError
from corpusmill.synth import seccomp

NOBODY = 65534
INSIDE = "/sandbox"  # where the code, its config and its working directory appear in the sandbox
# The few /etc files a Python program may read (dynamic linker cache, user names, time zone).
_ETC_FILES = ("/etc/ld.so.cache", "/etc/passwd", "/etc/group", "/etc/localtime", "/etc/nsswitch.conf")


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
    """`status`: ok, error, timeout, cpu_limit, memory_limit, file_size_limit, process_limit, violation
    (killed by seccomp), killed."""

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


def bwrap_path() -> str:
    """The bubblewrap binary, or a ConfigError saying how to get it (checked before a job starts)."""
    path = shutil.which("bwrap")
    if path is None:
        raise ConfigError(
            "the code sandbox needs bubblewrap: install the Debian package `bubblewrap` (`make venv` and the "
            "Dockerfile do), or leave code generation out"
        )
    return path


def run_python(code: str, limits: Limits = Limits()) -> RunResult:
    """Execute `code` as `__main__` in a sandboxed child; never raises for anything the code does."""
    bwrap = bwrap_path()
    with tempfile.TemporaryDirectory(prefix="corpusmill-sandbox-") as root:
        dirs = {name: os.path.join(root, name) for name in ("in", "work", "tmp")}
        for d in dirs.values():
            os.mkdir(d, 0o700)
        if os.geteuid() == 0:
            for name in ("work", "tmp"):
                os.chown(dirs[name], NOBODY, NOBODY)
        with open(os.path.join(dirs["in"], "code.py"), "w", encoding="utf-8") as fh:
            fh.write(code)
        with open(os.path.join(dirs["in"], "config.json"), "w", encoding="utf-8") as fh:
            json.dump({**asdict(limits), "code_path": f"{INSIDE}/in/code.py", "workdir": f"{INSIDE}/work"}, fh)
        with open(os.path.join(root, "stdout"), "w+b") as out, open(os.path.join(root, "stderr"), "w+b") as err:
            returncode, timed_out, wall, isolation = _run_child(bwrap, dirs, out, err, limits)
            stdout = _tail(out, limits.output_chars)
            stderr = _tail(err, limits.output_chars)
        violations = _violations(returncode, timed_out, dirs["tmp"])
    status = _status(returncode, timed_out, stderr)
    return RunResult(status, returncode, stdout, stderr, wall, violations, isolation)


def _open_dir(path: str) -> list[str]:
    """bwrap arguments creating `path` and its parents as 0755 (bwrap makes them 0700 otherwise)."""
    parts = [p for p in path.split("/") if p]
    args: list[str] = []
    for i in range(1, len(parts) + 1):
        args += ["--perms", "0755", "--dir", "/" + "/".join(parts[:i])]
    return args


def _system_binds() -> list[str]:
    """Read-only binds of the system directories and the interpreter; merged-/usr links stay links."""
    args: list[str] = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    prefix = os.path.realpath(sys.base_prefix)
    if not prefix.startswith("/usr/"):
        # e.g. a pyenv interpreter under /root: its parents must be passable for `nobody`.
        args += [*_open_dir(os.path.dirname(prefix)), "--ro-bind", prefix, prefix]
    for name in _ETC_FILES:
        if os.path.exists(name):
            args += ["--ro-bind", name, name]
    return args


def _run_child(
    bwrap: str, dirs: dict[str, str], out, err, limits: Limits
) -> tuple[int | None, bool, float, dict[str, object]]:
    filter_bytes = seccomp.program()
    isolation: dict[str, object] = {
        "tool": "bwrap",
        "namespaces": ["mount", "pid", "net", "ipc", "uts"],
        "filesystem": "read-only system, private /tmp and working directory",
        "seccomp": filter_bytes is not None,
        "user": "nobody" if os.geteuid() == 0 else str(os.getuid()),
    }
    args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() == 0:
        # Only what the boot needs to become `nobody`; that step drops these too.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user"]
    args += ["--die-with-parent", "--new-session", *_system_binds(), "--proc", "/proc", "--dev", "/dev"]
    args += [*_open_dir(INSIDE), "--bind", dirs["tmp"], "/tmp"]
    args += ["--ro-bind", dirs["in"], f"{INSIDE}/in", "--bind", dirs["work"], f"{INSIDE}/work"]
    fds: tuple[int, ...] = ()
    if filter_bytes is not None:
        # bwrap reads the filter from a descriptor; a pipe holds it (a few hundred bytes, under the pipe buffer).
        r, w = os.pipe()
        os.write(w, filter_bytes)
        os.close(w)
        fds = (r,)
        args += ["--seccomp", str(r)]
    args += [os.path.realpath(sys.executable), "-I", "-S", "-c", _boot_source(), f"{INSIDE}/in/config.json"]
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env={
                "PATH": "/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "PYTHONHASHSEED": "0",
                "PYTHONDONTWRITEBYTECODE": "1",
                "TMPDIR": f"{INSIDE}/work",
            },
            start_new_session=True,  # bwrap in its own group: one killpg ends it, the PID namespace the rest
            close_fds=True,
            pass_fds=fds,
        )
    finally:
        for fd in fds:
            os.close(fd)
    timed_out = False
    try:
        proc.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    return (None if timed_out else proc.returncode), timed_out, time.monotonic() - start, isolation


def _signal_of(returncode: int | None) -> int | None:
    """The signal that ended the code: bwrap reports a child killed by signal N as exit 128 + N."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    return returncode - 128 if 128 < returncode < 128 + 65 else None


def _violations(returncode: int | None, timed_out: bool, tmp: str) -> tuple[str, ...]:
    """What the code tried, as seen from outside: a seccomp kill, files left outside its directory."""
    found = []
    if not timed_out and _signal_of(returncode) == signal.SIGSYS:
        found.append("forbidden system call (killed by seccomp: network, ptrace, mount, namespaces...)")
    left = sorted(os.listdir(tmp))
    found += [f"wrote outside its working directory: /tmp/{name}" for name in left[:20]]
    if len(left) > 20:
        found.append(f"... and {len(left) - 20} more files in /tmp")
    return tuple(found)


def _status(returncode: int | None, timed_out: bool, stderr: str) -> str:
    if timed_out:
        return "timeout"
    if returncode == 0:
        return "ok"
    sig = _signal_of(returncode)
    if sig is not None:
        return {
            int(signal.SIGXCPU): "cpu_limit",
            int(signal.SIGXFSZ): "file_size_limit",
            int(signal.SIGSYS): "violation",
        }.get(sig, "killed")
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
