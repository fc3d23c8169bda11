"""Judge a learner's output against the reference and explain what went wrong.

Everything here works on plain NumPy arrays, so the same code serves the
learner's self-check (in the notebook) and the instructor's grader (in its
own process, after the learner's code has run elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.grading.model import Case, Task

#: Extra advice when a case with this word in its label fails.
LABEL_HINTS = {
    "0 and 1": "log of zero: clip probabilities to [eps, 1 - eps] (Keras: eps = 1e-7) or work with logits",
    "extreme": "it agrees on ordinary inputs but not at extreme values: use the numerically stable form",
}


@dataclass(frozen=True)
class CaseVerdict:
    """The outcome of one case: ``passed`` and, if not, a message for the learner."""

    label: str
    passed: bool
    message: str = ""


def expected_output(task: Task, case: Case) -> np.ndarray:
    """The reference answer for ``case`` (a value task ignores the case)."""
    if task.kind == "value":
        return np.asarray(task.reference, dtype=np.float64)
    return np.asarray(task.reference(*case.args, **case.kwargs), dtype=np.float64)


def as_number_array(output: Any) -> np.ndarray | None:
    """``output`` as a float64 array, or ``None`` if it is not numbers."""
    try:
        array = np.asarray(output, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def _close(a: np.ndarray, b: np.ndarray, task: Task) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=task.rtol, atol=task.atol, equal_nan=False))


def _shape_message(got: tuple[int, ...], expected: tuple[int, ...], case: Case) -> str:
    y_pred_shape = np.shape(case.args[1]) if len(case.args) > 1 else None
    if y_pred_shape is not None and got == tuple(y_pred_shape) and len(expected) < len(got):
        return (
            f"wrong shape: you returned one number per element {got}; "
            f"reduce over the last axis to get one value per sample {expected}"
        )
    if got == () and expected != ():
        return (
            f"wrong shape: you returned a single number; return one value per sample, shape {expected} "
            "(did you also average over the batch?)"
        )
    if y_pred_shape is not None and len(y_pred_shape) >= 2 and got == tuple(y_pred_shape[1:]):
        return f"wrong axis: you reduced over the batch axis (axis=0); reduce the last axis to get {expected}"
    return f"wrong shape: expected {expected}, got {got}"


def _hint(label: str) -> str:
    return next((hint for key, hint in LABEL_HINTS.items() if key in label), "")


def judge(task: Task, case: Case, output: Any, *, reveal: bool) -> CaseVerdict:
    """Compare ``output`` with the reference for ``case`` and explain any difference.

    ``reveal`` allows quoting an expected number (public cases only); a
    hidden case's values are never put into a message.
    """
    expected = expected_output(task, case)
    got = as_number_array(output)
    if got is None:
        return CaseVerdict(case.label, False, f"returned {type(output).__name__}, expected numbers")
    if got.shape != expected.shape:
        return CaseVerdict(case.label, False, _shape_message(got.shape, expected.shape, case))
    if np.any(~np.isfinite(got) & np.isfinite(expected)):
        return CaseVerdict(
            case.label,
            False,
            "returned NaN or inf where the loss is finite: "
            + (_hint(case.label) or "look for a log of 0, a division by 0 or an overflowing exp"),
        )
    if _close(got, expected, task):
        return CaseVerdict(case.label, True)
    for mistake in task.mistakes:
        with np.errstate(all="ignore"):
            wrong = as_number_array(mistake.wrong(*case.args, **case.kwargs))
        if wrong is not None and _close(got, wrong, task):
            return CaseVerdict(case.label, False, mistake.message)
    return CaseVerdict(case.label, False, _generic_difference(got, expected, case, reveal))


def _generic_difference(got: np.ndarray, expected: np.ndarray, case: Case, reveal: bool) -> str:
    if not case.args:  # a value task: any hint about the size of the gap would give the answer away
        return "that is not the right value"
    if np.allclose(got, -expected, rtol=1e-5, atol=1e-8):
        return "sign error: your values are the negatives of the right ones"
    nonzero = np.abs(expected) > 1e-12
    if nonzero.any() and np.all(np.abs(got[~nonzero]) < 1e-9):
        ratios = got[nonzero] / expected[nonzero]
        if np.ptp(ratios) < 1e-6 * max(1.0, abs(float(ratios.mean()))):
            return (
                f"off by a constant factor of {float(ratios.mean()):.4g}: check for a missing or "
                "extra mean, 1/N, 1/d or 1/2"
            )
    message = "values differ from the reference"
    if hint := _hint(case.label):
        message += f"; {hint}"
    if reveal:
        index = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape) if got.ndim else ()
        where = tuple(int(i) for i in index)
        message += f" (at index {where}: expected {expected[index]:.6g}, got {got[index]:.6g})"
    return message


def describe_error(message: str) -> str:
    """Learner-facing text for an exception raised by the learner's code."""
    if message.startswith("NotImplementedError"):
        return "not answered yet (the cell still raises NotImplementedError)"
    return f"raised {message}"[:300]


def forbidden_use(task: Task, source: str) -> str:
    """A message if ``source`` uses something the task forbids, else ``""``."""
    import re

    for pattern in task.forbidden:
        if match := re.search(pattern, source):
            return f"your answer uses `{match.group(0)}`: write it yourself from the formula"
    return ""


def run_case(task: Task, candidate: Any, case: Case) -> Any:
    """Call the learner's ``candidate`` on ``case`` (tensors in, for a Keras loss) and return its output."""
    if task.kind == "value":
        return candidate
    args = case.args
    if task.backend == "keras":
        import tensorflow as tf

        args = tuple(tf.constant(np.asarray(arg)) for arg in args)
    output = candidate(*args, **case.kwargs)
    return output.numpy() if hasattr(output, "numpy") else output


def evaluate_locally(task: Task, candidate: Any, *, hidden: bool) -> list[CaseVerdict]:
    """Run ``candidate`` on the task's cases in this process and judge every output."""
    import inspect

    try:
        source = inspect.getsource(candidate) if callable(candidate) else ""
    except (OSError, TypeError):
        source = ""
    if message := forbidden_use(task, source):
        return [CaseVerdict(case.label, False, message) for case in task.cases(hidden)]
    verdicts = []
    for case in task.cases(hidden):
        is_public = any(case is public for public in task.public)
        try:
            output = run_case(task, candidate, case)
        except Exception as error:  # the learner's code may raise anything
            verdicts.append(
                CaseVerdict(case.label, False, describe_error(f"{type(error).__name__}: {error}"))
            )
            continue
        verdicts.append(judge(task, case, output, reveal=is_public))
    return verdicts
