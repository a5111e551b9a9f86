"""The sandbox contains what generated code may do wrong or hostile code may try, and records
violations from outside. Limits are small so that the suite stays fast on a shared machine."""

from __future__ import annotations

import ast
import os
import random
import signal
import subprocess
import sys
import time
import uuid

import pytest

from corpusmill.errors import ConfigError
from corpusmill.synth.sandbox import Limits, run_python

SMALL = Limits(cpu_seconds=2, wall_seconds=3, memory_mb=256, file_size_mb=1, processes=8)


def test_good_code_runs_in_an_empty_private_dir() -> None:
    r = run_python("import os\nopen('a.txt', 'w').write('hi')\nprint(sorted(os.listdir('.')), sum(range(5)))", SMALL)
    assert r.status == "ok" and r.ok and r.returncode == 0
    assert r.stdout.strip() == "['a.txt'] 10"
    assert r.isolation["tool"] == "bwrap" and r.isolation["seccomp"] is True
    assert {"mount", "pid", "net"} <= set(r.isolation["namespaces"])


def test_failing_code_is_an_error_with_its_traceback() -> None:
    r = run_python("def f():\n    return 1\nassert f() == 2, 'f is wrong'", SMALL)
    assert r.status == "error" and not r.ok and "AssertionError: f is wrong" in r.stderr


def test_infinite_loop_is_stopped() -> None:
    r = run_python("while True:\n    pass", SMALL)
    assert r.status in ("timeout", "cpu_limit")  # whichever limit the machine's load reaches first
    # Stopped from outside: the timeout (no return code) or SIGXCPU, which bwrap reports as 128 + N.
    assert r.returncode is None or r.returncode == 128 + signal.SIGXCPU


def test_fork_bomb_is_contained() -> None:
    r = run_python("import os\nwhile True:\n    os.fork()", SMALL)
    assert r.status in ("process_limit", "timeout", "cpu_limit", "memory_limit") and not r.ok


def test_memory_hog_is_contained() -> None:
    r = run_python("a = []\nwhile True:\n    a.append(bytearray(10**7))", SMALL)
    assert r.status == "memory_limit"


def test_big_file_is_contained() -> None:
    r = run_python("open('big', 'wb').write(b'x' * 3_000_000)", SMALL)
    assert r.status == "file_size_limit"


def test_writing_outside_its_dir_lands_in_a_private_tmp_and_is_recorded() -> None:
    name = f"corpusmill-escape-{uuid.uuid4().hex}"
    r = run_python(f"open('/tmp/{name}', 'w').write('x')\nprint('written')", SMALL)
    assert r.stdout.strip() == "written"  # the code believes it worked...
    assert not os.path.exists(f"/tmp/{name}")  # ...the host's /tmp never saw it
    assert r.violations == (f"wrote outside its working directory: /tmp/{name}",) and not r.ok


def test_dir_fd_writes_cannot_reach_the_host(tmp_path) -> None:
    """The audit-hook sandbox let `os.open(..., dir_fd=...)` write anywhere; mounts do not care how a path is given."""
    code = (
        "import os\n"
        "root = os.open('/', os.O_RDONLY)\n"
        "for rel in ('usr/evil', 'etc/evil', {rel!r}):\n"
        "    try:\n"
        "        os.close(os.open(rel, os.O_WRONLY | os.O_CREAT, dir_fd=root))\n"
        "        print('created', rel)\n"
        "    except OSError as exc:\n"
        "        print('refused', rel, exc.errno)\n"
    ).format(rel=str(tmp_path / "evil").lstrip("/"))
    r = run_python(code, SMALL)
    assert r.stdout.count("refused") == 3, r.stdout
    assert not (tmp_path / "evil").exists() and not os.path.exists("/usr/evil") and not os.path.exists("/etc/evil")


def test_host_files_are_not_visible(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    code = (
        "import os\n"
        f"for p in ('/etc/shadow', {str(secret)!r}, '/work', '/home', '/var'):\n"
        "    print(p, os.path.exists(p))\n"
        "print(sorted(os.listdir('/')))\n"
    )
    r = run_python(code, SMALL)
    assert r.status == "ok" and "True" not in r.stdout and r.stdout.count("False") == 5, r.stdout
    # Only the system, the interpreter's own folder (e.g. a pyenv under /root) and the sandbox's.
    allowed = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "proc", "dev", "tmp", "sandbox"}
    allowed.add(os.path.realpath(sys.base_prefix).split("/")[1])
    assert set(ast.literal_eval(r.stdout.splitlines()[-1])) <= allowed, r.stdout


def test_network_is_a_violation_seen_from_outside() -> None:
    # The code catches the error; the seccomp kill cannot be caught.
    r = run_python(
        "import socket\ntry:\n    socket.socket().connect(('127.0.0.1', 9))\nexcept OSError:\n    pass", SMALL
    )
    assert r.status == "violation" and not r.ok
    assert r.violations and r.violations[0].startswith("forbidden system call")


def test_native_code_cannot_switch_the_checks_off() -> None:
    """ctypes straight to libc: no Python hook to swap, the kernel still says no."""
    for call in ("libc.socket(2, 1, 0)", "libc.unshare(0x40000000)", "libc.ptrace(0, 0, 0, 0)"):
        r = run_python(f"import ctypes\nlibc = ctypes.CDLL(None)\n{call}\nprint('survived')", SMALL)
        assert r.status == "violation" and "survived" not in r.stdout, (call, r)


def test_other_programs_run_inside_the_same_walls() -> None:
    name = f"corpusmill-shell-{uuid.uuid4().hex}"
    r = run_python(f"import os\nos.system('touch /tmp/{name} /usr/{name} 2>/dev/null')\n", SMALL)
    assert not os.path.exists(f"/tmp/{name}") and not os.path.exists(f"/usr/{name}")
    assert r.violations == (f"wrote outside its working directory: /tmp/{name}",)


def test_detached_processes_die_with_the_run() -> None:
    """setsid + fork used to outlive the run and, piling up, fail every later run with process_limit."""
    marker = f"{1000 + random.randrange(10**6)}.{random.randrange(10**6)}"
    code = (
        "import os\n"
        "for _ in range(6):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        f"        os.execv('/bin/sleep', ['sleep', '{marker}'])\n"
        "print('detached')\n"
    )
    for _ in range(3):
        assert run_python(code, SMALL).stdout.strip() == "detached"
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(marker) == []
    r = run_python(
        "import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nprint('forked')", SMALL
    )
    assert r.status == "ok" and r.stdout.strip() == "forked"


def test_other_processes_are_invisible(tmp_path) -> None:
    secret = f"--api-key=secret-{uuid.uuid4().hex}"
    outside = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", secret])
    try:
        code = (
            "import os\n"
            "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
            "seen = [open(f'/proc/{p}/cmdline', 'rb').read() for p in pids]\n"
            f"print(len(pids), any({secret.encode()!r} in c for c in seen))\n"
        )
        r = run_python(code, SMALL)
    finally:
        outside.kill()
        outside.wait()
    n, found = r.stdout.split()
    assert found == "False" and int(n) <= 3, r.stdout  # bwrap's init, the code, nothing else


def test_a_machine_without_bubblewrap_gets_a_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="bubblewrap"):
        run_python("print(1)", SMALL)


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if marker.encode() in fh.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_bad_limits_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        Limits(cpu_seconds=0)
