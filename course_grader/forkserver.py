"""The grader's side of the fork server (``course_lib/grading/zygote.py``).

Importing TensorFlow takes seconds; forking a process that has already
imported it takes milliseconds.  When the grader runs as root with
bubblewrap and a cgroup, it starts one zygote per class inside the sandbox,
which imports the modules the assignment's setup cells import, and asks it
for one child per submission.  Every child still gets its own namespaces,
its own view of the file system, its own user id, cgroup and limits (the
zygote's docstring lists them); only the imported modules are shared, as
read-only copy-on-write pages.

Elsewhere (a normal user, no cgroup) the grader starts each child from
scratch instead (:meth:`course_grader.sandbox.Sandbox.start`).
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

from course_grader.sandbox import SANDBOX_UID_BASE, Cgroup, CgroupRun, Limits, Sandbox

#: How long the zygote may take to import the notebook's modules (TensorFlow on a loaded machine).
STARTUP_SECONDS = 300.0


def imported_modules(sources: list[str]) -> list[str]:
    """The modules that the (trusted) instructor cells ``sources`` import at their top level, in order."""
    modules: list[str] = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                modules += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.append(node.module)
    # course_lib.notebook.setup(), which every notebook calls first, imports pyplot.
    preloaded = ["numpy", "IPython.core.inputtransformer2", "matplotlib.pyplot"]
    return list(dict.fromkeys([*preloaded, *modules]))


class ForkServer:
    """A running zygote: :meth:`spawn` starts a child, :meth:`wait` returns its exit status."""

    def __init__(self, sandbox: Sandbox, jobs: Path, cgroups: CgroupRun, modules: list[str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = ours
        self.lock = threading.Lock()
        self.statuses: dict[str, int] = {}
        self.finished: dict[str, threading.Event] = {}
        command = sandbox.zygote_command(jobs, cgroups, theirs.fileno(), modules)
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        ours.settimeout(STARTUP_SECONDS)
        try:
            ready = json.loads(ours.recv(2**16) or b"{}")
        except (OSError, ValueError):
            ready = {}
        if not ready.get("ready"):
            self.close()
            raise RuntimeError("the grader's fork server did not start")
        ours.settimeout(None)
        self.reader = threading.Thread(target=self._read_statuses, daemon=True)
        self.reader.start()

    def _read_statuses(self) -> None:
        while True:
            try:
                message = self.control.recv(2**16)
            except OSError:
                message = b""
            if not message:
                for event in self.finished.values():
                    event.set()
                return
            report: dict[str, Any] = json.loads(message)
            self.statuses[report["id"]] = int(report["status"])
            self.finished.setdefault(report["id"], threading.Event()).set()

    def spawn(self, name: str, job: str, number: int, cgroup: Cgroup, limits: Limits, fd: int) -> None:
        """Fork the child ``name`` for the job folder ``jobs/job``; its messages go to the pipe ``fd``."""
        request = {
            "id": name,
            "job": job,
            "uid": SANDBOX_UID_BASE + number,
            "procs": cgroup.procs_files(mounted_at="/grading/cgroup"),
            "limits": {
                "memory_bytes": limits.memory_mb * 2**20,
                "cpu_seconds": int(limits.seconds) + 5,
                "disk_bytes": limits.disk_mb * 2**20,
                "processes": limits.processes,
            },
        }
        self.finished[name] = threading.Event()
        with self.lock:
            socket.send_fds(self.control, [json.dumps(request).encode()], [fd])

    def wait(self, name: str, timeout: float) -> int | None:
        """The child's exit status, or ``None`` if it has not ended within ``timeout`` seconds."""
        self.finished[name].wait(timeout)
        return self.statuses.pop(name, None)

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, 9)
            self.process.wait()
