"""Where and how one submission runs: an unprivileged child in an allow-list sandbox, under limits.

The grader runs every submission through a :class:`Sandbox`:

* **bubblewrap as root** (``mode="bubblewrap-root"``): ``bwrap`` builds a new
  root that holds only an allow-list -- the interpreter, the packages, the
  system libraries (read-only), the learner's side of ``course_lib`` staged by
  the grader (read-only), the job's inputs (read-only), and size-capped
  ``tmpfs`` folders for the work folder, ``/tmp`` and ``/dev/shm``.  Inside it,
  ``setpriv`` becomes a user id of the submission's own, with no
  capabilities, an empty bounding set and ``no_new_privs``, before Python
  starts.  Nothing the child can reach was hidden by an overlay that it
  could unmount: what is not on the list was never mounted.  With a cgroup,
  children are forked by a fork server instead of started from scratch
  (:mod:`course_grader.forkserver`), with the same view and the same drop.
* **bubblewrap as a normal user** (``mode="bubblewrap-user"``): the same view,
  built in a user namespace; the child keeps the instructor's user id but no
  capabilities, and may not create further user namespaces.
* **no sandbox** (``mode="none"``): only the limits, a separate process and a
  temporary work folder.  As root this mode is refused unless the instructor
  accepts the risk explicitly (``course-grade --no-sandbox-as-root``), and
  even then the child drops to an unprivileged user first.

In every bubblewrap mode a seccomp filter (``course_lib/grading/seccomp.py``)
refuses new namespaces, mounts, keyrings, ``ptrace`` and the like.

Limits hold for the whole submission where a cgroup can be had (root, or a
delegated cgroup v2 subtree): memory including ``tmpfs`` and ``/dev/shm``, and
the number of processes.  Without one they hold per process
(``RLIMIT_AS``, ``RLIMIT_CPU``, ``RLIMIT_FSIZE``; ``RLIMIT_NPROC`` per user id
as root) and the writable space is the sum of the ``tmpfs`` sizes.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from course_lib.grading.seccomp import filter_program

#: The user ids the child becomes when the grader runs as root: one per submission, far above
#: the ids that distributions hand out to people, so no file on the host belongs to them.
SANDBOX_UID_BASE = 2_100_000_000
#: Where things appear inside the sandbox.
CHILD_LIBRARY, CHILD_JOB, CHILD_WORK = "/grading/lib", "/grading/job", "/grading/work"
#: Where the fork server sees every job and the run's cgroup folders (each child hides them).
CHILD_JOBS, CHILD_CGROUPS = "/grading/jobs", "/grading/cgroup"
#: The learner's side of course_lib that a submission may import while it is graded.
LEARNER_MODULES = ("notebook.py", "grading")


@dataclass(frozen=True)
class Limits:
    """What one submission may use, as a whole where a cgroup exists (see the module docstring)."""

    seconds: float = 60.0
    memory_mb: int = 4096
    disk_mb: int = 256
    processes: int = 512
    messages_mb: int = 32


# --------------------------------------------------------------------------------------
# What the child may see
# --------------------------------------------------------------------------------------


def stage_learner_library(destination: Path) -> Path:
    """Copy the learner's side of ``course_lib`` that a graded notebook imports into ``destination``.

    The copy holds ``course_lib.notebook`` and ``course_lib.grading`` (the
    self-check's public data, the chapters' ``task_data`` and the child's
    runner) under a minimal ``course_lib/__init__.py``: no losses, no
    gradients, nothing that computes a graded answer, nothing of
    :mod:`course_grader`.
    """
    import course_lib

    source = Path(course_lib.__file__).parent
    package = destination / "course_lib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        '"""course_lib as a submission sees it while it is graded: the notebook helpers and the\n'
        'learner\'s side of grading, nothing that computes a graded answer."""\n'
    )
    for name in LEARNER_MODULES:
        if (source / name).is_dir():
            shutil.copytree(source / name, package / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source / name, package / name)
    for path in [destination, *destination.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return destination


def _hidden_package_dirs() -> list[Path]:
    """Installed copies of course_lib and course_grader that must not show through the environment."""
    found = []
    for name in ("course_lib", "course_grader"):
        for entry in sys.path:
            candidate = Path(entry or ".") / name
            if entry and candidate.is_dir():
                found.append(candidate.resolve())
    return found


def _environment_dirs() -> list[Path]:
    """The interpreter, its standard library and the installed packages, read-only in the sandbox."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix)}
    paths |= {Path(p) for p in sysconfig.get_paths().values()}
    paths.add(Path(os.path.realpath(sys.executable)).parent)
    kept: list[Path] = []
    for path in sorted({p.resolve() for p in paths if p.exists()}, key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(parent) for parent in kept):
            kept.append(path)
    return kept


def _folders_above(paths: list[Path], args: list[str]) -> list[Path]:
    """The folders between ``/`` and each of ``paths`` that bwrap creates on its root ``tmpfs``.

    Folders inside a read-only bind already in ``args`` exist with their own permissions.
    """
    bound = [Path(args[i + 2]) for i, arg in enumerate(args) if arg == "--ro-bind"]
    parents = {parent for path in paths for parent in path.parents if parent != Path("/")}
    return sorted(p for p in parents if not any(p.is_relative_to(b) for b in bound))


def _system_binds() -> list[str]:
    """The system's programs and libraries (``/usr``, ``/lib*``, the dynamic linker's cache)."""
    args: list[str] = []
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "localtime"):
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path.resolve()), str(path)]
    return args


# --------------------------------------------------------------------------------------
# Which sandbox this machine offers
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def bubblewrap() -> str | None:
    """Path of a working ``bwrap`` (checked by running it), or ``None``."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = [path, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "true"]
    try:
        return path if subprocess.run(probe, capture_output=True, timeout=30).returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


@lru_cache(maxsize=1)
def _runs_unprivileged() -> bool:
    """Whether this interpreter starts as an unprivileged user id (needed to run unsandboxed as root)."""

    def drop() -> None:
        os.setgroups([])
        os.setgid(SANDBOX_UID_BASE)
        os.setuid(SANDBOX_UID_BASE)

    try:
        probe = subprocess.run(
            [sys.executable, "-I", "-c", "import numpy"], cwd="/", preexec_fn=drop, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def is_root() -> bool:
    return os.name == "posix" and os.geteuid() == 0


@dataclass(frozen=True)
class Sandbox:
    """How children are started: ``mode`` is ``bubblewrap-root``, ``bubblewrap-user`` or ``none``."""

    mode: str
    limits: Limits
    library: Path  # the staged learner library (stage_learner_library)

    @classmethod
    def choose(cls, limits: Limits, library: Path, *, allow_unsandboxed_root: bool = False) -> Sandbox:
        """The strongest sandbox available; refuses to run unsandboxed as root unless allowed."""
        if bubblewrap() is not None:
            return cls("bubblewrap-root" if is_root() else "bubblewrap-user", limits, library)
        if is_root() and not allow_unsandboxed_root:
            raise RuntimeError(
                "refusing to run students' code as root without bubblewrap: install it "
                "(apt-get install bubblewrap), grade as a normal user, or pass --no-sandbox-as-root "
                "to accept that their code can read everything an unprivileged user can, and use the network"
            )
        if is_root() and not _runs_unprivileged():
            raise RuntimeError(
                f"cannot drop students' code to an unprivileged user: {sys.executable} is not readable by "
                "one (a Python under /root?); install bubblewrap, which makes it readable inside the sandbox"
            )
        return cls("none", limits, library)

    @property
    def description(self) -> str:
        return {
            "bubblewrap-root": "bubblewrap, as an unprivileged user id without capabilities",
            "bubblewrap-user": "bubblewrap (user namespace), without capabilities",
            "none": "none: separate process and limits only (see course-grade --help)",
        }[self.mode]

    def _view(self, binds: list[str], *, seccomp_fd: int | None = None) -> list[str]:
        """bwrap's arguments for the allow-list view, plus ``binds`` (more mounts), up to the command.

        With ``seccomp_fd``, bwrap reads the seccomp filter (course_lib/grading/seccomp.py) from that
        descriptor and loads it just before the command.
        """
        args = [bubblewrap(), "--die-with-parent", "--new-session", "--clearenv"]
        if seccomp_fd is not None and filter_program() is not None:
            args += ["--seccomp", str(seccomp_fd)]
        args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if self.mode == "bubblewrap-user":
            args += ["--unshare-user", "--disable-userns"]
        args += ["--tmpfs", "/", "--proc", "/proc", "--dev", "/dev"]
        args += [
            "--size",
            str(64 * 2**20),
            "--tmpfs",
            "/dev/shm",
            "--size",
            str(16 * 2**20),
            "--tmpfs",
            "/tmp",
        ]
        args += _system_binds()
        for path in _environment_dirs():
            args += ["--ro-bind", str(path), str(path)]
        for path in _hidden_package_dirs():
            if any(path.is_relative_to(parent) for parent in _environment_dirs()):
                args += ["--tmpfs", str(path)]
        args += ["--ro-bind", str(self.library), CHILD_LIBRARY, *binds]
        args += ["--size", str(self.limits.disk_mb * 2**20), "--tmpfs", CHILD_WORK]
        # bwrap creates the folders above each mount point for root only; the child must pass through.
        for folder in _folders_above([*_environment_dirs(), Path(CHILD_LIBRARY), Path(CHILD_JOB)], args):
            args += ["--chmod", "0755", str(folder)]
        args += ["--chmod", "0777", CHILD_WORK, "--chdir", CHILD_WORK]
        for key, value in child_environment(CHILD_WORK).items():
            args += ["--setenv", key, value]
        return args

    def command(self, job: Path, work: Path, uid: int, message_fd: int, seccomp_fd: int) -> list[str]:
        """The command line that runs the child for the job folder ``job`` with work folder ``work``.

        The child writes its messages to ``message_fd``, and bwrap reads its seccomp filter from
        ``seccomp_fd``: the descriptors as numbered in the grader, which the child inherits.
        """
        python = sys.executable  # a venv is found through the path it was started by
        if self.mode == "none":
            runner = [python, "-I", str(self.library / "course_lib" / "grading" / "runner.py")]
            return runner + [str(self.library), str(job), str(work), str(message_fd)]
        args = self._view(["--ro-bind", str(job), CHILD_JOB], seccomp_fd=seccomp_fd)
        runner = [python, "-I", f"{CHILD_LIBRARY}/course_lib/grading/runner.py", CHILD_LIBRARY, CHILD_JOB]
        runner += [CHILD_WORK, str(message_fd)]
        if self.mode == "bubblewrap-root":
            drop = [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}"]
            drop += ["--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
            return [*args, "--", *drop, *runner]
        return [*args, "--", *runner]

    def zygote_command(
        self, jobs: Path, cgroups: CgroupRun, control_fd: int, modules: list[str]
    ) -> list[str]:
        """The fork server's command line (root mode only): every job and the run's cgroups are mounted.

        The zygote stays root inside the sandbox; each child it forks hides the
        other jobs and the cgroup folders before it drops its privileges
        (``course_lib/grading/zygote.py``).
        """
        binds = ["--ro-bind", str(jobs), CHILD_JOBS, "--dir", CHILD_JOB]
        for index, directory in enumerate(cgroups.directories):
            binds += ["--bind", str(directory), f"{CHILD_CGROUPS}/{index}"]
        zygote = [sys.executable, "-I", f"{CHILD_LIBRARY}/course_lib/grading/zygote.py", CHILD_LIBRARY]
        # No seccomp filter here: the zygote mounts and unshares for its children, which load it themselves.
        return [*self._view(binds), "--", *zygote, str(control_fd), *modules]

    def start(self, job: Path, work: Path, number: int, cgroup: Cgroup | None) -> subprocess.Popen:
        """Start the child; its messages arrive on the returned process's ``messages`` pipe (read end)."""
        uid = SANDBOX_UID_BASE + number
        read_end, write_end = os.pipe()
        drop_here = self.mode == "none" and is_root()
        if drop_here:
            for path in [work, *work.rglob("*")]:
                os.chown(path, uid, uid)
        environment = child_environment(str(work)) if self.mode == "none" else {}
        procs_files = cgroup.procs_files() if cgroup else []
        limits = self.limits
        filter_read, filter_write = os.pipe()
        os.write(filter_write, filter_program() or b"")
        os.close(filter_write)

        def prepare_child() -> None:  # runs in the child between fork and exec: no locks, no imports
            for procs in procs_files:
                descriptor = os.open(procs, os.O_WRONLY)
                os.write(descriptor, b"0")
                os.close(descriptor)
            _set_limits(limits, per_uid_processes=is_root())
            if drop_here:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)

        try:
            # The child keeps the two descriptors at their numbers here: every number in pass_fds
            # must be open in this process when it forks, and with several submissions graded
            # at once only the descriptors this call holds are sure to be (a fixed number such
            # as 3 may be another submission's pipe, closed a moment before).
            process = subprocess.Popen(
                self.command(job, work, uid, message_fd=write_end, seccomp_fd=filter_read),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=work,
                env=environment,
                pass_fds=(write_end, filter_read),
                preexec_fn=prepare_child,
                start_new_session=True,
            )
        finally:
            os.close(write_end)
            os.close(filter_read)
        process.messages = os.fdopen(read_end, "rb", buffering=0)  # type: ignore[attr-defined]
        return process


def child_environment(work: str) -> dict[str, str]:
    """The whole environment of the child: nothing of the grader's own leaks in.

    Submissions are graded several at once, so OpenMP's idle threads sleep instead
    of spinning (:data:`course_lib.notebook.SHARED_CPU_ENVIRONMENT`): spinning would
    slow the others and count against each child's CPU-time limit."""
    from course_lib.notebook import SHARED_CPU_ENVIRONMENT, TF_ENVIRONMENT

    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": work,
        "TMPDIR": work,
        "MPLCONFIGDIR": work,
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "KERAS_HOME": work,
        **TF_ENVIRONMENT,
        **SHARED_CPU_ENVIRONMENT,
    }


def _set_limits(limits: Limits, *, per_uid_processes: bool) -> None:
    """Per-process limits (set between fork and exec; inherited through bwrap and setpriv)."""
    memory = limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits.seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    size = limits.disk_mb * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if per_uid_processes:  # the submission's own user id: counts its processes and threads only
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with an error instead


# --------------------------------------------------------------------------------------
# Limits for the submission as a whole
# --------------------------------------------------------------------------------------


@dataclass
class CgroupRun:
    """The grading run's cgroup folders: one (v2), or one each in the v1 ``memory`` and ``pids`` hierarchies.

    Each submission gets a group of its own below them (:meth:`group`), so the
    run's folders hold no process and can be removed at the end.
    """

    directories: list[Path]
    version: int

    @classmethod
    def create(cls) -> CgroupRun | None:
        """The run's cgroup folders, or ``None`` where this process may not create cgroups."""
        name = f"course-grade-{os.getpid()}"
        for make in (cls._create_v2, cls._create_v1):
            try:
                run = make(name)
            except OSError:
                continue
            if run is not None:
                return run
        return None

    @classmethod
    def _create_v2(cls, name: str) -> CgroupRun | None:
        root = Path("/sys/fs/cgroup")
        if not (root / "cgroup.controllers").exists():
            return None
        parent = root if is_root() else (root / _own_cgroup("")).parent
        if not {"memory", "pids"} <= set((parent / "cgroup.controllers").read_text().split()):
            return None
        run = parent / name
        run.mkdir()
        try:
            (run / "cgroup.subtree_control").write_text("+memory +pids")
        except OSError:
            run.rmdir()
            raise
        return cls([run], 2)

    @classmethod
    def _create_v1(cls, name: str) -> CgroupRun | None:
        directories: list[Path] = []
        for controller in ("memory", "pids"):
            mount = Path("/sys/fs/cgroup") / controller
            if not (mount / "cgroup.procs").exists():
                return None
            run = mount / _own_cgroup(controller).lstrip("/") / name
            try:
                run.mkdir()
            except OSError:
                for made in directories:
                    made.rmdir()
                raise
            directories.append(run)
        return cls(directories, 1)

    def group(self, name: str, limits: Limits) -> Cgroup:
        """A new group for one submission, with its memory and process limits."""
        group = Cgroup([directory / name for directory in self.directories], self.version, name)
        for directory in group.directories:
            directory.mkdir()
        try:
            group.apply(limits)
        except OSError:
            group.remove()
            raise
        return group

    def remove(self) -> None:
        for directory in self.directories:
            _remove_cgroup(directory)


@dataclass
class Cgroup:
    """One submission's cgroup (see :class:`CgroupRun`)."""

    directories: list[Path]
    version: int
    name: str

    def apply(self, limits: Limits) -> None:
        memory = str(limits.memory_mb * 2**20)
        if self.version == 2:
            group = self.directories[0]
            (group / "memory.max").write_text(memory)
            if (group / "memory.swap.max").exists():
                (group / "memory.swap.max").write_text("0")
            (group / "pids.max").write_text(str(limits.processes))
            return
        memory_group, pids_group = self.directories
        (memory_group / "memory.limit_in_bytes").write_text(memory)
        if (memory_group / "memory.memsw.limit_in_bytes").exists():
            (memory_group / "memory.memsw.limit_in_bytes").write_text(memory)
        (pids_group / "pids.max").write_text(str(limits.processes))

    def procs_files(self, mounted_at: str | None = None) -> list[str]:
        """The files a process writes ``0`` to in order to join; under ``mounted_at/<i>/`` if given."""
        if mounted_at is None:
            return [str(directory / "cgroup.procs") for directory in self.directories]
        return [f"{mounted_at}/{index}/{self.name}/cgroup.procs" for index in range(len(self.directories))]

    def memory_exhausted(self) -> bool:
        """Whether the memory limit was reached (an OOM kill or a failed charge)."""
        try:
            if self.version == 2:
                counts = _key_values(self.directories[0] / "memory.events")
                return int(counts.get("oom_kill", 0)) > 0 or int(counts.get("max", 0)) > 0
            counts = _key_values(self.directories[0] / "memory.oom_control")
            failures = int((self.directories[0] / "memory.failcnt").read_text())
            return int(counts.get("oom_kill", 0)) > 0 or failures > 0
        except (OSError, ValueError):
            return False

    def kill_all(self) -> None:
        """SIGKILL every process in the group (forked children and detached sessions included)."""
        if self.version == 2 and (self.directories[0] / "cgroup.kill").exists():
            try:
                (self.directories[0] / "cgroup.kill").write_text("1")
                return
            except OSError:
                pass
        for _ in range(20):
            pids = [int(p) for d in self.directories for p in _read_lines(d / "cgroup.procs")]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def remove(self) -> None:
        self.kill_all()
        for directory in self.directories:
            _remove_cgroup(directory)


def _remove_cgroup(directory: Path) -> None:
    """``rmdir`` a cgroup, waiting briefly for killed processes to leave it."""
    for _ in range(100):
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _key_values(path: Path) -> dict[str, str]:
    words = path.read_text().split()
    return dict(zip(words[::2], words[1::2], strict=False))


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path in the v1 hierarchy of ``controller`` (``""``: the v2 one)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controller == "" and controllers == ""):
            return path.lstrip("/")
    raise OSError(f"no {controller or 'v2'} cgroup")
