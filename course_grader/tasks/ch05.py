"""Graded tasks of chapter 05 (counts and distributions): Poisson loss, gradient, KL, entropy, log-rates."""

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
from course_lib import gradients, losses
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch05 import task_data

EPSILON = 1e-7  # Keras' backend epsilon

# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def _count_case(rng: np.random.Generator, shape: tuple[int, ...]) -> Case:
    """Counts ``y ~ Poisson(rate)`` and predicted rates near the true ones."""
    rate = rng.lognormal(mean=0.5, sigma=1.0, size=shape)
    counts = rng.poisson(rate).astype(np.float64)
    predicted = rate * rng.lognormal(sigma=0.3, size=shape)
    return Case(f"counts and positive rates, shape {shape}", (counts, predicted))


def _zero_rate_case(rng: np.random.Generator, shape: tuple[int, int]) -> Case:
    """Rates that are exactly 0: where the count is 0 (fine) and one where it is positive (eps caps it)."""
    counts = rng.poisson(1.5, size=shape).astype(np.float64)
    predicted = rng.uniform(0.5, 3.0, size=shape)
    counts[0, :] = 0.0
    predicted[0, :] = 0.0  # a zero rate with a zero count costs 0
    counts[-1, 0], predicted[-1, 0] = 3.0, 0.0  # a zero rate with a positive count: about 16.1 * 3
    return Case(f"zero rate (zero and positive counts), shape {shape}", (counts, predicted))


def _tiny_rate_case(rng: np.random.Generator, shape: tuple[int, int]) -> Case:
    """Rates between 1e-8 and 1e-6, where the eps inside the log changes the value."""
    counts = rng.poisson(1.0, size=shape).astype(np.float64)
    predicted = 10.0 ** rng.uniform(-8.0, -6.0, size=shape)
    return Case(f"tiny rates near eps (1e-8 to 1e-6), shape {shape}", (counts, predicted))


# --------------------------------------------------------------------------------------
# 05.1 the Poisson loss (5)
# --------------------------------------------------------------------------------------

_log_factorial = np.vectorize(lambda y: math.lgamma(y + 1.0), otypes=[float])


def _poisson_elements(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return y_pred - y_true * np.log(y_pred + EPSILON)


POISSON = Task(
    task_id="05.1",
    title="Poisson loss",
    answer="my_poisson",
    reference=losses.poisson,
    forbidden=forbid(library_function(r"poisson", r"Poisson", r"log_poisson_loss"), r"^(import )?scipy\b"),
    public=(
        seeded_case(10, _count_case, (4, 3)),
        seeded_case(11, _zero_rate_case, (4, 2)),
        seeded_case(12, _tiny_rate_case, (3, 4)),
    ),
    hidden=seeded_cases(13, _count_case, [((6, 1),), ((2, 3, 4),)])
    + (seeded_case(14, _zero_rate_case, (5, 3)), seeded_case(15, _tiny_rate_case, (4, 2))),
    mistakes=(
        Mistake(
            "you included log(y!): that is the full negative log-likelihood (2); Keras drops the "
            "constant log(y!) because it does not depend on the prediction",
            lambda y_true, y_pred: np.mean(
                _poisson_elements(y_true, y_pred) + _log_factorial(y_true), axis=-1
            ),
        ),
        Mistake(
            "you summed over the last axis; Keras takes the MEAN over the last axis",
            lambda y_true, y_pred: _poisson_elements(y_true, y_pred).sum(axis=-1),
        ),
        Mistake(
            "y_true and y_pred are swapped: the prediction is the rate, "
            "ell = y_pred - y_true * log(y_pred + eps)",
            lambda y_true, y_pred: np.mean(_poisson_elements(y_pred, y_true), axis=-1),
        ),
        Mistake(
            "the eps is missing: Keras computes log(y_pred + 1e-7), which matters for rates near 0",
            lambda y_true, y_pred: np.mean(np.subtract(y_pred, np.multiply(y_true, np.log(y_pred))), axis=-1),
        ),
        Mistake(
            "Keras ADDS eps inside the log, log(y_pred + 1e-7); it does not clip y_pred to eps",
            lambda y_true, y_pred: np.mean(
                np.subtract(y_pred, np.multiply(y_true, np.log(np.maximum(y_pred, EPSILON)))), axis=-1
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 05.2 its gradient (6)
# --------------------------------------------------------------------------------------


def _poisson_gradient_no_d(y_true, y_pred):
    return 1.0 - np.asarray(y_true, dtype=float) / (np.asarray(y_pred, dtype=float) + EPSILON)


POISSON_GRADIENT = Task(
    task_id="05.2",
    title="gradient of the Poisson loss",
    answer="my_poisson_gradient",
    reference=gradients.poisson,
    forbidden=forbid(autodiff=True),
    public=(
        seeded_case(20, _count_case, (4, 3)),
        seeded_case(21, _zero_rate_case, (5, 2)),
        seeded_case(22, _tiny_rate_case, (3, 4)),
    ),
    hidden=seeded_cases(23, _count_case, [((7, 5),), ((3, 2),)])
    + (seeded_case(24, _zero_rate_case, (4, 3)), seeded_case(25, _tiny_rate_case, (2, 6))),
    mistakes=(
        Mistake(
            "the factor 1/d is missing: each per-sample loss is the MEAN over its d outputs",
            _poisson_gradient_no_d,
        ),
        Mistake(
            "your gradient is off by 1/N: it is the gradient of the batch MEAN; the task asks for "
            "the gradient of the SUM of the per-sample losses",
            lambda y_true, y_pred: gradients.poisson(y_true, y_pred) / len(y_pred),
        ),
        Mistake(
            "sign error: the derivative of y_pred - y_true * log(y_pred + eps) is "
            "(1 - y_true / (y_pred + eps)) / d",
            lambda y_true, y_pred: -gradients.poisson(y_true, y_pred),
        ),
        Mistake(
            "that is (y_pred - y_true)/d, the gradient with respect to the log-rate z of an exponential "
            "output (7); the task asks for the derivative with respect to the rate y_pred itself",
            lambda y_true, y_pred: np.subtract(y_pred, y_true) / np.shape(y_pred)[-1],
        ),
        Mistake(
            "the eps is missing: differentiate log(y_pred + 1e-7), which gives y_true / (y_pred + 1e-7)",
            lambda y_true, y_pred: (1.0 - np.divide(y_true, y_pred)) / np.shape(y_pred)[-1],
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 05.3 the KL divergence as Keras computes it (12)
# --------------------------------------------------------------------------------------


def _distribution_case(rng: np.random.Generator, n: int, k: int) -> Case:
    targets = rng.dirichlet(np.full(k, 1.0), size=n)
    predictions = rng.dirichlet(np.full(k, 1.5), size=n)
    return Case(f"probability rows, shape {(n, k)}", (targets, predictions))


def _exact_zeros_case(rng: np.random.Generator, n: int, k: int) -> Case:
    """One-hot targets, predictions with exact zeros and ones, and an all-zero target row."""
    targets = np.eye(k)[rng.integers(0, k, size=n)]
    predictions = rng.dirichlet(np.full(k, 1.0), size=n)
    predictions[0] = targets[0]  # a perfect, certain prediction: KL 0
    predictions[1, int(np.argmax(targets[1]))] = 0.0  # certain of the wrong thing: capped by the clip
    predictions[1] /= predictions[1].sum()
    targets[-1] = 0.0  # not a distribution: Keras returns a tiny negative number
    label = "0 and 1: one-hot targets, exact 0 and 1 predictions, an all-zero target row"
    return Case(f"{label}, shape {(n, k)}", (targets, predictions))


ARTICLE_CASE = Case(
    "0 and 1: the article's example, targets [[0, 1], [0, 0]], predictions [[0.6, 0.4], [0.4, 0.6]]",
    (np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]])),
)


def _clip(p):
    return np.clip(np.asarray(p, dtype=float), EPSILON, 1.0)


KL_DIVERGENCE = Task(
    task_id="05.3",
    title="KL divergence as Keras computes it",
    answer="my_kl_divergence",
    reference=losses.kl_divergence,
    forbidden=forbid(
        library_function(r"kl_divergence", r"KLDivergence", r"rel_entr", r"kl_div"), r"^(import )?scipy\b"
    ),
    public=(
        seeded_case(30, _distribution_case, 4, 5),
        seeded_case(31, _exact_zeros_case, 5, 3),
        ARTICLE_CASE,
    ),
    hidden=seeded_cases(32, _distribution_case, [(6, 3), (2, 8)])
    + (seeded_case(33, _exact_zeros_case, 6, 4),),
    atol=1e-9,
    mistakes=(
        Mistake(
            "you computed KL(y_pred || y_true): KL is not symmetric. Keras computes "
            "KL(y_true || y_pred) = sum of y_true * log(y_true / y_pred), averaging over the TARGET",
            lambda y_true, y_pred: losses.kl_divergence(y_pred, y_true),
        ),
        Mistake(
            "you used log base 2 (bits); Keras uses the natural logarithm (nats)",
            lambda y_true, y_pred: losses.kl_divergence(y_true, y_pred) / math.log(2.0),
        ),
        Mistake(
            "you averaged over the last axis; KL SUMS over the classes",
            lambda y_true, y_pred: losses.kl_divergence(y_true, y_pred) / np.shape(y_pred)[-1],
        ),
        Mistake(
            "that is the cross-entropy H(P, Q) = -sum y' log q'; KL subtracts the target's entropy H(P) (10)",
            lambda y_true, y_pred: -np.sum(_clip(y_true) * np.log(_clip(y_pred)), axis=-1),
        ),
        Mistake(
            "clip y_true as well: Keras clips BOTH inputs to [eps, 1], so a 0 in y_true contributes "
            "eps * log(eps / q') (an all-zero target row gives a tiny negative value), not 0",
            lambda y_true, y_pred: np.sum(
                np.where(
                    np.asarray(y_true) > 0,
                    np.asarray(y_true) * np.log(np.maximum(y_true, 1e-300) / _clip(y_pred)),
                    0.0,
                ),
                axis=-1,
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 05.4 cross-entropy minus KL on task_data() (10)
# --------------------------------------------------------------------------------------


def _mean_entropy_of(p: np.ndarray) -> float:
    return float(np.mean(-np.sum(p * np.log(p), axis=-1)))


def _cross_entropy_minus_kl() -> float:
    targets, _ = task_data()
    return _mean_entropy_of(targets)


def _task_data_mean(loss) -> float:
    targets, predictions = task_data()
    return float(np.mean(loss(targets, predictions)))


CROSS_ENTROPY_MINUS_KL = Task(
    task_id="05.4",
    title="mean cross-entropy minus mean KL divergence on task_data()",
    answer="ce_minus_kl",
    kind="value",
    reference=_cross_entropy_minus_kl(),
    public=(Case("your value", ()),),
    rtol=1e-6,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that is the mean cross-entropy H(P, Q) alone; subtract the mean KL divergence",
            lambda: _task_data_mean(lambda p, q: -np.sum(p * np.log(q), axis=-1)),
        ),
        Mistake(
            "that is the mean KL divergence alone; the question asks for cross-entropy MINUS KL",
            lambda: _task_data_mean(losses.kl_divergence),
        ),
        Mistake(
            "that is the entropy of the predictions Q; H(P, Q) - KL(P || Q) is the entropy of the TARGETS P",
            lambda: _mean_entropy_of(task_data()[1]),
        ),
        Mistake(
            "that is in bits (log base 2); use the natural logarithm, as Keras does",
            lambda: _cross_entropy_minus_kl() / math.log(2.0),
        ),
        Mistake(
            "you summed over the samples; average over them (one value per sample, then the mean)",
            lambda: _cross_entropy_minus_kl() * len(task_data()[0]),
            public=False,  # the answer times the number of samples
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 05.5 the Poisson loss from a log-rate, as a Keras custom loss (3) and (7)
# --------------------------------------------------------------------------------------


def _log_rate_reference(y_true, log_rate):
    y_true, log_rate = np.float64(y_true), np.float64(log_rate)
    return np.mean(np.exp(log_rate) - y_true * log_rate, axis=-1)


def _log_rate_case(
    rng: np.random.Generator, shape: tuple[int, int], low: float, high: float, label: str
) -> Case:
    log_rate = rng.uniform(low, high, size=shape)
    counts = rng.poisson(np.exp(np.clip(log_rate, -1.0, None)) + 1.0).astype(np.float64)
    return Case(f"{label}, shape {shape}", (counts.astype(np.float32), log_rate.astype(np.float32)))


KERAS_POISSON_LOG_RATE = Task(
    task_id="05.5",
    title="Poisson loss from the log-rate as a Keras custom loss",
    answer="keras_poisson_log_rate",
    reference=_log_rate_reference,
    backend="keras",
    public=(
        seeded_case(50, _log_rate_case, (5, 3), -2.0, 2.0, "ordinary log-rates in [-2, 2]"),
        seeded_case(51, _log_rate_case, (4, 2), -200.0, -30.0, "extreme log-rates in [-200, -30]"),
    ),
    hidden=(
        seeded_case(52, _log_rate_case, (6, 1), -1.0, 3.0, "ordinary log-rates in [-1, 3]"),
        seeded_case(53, _log_rate_case, (3, 4), -500.0, -50.0, "extreme log-rates in [-500, -50]"),
    ),
    rtol=1e-4,
    atol=1e-5,
    forbidden=forbid(library_function(r"poisson", r"Poisson", r"log_poisson_loss")),
    mistakes=(
        Mistake(
            "you took log(exp(z) + eps): for very negative log-rates exp(z) underflows and the eps "
            "caps the loss; log(rate) is simply z, so use exp(z) - y_true * z",
            lambda y_true, log_rate: losses.poisson(np.float64(y_true), np.exp(np.float64(log_rate))),
        ),
        Mistake(
            "you summed over the last axis; take the MEAN over the last axis, as keras.losses.poisson does",
            lambda y_true, log_rate: _log_rate_reference(y_true, log_rate) * np.shape(log_rate)[-1],
        ),
    ),
)

TASKS = (POISSON, POISSON_GRADIENT, KL_DIVERGENCE, CROSS_ENTROPY_MINUS_KL, KERAS_POISSON_LOG_RATE)
