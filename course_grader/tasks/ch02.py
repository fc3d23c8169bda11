"""Graded tasks of chapter 02 (regression): Huber, its gradient, a delta question, a Keras log-cosh.

Equation numbers in the messages, (3) MSE, (12) Huber, (13) its gradient, (14) log-cosh
and (17) its stable form, are those of ``notebooks/02_regression.ipynb``.
"""

from __future__ import annotations

import math

import numpy as np

from course_grader.model import AUTODIFF, COURSE_LIBRARY, Mistake, Task, library_function
from course_lib import gradients, losses
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch02 import task_data


def _regression_cases(seed: int, shapes: list[tuple[int, ...]], deltas: list[float]) -> tuple[Case, ...]:
    rng = np.random.default_rng(seed)
    cases = []
    for shape, delta in zip(shapes, deltas, strict=True):
        y_true = rng.normal(size=shape)
        y_pred = y_true + rng.normal(scale=2.0, size=shape)
        cases.append(Case(f"shape {shape}, delta={delta}", (y_true, y_pred), {"delta": delta}))
    return tuple(cases)


def _residual(y_true, y_pred) -> np.ndarray:
    """e = y_pred - y_true in float64, the chapter's residual."""
    return np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)


def _huber_variant(inside, outside, reduce=np.mean):
    """A per-sample Huber-like loss with the given branches, ``inside(e, delta)`` for |e| <= delta."""

    def loss(y_true, y_pred, delta=1.0):
        e = _residual(y_true, y_pred)
        return reduce(np.where(np.abs(e) <= delta, inside(e, delta), outside(e, delta)), axis=-1)

    return loss


def _quadratic(e, delta):
    return 0.5 * e**2


def _linear(e, delta):
    return delta * np.abs(e) - 0.5 * delta**2


# --------------------------------------------------------------------------------------
# 02.1 the Huber loss (12)
# --------------------------------------------------------------------------------------

HUBER = Task(
    task_id="02.1",
    title="Huber loss",
    answer="my_huber",
    reference=lambda y_true, y_pred, delta=1.0: losses.huber(y_true, y_pred, delta=delta),
    forbidden=(
        *COURSE_LIBRARY,
        library_function(r"huber", r"Huber"),
    ),
    public=_regression_cases(0, [(4, 3), (6, 2), (5, 1)], [1.0, 0.5, 2.0]),
    hidden=_regression_cases(1, [(7, 4), (3, 5), (9, 2)], [0.1, 1.5, 3.0]),
    mistakes=(
        Mistake(
            "you summed over the last axis; the loss (12) is the MEAN over the last axis, 1/d times the sum",
            _huber_variant(_quadratic, _linear, reduce=np.sum),
        ),
        Mistake(
            "the linear branch is missing its -delta**2/2 term: the two pieces of (12) must meet "
            "at |e| = delta",
            _huber_variant(_quadratic, lambda e, delta: delta * np.abs(e)),
        ),
        Mistake(
            "the quadratic branch is missing its factor 1/2: inside [-delta, delta] Huber is e**2/2, "
            "half the squared residual",
            _huber_variant(lambda e, delta: e**2, _linear),
        ),
        Mistake(
            "the quadratic branch of (12) is e**2/2, not |e|: Huber treats small residuals like half the "
            "MSE and only large ones like the MAE",
            _huber_variant(lambda e, delta: np.abs(e), _linear),
        ),
        Mistake(
            "the linear branch of (12) needs |e|, not e: with delta*e your loss goes negative for large "
            "negative residuals",
            _huber_variant(_quadratic, lambda e, delta: delta * e - 0.5 * delta**2),
        ),
        Mistake(
            "your branches are swapped: (12) is quadratic for |e| <= delta and linear for |e| > delta",
            _huber_variant(_linear, _quadratic),
        ),
        Mistake(
            "that is Huber with delta = 1 whatever delta is passed: use the `delta` argument",
            lambda y_true, y_pred, delta=1.0: losses.huber(y_true, y_pred, delta=1.0),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 02.2 its gradient (13), for the sum over the batch
# --------------------------------------------------------------------------------------

HUBER_GRADIENT = Task(
    task_id="02.2",
    title="gradient of the Huber loss",
    answer="my_huber_gradient",
    reference=lambda y_true, y_pred, delta=1.0: gradients.huber(y_true, y_pred, delta=delta),
    forbidden=(
        *COURSE_LIBRARY,
        *AUTODIFF,
    ),
    public=_regression_cases(2, [(4, 3), (6, 2)], [1.0, 0.5]),
    hidden=_regression_cases(3, [(7, 4), (3, 5)], [0.3, 2.5]),
    mistakes=(
        Mistake(
            "your gradient is off by 1/N: it is the gradient of the batch MEAN; the task asks for "
            "the gradient of the SUM of the per-sample losses",
            lambda y_true, y_pred, delta=1.0: gradients.huber(y_true, y_pred, delta=delta) / len(y_pred),
        ),
        Mistake(
            "the factor 1/d of (13) is missing: each per-sample loss averages over the d outputs",
            lambda y_true, y_pred, delta=1.0: np.clip(_residual(y_true, y_pred), -delta, delta),
        ),
        Mistake(
            "outside the quadratic zone (|e| > delta) the gradient is ±delta/d, not e/d: clip the residual, "
            "as in (13)",
            lambda y_true, y_pred, delta=1.0: _residual(y_true, y_pred) / np.shape(y_pred)[-1],
        ),
        Mistake(
            "that is the MSE gradient (5), 2e/d; Huber's gradient (13) is clip(e, -delta, delta)/d, "
            "with no factor 2",
            lambda y_true, y_pred, delta=1.0: 2.0 * _residual(y_true, y_pred) / np.shape(y_pred)[-1],
        ),
        Mistake(
            "inside the quadratic zone (|e| <= delta) the gradient is e/d, not ±delta/d: only residuals "
            "beyond delta are capped",
            lambda y_true, y_pred, delta=1.0: (
                delta * np.sign(_residual(y_true, y_pred)) / np.shape(y_pred)[-1]
            ),
        ),
        Mistake(
            "that is the gradient for delta = 1 whatever delta is passed: clip at the `delta` argument",
            lambda y_true, y_pred, delta=1.0: gradients.huber(y_true, y_pred, delta=1.0),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 02.3 the smallest delta for which Huber is half the MSE on task_data()
# --------------------------------------------------------------------------------------


def _smallest_mse_delta() -> float:
    y_true, y_pred = task_data()
    return float(np.max(np.abs(y_pred - y_true)))


def _task_residuals() -> np.ndarray:
    return _residual(*task_data())


SMALLEST_DELTA = Task(
    task_id="02.3",
    title="the smallest delta for which Huber is half the MSE on task_data()",
    answer="smallest_delta",
    kind="value",
    reference=_smallest_mse_delta(),
    public=(Case("your value", ()),),
    rtol=1e-6,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that is the largest SQUARED residual; delta compares with |e|, not e**2",
            lambda: _smallest_mse_delta() ** 2,
        ),
        Mistake(
            "that is the mean |e|; Huber is quadratic only if EVERY |e| <= delta",
            lambda: float(np.mean(np.abs(_task_residuals()))),
        ),
        Mistake(
            "that is the largest per-sample MEAN |e|; delta applies to each residual e_ij on its own, "
            "so every single |e_ij| must be <= delta",
            lambda: float(np.max(np.mean(np.abs(_task_residuals()), axis=-1))),
        ),
        Mistake(
            "that is the classical 1.345 sigma choice (95 % efficiency); this question asks for the "
            "smallest delta with NO residual in the linear branch",
            lambda: float(1.345 * np.std(_task_residuals())),
        ),
        Mistake(
            "that is the classical 1.345 sigma choice with a robust sigma (1.4826 MAD); this question asks "
            "for the smallest delta with NO residual in the linear branch",
            lambda: float(
                1.345 * 1.4826 * np.median(np.abs(_task_residuals() - np.median(_task_residuals())))
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 02.4 log-cosh (14) as a Keras custom loss, in the stable form (17)
# --------------------------------------------------------------------------------------


def _log_cosh_cases(seed: int, scale: float, label: str) -> tuple[Case, ...]:
    rng = np.random.default_rng(seed)
    y_true = rng.normal(size=(5, 3)).astype(np.float32)
    y_pred = (y_true + rng.normal(scale=scale, size=(5, 3))).astype(np.float32)
    return (Case(label, (y_true, y_pred)),)


def _log_cosh_elements(y_true, y_pred) -> np.ndarray:
    abs_e = np.abs(_residual(y_true, y_pred))
    return abs_e + np.log1p(np.exp(-2.0 * abs_e)) - math.log(2.0)


KERAS_LOG_COSH = Task(
    task_id="02.4",
    title="log-cosh as a Keras custom loss",
    answer="keras_log_cosh",
    reference=lambda y_true, y_pred: losses.log_cosh(np.float64(y_true), np.float64(y_pred)),
    backend="keras",
    public=_log_cosh_cases(4, 1.0, "ordinary errors")
    + _log_cosh_cases(5, 200.0, "extreme errors (|e| ~ 200)"),
    hidden=_log_cosh_cases(6, 0.1, "small errors") + _log_cosh_cases(7, 500.0, "extreme errors (|e| ~ 500)"),
    rtol=1e-4,
    atol=1e-5,
    forbidden=(
        *COURSE_LIBRARY,
        library_function(r"log_cosh", r"LogCosh"),
    ),
    mistakes=(
        Mistake(
            "you summed over the last axis; log-cosh (14) is the MEAN over the last axis",
            lambda y_true, y_pred: np.sum(_log_cosh_elements(y_true, y_pred), axis=-1),
        ),
        Mistake(
            "the stable form (17) ends with -log 2: your values are log 2 ≈ 0.693 too large",
            lambda y_true, y_pred: np.mean(_log_cosh_elements(y_true, y_pred) + math.log(2.0), axis=-1),
        ),
        Mistake(
            "you dropped log(1 + exp(-2|e|)): |e| - log 2 is only the large-residual limit of (17); "
            "for ordinary residuals that term matters",
            lambda y_true, y_pred: np.mean(np.abs(_residual(y_true, y_pred)) - math.log(2.0), axis=-1),
        ),
        Mistake(
            "the first term of (17) is |e|, not e: log cosh is even, your loss is not",
            lambda y_true, y_pred: np.mean(
                _log_cosh_elements(y_true, y_pred)
                - np.abs(_residual(y_true, y_pred))
                + _residual(y_true, y_pred),
                axis=-1,
            ),
        ),
    ),
)

TASKS = (HUBER, HUBER_GRADIENT, SMALLEST_DELTA, KERAS_LOG_COSH)
