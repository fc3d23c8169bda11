"""Graded tasks of chapter 02 (regression): Huber, its gradient, a delta question, a Keras log-cosh."""

from __future__ import annotations

import numpy as np

from course_lib import gradients, losses
from course_lib.grading.model import Case, Mistake, Task


def task_data() -> tuple[np.ndarray, np.ndarray]:
    """The small regression batch that task 02.3 asks about (also shown in the exercise)."""
    rng = np.random.default_rng(2)
    y_true = rng.normal(size=(8, 3))
    return y_true, y_true + rng.normal(scale=0.4, size=(8, 3))


def _regression_cases(seed: int, shapes: list[tuple[int, ...]], deltas: list[float]) -> tuple[Case, ...]:
    rng = np.random.default_rng(seed)
    cases = []
    for shape, delta in zip(shapes, deltas, strict=True):
        y_true = rng.normal(size=shape)
        y_pred = y_true + rng.normal(scale=2.0, size=shape)
        cases.append(Case(f"shape {shape}, delta={delta}", (y_true, y_pred), {"delta": delta}))
    return tuple(cases)


def _huber_elements(y_true, y_pred, delta):
    error = np.asarray(y_pred) - np.asarray(y_true)
    return np.where(np.abs(error) <= delta, 0.5 * error**2, delta * np.abs(error) - 0.5 * delta**2)


HUBER = Task(
    task_id="02.1",
    title="Huber loss",
    answer="my_huber",
    reference=lambda y_true, y_pred, delta=1.0: losses.huber(y_true, y_pred, delta=delta),
    forbidden=(r"\bhuber\s*\(", r"\bHuber\b", r"course_lib"),
    public=_regression_cases(0, [(4, 3), (6, 2), (5, 1)], [1.0, 0.5, 2.0]),
    hidden=_regression_cases(1, [(7, 4), (3, 5), (9, 2)], [0.1, 1.5, 3.0]),
    mistakes=(
        Mistake(
            "you summed over the last axis; the loss is the MEAN over the last axis",
            lambda y_true, y_pred, delta=1.0: _huber_elements(y_true, y_pred, delta).sum(axis=-1),
        ),
        Mistake(
            "the linear branch is missing its -delta**2/2 term: the two pieces must meet at |e| = delta",
            lambda y_true, y_pred, delta=1.0: np.mean(
                np.where(
                    np.abs(np.subtract(y_pred, y_true)) <= delta,
                    0.5 * np.subtract(y_pred, y_true) ** 2,
                    delta * np.abs(np.subtract(y_pred, y_true)),
                ),
                axis=-1,
            ),
        ),
        Mistake(
            "the quadratic branch is missing its factor 1/2",
            lambda y_true, y_pred, delta=1.0: np.mean(
                np.where(
                    np.abs(np.subtract(y_pred, y_true)) <= delta,
                    np.subtract(y_pred, y_true) ** 2,
                    delta * np.abs(np.subtract(y_pred, y_true)) - 0.5 * delta**2,
                ),
                axis=-1,
            ),
        ),
    ),
)

HUBER_GRADIENT = Task(
    task_id="02.2",
    title="gradient of the Huber loss",
    answer="my_huber_gradient",
    reference=lambda y_true, y_pred, delta=1.0: gradients.huber(y_true, y_pred, delta=delta),
    forbidden=(r"course_lib", r"GradientTape", r"\.gradient\("),
    public=_regression_cases(2, [(4, 3), (6, 2)], [1.0, 0.5]),
    hidden=_regression_cases(3, [(7, 4), (3, 5)], [0.3, 2.5]),
    mistakes=(
        Mistake(
            "your gradient is off by 1/N: it is the gradient of the batch MEAN; the task asks for "
            "the gradient of the SUM of the per-sample losses",
            lambda y_true, y_pred, delta=1.0: gradients.huber(y_true, y_pred, delta=delta) / len(y_pred),
        ),
        Mistake(
            "the factor 1/d is missing: each per-sample loss averages over the d outputs",
            lambda y_true, y_pred, delta=1.0: np.clip(np.subtract(y_pred, y_true), -delta, delta),
        ),
        Mistake(
            "outside the quadratic zone the gradient is ±delta/d, not the error itself (clip it)",
            lambda y_true, y_pred, delta=1.0: np.subtract(y_pred, y_true) / np.shape(y_pred)[-1],
        ),
    ),
)


def _smallest_mse_delta() -> float:
    y_true, y_pred = task_data()
    return float(np.max(np.abs(y_pred - y_true)))


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
            "that is the largest squared error; delta compares with |error|, not error**2",
            lambda: _smallest_mse_delta() ** 2,
        ),
        Mistake(
            "that is the mean |error|; Huber is quadratic only if EVERY |error| <= delta",
            lambda: float(np.mean(np.abs(np.subtract(*task_data()[::-1])))),
        ),
    ),
)


def _log_cosh_cases(seed: int, scale: float, label: str) -> tuple[Case, ...]:
    rng = np.random.default_rng(seed)
    y_true = rng.normal(size=(5, 3)).astype(np.float32)
    y_pred = (y_true + rng.normal(scale=scale, size=(5, 3))).astype(np.float32)
    return (Case(label, (y_true, y_pred)),)


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
    forbidden=(r"\blog_cosh\s*\(", r"\bLogCosh\b", r"course_lib"),
)

TASKS = (HUBER, HUBER_GRADIENT, SMALLEST_DELTA, KERAS_LOG_COSH)
