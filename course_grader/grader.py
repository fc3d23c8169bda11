"""``course-grade``: grade a class's submissions in a sandbox, in parallel, trusting nothing they send back.

    course-grade --assignment solutions/02_regression.ipynb --submissions DIR --out DIR

For every submission (``DIR/<student>.ipynb``, nbgrader's
``DIR/<student>/<assignment>/<notebook>.ipynb`` or ``DIR/<student>/<notebook>.ipynb``):

1. only the learner's *answer* cells are read from it (matched by their
   nbgrader ``grade_id``); every other cell comes from the instructor's copy;
2. those cells run in a child process (``course_lib/grading/runner.py``) in
   the strongest sandbox this machine offers (:mod:`course_grader.sandbox`):
   an unprivileged user without capabilities, an allow-list view of the file
   system, a seccomp filter, no network, limits for the submission as a
   whole; as root, children are forked by a fork server, one per task, each
   ending with its task's evaluation (:mod:`course_grader.forkserver`);
3. the child sends each task's raw outputs as they are computed, on a pipe;
   this process checks every field, keeps the first output of every case,
   and judges it against the reference, which the child never sees.  No text
   from the child reaches the feedback.

Whatever one submission does, it gets a row in ``OUT/grades.csv`` and a
``OUT/feedback/<student>.json``; the others are unaffected.  Submissions are
never modified.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import builtins
import csv
import errno
import hashlib
import importlib.util
import itertools
import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from course_grader.forkserver import ForkServer, imported_modules
from course_grader.judging import judge
from course_grader.model import Task
from course_grader.sandbox import Cgroup, CgroupRun, Limits, Sandbox, stage_learner_library
from course_grader.tasks import TASKS
from course_lib.grading.runner import NOT_ANSWERED_VALUE, PROC_REFUSAL, REFUSED_EVENTS

TASK_CALL = re.compile(r"""assert_task\(\s*["'](\d+\.\d+)["']""")
SELF_CHECK_TAG = "self-check"
#: The first code cell of every notebook installs course_lib on Colab; grading never needs it.
COLAB_SETUP_TAG = "colab-setup"
#: A submitted notebook larger than this is not read.
MAX_NOTEBOOK_BYTES = 16 * 2**20
#: An output with more elements than this is not converted.
MAX_OUTPUT_ELEMENTS = 2**20
#: A message line longer than this is dropped unread (an output of MAX_OUTPUT_ELEMENTS, base64, fits).
MAX_LINE_BYTES = 12 * 2**20
#: The grader's own messages nest two deep; a line with more brackets than this is not parsed.
MAX_BRACKETS = 16
#: A submitted notebook with more JSON containers than this is not parsed (a real one has far fewer).
MAX_NOTEBOOK_CONTAINERS = 500_000
MAX_TEXT = 300


@dataclass
class TaskSlot:
    """A graded task as the instructor's notebook places it."""

    task_id: str
    points: float
    answer_cell: str  # grade_id of the answer cell that defines it
    #: Indices in Assignment.steps of that answer cell and of the task's evaluation: the steps
    #: whose calls Task.forbidden_in_answer applies to.
    window: tuple[int, int] = (0, 0)


@dataclass
class Assignment:
    """The instructor's notebook, split into the steps a submission is run through."""

    path: Path
    steps: list[dict[str, Any]]
    slots: list[TaskSlot]
    answer_ids: list[str]


@dataclass
class TaskResult:
    task_id: str
    title: str
    score: float
    max_score: float
    passed: int
    total: int
    messages: list[str] = field(default_factory=list)


@dataclass
class StudentResult:
    student: str
    tasks: list[TaskResult]
    notes: list[str]
    seconds: float

    @property
    def total(self) -> float:
        return round(sum(t.score for t in self.tasks), 2)

    @property
    def maximum(self) -> float:
        return round(sum(t.max_score for t in self.tasks), 2)


# --------------------------------------------------------------------------------------
# The instructor's notebook (trusted) and the submissions (not trusted)
# --------------------------------------------------------------------------------------


def load_assignment(path: Path) -> Assignment:
    """Split the instructor's notebook into setup, answer and evaluation steps."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    steps: list[dict[str, Any]] = []
    slots: list[TaskSlot] = []
    answer_ids: list[str] = []
    last_answer, last_answer_step = None, 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if {SELF_CHECK_TAG, COLAB_SETUP_TAG} & set(cell.metadata.get("tags", [])):
            continue
        if meta.get("solution") and not meta.get("grade"):
            last_answer, last_answer_step = meta["grade_id"], len(steps)
            answer_ids.append(last_answer)
            steps.append({"kind": "answer", "name": f"answer cell {last_answer!r}", "grade_id": last_answer})
        elif meta.get("grade"):
            task_ids = sorted(set(TASK_CALL.findall(cell.source)))
            if len(task_ids) != 1 or task_ids[0] not in TASKS:
                raise ValueError(f"{path}: graded cell {index} must call assert_task for one known task")
            window = (last_answer_step, len(steps))
            slots.append(TaskSlot(task_ids[0], float(meta.get("points", 0)), last_answer or "", window))
            steps.append({"kind": "evaluate", "task_id": task_ids[0]})
        else:
            steps.append({"kind": "setup", "name": f"instructor cell {index}", "source": cell.source})
    if not slots:
        raise ValueError(f"{path} has no graded cells (nbgrader metadata grade=true)")
    return Assignment(path, steps, slots, answer_ids)


@dataclass(frozen=True)
class Submission:
    """What was found for one student: a notebook to grade, or ``None`` and why not."""

    path: Path | None
    notes: tuple[str, ...] = ()


def _is_collection_folder(path: Path) -> bool:
    """A student's folder: not a link, nor a leftover such as ``.ipynb_checkpoints`` or ``__MACOSX``."""
    return path.is_dir() and not path.is_symlink() and not path.name.startswith((".", "__MACOSX"))


def find_submissions(directory: Path, assignment: Path) -> dict[str, Submission]:
    """``student -> Submission``, for the layouts that collecting a class produces.

    * ``<student>.ipynb`` (downloads from Colab or Binder, most LMS exports);
    * ``<student>/<assignment>/<notebook>.ipynb`` (nbgrader's ``submitted/`` folder);
    * ``<student>/<notebook>.ipynb`` with one notebook in the folder (LMS exports
      with one folder per student, such as Moodle's).

    Every student folder gets an entry, so every student gets a row: one in
    which no single notebook for this assignment was found is graded 0 with a
    note saying what was there.  Where two notebooks carry the same student's
    name, the first in the order above is graded and the note names the
    other.  Only paths that stay inside ``directory`` once symbolic links are
    resolved count: a submission that links to the solutions is not a
    submission.
    """
    root = directory.resolve()
    folders = sorted(p for p in directory.iterdir() if _is_collection_folder(p))
    nbgrader = set(directory.glob(f"*/*/{assignment.name}")) | set(
        directory.glob(f"*/{assignment.stem}/*.ipynb")
    )
    one_per_folder = [
        folder_notebooks[0]
        for folder in folders
        if len(folder_notebooks := sorted(folder.glob("*.ipynb"))) == 1
    ]
    candidates = sorted(directory.glob("*.ipynb")) + sorted(nbgrader) + one_per_folder
    found: dict[str, Submission] = {}
    for path in candidates:
        student = path.stem if path.parent == directory else path.relative_to(directory).parts[0]
        if student in found:
            other = path.relative_to(directory).as_posix()[:200]
            found[student] = Submission(
                found[student].path, (*found[student].notes, f"also found, not graded: {other}")
            )
        elif os.path.realpath(path).startswith(str(root) + os.sep):
            found[student] = Submission(path)
        else:
            found[student] = Submission(Path(os.devnull))  # graded as unreadable, with a note
    for folder in folders:
        if folder.name not in found and folder not in candidates:  # "x.ipynb" as a folder is graded above
            count = len(list(folder.glob("*.ipynb")))
            what = "no notebook" if count == 0 else f"{count} notebooks and no way to tell which to grade"
            found[folder.name] = Submission(
                None, (f"the folder {folder.name[:200]} holds {what}; every task scores 0",)
            )
    return dict(sorted(found.items()))


def _read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes (links not followed)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > limit:
            raise ValueError(f"larger than {limit // 2**20} MB")
        chunks, size = [], 0
        while chunk := os.read(descriptor, 2**20):
            size += len(chunk)
            if size > limit:
                raise ValueError(f"larger than {limit // 2**20} MB")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _cell_source(cell: dict[str, Any]) -> str | None:
    source = cell.get("source")
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return None


def read_answers(path: Path, answer_ids: list[str]) -> tuple[dict[str, str], list[str]]:
    """The learner's answer-cell sources by grade_id; everything else in the file is ignored."""
    try:
        raw = _read_regular_file(path, MAX_NOTEBOOK_BYTES)
        if raw.count(b"[") + raw.count(b"{") > MAX_NOTEBOOK_CONTAINERS:
            raise ValueError("it nests more lists and objects than any notebook does")
        notebook = json.loads(raw)
    except (OSError, ValueError, RecursionError, UnicodeDecodeError) as error:
        return {}, [f"could not read the notebook: {_safe_text(str(error) or type(error).__name__)}"]
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return {}, ["could not read the notebook: it has no list of cells"]
    answers: dict[str, str] = {}
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata")
        nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
        source = _cell_source(cell)
        if (
            isinstance(grade_id, str)
            and grade_id in answer_ids
            and grade_id not in answers
            and source is not None
        ):
            answers[grade_id] = source
    missing = [grade_id for grade_id in answer_ids if grade_id not in answers]
    notes = [f"answer cell {grade_id!r} not found (deleted, or its metadata removed)" for grade_id in missing]
    return answers, notes


# --------------------------------------------------------------------------------------
# Running one submission
# --------------------------------------------------------------------------------------


def _watch_patterns(assignment: Assignment) -> list[str]:
    tasks = [TASKS[slot.task_id] for slot in assignment.slots]
    return sorted({pattern for task in tasks for pattern in (*task.forbidden, *task.forbidden_in_answer)})


def write_job(job: Path, assignment: Assignment, answers: dict[str, str], only: str | None = None) -> None:
    """The child's instructions (``job.json``) and its cases' inputs, as plain arrays and JSON.

    With ``only`` (a task id) the job ends with that task's evaluation and
    holds no other task's evaluation or inputs: nothing runs after it.
    """
    (job / "inputs").mkdir(parents=True)
    steps = []
    for index, step in enumerate(assignment.steps):
        if step["kind"] == "answer":
            steps.append({**step, "index": index, "source": answers.get(step["grade_id"], "")})
        elif step["kind"] == "evaluate" and only in (None, step["task_id"]):
            task = TASKS[step["task_id"]]
            cases = task.cases(hidden=True)
            for number, case in enumerate(cases):
                np.savez(job / "inputs" / f"{task.task_id}__{number}.npz", **case.arrays())
                (job / "inputs" / f"{task.task_id}__{number}.json").write_text(json.dumps(case.kwargs))
            meta = {
                "task_id": task.task_id,
                "answer": task.answer,
                "kind": task.kind,
                "backend": task.backend,
            }
            steps.append({"kind": "evaluate", "index": index, "task": {**meta, "n_cases": len(cases)}})
            if only is not None:
                break
        elif step["kind"] == "setup":
            steps.append({**step, "index": index})
    (job / "job.json").write_text(json.dumps({"steps": steps, "watch": _watch_patterns(assignment)}))
    for path in [job, *job.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


@dataclass
class ChildReport:
    """What the child sent, checked field by field; the first output of each case wins."""

    outputs: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    errors: dict[tuple[str, int], str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    evaluated: set[str] = field(default_factory=set)
    used: list[tuple[str, int]] = field(default_factory=list)  # (name, step)
    refused: list[str] = field(default_factory=list)
    cell_errors: list[tuple[int, str]] = field(default_factory=list)  # (step, message)
    setup_failed: str = ""
    finished: bool = False
    rejected: int = 0
    overflow: bool = False

    def merge(self, other: ChildReport) -> None:
        """Add what another child of the same submission sent (each child reports on its own task)."""
        for name in ("outputs", "errors", "missing"):
            for key, value in getattr(other, name).items():
                getattr(self, name).setdefault(key, value)
        self.evaluated |= other.evaluated
        self.used += [entry for entry in other.used if entry not in self.used]
        self.cell_errors += [entry for entry in other.cell_errors if entry not in self.cell_errors]
        self.refused += [what for what in other.refused if what not in self.refused]
        self.rejected += other.rejected
        self.overflow |= other.overflow
        self.setup_failed = self.setup_failed or other.setup_failed

    def take(self, line: bytes, known: dict[str, int]) -> None:
        """Record one message line, or count it as rejected if any field is not what it must be."""
        if line.count(b"[") + line.count(b"{") > MAX_BRACKETS:  # never hand a nesting bomb to json
            self.rejected += 1
            return
        try:
            message = json.loads(line)
            accepted = isinstance(message, dict) and self._take(message, known)
        except (ValueError, TypeError, RecursionError, UnicodeDecodeError, OverflowError, MemoryError):
            accepted = False
        if not accepted:
            self.rejected += 1

    def _take(self, message: dict[str, Any], known: dict[str, int]) -> bool:
        event, task = message.get("event"), message.get("task")
        case = message.get("case")
        if event in ("output", "error", "missing", "evaluated"):
            if not isinstance(task, str) or task not in known or task in self.evaluated:
                return False
            if event in ("output", "error") and not (type(case) is int and 0 <= case < known[task]):
                return False
        if event == "output":
            array = _decode_array(message.get("shape"), message.get("data"))
            if array is None:
                return False
            self.outputs.setdefault((task, case), array)
        elif event == "error":
            self.errors.setdefault((task, case), _text(message.get("message")))
        elif event == "missing":
            self.missing.setdefault(task, _text(message.get("message")))
        elif event == "evaluated":
            self.evaluated.add(task)
        elif event == "used" and isinstance(message.get("name"), str) and type(message.get("step")) is int:
            if len(self.used) < 1000:
                self.used.append((_text(message["name"]), message["step"]))
        elif event == "refused" and message.get("what") in REFUSALS:
            if message["what"] not in self.refused:
                self.refused.append(message["what"])
        elif event == "setup_failed":
            self.setup_failed = exception_name(_text(message.get("message")))
        elif event == "cell_error" and len(self.cell_errors) < 100:
            step, text = message.get("step"), _text(message.get("message"))
            self.cell_errors.append((step if type(step) is int else -1, text))
        elif event == "finished":
            self.finished = True
        elif event not in ("started", "step"):
            return False
        return True


def _text(value: Any) -> str:
    return _safe_text(value) if isinstance(value, str) else "?"


def _safe_text(text: str) -> str:
    """At most MAX_TEXT printable characters."""
    return "".join(c if c.isprintable() else " " for c in text[:MAX_TEXT])


def _decode_array(shape: Any, data: Any) -> np.ndarray | None:
    """A float64 array from a message's ``shape`` and base64 ``data``, or ``None`` if they do not agree."""
    if not isinstance(shape, list) or len(shape) > 8:
        return None
    if not all(type(n) is int and 0 <= n <= MAX_OUTPUT_ELEMENTS for n in shape):
        return None
    count = int(np.prod(shape, dtype=object)) if shape else 1
    if count > MAX_OUTPUT_ELEMENTS or not isinstance(data, str) or len(data) > 4 * (8 * count + 2) // 3 + 4:
        return None
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 8 * count:
        return None
    return np.frombuffer(raw, dtype="<f8").reshape(tuple(shape)).astype(np.float64)


def _read_messages(
    stream: Any, report: ChildReport, known: dict[str, int], limit: int, stop: threading.Event
):
    """Read the child's pipe line by line until it closes or ``stop`` is set; at most ``limit`` bytes."""
    buffer, total, skipping = bytearray(), 0, False
    descriptor = stream.fileno()
    while not stop.is_set():
        ready, _, _ = select.select([descriptor], [], [], 0.1)
        if not ready:
            continue
        chunk = os.read(descriptor, 2**20)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            report.overflow = True
            break
        start = len(buffer)
        buffer += chunk
        while (end := buffer.find(b"\n", start)) >= 0:
            if not skipping:
                report.take(bytes(buffer[:end]), known)
            skipping = False
            del buffer[: end + 1]
            start = 0
        if len(buffer) > MAX_LINE_BYTES:  # an endless line: drop it, and the rest of it as it comes
            report.rejected += 0 if skipping else 1
            buffer.clear()
            skipping = True


@dataclass
class Runtime:
    """Where this class's submissions run: the sandbox, a scratch folder, cgroups and maybe a fork server."""

    sandbox: Sandbox
    scratch: Path
    cgroups: CgroupRun | None = None
    server: ForkServer | None = None
    #: Each submission's number, which makes its user id (as root): no two share one.
    numbers: Iterator[int] = field(default_factory=itertools.count)


class _Child:
    """One running submission, started from scratch or forked by the fork server."""

    def __init__(self, runtime: Runtime, job: Path, work: Path, number: int, cgroup: Cgroup | None) -> None:
        self.runtime, self.cgroup, self.name = runtime, cgroup, job.parent.name
        self.returncode: int | None = None
        self.process: subprocess.Popen | None = None
        if runtime.server is not None and cgroup is not None and self._fork(job, number, cgroup):
            return
        self.process = runtime.sandbox.start(job, work, number, cgroup)
        self.messages = self.process.messages

    def _fork(self, job: Path, number: int, cgroup: Cgroup) -> bool:
        """Ask the fork server for the child; ``False`` if it is gone (the child then starts from scratch)."""
        read_end, write_end = os.pipe()
        try:
            job_path = str(job.relative_to(self.runtime.scratch / "jobs"))
            self.runtime.server.spawn(
                self.name, job_path, number, cgroup, self.runtime.sandbox.limits, write_end
            )
        except OSError:
            os.close(read_end)
            return False
        finally:
            os.close(write_end)
        self.messages = os.fdopen(read_end, "rb", buffering=0)
        return True

    def wait(self, timeout: float) -> bool:
        """Whether the child ended within ``timeout`` seconds."""
        if self.process is None:
            self.returncode = self.runtime.server.wait(self.name, timeout)
            return self.returncode is not None
        try:
            self.returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        """Kill the child, its process group and, through the cgroup, anything that left the group."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.cgroup is not None:
            self.cgroup.kill_all()
        if self.process is not None:
            self.returncode = self.process.wait()
        elif self.returncode is None:
            self.returncode = self.runtime.server.wait(self.name, 10.0)


def run_submission(
    runtime: Runtime, assignment: Assignment, answers: dict[str, str], number: int
) -> tuple[ChildReport, list[str]]:
    """Run a submission and collect what it sent, with notes on how it ended.

    With a fork server each task gets a child of its own whose job ends with
    that task's evaluation, so no later cell can touch an earlier task's
    outputs (forking makes this cheap).  Without one, one child runs every
    step and the grader keeps the first output of each case.
    """
    if runtime.server is None:
        return run_child(runtime, assignment, answers, number, only=None)
    report, notes = ChildReport(), []
    for slot in assignment.slots:
        part, part_notes = run_child(runtime, assignment, answers, number, only=slot.task_id)
        report.merge(part)
        notes += [note for note in part_notes if note not in notes]
        if not part.finished:  # it stopped before its end: every later child would stop there too
            break
    report.finished = True
    return report, notes


def run_child(
    runtime: Runtime, assignment: Assignment, answers: dict[str, str], number: int, only: str | None
) -> tuple[ChildReport, list[str]]:
    """Run one child to the end (or the time limit) and collect what it sent."""
    limits = runtime.sandbox.limits
    folder = Path(tempfile.mkdtemp(prefix="submission-", dir=runtime.scratch / "jobs"))
    folder.chmod(0o711)  # an unsandboxed child that dropped to its own user id reaches its folders only
    job, work = folder / "job", folder / "work"
    write_job(job, assignment, answers, only)
    work.mkdir()
    work.chmod(0o700)
    tasks = [slot.task_id for slot in assignment.slots if only in (None, slot.task_id)]
    known = {task_id: len(TASKS[task_id].cases(hidden=True)) for task_id in tasks}
    cgroup = runtime.cgroups.group(folder.name, limits) if runtime.cgroups is not None else None
    report, notes = ChildReport(), []
    try:
        child = _Child(runtime, job, work, number, cgroup)
        stop = threading.Event()
        reader = threading.Thread(
            target=_read_messages,
            args=(child.messages, report, known, limits.messages_mb * 2**20, stop),
            daemon=True,
        )
        reader.start()
        if not child.wait(limits.seconds):
            notes.append(f"stopped after the time limit of {limits.seconds:g} s (an endless loop?)")
        child.kill()
        reader.join(timeout=5)
        stop.set()
        reader.join(timeout=5)
        child.messages.close()
        if cgroup is not None and cgroup.memory_exhausted():
            notes.append(f"the submission reached its memory limit of {limits.memory_mb} MB")
        if not report.finished and not notes:
            notes.append(
                f"the grading process ended early (exit code {child.returncode}): sys.exit, os._exit, "
                "a crash or the memory limit"
            )
    finally:
        if cgroup is not None:
            cgroup.remove()
        shutil.rmtree(folder, ignore_errors=True)
    if report.overflow:
        notes.append(
            f"the submission sent more than {limits.messages_mb} MB of results; the rest was ignored"
        )
    if report.rejected:
        notes.append(f"{report.rejected} malformed message(s) from the submission were ignored")
    notes += [f"refused: the submission tried to {what}" for what in report.refused]
    if report.setup_failed:
        notes.append(f"the grader could not start this submission's sandbox ({report.setup_failed})")
    return report, notes


# --------------------------------------------------------------------------------------
# Judging, in this process
# --------------------------------------------------------------------------------------


#: Exception names that feedback may repeat: Python's own.  No other text from the child reaches the
#: feedback, since the learner's code can read its inputs (hidden ones included) and raise them.
BUILTIN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def exception_name(message: str) -> str:
    """``"raised ValueError"`` for a Python exception, ``"raised an exception"`` for any other."""
    name = message.split(":", 1)[0].strip()
    return f"raised {name}" if name in BUILTIN_EXCEPTIONS else "raised an exception"


def _error_text(message: str) -> str:
    if message.startswith("NotImplementedError"):
        return "not answered yet (the cell still raises NotImplementedError)"
    if message == NOT_ANSWERED_VALUE:
        return "not answered yet (the answer is still None)"
    return exception_name(message) + " (your self-check cell shows the message)"


def _shown_name(name: str) -> str:
    """A recorded library name as feedback shows it: no digits (they could carry a hidden input)."""
    return re.sub(r"\d", "#", name)[:80]


def forbidden_uses(task: Task, window: tuple[int, int], used: list[tuple[str, int]]) -> list[str]:
    """The names the submission used that ``task`` forbids.

    ``task.forbidden`` holds for the whole run (an earlier or later cell could
    compute the answer); ``task.forbidden_in_answer`` only for the steps in
    ``window``, the task's answer cell and its evaluation, because another
    task of the same notebook may need those names.
    """
    first, last = window
    found = []
    for name, step in used:
        patterns = (*task.forbidden, *task.forbidden_in_answer) if first <= step <= last else task.forbidden
        if any(re.search(pattern, name) for pattern in patterns):
            found.append(name)
    return list(dict.fromkeys(found))


def judge_task(slot: TaskSlot, task: Task, report: ChildReport) -> TaskResult:
    cases = task.cases(hidden=True)
    result = TaskResult(task.task_id, task.title, 0.0, slot.points, 0, len(cases))
    if used := forbidden_uses(task, slot.window, report.used):
        names = ", ".join(f"`{_shown_name(name)}`" for name in used[:3])
        result.messages.append(
            f"your submission used {names} while it ran; this task asks you to write it yourself, "
            "so it scores 0"
        )
        return result
    if task.task_id in report.missing:
        if any(
            step == slot.window[0] and message.startswith("NotImplementedError")
            for step, message in report.cell_errors
        ):
            result.messages.append(
                f"not answered yet (the answer cell still raises NotImplementedError, so `{task.answer}` "
                "is not defined)"
            )
        else:
            result.messages.append(f"`{task.answer}` is not defined")
        return result
    for index, case in enumerate(cases):
        is_public = index < len(task.public)
        label = case.label if is_public else "a hidden check"
        output = report.outputs.get((task.task_id, index))
        if output is None:
            error = report.errors.get((task.task_id, index))
            reason = (
                _error_text(error)
                if error
                else "not evaluated (the grading process stopped before this task)"
            )
            result.messages.append(f"{label}: {reason}"[:400])
            continue
        verdict = judge(task, case, output, reveal=is_public)
        if verdict.passed:
            result.passed += 1
        else:
            result.messages.append(f"{label}: {verdict.message}")
    result.score = round(slot.points * result.passed / len(cases), 2) if cases else 0.0
    result.messages = list(dict.fromkeys(result.messages))
    return result


#: What a child may say it was refused (anything else it says is ignored).
REFUSALS = frozenset([*REFUSED_EVENTS.values(), PROC_REFUSAL])


def _step_name(assignment: Assignment, step: int) -> str:
    """The instructor's name for step ``step`` ("answer cell 'task1_answer'"), never the child's words."""
    if 0 <= step < len(assignment.steps):
        return assignment.steps[step].get("name") or f"the evaluation of {assignment.steps[step]['task_id']}"
    return "a cell"


def _zero(assignment: Assignment, message: str) -> list[TaskResult]:
    return [
        TaskResult(slot.task_id, TASKS[slot.task_id].title, 0.0, slot.points, 0, 0, [message])
        for slot in assignment.slots
    ]


def _error_name(error: BaseException) -> str:
    """The exception's class and, for an OS error, its errno name (``OSError EAGAIN``)."""
    code = getattr(error, "errno", None)
    return f"{type(error).__name__} {errno.errorcode.get(code, code)}" if code else type(error).__name__


def grade_one(
    student: str, submission: Submission, assignment: Assignment, runtime: Runtime
) -> StudentResult:
    """One student's row, whatever their submission does: a failure here costs only them."""
    start = time.perf_counter()
    if submission.path is None:
        return StudentResult(student, _zero(assignment, "no submission found"), [*submission.notes], 0.0)
    try:
        answers, notes = read_answers(submission.path, assignment.answer_ids)
        notes = [*submission.notes, *notes]
        report, run_notes = run_submission(runtime, assignment, answers, next(runtime.numbers))
        notes += run_notes + [
            f"{_step_name(assignment, step)}: {exception_name(text)}" for step, text in report.cell_errors
        ]
        tasks = [judge_task(slot_, TASKS[slot_.task_id], report) for slot_ in assignment.slots]
    except Exception as error:  # noqa: BLE001 -- one submission must never stop the class
        notes = [
            *submission.notes,
            f"this submission could not be graded ({_error_name(error)}); every task scores 0",
        ]
        tasks = _zero(assignment, "not graded: see the notes")
    return StudentResult(student, tasks, notes, time.perf_counter() - start)


def _start_runtime(
    assignment: Assignment, limits: Limits, scratch: Path, *, allow_unsandboxed_root: bool, fork_server: bool
) -> Runtime:
    """The sandbox, the run's cgroups and, as root with both, a fork server that imported the setup cells."""
    library = stage_learner_library(scratch / "library")
    (scratch / "jobs").mkdir()
    (scratch / "jobs").chmod(0o711)
    sandbox = Sandbox.choose(limits, library, allow_unsandboxed_root=allow_unsandboxed_root)
    runtime = Runtime(sandbox, scratch, CgroupRun.create() if sandbox.mode != "bubblewrap-user" else None)
    if runtime.cgroups is None and sandbox.mode == "bubblewrap-user":
        runtime.cgroups = CgroupRun.create()  # a delegated cgroup v2 subtree, where there is one
    if fork_server and sandbox.mode == "bubblewrap-root" and runtime.cgroups is not None:
        setup = [step["source"] for step in assignment.steps if step["kind"] == "setup"]
        runtime.server = ForkServer(sandbox, scratch / "jobs", runtime.cgroups, imported_modules(setup))
    return runtime


def grade_class(
    assignment_path: Path,
    submissions: Path,
    out: Path,
    *,
    limits: Limits | None = None,
    jobs: int | None = None,
    require_sandbox: bool = False,
    allow_unsandboxed_root: bool = False,
    fork_server: bool = True,
) -> list[StudentResult]:
    """Grade every submission in ``submissions`` and write ``out/grades.csv`` and ``out/feedback/``.

    ``fork_server=False`` starts every child from scratch even where a fork
    server could be used (for comparison; the results are the same).
    """
    limits = limits or Limits()
    assignment = load_assignment(assignment_path)
    found = find_submissions(submissions, assignment_path)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="course-grade-"))
    scratch.chmod(0o711)
    runtime = None
    try:
        runtime = _start_runtime(
            assignment,
            limits,
            scratch,
            allow_unsandboxed_root=allow_unsandboxed_root,
            fork_server=fork_server,
        )
        if require_sandbox and runtime.sandbox.mode == "none":
            raise RuntimeError("bubblewrap (bwrap) is required but not available: apt-get install bubblewrap")
        workers = max(1, jobs or os.cpu_count() or 2)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(grade_one, student, submission, assignment, runtime)
                for student, submission in found.items()
            ]
            results = [future.result() for future in futures]
    finally:
        if runtime is not None and runtime.server is not None:
            runtime.server.close()
        if runtime is not None and runtime.cgroups is not None:
            runtime.cgroups.remove()
        shutil.rmtree(scratch, ignore_errors=True)
    description = runtime.sandbox.description + ("; forked by a fork server" if runtime.server else "")
    write_results(out, assignment, results, description)
    return results


# --------------------------------------------------------------------------------------
# Writing the results
# --------------------------------------------------------------------------------------


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula (OWASP: prefix ``= + - @ TAB CR`` with ``'``)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def feedback_file_name(student: str, taken: set[str]) -> str:
    """A file name that is safe on every system for any student name, and unique in this run."""
    ascii_name = unicodedata.normalize("NFKD", student).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._-")[:80] or "student"
    if stem != student or stem.lower() in taken:
        stem = f"{stem}-{hashlib.sha256(student.encode('utf-8', 'surrogateescape')).hexdigest()[:10]}"
    taken.add(stem.lower())
    return f"{stem}.json"


def write_results(out: Path, assignment: Assignment, results: list[StudentResult], sandbox: str) -> None:
    task_ids = [slot.task_id for slot in assignment.slots]
    (out / "feedback").mkdir(exist_ok=True)
    taken: set[str] = set()
    names = {id(result): feedback_file_name(result.student, taken) for result in results}
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *task_ids, "total", "max", "feedback"])
        for result in results:
            row = [result.student, *[t.score for t in result.tasks], result.total, result.maximum]
            writer.writerow([spreadsheet_safe(_safe_text(str(v))) for v in row] + [names[id(result)]])
    for result in results:
        feedback = {
            "student": result.student,
            "assignment": assignment.path.name,
            "total": result.total,
            "max": result.maximum,
            "tasks": [asdict(task) for task in result.tasks],
            "notes": result.notes,
            "sandbox": sandbox,
        }
        text = json.dumps(feedback, indent=2, ensure_ascii=True)
        (out / "feedback" / names[id(result)]).write_text(text, encoding="utf-8")


HELP_EPILOG = """\
protection:
  With bubblewrap (apt-get install bubblewrap) each submission sees only the
  interpreter, the installed packages and the system libraries (read-only),
  the learner's side of course_lib, its own inputs and a size-capped work
  folder; no network, no other process, not the repository, the solutions,
  other submissions, home folders or this output folder; a seccomp filter
  refuses namespaces, mounts, keyrings, ptrace, bpf and the like.  Started as
  root, the child becomes an unprivileged user id of its own without
  capabilities, and a fork server that has imported the setup cells' modules
  once forks every run (--fresh-processes: start each from scratch); started
  as a normal user, it keeps your user id inside a user namespace without
  capabilities.

  Memory (tmpfs and /dev/shm included) and the number of processes are capped
  for the whole submission where a cgroup can be created: as root, always on
  cgroup v2 or the v1 memory and pids controllers; as a normal user, only
  inside a delegated cgroup v2 subtree (for example under
  `systemd-run --user --scope -p Delegate=yes course-grade ...`).  Without a
  cgroup the limits hold per process: address space (--memory-mb), CPU
  time, file size, and, as root, the number of processes of the submission's user
  id; the writable space is the work folder (--disk-mb) plus 16 MB of /tmp
  and 64 MB of /dev/shm.

  Without bubblewrap only the limits, a separate process and a temporary
  folder remain: the submission can read every file an unprivileged user (or,
  as a normal user, you) can read, including the solutions, write where that
  user can write, and use the network.  As root this is refused unless you
  pass --no-sandbox-as-root; the child then runs as an unprivileged user id,
  which needs Python installed where that user can read it.
"""


#: The module each Keras backend needs.
BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="course-grade",
        description=__doc__,
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--assignment", type=Path, required=True, help="the instructor's solutions/NN_name.ipynb"
    )
    parser.add_argument("--submissions", type=Path, required=True, help="folder of submitted notebooks")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv and feedback/ go")
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="time limit for each run of a submission (default 60; with a fork server, one run per task)",
    )
    parser.add_argument("--memory-mb", type=int, default=4096, help="memory per submission (default 4096)")
    parser.add_argument("--disk-mb", type=int, default=256, help="size of the work folder (default 256)")
    parser.add_argument("--processes", type=int, default=512, help="processes and threads (default 512)")
    parser.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: CPUs)")
    parser.add_argument("--require-sandbox", action="store_true", help="refuse to run without bubblewrap")
    parser.add_argument(
        "--no-sandbox-as-root",
        action="store_true",
        help="as root without bubblewrap, grade anyway (the submissions can read what an unprivileged "
        "user can read and use the network)",
    )
    parser.add_argument(
        "--fresh-processes",
        action="store_true",
        help="start every submission's Python from scratch instead of forking it from a fork server "
        "(slower; the grades are the same)",
    )
    parser.add_argument(
        "--backend",
        choices=sorted(BACKEND_MODULES),
        default=os.environ.get("KERAS_BACKEND", "tensorflow"),
        help="the Keras backend that runs the tasks written with keras.ops (default: $KERAS_BACKEND, "
        "else tensorflow); it must be installed (pip install -e '.[jax]' or '.[torch]')",
    )
    args = parser.parse_args(argv)
    if importlib.util.find_spec(BACKEND_MODULES[args.backend]) is None:
        print(f"course-grade: the {args.backend} backend is not installed", file=sys.stderr)
        return 2
    os.environ["KERAS_BACKEND"] = args.backend  # the sandboxed children inherit it
    start = time.perf_counter()
    limits = Limits(args.seconds, args.memory_mb, args.disk_mb, args.processes)
    try:
        results = grade_class(
            args.assignment, args.submissions, args.out, limits=limits, jobs=args.jobs,
            require_sandbox=args.require_sandbox, allow_unsandboxed_root=args.no_sandbox_as_root,
            fork_server=not args.fresh_processes,
        )  # fmt: skip
    except RuntimeError as error:
        print(f"course-grade: {error}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    print(
        f"graded {len(results)} submissions on the {args.backend} backend in {elapsed:.1f} s "
        f"-> {args.out / 'grades.csv'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
