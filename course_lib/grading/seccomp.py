"""A seccomp filter for the grading sandbox: the system calls no answer needs and
every escape starts with.

The filter is a short classic-BPF program (``seccomp(2)``).  It refuses, with
``EPERM``, new namespaces (``unshare``, ``setns``, ``clone`` with a namespace
flag), mounting, the kernel keyrings (which outlive a process and would let
one submission leave a note for the next), ``ptrace``, ``bpf``,
``perf_event_open``, ``userfaultfd``, ``io_uring`` and the like; it answers
``clone3`` with ``ENOSYS``, so that the C library falls back to ``clone``,
whose flags the filter can read; and it refuses every system call made
through another architecture's interface (32-bit calls on x86-64).

:func:`filter_program` returns the program as the bytes of an array of
``struct sock_filter``: bubblewrap reads them (``--seccomp FD``) for a child
started from scratch, and :func:`install` loads them into the calling thread
for a child forked by the fork server.  On a machine that is neither x86-64
nor AArch64 there is no filter (``None``).  This file imports only the
standard library.
"""

from __future__ import annotations

import ctypes
import platform
import struct

#: ``AUDIT_ARCH_*`` and the numbers of the refused system calls, per machine.
ARCHITECTURES = {
    "x86_64": (
        0xC000003E,
        {
            "ptrace": 101, "pivot_root": 155, "acct": 163, "mount": 165, "umount2": 166,
            "swapon": 167, "swapoff": 168, "reboot": 169, "init_module": 175,
            "delete_module": 176, "kexec_load": 246, "add_key": 248, "request_key": 249,
            "keyctl": 250, "unshare": 272, "perf_event_open": 298,
            "open_by_handle_at": 304, "setns": 308, "finit_module": 313,
            "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323,
            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
            "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
            "fsmount": 432, "fspick": 433, "mount_setattr": 442,
        },
        {"clone": 56, "clone3": 435},
    ),
    "aarch64": (
        0xC00000B7,
        {
            "umount2": 39, "mount": 40, "pivot_root": 41, "acct": 89, "unshare": 97,
            "kexec_load": 104, "init_module": 105, "delete_module": 106, "ptrace": 117,
            "reboot": 142, "add_key": 217, "request_key": 218, "keyctl": 219,
            "swapon": 224, "swapoff": 225, "perf_event_open": 241,
            "open_by_handle_at": 265, "setns": 268, "finit_module": 273, "bpf": 280,
            "userfaultfd": 282, "kexec_file_load": 294, "io_uring_setup": 425,
            "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428,
            "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
            "fspick": 433, "mount_setattr": 442,
        },
        {"clone": 220, "clone3": 435},
    ),
}  # fmt: skip
#: CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
#: | CLONE_NEWPID | CLONE_NEWNET
NAMESPACE_FLAGS = 0x7E020000
X32_SYSCALL_BIT = 0x40000000
EPERM, ENOSYS = 1, 38
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
# Classic BPF opcodes (linux/bpf_common.h) and the offsets in struct seccomp_data.
LD_W_ABS, JEQ_K, JGE_K, AND_K, RET_K = 0x20, 0x15, 0x35, 0x54, 0x06
NR, ARCH, ARG0 = 0, 4, 16
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


def _assemble(program: list[tuple]) -> bytes:
    """Instructions ``(opcode, k)`` or ``(opcode, k, if_true, if_false)`` and
    ``("label", name)`` as bytes.

    A jump target is a label or a number of instructions to skip.
    """
    labels, position = {}, 0
    for item in program:
        if item[0] == "label":
            labels[item[1]] = position
        else:
            position += 1
    code, position = b"", 0
    for item in program:
        if item[0] == "label":
            continue
        opcode, k, *targets = item
        jumps = [
            labels[t] - position - 1 if isinstance(t, str) else t for t in targets
        ] or [0, 0]
        code += struct.pack("=HBBI", opcode, jumps[0], jumps[1], k & 0xFFFFFFFF)
        position += 1
    return code


def filter_program(machine: str | None = None) -> bytes | None:
    """The filter for ``machine`` (default: this one) as ``struct sock_filter``
    bytes, or ``None``."""
    machine = machine or platform.machine()
    if machine not in ARCHITECTURES:
        return None
    audit_arch, refused, clones = ARCHITECTURES[machine]
    program: list[tuple] = [
        (LD_W_ABS, ARCH),
        (JEQ_K, audit_arch, 0, "refuse"),
        (LD_W_ABS, NR),
    ]
    if machine == "x86_64":
        program.append((JGE_K, X32_SYSCALL_BIT, "refuse", 0))
    program += [(JEQ_K, number, "refuse", 0) for number in sorted(refused.values())]
    program += [
        (JEQ_K, clones["clone"], "clone", 0),
        (JEQ_K, clones["clone3"], "no_clone3", 0),
    ]
    program += [
        (RET_K, RET_ALLOW),
        ("label", "clone"),
        (LD_W_ABS, ARG0),
        (AND_K, NAMESPACE_FLAGS),
    ]
    program += [(JEQ_K, 0, 0, "refuse"), (RET_K, RET_ALLOW)]
    program += [
        ("label", "no_clone3"),
        (RET_K, RET_ERRNO | ENOSYS),
        ("label", "refuse"),
        (RET_K, RET_ERRNO | EPERM),
    ]
    return _assemble(program)


class _Program(ctypes.Structure):
    _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def install() -> bool:
    """Load the filter into the calling thread (needs ``no_new_privs``); ``False``
    where there is none."""
    code = filter_program()
    if code is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    program = _Program(len(code) // 8, code)
    if (
        libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0)
        != 0
    ):
        raise OSError(ctypes.get_errno(), "could not load the seccomp filter")
    return True
