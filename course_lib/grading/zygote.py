"""The grader's fork server: imports a notebook's modules once, then forks one
sandboxed child per submission.

``python -I zygote.py LIBRARY CONTROL_FD MODULE...`` runs as root inside the
grader's bubblewrap sandbox (never on the host), imports ``MODULE...`` (the
modules the instructor's setup cells import: Keras and TensorFlow take
seconds, a fork takes milliseconds) and then answers requests on the
``SOCK_SEQPACKET`` socket ``CONTROL_FD``.  A request names a job folder
under ``/grading/jobs``, a user id, the submission's cgroup and carries the
write end of its message pipe.  For each, the zygote forks a child that

1. joins the submission's cgroup;
2. enters new mount, PID, network, IPC and UTS namespaces and forks again,
   so that the learner's code is process 1 of its own PID namespace and
   everything it starts dies with it;
3. mounts its own job read-only at ``/grading/job``, empty file systems over
   every other job and over the cgroup folders, size-capped ``tmpfs`` work
   folder, ``/tmp`` and ``/dev/shm``, and a ``/proc`` of its own;
4. sets its resource limits, empties its capability bounding set, becomes the
   request's unprivileged user id (which clears every capability), sets
   ``no_new_privs`` and loads the seccomp filter (``seccomp.py``) -- and checks
   that all of this took;
5. runs :func:`runner.run` on its job, exactly as a freshly started runner would.

The zygote reports each child's exit status on the control socket.  Only
trusted code (this file, the runner, the preloaded modules) runs before the
child has dropped its privileges.  This file imports only the standard library.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import select
import signal
import socket
import sys
from pathlib import Path
from typing import Any

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
MESSAGE_FD = 3
JOBS, JOB, WORK, CGROUPS = (
    "/grading/jobs",
    "/grading/job",
    "/grading/work",
    "/grading/cgroup",
)

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(
    source: str, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    encoded = [
        None if v is None else v.encode() for v in (source, target, fstype, data)
    ]
    _check(
        _libc.mount(
            encoded[0], encoded[1], encoded[2], ctypes.c_ulong(flags), encoded[3]
        ),
        f"mount {target}",
    )


def _tmpfs(target: str, size: int, mode: str, uid: int = 0) -> None:
    _mount(
        "tmpfs",
        target,
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"size={size},mode={mode},uid={uid},gid={uid}",
    )


def _enter_cgroup(procs_files: list[str]) -> None:
    for procs in procs_files:
        descriptor = os.open(procs, os.O_WRONLY)
        try:
            os.write(descriptor, b"0")
        finally:
            os.close(descriptor)


def _private_view(job: str, uid: int, limits: dict[str, int]) -> None:
    """Mounts of the child's own (it is process 1 of a new PID namespace, still
    root)."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount(f"{JOBS}/{job}", JOB, None, MS_BIND)
    _mount("none", JOB, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _tmpfs(JOBS, 4096, "0555")
    _tmpfs(CGROUPS, 4096, "0555")
    _tmpfs(WORK, limits["disk_bytes"], "0700", uid)
    _tmpfs("/tmp", 16 * 2**20, "1777")
    _tmpfs("/dev/shm", 64 * 2**20, "1777")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _drop_privileges(uid: int, limits: dict[str, int]) -> None:
    """Limits, no capabilities (bounding set included), an unprivileged user id,
    ``no_new_privs``."""
    for name, value in (
        ("RLIMIT_AS", limits["memory_bytes"]),
        ("RLIMIT_CPU", limits["cpu_seconds"]),
        ("RLIMIT_FSIZE", limits["disk_bytes"]),
        ("RLIMIT_NPROC", limits["processes"]),
        ("RLIMIT_CORE", 0),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    last_capability = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last_capability + 1):
        _check(
            _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "drop the bounding set"
        )
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    import seccomp  # beside this file

    seccomp.install()  # no namespaces, mounts, keyrings, ptrace, ... from here on
    status = dict(
        line.split(":\t", 1)
        for line in Path("/proc/self/status").read_text().splitlines()
        if ":\t" in line
    )
    if os.getuid() != uid or any(
        int(status[key], 16) for key in ("CapEff", "CapPrm", "CapBnd", "CapAmb")
    ):
        raise OSError("the child kept a privilege")


def _child(request: dict[str, Any], environment: dict[str, str]) -> None:
    """The forked child: set up, drop privileges, run the submission.  Never returns."""
    code = 70
    try:
        _enter_cgroup(request["procs"])
        _check(
            _libc.unshare(
                CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
            ),
            "unshare",
        )
        learner = os.fork()
        if learner:  # stays behind to pass on the learner's exit status
            os.close(MESSAGE_FD)
            _, status = os.waitpid(learner, 0)
            code = os.waitstatus_to_exitcode(status)
            code = code if code >= 0 else 128 - code
        else:
            os.closerange(MESSAGE_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
            _private_view(request["job"], request["uid"], request["limits"])
            _drop_privileges(request["uid"], request["limits"])
            os.chdir(WORK)
            os.environ.clear()
            os.environ.update(environment)
            import runner

            runner.run(Path(JOB))
            code = 0
    except BaseException as error:  # noqa: BLE001
        # a failed setup ends this child, never the zygote
        code = 71
        _report_setup_failure(error)
    finally:
        os._exit(code)


def _report_setup_failure(error: BaseException) -> None:
    """Tell the grader (it becomes a note in the feedback) why the sandboxed child
    could not start."""
    message = {
        "event": "setup_failed",
        "message": f"{type(error).__name__}: {error}"[:300],
    }
    try:
        os.write(MESSAGE_FD, (json.dumps(message) + "\n").encode())
    except OSError:
        pass


def serve(control: socket.socket, environment: dict[str, str]) -> None:
    """Fork a child per request; report each exit as ``{"id": ..., "status": ...}``."""
    children: dict[int, str] = {}
    control.send(b'{"ready": true}')
    while True:
        readable, _, _ = select.select([control], [], [], 0.05)
        if readable:
            message, fds, _, _ = socket.recv_fds(control, 2**16, 1)
            if not message:
                break
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:
                control.close()
                if fds[0] != MESSAGE_FD:
                    os.dup2(fds[0], MESSAGE_FD)
                    os.close(fds[0])
                _child(request, environment)
            os.close(fds[0])
            children[pid] = request["id"]
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            code = os.waitstatus_to_exitcode(status)
            control.send(json.dumps({"id": children.pop(pid), "status": code}).encode())


def main(argv: list[str]) -> None:
    library, control_fd, modules = argv[1], int(argv[2]), argv[3:]
    sys.path[:0] = [library, str(Path(__file__).parent)]
    for module in ["runner", *modules]:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 -- the child's own import will report it
            pass
    serve(socket.socket(fileno=control_fd), dict(os.environ))


if __name__ == "__main__":
    main(sys.argv)
