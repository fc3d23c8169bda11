"""Graded exercises, the learner's side: the public self-check and the nbgrader test
helper.

In an exercise notebook::

    from course_lib.grading import check
    check("02.1", my_asymmetric_huber)

prints which public checks pass and, for each that fails, what the mistake
probably is.  It reads the stored public checks (:mod:`course_lib.grading.public`)
and nothing else: no reference answer, no hidden check.  For a value task it
checks the form of the answer and the known mistakes; the value itself is
judged when graded.  Hidden checks (``assert_task(..., hidden=True)``) need
the instructor's package, ``course_grader``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course_lib.grading.judgement import (
    CaseVerdict,
    Tolerance,
    describe_error,
    judge,
    judge_form,
)
from course_lib.grading.public import (
    PublicCase,
    PublicTask,
    fingerprint_salt,
    load_task,
)

__all__ = ["assert_task", "check"]

#: What a value task's self-check says it did and did not check.
VALUE_TASK_NOTE = (
    "a finite number of the right shape and none of the known mistakes; "
    "whether it is right is decided only when graded"
)


def call_answer(
    answer: Any, args: Sequence[Any], kwargs: dict[str, Any], *, kind: str, backend: str
) -> Any:
    """The learner's output on one case: ``answer`` itself for a value task, else
    ``answer(*args, **kwargs)``.

    For ``backend="keras"`` the arrays go in as tensors and the output comes back as
    a NumPy array.
    """
    if kind == "value":
        return answer
    if backend == "keras":
        from keras import ops

        args = tuple(ops.convert_to_tensor(np.asarray(arg)) for arg in args)
        return ops.convert_to_numpy(answer(*args, **kwargs))
    return answer(*args, **kwargs)


def not_answered(name: str) -> str:
    """The message for a value task whose answer is still the exercise's placeholder
    ``None``."""
    return f"not answered yet (`{name}` is still None)"


def _public_verdict(task: PublicTask, case: PublicCase, answer: Any) -> CaseVerdict:
    if task.kind == "value" and answer is None:
        return CaseVerdict(case.label, False, not_answered(task.answer))
    try:
        output = call_answer(
            answer, case.args, case.kwargs, kind=task.kind, backend=task.backend
        )
    except Exception as error:  # the learner's code may raise anything
        return CaseVerdict(
            case.label, False, describe_error(f"{type(error).__name__}: {error}")
        )
    tolerance = Tolerance(task.rtol, task.atol)
    if case.expected is None:
        salt = fingerprint_salt(task.task_id, case.label)
        return judge_form(
            output,
            case.expected_shape,
            case.mistakes,
            label=case.label,
            salt=salt,
            tolerance=tolerance,
        )
    return judge(
        output,
        case.expected,
        case.mistakes,
        label=case.label,
        args=case.args,
        tolerance=tolerance,
        reveal=True,
    )


def _public_verdicts(task: PublicTask, answer: Any) -> list[CaseVerdict]:
    return [_public_verdict(task, case, answer) for case in task.cases]


def _hidden_verdicts(task_id: str, answer: Any) -> list[CaseVerdict]:
    """Every case, public and hidden, judged against the instructor's task (needs
    ``course_grader``)."""
    try:
        from course_grader.judging import judge as judge_with_reference
        from course_grader.tasks import TASKS
    except ImportError as error:
        raise ImportError(
            "hidden checks need the instructor's package, course_grader, which "
            "learners do not have; run the public checks with check(...) or "
            "assert_task(...) without hidden=True"
        ) from error
    task = TASKS[task_id]
    verdicts = []
    for case in task.cases(hidden=True):
        is_public = any(case is public for public in task.public)
        if task.kind == "value" and answer is None:
            verdicts.append(CaseVerdict(case.label, False, not_answered(task.answer)))
            continue
        try:
            output = call_answer(
                answer, case.args, case.kwargs, kind=task.kind, backend=task.backend
            )
        except Exception as error:  # the learner's code may raise anything
            message = describe_error(f"{type(error).__name__}: {error}")
            verdicts.append(CaseVerdict(case.label, False, message))
            continue
        verdicts.append(judge_with_reference(task, case, output, reveal=is_public))
    return verdicts


def _failures(verdicts: list[CaseVerdict]) -> list[str]:
    seen, lines = set(), []
    for verdict in verdicts:
        if not verdict.passed and (verdict.label, verdict.message) not in seen:
            seen.add((verdict.label, verdict.message))
            lines.append(f"  - {verdict.label}: {verdict.message}")
    return lines


def check(task_id: str, answer: Any) -> None:
    """Self-check ``answer`` (your function or value) against task ``task_id``'s
    public checks.

    Prints how many public checks pass and what went wrong in the others.
    A value task's answer that is still ``None`` (the exercise's placeholder)
    is reported as not answered yet.
    Passing them all is necessary, not sufficient: the grade may include
    hidden checks, and a value is only judged when graded.
    """
    task = load_task(task_id)
    verdicts = _public_verdicts(task, answer)
    passed = sum(v.passed for v in verdicts)
    if task.kind == "value":
        summary = (
            f"form checks passed: {passed} of {len(verdicts)} ({VALUE_TASK_NOTE})."
        )
    else:
        summary = (
            f"public checks passed: {passed} of {len(verdicts)}; "
            "your grade may include hidden checks."
        )
    print(f"{task_id} {task.title}: {summary}")
    for line in _failures(verdicts):
        print(line)


def assert_task(task_id: str, answer: Any, hidden: bool = False) -> None:
    """nbgrader test-cell helper: raise ``AssertionError`` unless every (public or
    hidden) check passes.

    The public checks are the stored ones (for a value task: form and known
    mistakes only).  ``hidden=True`` judges every case against the
    instructor's reference and needs ``course_grader``.  The message names
    the failing check and the likely mistake but never a hidden value.
    """
    task = load_task(task_id)
    verdicts = (
        _hidden_verdicts(task_id, answer) if hidden else _public_verdicts(task, answer)
    )
    failures = _failures(verdicts)
    if failures:
        kind = "hidden" if hidden else "public"
        raise AssertionError(
            f"{task_id} {task.title}: {kind} checks failed:\n" + "\n".join(failures)
        )
