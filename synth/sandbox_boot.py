"""The first code a sandboxed child runs (`python -I -S sandbox_boot.py CONFIG`), before the untrusted code.

It is a plain script, read by the parent and passed with `-c`, importing only the stdlib:
it leaves the network namespace, sets the resource limits, gives up root, installs an audit
hook that refuses network use and writes outside the working directory, and only then
executes the untrusted code in `__main__`. Each step that fails is recorded, never hidden.
"""

import ctypes
import json
import os
import resource
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
NOBODY = 65534
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_NET_EVENTS = {
    "socket.connect",
    "socket.bind",
    "socket.sendto",
    "socket.sendmsg",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.getnameinfo",
}
# A child that becomes `nobody` may not be able to read the stdlib (e.g. a Python under /root):
# import what generated code commonly needs while still privileged.
PRELOAD = (
    "math cmath itertools functools collections collections.abc heapq bisect re string typing "
    "dataclasses fractions decimal statistics random operator copy json datetime enum abc array "
    "struct textwrap unicodedata io socket unittest traceback calendar hashlib base64 pathlib shutil "
    "tempfile contextlib numbers pprint encodings.idna subprocess"
).split()
# Another program would run without this hook: starting one is refused (fork is allowed, it
# keeps the hook, and RLIMIT_NPROC bounds it).
_EXEC_EVENTS = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen", "pty.spawn", "os.startfile"}
_PATH_EVENTS = {
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.symlink",
    "os.link",
    "os.truncate",
    "os.utime",
    "shutil.rmtree",
    "shutil.copyfile",
    "shutil.move",
}


def _unshare_net(libc):
    """Leave the network namespace: as root directly, otherwise inside a new user namespace."""
    for flags in (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return True
    return False


def _own_processes(uid):
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
    # RLIMIT_NPROC counts every process of the real uid: nobody's are ours, our own uid's are not.
    uid = NOBODY if drop_to_nobody else os.getuid()
    nproc = cfg["processes"] + (0 if drop_to_nobody else _own_processes(uid))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def _hook_factory(workdir, log):
    def inside(path):
        if isinstance(path, int):
            return True  # an already open descriptor: it was allowed when opened
        full = os.path.abspath(os.fsdecode(path))
        return full == workdir or full.startswith(workdir + os.sep)

    def hook(event, args):
        reason = None
        if event in _NET_EVENTS:
            reason = f"network: {event}"
        elif event == "open" and args[0] is not None and (args[2] or 0) & _WRITE_FLAGS and not inside(args[0]):
            reason = f"write outside working directory: {args[0]}"
        elif event in _PATH_EVENTS and args and not all(inside(a) for a in args[:2] if isinstance(a, (str, bytes))):
            reason = f"{event} outside working directory: {args[0]}"
        elif event in _EXEC_EVENTS:
            reason = f"starting a program: {event}"
        elif event in ("ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata"):
            reason = f"native code: {event}"
        if reason:
            log.write(json.dumps(reason) + "\n")
            log.flush()
            raise PermissionError(f"sandbox: {reason} is not allowed")

    return hook


def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        cfg = json.load(fh)
    with open(cfg["code_path"], encoding="utf-8") as fh:
        code = fh.read()
    root = os.geteuid() == 0
    net = _unshare_net(ctypes.CDLL(None, use_errno=True))
    with open(cfg["isolation_path"], "w", encoding="utf-8") as fh:
        json.dump({"net_namespace": net, "user": "nobody" if root else str(os.getuid())}, fh)
    for name in PRELOAD:
        __import__(name)
    log = open(cfg["violations_path"], "a", encoding="utf-8")
    os.chdir(cfg["workdir"])
    _limit(cfg, drop_to_nobody=root)
    if root:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    sys.argv = ["solution.py"]
    sys.addaudithook(_hook_factory(cfg["workdir"], log))
    exec(compile(code, "solution.py", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})


main()
