"""Graded tasks of chapter 02 (regression): an asymmetric Huber loss, a gradient with respect to the
targets, a delta question, and a scaled log-cosh as a Keras loss.

Equation numbers in the messages, (3) MSE, (5) its gradient, (12) Huber, (13) its gradient,
(14) log-cosh, (15) its expansions and (17) its stable form, are those of
``notebooks/02_regression.ipynb``.  None of the functions asked for is one that the notebook
prints with ``show()``: each is a variant that needs the same derivation.
"""

from __future__ import annotations

import math

import numpy as np

from course_grader.model import (
    Mistake,
    Task,
    forbid,
    library_function,
    seeded_case,
    seeded_cases,
)
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch02 import task_data


def _residual(y_true, y_pred) -> np.ndarray:
    """e = y_pred - y_true in float64, the chapter's residual."""
    return np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)


# --------------------------------------------------------------------------------------
# 02.1 an asymmetric Huber loss: threshold delta_under for e < 0, delta_over for e > 0
# --------------------------------------------------------------------------------------


def _asymmetric_case(rng: np.random.Generator, shape: tuple[int, ...], under: float, over: float) -> Case:
    y_true = rng.normal(size=shape)
    y_pred = y_true + rng.normal(scale=2.0, size=shape)
    label = f"shape {shape}, delta_under={under}, delta_over={over}"
    return Case(label, (y_true, y_pred), {"delta_under": under, "delta_over": over})


def _asymmetric(
    *,
    quadratic=lambda e: 0.5 * e**2,
    over=lambda e, d, other: d * e - 0.5 * d**2,
    under=lambda e, d, other: -d * e - 0.5 * d**2,
    swap=False,
    same=None,
    reduce=np.mean,
):
    """An asymmetric Huber loss with the given pieces (the reference with the defaults).

    ``over(e, delta_over, delta_under)`` is used for e > delta_over, ``under(e, delta_under,
    delta_over)`` for e < -delta_under; ``swap`` exchanges the two thresholds, ``same`` uses
    "under" or "over" for both.
    """

    def loss(y_true, y_pred, delta_under=1.0, delta_over=1.0):
        e = _residual(y_true, y_pred)
        lo, hi = (delta_over, delta_under) if swap else (delta_under, delta_over)
        if same == "under":
            hi = lo
        elif same == "over":
            lo = hi
        pieces = np.where(e > hi, over(e, hi, lo), np.where(e < -lo, under(e, lo, hi), quadratic(e)))
        return reduce(pieces, axis=-1)

    return loss


_ASYMMETRIC_HUBER = _asymmetric()


def _swapped_branches(y_true, y_pred, delta_under=1.0, delta_over=1.0):
    """Linear between the thresholds (with the threshold of e's sign), quadratic outside."""
    e = _residual(y_true, y_pred)
    d = np.where(e > 0, delta_over, delta_under)
    inside = (e >= -delta_under) & (e <= delta_over)
    return np.mean(np.where(inside, d * np.abs(e) - 0.5 * d**2, 0.5 * e**2), axis=-1)


ASYMMETRIC_HUBER = Task(
    task_id="02.1",
    title="asymmetric Huber loss",
    answer="my_asymmetric_huber",
    reference=_ASYMMETRIC_HUBER,
    forbidden=forbid(library_function(r"huber", r"Huber")),
    public=seeded_cases(0, _asymmetric_case, [((4, 3), 1.0, 0.5), ((6, 2), 0.5, 2.0), ((5, 1), 2.0, 1.0)]),
    hidden=seeded_cases(
        1,
        _asymmetric_case,
        [((7, 4), 0.1, 1.5), ((3, 5), 1.5, 0.3), ((9, 2), 3.0, 3.0), ((3, 4, 4), 0.7, 0.2)],
    ),
    mistakes=(
        Mistake(
            "you summed over the last axis; the per-sample loss averages h over the d outputs, "
            "1/d times the sum, as (12) does",
            _asymmetric(reduce=np.sum),
        ),
        Mistake(
            "your thresholds are swapped: e = y_pred - y_true, so an over-prediction has e > 0 and is "
            "capped by delta_over, an under-prediction has e < 0 and is capped by delta_under",
            _asymmetric(swap=True),
        ),
        Mistake(
            "you used delta_under on both sides: residuals e > 0 leave the quadratic zone at delta_over",
            _asymmetric(same="under"),
        ),
        Mistake(
            "you used delta_over on both sides: residuals e < 0 leave the quadratic zone at -delta_under",
            _asymmetric(same="over"),
        ),
        Mistake(
            "the linear branches are missing their -delta**2/2 terms: each must meet the parabola e**2/2 "
            "at its own threshold, with equal value and slope, as in (12)",
            _asymmetric(over=lambda e, d, o: d * e, under=lambda e, d, o: -d * e),
        ),
        Mistake(
            "each linear branch must meet the parabola at its OWN threshold: the constant is "
            "-delta_over**2/2 for e > delta_over and -delta_under**2/2 for e < -delta_under",
            _asymmetric(
                over=lambda e, d, o: d * e - 0.5 * o**2,
                under=lambda e, d, o: -d * e - 0.5 * o**2,
            ),
        ),
        Mistake(
            "the quadratic branch is missing its factor 1/2: between the thresholds the loss is e**2/2, "
            "as in (12)",
            _asymmetric(quadratic=lambda e: e**2),
        ),
        Mistake(
            "the quadratic branch is e**2/2, not |e|: small residuals are treated like half the MSE and "
            "only large ones like the MAE",
            _asymmetric(quadratic=np.abs),
        ),
        Mistake(
            "for e < -delta_under the linear branch needs |e| (or -e), not e: with delta_under*e your loss "
            "goes negative for large under-predictions",
            _asymmetric(under=lambda e, d, o: d * e - 0.5 * d**2),
        ),
        Mistake(
            "your branches are swapped: the loss is quadratic between -delta_under and delta_over and "
            "linear outside",
            _swapped_branches,
        ),
        Mistake(
            "that is the symmetric Huber loss with delta = 1 whatever thresholds are passed: use "
            "`delta_under` and `delta_over`",
            lambda y_true, y_pred, delta_under=1.0, delta_over=1.0: _ASYMMETRIC_HUBER(y_true, y_pred),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 02.2 the gradient of the weighted batch-mean Huber loss with respect to the TARGETS
# --------------------------------------------------------------------------------------


def _target_gradient_case(rng: np.random.Generator, shape: tuple[int, int], delta: float) -> Case:
    y_true = rng.normal(size=shape)
    y_pred = y_true + rng.normal(scale=2.0, size=shape)
    weights = np.round(rng.uniform(0.2, 3.0, size=shape[0]), 2)
    weights[rng.integers(0, shape[0])] = 0.0  # a sample that does not count
    label = f"shape {shape}, delta={delta}, weights with a zero"
    return Case(label, (y_true, y_pred, weights), {"delta": delta})


def _target_gradient(*, sign=-1.0, divide_by="N", weighted=True, per_output=True, psi=None, clip_at=None):
    """-w_i psi(e_ij) / (N d), or a variant of it (the reference with the defaults)."""

    def gradient(y_true, y_pred, sample_weight, delta=1.0):
        e = _residual(y_true, y_pred)
        w = np.asarray(sample_weight, dtype=np.float64)[:, None] if weighted else 1.0
        threshold = delta if clip_at is None else clip_at
        influence = np.clip(e, -threshold, threshold) if psi is None else psi(e, threshold)
        divisor = {"N": len(e), "weights": np.sum(sample_weight), "none": 1.0}[divide_by]
        return sign * w * influence / divisor / (e.shape[-1] if per_output else 1.0)

    return gradient


TARGET_GRADIENT = Task(
    task_id="02.2",
    title="gradient of the weighted Huber loss with respect to the targets",
    answer="my_huber_target_gradient",
    reference=_target_gradient(),
    forbidden=forbid(autodiff=True),
    public=seeded_cases(2, _target_gradient_case, [((4, 3), 1.0), ((6, 2), 0.5)]),
    hidden=seeded_cases(3, _target_gradient_case, [((7, 4), 0.3), ((3, 5), 2.5), ((5, 1), 1.0)]),
    mistakes=(
        Mistake(
            "sign error: that is the gradient with respect to y_pred; since e = y_pred - y_true, "
            "de/dy_true = -1 and the gradient with respect to the targets is its negative",
            _target_gradient(sign=1.0),
        ),
        Mistake(
            "the 1/N of the reduction is missing: that is the gradient of the weighted SUM; "
            "'sum_over_batch_size' divides the weighted sum by the batch size N",
            _target_gradient(divide_by="none"),
        ),
        Mistake(
            "you divided by the sum of the weights; 'sum_over_batch_size' divides the weighted sum by the "
            "batch size N, whatever the weights are",
            _target_gradient(divide_by="weights"),
        ),
        Mistake(
            "the sample weights are missing: sample i's loss, and so its gradient, is multiplied by w_i "
            "(a sample with weight 0 has gradient 0)",
            _target_gradient(weighted=False),
        ),
        Mistake(
            "the factor 1/d of (13) is missing: each per-sample loss averages over the d outputs",
            _target_gradient(per_output=False),
        ),
        Mistake(
            "outside the quadratic zone (|e| > delta) the influence is ±delta, not e: clip the residual, "
            "as in (13)",
            _target_gradient(psi=lambda e, delta: e),
        ),
        Mistake(
            "that is built on the MSE gradient (5), 2e/d; Huber's influence (13) is clip(e, -delta, delta), "
            "with no factor 2",
            _target_gradient(psi=lambda e, delta: 2.0 * e),
        ),
        Mistake(
            "inside the quadratic zone (|e| <= delta) the influence is e, not ±delta: only residuals "
            "beyond delta are capped",
            _target_gradient(psi=lambda e, delta: delta * np.sign(e)),
        ),
        Mistake(
            "that is the gradient for delta = 1 whatever delta is passed: clip at the `delta` argument",
            _target_gradient(clip_at=1.0),
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
# 02.4 a scaled log-cosh, delta**2 log cosh(e / delta), as a Keras custom loss, stable form (17)
# --------------------------------------------------------------------------------------


def _log_cosh_case(
    rng: np.random.Generator, scale: float, delta: float, label: str, shape: tuple[int, ...] = (5, 3)
) -> Case:
    y_true = rng.normal(size=shape).astype(np.float32)
    y_pred = (y_true + rng.normal(scale=scale, size=shape)).astype(np.float32)
    return Case(f"{label}, delta={delta}", (y_true, y_pred), {"delta": delta})


def _log_cosh_of(x) -> np.ndarray:
    """log cosh x by (17), in float64."""
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0)


def _scaled_log_cosh(*, outer=lambda d: d**2, inner=lambda e, d: e / d, element=_log_cosh_of, reduce=np.mean):
    """outer(delta) * element(inner(e, delta)), averaged over the last axis (the reference by default)."""

    def loss(y_true, y_pred, delta=1.0):
        e = _residual(y_true, y_pred)
        return reduce(outer(delta) * element(inner(e, delta)), axis=-1)

    return loss


SCALED_LOG_COSH = Task(
    task_id="02.4",
    title="a scaled log-cosh as a Keras custom loss",
    answer="keras_scaled_log_cosh",
    reference=_scaled_log_cosh(),
    backend="keras",
    public=(
        seeded_case(4, _log_cosh_case, 1.0, 0.5, "ordinary errors"),
        seeded_case(5, _log_cosh_case, 200.0, 2.0, "extreme errors (|e| ~ 200)"),
    ),
    hidden=(
        seeded_case(6, _log_cosh_case, 0.1, 3.0, "small errors"),
        seeded_case(7, _log_cosh_case, 500.0, 0.5, "extreme errors (|e| ~ 500)"),
        seeded_case(8, _log_cosh_case, 1.0, 1.0, "ordinary errors"),
        seeded_case(
            9, _log_cosh_case, 3.0, 1.5, "outputs on the last axis of shape (2, 4, 4)", shape=(2, 4, 4)
        ),
    ),
    rtol=1e-4,
    atol=1e-5,
    forbidden=forbid(library_function(r"log_cosh", r"LogCosh")),
    mistakes=(
        Mistake(
            "you summed over the last axis; the loss is the MEAN over the last axis, as (14) is",
            _scaled_log_cosh(reduce=np.sum),
        ),
        Mistake(
            "the stable form (17) ends with -log 2: your values are delta**2 log 2 too large",
            _scaled_log_cosh(element=lambda x: _log_cosh_of(x) + math.log(2.0)),
        ),
        Mistake(
            "you dropped log(1 + exp(-2|x|)): |x| - log 2 is only the large-residual limit of (17); "
            "for ordinary residuals that term matters",
            _scaled_log_cosh(element=lambda x: np.abs(x) - math.log(2.0)),
        ),
        Mistake(
            "the first term of (17) is |x|, not x: log cosh is even, your loss is not",
            _scaled_log_cosh(element=lambda x: _log_cosh_of(x) - np.abs(x) + x),
        ),
        Mistake(
            "the factor delta**2 is missing: without it the loss is e**2/(2 delta**2) for small residuals, "
            "not e**2/2 (expand log cosh with (15))",
            _scaled_log_cosh(outer=lambda d: 1.0),
        ),
        Mistake(
            "the factor in front is delta**2, not delta: only then is the loss e**2/2 for small residuals "
            "and delta |e| - delta**2 log 2 for large ones, by (15)",
            _scaled_log_cosh(outer=lambda d: d),
        ),
        Mistake(
            "the residual inside log cosh is e / delta, not e * delta",
            _scaled_log_cosh(inner=lambda e, d: e * d),
        ),
        Mistake(
            "the residual inside log cosh is e / delta: you left it unscaled (delta**2 log cosh e)",
            _scaled_log_cosh(inner=lambda e, d: e),
        ),
        Mistake(
            "that is log-cosh (14) with delta = 1 whatever delta is passed: use the `delta` argument",
            _scaled_log_cosh(outer=lambda d: 1.0, inner=lambda e, d: e),
        ),
    ),
)

TASKS = (ASYMMETRIC_HUBER, TARGET_GRADIENT, SMALLEST_DELTA, SCALED_LOG_COSH)
