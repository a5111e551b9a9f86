"""The sandbox contains what generated code may do wrong, and records it. Limits are small
so that the suite stays fast on a shared machine."""

from __future__ import annotations

import os
import uuid

import pytest

from corpusmill.errors import ConfigError
from corpusmill.synth.sandbox import Limits, run_python

SMALL = Limits(cpu_seconds=2, wall_seconds=3, memory_mb=256, file_size_mb=1, processes=8)


def test_good_code_runs_in_an_empty_private_dir() -> None:
    r = run_python("import os\nopen('a.txt', 'w').write('hi')\nprint(sorted(os.listdir('.')), sum(range(5)))", SMALL)
    assert r.status == "ok" and r.ok and r.returncode == 0
    assert r.stdout.strip() == "['a.txt'] 10"
    assert r.isolation["audit_hook"] is True


def test_failing_code_is_an_error_with_its_traceback() -> None:
    r = run_python("def f():\n    return 1\nassert f() == 2, 'f is wrong'", SMALL)
    assert r.status == "error" and not r.ok and "AssertionError: f is wrong" in r.stderr


def test_infinite_loop_is_stopped() -> None:
    r = run_python("while True:\n    pass", SMALL)
    assert r.status in ("timeout", "cpu_limit")  # whichever limit the machine's load reaches first
    assert r.returncode is None or r.returncode < 0  # stopped by a signal, not by finishing


def test_fork_bomb_is_contained() -> None:
    r = run_python("import os\nwhile True:\n    os.fork()", SMALL)
    assert r.status in ("process_limit", "timeout", "cpu_limit", "memory_limit") and not r.ok


def test_memory_hog_is_contained() -> None:
    r = run_python("a = []\nwhile True:\n    a.append(bytearray(10**7))", SMALL)
    assert r.status == "memory_limit"


def test_big_file_is_contained() -> None:
    r = run_python("open('big', 'wb').write(b'x' * 3_000_000)", SMALL)
    assert r.status == "file_size_limit"


def test_writing_outside_its_dir_is_refused_and_recorded(tmp_path) -> None:
    target = f"/tmp/corpusmill-escape-{uuid.uuid4().hex}"
    code = f"try:\n    open({target!r}, 'w').write('x')\nexcept PermissionError:\n    print('refused')\n"
    r = run_python(code, SMALL)
    assert not os.path.exists(target)
    assert r.violations and "write outside working directory" in r.violations[0]
    assert r.stdout.strip() == "refused" and not r.ok  # caught by the code, still recorded


def test_network_is_refused_and_recorded() -> None:
    r = run_python("import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 9))", SMALL)
    assert r.status == "error" and not r.ok
    assert any(v.startswith("network") for v in r.violations)


def test_bad_limits_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        Limits(cpu_seconds=0)


def test_starting_another_program_is_refused_and_recorded() -> None:
    target = f"/tmp/corpusmill-shell-{uuid.uuid4().hex}"
    r = run_python(f"import os, subprocess\nos.system('touch {target}')\n", SMALL)
    assert not os.path.exists(target) and r.violations == ("starting a program: os.system",)
    r = run_python(f"import subprocess\nsubprocess.run(['touch', {target!r}])\n", SMALL)
    assert not os.path.exists(target) and r.violations == ("starting a program: subprocess.Popen",)
