"""The grader's judgement of one case: the reference and the mistakes computed from the full task.

The comparison itself is :func:`course_lib.grading.judgement.judge`, the same
code that the learner's self-check runs on the stored public data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from course_grader.model import Case, Task
from course_lib.grading import judgement
from course_lib.grading.judgement import CaseVerdict, Tolerance

__all__ = ["CaseVerdict", "expected_output", "judge", "mistake_outputs"]


def expected_output(task: Task, case: Case) -> np.ndarray:
    """The reference answer for ``case`` as float64 (a value task ignores the case)."""
    if task.kind == "value":
        return np.asarray(task.reference, dtype=np.float64)
    return np.asarray(task.reference(*case.args, **case.kwargs), dtype=np.float64)


def mistake_outputs(task: Task, case: Case, *, public_only: bool = False) -> Iterator[tuple[str, np.ndarray]]:
    """``(message, output)`` of each of the task's mistakes on ``case``, in order, computed as needed.

    A mistake that raises or returns something other than numbers there is
    skipped; with ``public_only``, so is one marked ``public=False``.
    """
    for mistake in task.mistakes:
        if public_only and not mistake.public:
            continue
        try:
            with np.errstate(all="ignore"):
                wrong = mistake.wrong(*case.args, **case.kwargs)
                output = judgement.as_number_array(wrong)
        except Exception:  # noqa: BLE001 -- a variant may not apply to every case
            continue
        if output is not None:
            yield mistake.message, output


def judge(task: Task, case: Case, output: Any, *, reveal: bool) -> CaseVerdict:
    """Compare ``output`` with the reference for ``case`` and explain any difference.

    ``reveal`` allows quoting numbers (public cases only); nothing computed
    from a hidden case's values is ever put into a message.
    """
    return judgement.judge(
        output,
        expected_output(task, case),
        mistake_outputs(task, case),
        label=case.label,
        args=case.args,
        tolerance=Tolerance(task.rtol, task.atol),
        reveal=reveal,
    )
