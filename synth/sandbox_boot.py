"""The first code a sandboxed child runs (`python -I -S -c <this> CONFIG`), inside bubblewrap.

It is a plain script, read by the parent and passed with `-c`, importing only the stdlib: it
sets the resource limits, gives up root (the parent's bwrap left it only the capabilities to
do so) and executes the untrusted code in `__main__`. The isolation itself (namespaces,
read-only mounts, seccomp) is already in place and does not depend on anything here.
"""

import json
import os
import resource
import sys

NOBODY = 65534


def _own_processes(uid):
    # Only used when not root: RLIMIT_NPROC counts every process of the real uid, and in a
    # user namespace those outside the sandbox count too.
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                count += os.stat(f"/proc/{pid}").st_uid == uid
            except OSError:
                pass
    return count


def _limit(cfg, drop_to_nobody):
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cfg["cpu_seconds"], cfg["cpu_seconds"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (cfg["memory_mb"] * mb, cfg["memory_mb"] * mb))
    resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["file_size_mb"] * mb, cfg["file_size_mb"] * mb))
    resource.setrlimit(resource.RLIMIT_NOFILE, (cfg["open_files"], cfg["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    uid = NOBODY if drop_to_nobody else os.getuid()
    nproc = cfg["processes"] + (0 if drop_to_nobody else _own_processes(uid))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        cfg = json.load(fh)
    with open(cfg["code_path"], encoding="utf-8") as fh:
        code = fh.read()
    root = os.geteuid() == 0
    _limit(cfg, drop_to_nobody=root)
    if root:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)  # from root to another uid: every capability goes too
    os.chdir(cfg["workdir"])
    sys.argv = ["solution.py"]
    exec(compile(code, "solution.py", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})


main()
