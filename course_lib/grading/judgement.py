"""Judge a learner's output against an expected array and explain what went wrong.

Everything here works on plain NumPy arrays and knows nothing of tasks: the
learner's self-check feeds it the stored public data
(:mod:`course_lib.grading.public`), the instructor's grader feeds it the
reference and mistake outputs it computes (:mod:`course_grader.judging`).
The grader applies a task's ``forbidden`` patterns itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.grading import fingerprint

#: Extra advice when a case with this word in its label fails.
LABEL_HINTS = {
    "0 and 1": (
        "log of zero: clip probabilities to [eps, 1 - eps] (Keras: eps = 1e-7) "
        "or work with logits"
    ),
    "extreme": (
        "if your code passes the ordinary cases, this extreme one needs the "
        "numerically stable form"
    ),
}


@dataclass(frozen=True)
class CaseVerdict:
    """The outcome of one case: ``passed`` and, if not, a message for the learner."""

    label: str
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class Tolerance:
    """How close an output must be to count as equal: :func:`numpy.allclose`'s
    ``rtol`` and ``atol``."""

    rtol: float
    atol: float

    def close(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Same shape and equal within the tolerance (NaN never equals NaN)."""
        return a.shape == b.shape and bool(
            np.allclose(a, b, rtol=self.rtol, atol=self.atol, equal_nan=False)
        )


def as_number_array(output: Any) -> np.ndarray | None:
    """``output`` as a float64 array, or ``None`` if it is not numbers."""
    try:
        return np.asarray(output, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _shape_message(
    got: tuple[int, ...], expected: tuple[int, ...], args: Sequence[Any]
) -> str:
    y_pred_shape = tuple(np.shape(args[1])) if len(args) > 1 else None
    if y_pred_shape is not None and got == y_pred_shape and len(expected) < len(got):
        return (
            f"wrong shape: you returned one number per element {got}; "
            f"reduce over the last axis to get one value per sample {expected}"
        )
    if got == () and expected != ():
        return (
            "wrong shape: you returned a single number; return one value per "
            f"sample, shape {expected} (did you also average over the batch?)"
        )
    if y_pred_shape is not None and len(y_pred_shape) >= 2 and got == y_pred_shape[1:]:
        return (
            "wrong axis: you reduced over the batch axis (axis=0); "
            f"reduce the last axis to get {expected}"
        )
    return f"wrong shape: expected {expected}, got {got}"


def _hint(label: str) -> str:
    return next((hint for key, hint in LABEL_HINTS.items() if key in label), "")


def _non_finite_message(label: str) -> str:
    return "returned NaN or inf where the loss is finite: " + (
        _hint(label) or "look for a log of 0, a division by 0 or an overflowing exp"
    )


def _known_mistake(
    got: np.ndarray, mistakes: Iterable[tuple[str, Any]], tolerance: Tolerance
) -> str | None:
    """The message of the first mistake whose output ``got`` matches, else ``None``."""
    for message, wrong_output in mistakes:
        with np.errstate(all="ignore"):
            wrong = as_number_array(wrong_output)
        if wrong is not None and tolerance.close(got, wrong):
            return message
    return None


def _known_non_finite_mistake(
    got: np.ndarray, mistakes: Iterable[tuple[str, Any]], tolerance: Tolerance
) -> str | None:
    """The message of the first mistake that gives NaN or inf exactly where ``got``
    does, else ``None``.

    A known mistake that itself produces NaN (the log of a negative logit, say)
    names the cause better than the generic advice about overflow.
    """
    for message, wrong_output in mistakes:
        with np.errstate(all="ignore"):
            wrong = as_number_array(wrong_output)
        if (
            wrong is not None
            and wrong.shape == got.shape
            and np.array_equal(np.isnan(wrong), np.isnan(got))
            and np.array_equal(np.isposinf(wrong), np.isposinf(got))
            and np.array_equal(np.isneginf(wrong), np.isneginf(got))
            and tolerance.close(
                np.where(np.isfinite(got), got, 0.0),
                np.where(np.isfinite(wrong), wrong, 0.0),
            )
        ):
            return message
    return None


def judge(
    output: Any,
    expected: np.ndarray,
    mistakes: Iterable[tuple[str, Any]],
    *,
    label: str,
    args: Sequence[Any],
    tolerance: Tolerance,
    reveal: bool,
) -> CaseVerdict:
    """Compare ``output`` with ``expected`` and explain any difference.

    Parameters
    ----------
    output : Any
        What the learner's function returned (or the learner's value).
    expected : numpy.ndarray
        The right output.
    mistakes : iterable of (str, Any)
        ``(message, wrong_output)`` pairs, tried in order when ``output`` is
        wrong; it may be a generator, read only as far as needed.
    label : str
        The case's label (some labels add advice, e.g. "extreme").
    args : sequence
        The case's positional inputs (for the shape hints); empty for a value task.
    tolerance : Tolerance
        What counts as equal.
    reveal : bool
        Whether a message may quote numbers (public cases only): a hidden
        case's values, and anything computed from them, never appear.
    """
    got = as_number_array(output)
    if got is None:
        return CaseVerdict(
            label, False, f"returned {type(output).__name__}, expected numbers"
        )
    if got.shape != expected.shape:
        return CaseVerdict(
            label, False, _shape_message(got.shape, expected.shape, args)
        )
    if np.any(~np.isfinite(got) & np.isfinite(expected)):
        if (message := _known_non_finite_mistake(got, mistakes, tolerance)) is not None:
            return CaseVerdict(label, False, message)
        return CaseVerdict(label, False, _non_finite_message(label))
    if tolerance.close(got, expected):
        return CaseVerdict(label, True)
    if (message := _known_mistake(got, mistakes, tolerance)) is not None:
        return CaseVerdict(label, False, message)
    return CaseVerdict(
        label, False, _generic_difference(got, expected, label, args, reveal)
    )


def judge_form(
    output: Any,
    shape: tuple[int, ...],
    mistakes: Iterable[tuple[str, list[str]]],
    *,
    label: str,
    salt: str,
    tolerance: Tolerance,
) -> CaseVerdict:
    """Check a value task's answer without the right value: numbers, ``shape``,
    finite, no known mistake.

    ``mistakes`` are ``(message, fingerprints)`` pairs
    (:mod:`course_lib.grading.fingerprint`): the wrong values themselves are not
    stored either.
    """
    got = as_number_array(output)
    if got is None:
        return CaseVerdict(
            label, False, f"returned {type(output).__name__}, expected numbers"
        )
    if got.shape != shape:
        if got.shape == () or shape == ():
            what = "a single number" if shape == () else f"an array of shape {shape}"
            return CaseVerdict(
                label,
                False,
                f"wrong shape: the answer is {what}, got shape {got.shape}",
            )
        return CaseVerdict(
            label, False, f"wrong shape: expected {shape}, got {got.shape}"
        )
    if not np.all(np.isfinite(got)):
        return CaseVerdict(
            label, False, "that is NaN or inf: the answer is a finite number"
        )
    mistakes = list(mistakes)
    if mistakes:
        mine = fingerprint.fingerprints(got, salt=salt, rtol=tolerance.rtol)
        for message, stored in mistakes:
            if fingerprint.agree(mine, stored):
                return CaseVerdict(label, False, message)
    return CaseVerdict(label, True)


def _constant_factor(got: np.ndarray, expected: np.ndarray) -> float | None:
    """``got / expected`` if it is one number everywhere (0 where ``expected`` is),
    else ``None``."""
    nonzero = np.abs(expected) > 1e-12
    if not nonzero.any() or not np.all(np.abs(got[~nonzero]) < 1e-9):
        return None
    ratios = got[nonzero] / expected[nonzero]
    if np.ptp(ratios) < 1e-6 * max(1.0, abs(float(ratios.mean()))):
        return float(ratios.mean())
    return None


def _generic_difference(
    got: np.ndarray, expected: np.ndarray, label: str, args: Sequence[Any], reveal: bool
) -> str:
    if (
        not args
    ):  # a value task: any hint about the size of the gap would give the answer away
        return "that is not the right value"
    if np.allclose(got, -expected, rtol=1e-5, atol=1e-8):
        return "sign error: your values are the negatives of the right ones"
    if (factor := _constant_factor(got, expected)) is not None:
        size = f" of {factor:.4g}" if reveal else ""
        return (
            f"off by a constant factor{size}: "
            "check for a missing or extra mean, 1/N, 1/d or 1/2"
        )
    message = "values differ from the reference"
    if hint := _hint(label):
        message += f"; {hint}"
    if reveal:
        index = (
            np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
            if got.ndim
            else ()
        )
        where = tuple(int(i) for i in index)
        message += (
            f" (at index {where}: expected {expected[index]:.6g}, got {got[index]:.6g})"
        )
    return message


def describe_error(message: str) -> str:
    """Learner-facing text for an exception raised by the learner's code."""
    if message.startswith("NotImplementedError"):
        return "not answered yet (the cell still raises NotImplementedError)"
    return f"raised {message}"[:300]
