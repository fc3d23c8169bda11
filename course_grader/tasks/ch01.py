"""Graded tasks of chapter 01 (fundamentals): empirical risk, its gradient, gradient descent, best F1."""

from __future__ import annotations

import numpy as np

from course_grader.model import (
    Mistake,
    Task,
    forbid,
    library_function,
    seeded_cases,
)
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch01 import task_data

# --------------------------------------------------------------------------------------
# Data: the quadratic-model setting of notebook 01 (eq. 2, 8, 9) and a small classifier
# --------------------------------------------------------------------------------------


def _design(x: np.ndarray, degree: int) -> np.ndarray:
    """The design matrix Psi with columns 1, x, ..., x**degree (one row per sample)."""
    return np.vander(x, degree + 1, increasing=True)


def _regression_problem(rng: np.random.Generator, n: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.sort(rng.uniform(-3.0, 3.0, size=n))
    return _design(x, degree), 0.5 * x**2 - x + 1.0 + rng.normal(scale=0.5, size=n)


_FEATURE_NAMES = {
    0: "constant [1]",
    1: "straight line [1, x]",
    2: "quadratic [1, x, x^2]",
    3: "cubic [1, x, x^2, x^3]",
}


def _model_case(rng: np.random.Generator, n: int, degree: int) -> Case:
    """A case ``(theta, features, y)`` with ``N = n`` samples and polynomial features up to ``degree``."""
    features, y = _regression_problem(rng, n, degree)
    theta = rng.normal(size=degree + 1)
    return Case(f"N={n}, {_FEATURE_NAMES[degree]} features", (theta, features, y))


def _lambda_max(features: np.ndarray) -> float:
    """Largest eigenvalue of the Hessian H = (2/N) Psi^T Psi of the empirical risk (8)."""
    return float(np.linalg.eigvalsh(2.0 / len(features) * features.T @ features)[-1])


def _descent_case(rng: np.random.Generator, n: int, degree: int, factor: float, steps: int) -> Case:
    """A case ``(features, y)`` with ``learning_rate = factor / lambda_max`` and ``steps``."""
    features, y = _regression_problem(rng, n, degree)
    rate = float(factor / _lambda_max(features))
    plural = "s" if steps != 1 else ""
    label = f"N={n}, degree {degree}, learning_rate = {factor}/lambda_max, {steps} step{plural}"
    return Case(label, (features, y), {"learning_rate": rate, "steps": int(steps)})


def _residual(theta, features, y):
    return np.asarray(features) @ np.asarray(theta) - np.asarray(y)


# --------------------------------------------------------------------------------------
# 01.1 the empirical risk (8)
# --------------------------------------------------------------------------------------


def _risk(theta, features, y):
    return float(np.mean(_residual(theta, features, y) ** 2))


EMPIRICAL_RISK = Task(
    task_id="01.1",
    title="empirical risk of the linear-in-theta model under MSE",
    answer="empirical_risk",
    reference=_risk,
    forbidden=forbid(library_function(r"mean_squared_error", r"MeanSquaredError"), r"^(import )?sklearn\b"),
    public=seeded_cases(10, _model_case, [(60, 2), (5, 2), (12, 1)]),
    hidden=seeded_cases(11, _model_case, [(25, 3), (7, 0), (1, 2)]),
    rtol=1e-9,
    atol=1e-12,
    mistakes=(
        Mistake(
            "that is the SUM of the squared residuals, N times the empirical risk (4): divide by N "
            "(Keras' default reduction averages over the batch)",
            lambda theta, features, y: np.sum(_residual(theta, features, y) ** 2),
        ),
        Mistake(
            "your residual became an N x N matrix: a column (N, 1) minus a vector (N,) broadcasts; "
            "keep predictions and targets the same shape, (N,)",
            lambda theta, features, y: np.mean(
                ((np.asarray(features) @ np.asarray(theta))[:, None] - np.asarray(y)[None, :]) ** 2
            ),
        ),
        Mistake(
            "you have an extra factor 1/2: (6) and (8) have none "
            "(some textbooks use 1/2 |r|^2, Keras does not)",
            lambda theta, features, y: 0.5 * _risk(theta, features, y),
        ),
        Mistake(
            "that is the ROOT mean squared error; the empirical risk (8) is the mean of the squares, "
            "with no square root",
            lambda theta, features, y: np.sqrt(_risk(theta, features, y)),
        ),
        Mistake(
            "that is the mean ABSOLUTE error; MSE squares each residual",
            lambda theta, features, y: np.mean(np.abs(_residual(theta, features, y))),
        ),
        Mistake(
            "you squared the MEAN residual; square each residual first, then average "
            "(otherwise misses above and below the targets cancel)",
            lambda theta, features, y: np.mean(_residual(theta, features, y)) ** 2,
        ),
        Mistake(
            "you divided by N - 1: the empirical risk (4) is a plain average over the N samples, 1/N",
            lambda theta, features, y: np.sum(_residual(theta, features, y) ** 2) / (len(y) - 1),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 01.2 its gradient with respect to the weights, eq. (9)
# --------------------------------------------------------------------------------------


def _gradient(theta, features, y):
    return 2.0 / len(np.asarray(y)) * np.asarray(features).T @ _residual(theta, features, y)


RISK_GRADIENT = Task(
    task_id="01.2",
    title="gradient of the empirical risk with respect to theta",
    answer="risk_gradient",
    reference=_gradient,
    forbidden=forbid(autodiff=True),
    public=seeded_cases(20, _model_case, [(60, 2), (8, 2), (15, 1)]),
    hidden=seeded_cases(21, _model_case, [(30, 3), (9, 0), (40, 2)]),
    rtol=1e-9,
    atol=1e-12,
    mistakes=(
        Mistake(
            "off by a factor N: that is the gradient of the SUM of squared residuals; the empirical risk (8) "
            "has a 1/N in front, so its gradient does too",
            lambda theta, features, y: _gradient(theta, features, y) * len(y),
        ),
        Mistake(
            "the factor 2 of (7) is missing: d/dy_hat (y_hat - y)^2 = 2 (y_hat - y)",
            lambda theta, features, y: _gradient(theta, features, y) / 2,
        ),
        Mistake(
            "both the 2 of (7) and the 1/N of (4) are missing: (9) is (2/N) Psi^T (Psi theta - y)",
            lambda theta, features, y: _gradient(theta, features, y) * len(y) / 2,
        ),
        Mistake(
            "sign error: the residual in (9) is prediction minus target, Psi theta - y; with y - Psi theta "
            "you get the negative gradient (the descent direction), not the gradient",
            lambda theta, features, y: -_gradient(theta, features, y),
        ),
        Mistake(
            "the target term is missing: (9) is (2/N) Psi^T (Psi theta - y), not (2/N) Psi^T Psi theta",
            lambda theta, features, y: 2.0 / len(y) * np.asarray(features).T @ (np.asarray(features) @ theta),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 01.3 full-batch gradient descent from theta = 0
# --------------------------------------------------------------------------------------


def _descend(features, y, learning_rate, steps, *, scale=1.0, sign=1.0, per_sample=True):
    features, y = np.asarray(features, dtype=float), np.asarray(y, dtype=float)
    theta = np.zeros(features.shape[1])
    for _ in range(steps):
        gradient = 2.0 * features.T @ (features @ theta - y)
        if per_sample:
            gradient = gradient / len(y)
        theta = theta - sign * learning_rate * scale * gradient
    return theta


GRADIENT_DESCENT = Task(
    task_id="01.3",
    title="gradient descent on the empirical risk",
    answer="gradient_descent",
    reference=lambda features, y, learning_rate, steps: _descend(features, y, learning_rate, steps),
    forbidden=forbid(autodiff=True),
    public=seeded_cases(30, _descent_case, [(60, 2, 1.0, 10), (20, 2, 0.5, 25), (15, 1, 1.9, 5)]),
    hidden=seeded_cases(31, _descent_case, [(30, 3, 1.0, 20), (10, 0, 0.5, 3), (40, 2, 1.5, 1)]),
    rtol=1e-7,
    atol=1e-9,
    mistakes=(
        Mistake(
            "each step used the gradient of the SUM (no 1/N): that is reduction='sum', which silently "
            "multiplies the learning rate by N; step along the gradient (9) of the empirical risk",
            lambda features, y, learning_rate, steps: _descend(
                features, y, learning_rate, steps, per_sample=False
            ),
        ),
        Mistake(
            "gradient ASCENT: the update is theta - learning_rate * gradient, against the gradient",
            lambda features, y, learning_rate, steps: _descend(features, y, learning_rate, steps, sign=-1.0),
        ),
        Mistake(
            "one step too few: start from theta = 0 and return theta after exactly `steps` updates",
            lambda features, y, learning_rate, steps: _descend(features, y, learning_rate, max(steps - 1, 0)),
        ),
        Mistake(
            "one step too many: start from theta = 0 and return theta after exactly `steps` updates",
            lambda features, y, learning_rate, steps: _descend(features, y, learning_rate, steps + 1),
        ),
        Mistake(
            "your steps are half as long as they should be: the gradient (9) has the factor 2 of (7)",
            lambda features, y, learning_rate, steps: _descend(features, y, learning_rate, steps, scale=0.5),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 01.4 the loss optimum is not the metric optimum: the best F1 over all biases
# --------------------------------------------------------------------------------------


def _f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    positive = labels == 1
    true_pos = np.sum(predicted & positive)
    wrong = np.sum(predicted & ~positive) + np.sum(~predicted & positive)
    return 0.0 if true_pos == 0 else float(2 * true_pos / (2 * true_pos + wrong))


def _scores() -> tuple[np.ndarray, np.ndarray]:
    inputs, labels, w, b = task_data()
    return inputs @ w + b, labels


def _best_f1(scores: np.ndarray, labels: np.ndarray) -> float:
    """F1 only changes when -b crosses a score: predict the top-k scores positive, k = 0..N."""
    true_pos = np.cumsum(labels[np.argsort(-scores)])
    predicted = np.arange(1, len(scores) + 1)
    return float(max(0.0, np.max(2 * true_pos / (predicted + labels.sum()))))


def _f1_on_notebook_grid() -> float:
    scores, labels = _scores()
    return max(_f1(labels, scores + shift > 0) for shift in np.linspace(-2, 2, 81))


def _best_accuracy() -> float:
    scores, labels = _scores()
    return max(float(np.mean((scores >= t) == (labels == 1))) for t in scores)


BEST_F1 = Task(
    task_id="01.4",
    title="the best F1 any bias achieves on task_data()",
    answer="best_f1",
    kind="value",
    reference=_best_f1(*_scores()),
    public=(Case("your value", ()),),
    rtol=1e-9,
    atol=1e-12,
    mistakes=(
        Mistake(
            "that is F1 at the fitted bias b: the cross-entropy optimum is not the F1 optimum; move b",
            lambda: _f1(_scores()[1], _scores()[0] > 0),
        ),
        Mistake(
            "that is the best F1 on the notebook's grid of 81 biases: a grid can step over the best "
            "interval. "
            "F1 only changes where the threshold -b crosses a score, so try one threshold per score",
            _f1_on_notebook_grid,
        ),
        Mistake("that is the best ACCURACY, not the best F1", _best_accuracy),
        Mistake(
            "that is F1 of the negative class: label 1 is the positive class",
            lambda: _best_f1(-_scores()[0], 1.0 - _scores()[1]),
        ),
    ),
)

TASKS = (EMPIRICAL_RISK, RISK_GRADIENT, GRADIENT_DESCENT, BEST_F1)
