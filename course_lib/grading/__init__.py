"""Graded exercises: learner self-checks, nbgrader test helpers and the instructor grader.

In an exercise notebook::

    from course_lib.grading import check
    check("02.1", my_huber)

prints which public checks pass and, for each that fails, what the mistake
probably is.  It never shows hidden checks or their values.  Instructors grade
a class with the ``course-grade`` command (:mod:`course_lib.grading.grader`).
"""

from __future__ import annotations

from typing import Any

from course_lib.grading.compare import CaseVerdict, evaluate_locally
from course_lib.grading.tasks import TASKS

__all__ = ["TASKS", "assert_task", "check"]


def _task(task_id: str):
    if task_id not in TASKS:
        raise ValueError(f"task_id must be one of {sorted(TASKS)}; got {task_id!r}.")
    return TASKS[task_id]


def _failures(verdicts: list[CaseVerdict]) -> list[str]:
    seen, lines = set(), []
    for verdict in verdicts:
        if not verdict.passed and (verdict.label, verdict.message) not in seen:
            seen.add((verdict.label, verdict.message))
            lines.append(f"  - {verdict.label}: {verdict.message}")
    return lines


def check(task_id: str, answer: Any) -> None:
    """Self-check ``answer`` (your function or value) against task ``task_id``'s public checks.

    Prints how many public checks pass and what went wrong in the others.
    Passing them all is necessary, not sufficient: the grade may include
    hidden checks.
    """
    task = _task(task_id)
    verdicts = evaluate_locally(task, answer, hidden=False)
    passed = sum(v.passed for v in verdicts)
    print(
        f"{task_id} {task.title}: public checks passed: {passed} of {len(verdicts)}; "
        "your grade may include hidden checks."
    )
    for line in _failures(verdicts):
        print(line)


def assert_task(task_id: str, answer: Any, hidden: bool = False) -> None:
    """nbgrader test-cell helper: raise ``AssertionError`` unless every (public or hidden) check passes.

    The message names the failing check and the likely mistake but never a
    hidden value.
    """
    task = _task(task_id)
    verdicts = evaluate_locally(task, answer, hidden=hidden)
    failures = _failures(verdicts)
    if failures:
        kind = "hidden" if hidden else "public"
        raise AssertionError(f"{task_id} {task.title}: {kind} checks failed:\n" + "\n".join(failures))
