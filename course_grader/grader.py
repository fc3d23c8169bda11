"""``course-grade``: grade a class's submissions safely, in parallel.

    course-grade --assignment solutions/02_regression.ipynb --submissions DIR --out DIR

For every submission (``DIR/<student>.ipynb`` or nbgrader's
``DIR/<student>/<assignment>/<notebook>.ipynb``):

1. only the learner's *answer* cells are read from it (matched by their
   nbgrader ``grade_id``); every other cell comes from the instructor's copy;
2. those cells run in a child process (:mod:`course_lib.grading.runner`) with a
   time limit, a memory limit, a file-size limit, a temporary working
   directory, no network and no view of the solutions, the other submissions
   or the output folder -- inside bubblewrap when it is installed;
3. the child saves its raw outputs as plain ``.npy`` arrays; this process
   loads them without pickle and judges them against the reference.

Results: ``OUT/grades.csv`` (one row per student, one column per task, then
total and maximum) and ``OUT/feedback/<student>.json``.  Submissions are
never modified.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from course_lib.grading.compare import describe_error, forbidden_use, judge
from course_lib.grading.model import Task
from course_lib.grading.tasks import TASKS
from course_lib.notebook import TF_ENVIRONMENT

TASK_CALL = re.compile(r"""assert_task\(\s*["'](\d+\.\d+)["']""")
SELF_CHECK_TAG = "self-check"
#: The first code cell of every notebook installs course_lib on Colab; grading never needs it.
COLAB_SETUP_TAG = "colab-setup"


@dataclass
class Limits:
    """Resources one submission may use."""

    seconds: float = 60.0
    memory_mb: int = 4096
    output_mb: int = 16


@dataclass
class TaskSlot:
    """A graded task as the instructor's notebook places it."""

    task_id: str
    points: float
    answer_cell: str  # grade_id of the answer cell that defines it


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
# Reading the instructor's notebook and the submissions
# --------------------------------------------------------------------------------------


def load_assignment(path: Path) -> Assignment:
    """Split the instructor's notebook into setup, answer and evaluation steps."""
    notebook = nbformat.read(path, as_version=4)
    steps: list[dict[str, Any]] = []
    slots: list[TaskSlot] = []
    answer_ids: list[str] = []
    last_answer = None
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if {SELF_CHECK_TAG, COLAB_SETUP_TAG} & set(cell.metadata.get("tags", [])):
            continue
        if meta.get("solution") and not meta.get("grade"):
            last_answer = meta["grade_id"]
            answer_ids.append(last_answer)
            steps.append({"kind": "answer", "name": f"answer cell {last_answer!r}", "grade_id": last_answer})
        elif meta.get("grade"):
            task_ids = sorted(set(TASK_CALL.findall(cell.source)))
            if len(task_ids) != 1 or task_ids[0] not in TASKS:
                raise ValueError(f"{path}: graded cell {index} must call assert_task for one known task")
            slots.append(TaskSlot(task_ids[0], float(meta.get("points", 0)), last_answer or ""))
            steps.append({"kind": "evaluate", "task_id": task_ids[0]})
        else:
            steps.append({"kind": "setup", "name": f"instructor cell {index}", "source": cell.source})
    if not slots:
        raise ValueError(f"{path} has no graded cells (nbgrader metadata grade=true)")
    return Assignment(path, steps, slots, answer_ids)


def find_submissions(directory: Path, assignment: Path) -> dict[str, Path]:
    """``student -> notebook`` for ``<student>.ipynb`` and ``<student>/<assignment>/<nb>.ipynb``."""
    found = {path.stem: path for path in sorted(directory.glob("*.ipynb"))}
    for path in sorted(directory.glob(f"*/*/{assignment.name}")) + sorted(
        directory.glob(f"*/{assignment.stem}/*.ipynb")
    ):
        found.setdefault(path.relative_to(directory).parts[0], path)
    return found


def read_answers(path: Path, answer_ids: list[str]) -> tuple[dict[str, str], list[str]]:
    """The learner's answer-cell sources by grade_id (everything else is ignored)."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # a broken file must not stop the class
        return {}, [f"could not read the notebook: {type(error).__name__}"]
    answers: dict[str, str] = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in answer_ids and grade_id not in answers:
            answers[grade_id] = cell.source
    missing = [grade_id for grade_id in answer_ids if grade_id not in answers]
    notes = [f"answer cell {grade_id!r} not found (deleted, or its metadata removed)" for grade_id in missing]
    return answers, notes


# --------------------------------------------------------------------------------------
# Running one submission in a child process
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def bubblewrap() -> str | None:
    """Path of a working ``bwrap``, or ``None``."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = subprocess.run(
        [path, "--ro-bind", "/", "/", "--unshare-net", "true"], capture_output=True, timeout=30
    )
    return path if probe.returncode == 0 else None


def _become_nobody() -> None:
    os.setgid(65534)
    os.setuid(65534)


@lru_cache(maxsize=1)
def can_run_as_nobody() -> bool:
    """Whether this interpreter and course_lib still work after dropping to user ``nobody``.

    Needed only without a sandbox when grading as root; it fails when Python lives
    somewhere ``nobody`` may not read (e.g. under ``/root``).
    """
    if os.name != "posix" or os.geteuid() != 0:
        return False
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import course_lib.grading.runner"],
            capture_output=True,
            cwd="/",
            preexec_fn=_become_nobody,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):  # e.g. the interpreter is not readable by nobody
        return False
    return probe.returncode == 0


def _write_job(workdir: Path, assignment: Assignment, answers: dict[str, str]) -> None:
    (workdir / "inputs").mkdir()
    steps = []
    for step in assignment.steps:
        if step["kind"] == "answer":
            steps.append({**step, "source": answers.get(step["grade_id"], "")})
        elif step["kind"] == "evaluate":
            task = TASKS[step["task_id"]]
            cases = task.cases(hidden=True)
            for index, case in enumerate(cases):
                np.savez(workdir / "inputs" / f"{task.task_id}__{index}.npz", **case.arrays())
                (workdir / "inputs" / f"{task.task_id}__{index}.json").write_text(json.dumps(case.kwargs))
            steps.append(
                {
                    "kind": "evaluate",
                    "task": {
                        "task_id": task.task_id,
                        "answer": task.answer,
                        "kind": task.kind,
                        "backend": task.backend,
                        "n_cases": len(cases),
                    },
                }
            )
        else:
            steps.append(step)
    (workdir / "job.json").write_text(json.dumps({"steps": steps}))


def _command(workdir: Path, hidden_paths: list[Path], sandbox: bool) -> list[str]:
    runner = [sys.executable, "-m", "course_lib.grading.runner", str(workdir)]
    if not sandbox:
        return runner
    # Everything read-only; the solutions, the submissions, the output folder and the
    # other submissions' work folders behind empty file systems; only the own work folder writable.
    command = [bubblewrap(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in hidden_paths:
        if path.exists():
            command += ["--tmpfs", str(path.resolve())]
    command += ["--bind", str(workdir), str(workdir), "--unshare-net", "--unshare-pid", "--unshare-ipc"]
    command += ["--die-with-parent", "--new-session", "--chdir", str(workdir)]
    return command + runner


def _limit_resources(limits: Limits, drop_to_nobody: bool) -> None:
    """Runs in the child between fork and exec."""
    os.setsid()
    memory = limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits.seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    size = limits.output_mb * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with an error instead
    if drop_to_nobody:
        _become_nobody()


def run_submission(
    assignment: Assignment, answers: dict[str, str], hidden_paths: list[Path], limits: Limits, sandbox: bool
) -> tuple[Path, list[dict[str, Any]], list[str]]:
    """Run the child; return its work folder, its events and notes about how it ended."""
    workdir = Path(tempfile.mkdtemp(prefix="submission-", dir=hidden_paths[-1]))
    _write_job(workdir, assignment, answers)
    drop = not sandbox and can_run_as_nobody()
    if drop:  # without a sandbox, at least do not run a learner's code as root
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, 65534, 65534)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        **TF_ENVIRONMENT,
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    notes = []
    process = subprocess.Popen(
        _command(workdir, hidden_paths, sandbox),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # the learner's prints are not graded; megabytes of them go nowhere
        stderr=subprocess.DEVNULL,
        cwd=workdir,
        env=environment,
        preexec_fn=lambda: _limit_resources(limits, drop),
    )
    try:
        process.wait(timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        notes.append(f"stopped after the time limit of {limits.seconds:g} s (an endless loop?)")
    events = _read_events(workdir)
    if not any(event.get("event") == "finished" for event in events) and not notes:
        notes.append(
            f"the grading process ended early (exit code {process.returncode}): sys.exit, os._exit, "
            "a crash or the memory limit"
        )
    return workdir, events, notes


def _read_events(workdir: Path) -> list[dict[str, Any]]:
    events = []
    path = workdir / "events.jsonl"
    if path.exists():
        for line in path.read_text(errors="replace").splitlines()[:10_000]:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict):
                events.append(event)
    return events


# --------------------------------------------------------------------------------------
# Judging, in this process
# --------------------------------------------------------------------------------------


def _load_output(path: Path) -> np.ndarray | None:
    try:
        return np.load(path, allow_pickle=False)
    except Exception:  # a missing, truncated or forged file is simply not an answer
        return None


def judge_task(
    slot: TaskSlot, task: Task, workdir: Path, events: list[dict[str, Any]], source: str
) -> TaskResult:
    cases = task.cases(hidden=True)
    result = TaskResult(task.task_id, task.title, 0.0, slot.points, 0, len(cases))
    if message := forbidden_use(task, source):
        result.messages.append(message)
        return result
    errors = {e.get("case"): e.get("message", "") for e in events if e.get("task") == task.task_id}
    missing = [
        e.get("message", "") for e in events if e.get("event") == "missing" and e.get("task") == task.task_id
    ]
    if missing:
        result.messages.append(str(missing[0]))
        return result
    for index, case in enumerate(cases):
        is_public = index < len(task.public)
        output = _load_output(workdir / "outputs" / f"{task.task_id}__{index}.npy")
        if output is None:
            reason = (
                describe_error(errors[index])
                if errors.get(index)
                else ("not evaluated (the grading process stopped before this task)")
            )
            result.messages.append(f"{case.label if is_public else 'a hidden check'}: {reason}"[:400])
            continue
        verdict = judge(task, case, output, reveal=is_public)
        if verdict.passed:
            result.passed += 1
        else:
            result.messages.append(f"{case.label if is_public else 'a hidden check'}: {verdict.message}")
    result.score = round(slot.points * result.passed / len(cases), 2) if cases else 0.0
    result.messages = list(dict.fromkeys(result.messages))
    return result


def grade_one(
    student: str, path: Path, assignment: Assignment, hidden_paths: list[Path], limits: Limits, sandbox: bool
) -> StudentResult:
    start = time.perf_counter()
    answers, notes = read_answers(path, assignment.answer_ids)
    workdir, events, run_notes = run_submission(assignment, answers, hidden_paths, limits, sandbox)
    try:
        notes += run_notes
        notes += [
            f"{e.get('cell')}: {describe_error(str(e.get('message')))}"
            for e in events
            if e.get("event") == "cell_error"
        ]
        tasks = [
            judge_task(slot, TASKS[slot.task_id], workdir, events, answers.get(slot.answer_cell, ""))
            for slot in assignment.slots
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return StudentResult(student, tasks, notes, time.perf_counter() - start)


def grade_class(
    assignment_path: Path,
    submissions: Path,
    out: Path,
    *,
    limits: Limits | None = None,
    jobs: int | None = None,
    require_sandbox: bool = False,
) -> list[StudentResult]:
    """Grade every submission in ``submissions`` and write ``out/grades.csv`` and ``out/feedback/``."""
    limits = limits or Limits()
    sandbox = bubblewrap() is not None
    if require_sandbox and not sandbox:
        raise RuntimeError("bubblewrap (bwrap) is required but not available: apt-get install bubblewrap")
    assignment = load_assignment(assignment_path)
    found = find_submissions(submissions, assignment_path)
    out.mkdir(parents=True, exist_ok=True)
    work_root = Path(tempfile.mkdtemp(prefix="course-grade-"))
    work_root.chmod(0o711)  # a child that dropped to `nobody` may enter its own folder, not list others
    # The last entry must stay the work root: run_submission creates each work folder there.
    hidden_paths = [assignment_path.resolve().parent, submissions.resolve(), out.resolve(), work_root]
    try:
        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            futures = [
                pool.submit(grade_one, student, path, assignment, hidden_paths, limits, sandbox)
                for student, path in found.items()
            ]
            results = [future.result() for future in futures]
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    _write_results(out, assignment, results, sandbox)
    return results


def _write_results(out: Path, assignment: Assignment, results: list[StudentResult], sandbox: bool) -> None:
    task_ids = [slot.task_id for slot in assignment.slots]
    with open(out / "grades.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *task_ids, "total", "max"])
        for result in results:
            writer.writerow([result.student, *[t.score for t in result.tasks], result.total, result.maximum])
    (out / "feedback").mkdir(exist_ok=True)
    for result in results:
        feedback = {
            "student": result.student,
            "assignment": assignment.path.name,
            "total": result.total,
            "max": result.maximum,
            "tasks": [asdict(task) for task in result.tasks],
            "notes": result.notes,
            "sandbox": "bubblewrap"
            if sandbox
            else ("none; ran as user nobody" if can_run_as_nobody() else "none (see the README)"),
        }
        (out / "feedback" / f"{result.student}.json").write_text(json.dumps(feedback, indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="course-grade", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--assignment", type=Path, required=True, help="the instructor's solutions/NN_name.ipynb"
    )
    parser.add_argument("--submissions", type=Path, required=True, help="folder of submitted notebooks")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv and feedback/ go")
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit per submission (default 60)")
    parser.add_argument("--memory-mb", type=int, default=4096, help="address-space limit per submission")
    parser.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: CPUs)")
    parser.add_argument("--require-sandbox", action="store_true", help="refuse to run without bubblewrap")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = grade_class(
        args.assignment, args.submissions, args.out,
        limits=Limits(seconds=args.seconds, memory_mb=args.memory_mb),
        jobs=args.jobs, require_sandbox=args.require_sandbox,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    print(f"graded {len(results)} submissions in {elapsed:.1f} s -> {args.out / 'grades.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
