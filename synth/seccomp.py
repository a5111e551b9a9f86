"""A seccomp filter for the code sandbox, as the classic-BPF bytes `bwrap --seccomp FD` reads.

The filter kills the whole process (SECCOMP_RET_KILL_PROCESS, seen from outside as SIGSYS)
on system calls that sandboxed code has no business making: sockets other than Unix ones
(so a network attempt is a detected violation, not just a failed connect), ptrace and
cross-process memory access, mounts and namespace changes, kernel modules, BPF, keyrings,
io_uring (its operations bypass seccomp), clock/host changes, and any call of another ABI
(32-bit `int 0x80`, x32). Everything else is allowed: the namespaces and read-only mounts
contain it. Only x86-64 is described; elsewhere `program()` returns None and the sandbox
records `seccomp: false`.
"""

from __future__ import annotations

import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
AF_UNIX = 1
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ALLOW = 0x7FFF0000

# struct seccomp_data: nr (u32) at 0, arch (u32) at 4, instruction pointer at 8, args at 16.
_NR, _ARCH, _ARG0 = 0, 4, 16
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K

SOCKET_X86_64 = 41
DENIED_X86_64 = {
    "ptrace": 101,
    "syslog": 103,
    "personality": 135,
    "pivot_root": 155,
    "chroot": 161,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "sethostname": 170,
    "setdomainname": 171,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "mount_setattr": 442,
}


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str | None = None) -> bytes | None:
    """The filter for this machine's architecture, or None where none is described."""
    if (machine or platform.machine()) not in ("x86_64", "AMD64"):
        return None
    denied = sorted(DENIED_X86_64.values())
    # Layout: checks, then [socket argument check], then ALLOW, KILL. Jumps count forward from
    # the next instruction, so each check's distance to ALLOW/KILL is computed from its index.
    body: list[tuple[int, int, str | None, str | None]] = [
        (_LD_W_ABS, _ARCH, None, None),
        (_JEQ_K, AUDIT_ARCH_X86_64, None, "kill"),
        (_LD_W_ABS, _NR, None, None),
        (_JGE_K, X32_SYSCALL_BIT, "kill", None),
        *((_JEQ_K, nr, "kill", None) for nr in denied),
        (_JEQ_K, SOCKET_X86_64, None, "allow"),
        (_LD_W_ABS, _ARG0, None, None),
        (_JEQ_K, AF_UNIX, "allow", "kill"),
    ]
    allow, kill = len(body), len(body) + 1
    out = []
    for i, (code, k, jt, jf) in enumerate(body):
        target = {"allow": allow, "kill": kill, None: i + 1}
        out.append(_op(code, k, target[jt] - i - 1, target[jf] - i - 1))
    out.append(_op(_RET_K, SECCOMP_RET_ALLOW))
    out.append(_op(_RET_K, SECCOMP_RET_KILL_PROCESS))
    return b"".join(out)
