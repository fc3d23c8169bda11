"""Graded tasks of chapter 09 (custom losses): the soft F-beta loss, its gradient, a Keras version, batching.

Equation numbers in the messages, (9.1) the hard F-beta score, (9.2) the soft counts,
(9.3) the soft F-beta loss, (9.4) and (9.5) its gradient, are those of
``notebooks/09_custom_losses.ipynb``.
"""

from __future__ import annotations

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
from course_lib.grading.tasks.ch09 import task_data

EPSILON = 1e-7  # Keras' backend epsilon
BATCH_SIZE = 16  # task 09.4

# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def _batch(rng: np.random.Generator, shape: tuple[int, ...], rate: float = 0.3, hard: bool = False) -> tuple:
    y = (rng.random(shape) < rate).astype(np.float64)
    y.flat[0] = 1.0
    p = rng.uniform(0.03, 0.97, size=shape)
    if hard:
        p = (p > 0.5).astype(np.float64)
    return y, p


def _batch_case(rng: np.random.Generator, label: str, shape: tuple[int, ...], beta: float, **options) -> Case:
    return Case(f"{label}, shape {shape}, beta={beta:g}", _batch(rng, shape, **options), {"beta": beta})


def _no_positive_case(rng: np.random.Generator, shape: tuple[int, ...], beta: float) -> Case:
    return Case(
        f"a batch with no positive at all, shape {shape}, beta={beta:g}",
        (np.zeros(shape), rng.uniform(0.05, 0.95, size=shape)),
        {"beta": beta},
    )


# --------------------------------------------------------------------------------------
# Small exact formulas (the mistakes must never raise, so no validation here)
# --------------------------------------------------------------------------------------


def _counts(y_true, y_pred, axis=None):
    y, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    return np.sum(y * p, axis=axis), np.sum((1 - y) * p, axis=axis), np.sum(y * (1 - p), axis=axis)


def _score(y_true, y_pred, beta=1.0, *, axis=None, weight=None, recall_side=False, eps=EPSILON):
    """F of (9.3), with switches for the typical mistakes."""
    tp, fp, fn = _counts(y_true, y_pred, axis)
    precision, recall = tp / (tp + fp + eps), tp / (tp + fn + eps)
    b2 = beta**2 if weight is None else weight
    if recall_side:
        return (1 + b2) * precision * recall / (precision + b2 * recall + eps)
    return (1 + b2) * precision * recall / (b2 * precision + recall + eps)


# --------------------------------------------------------------------------------------
# 09.1 the soft F-beta loss over the whole batch (9.3)
# --------------------------------------------------------------------------------------

SOFT_FBETA = Task(
    task_id="09.1",
    title="the soft F-beta loss of a batch",
    answer="my_soft_fbeta",
    reference=lambda y_true, y_pred, beta=1.0: losses.soft_fbeta(
        np.float64(y_true), np.float64(y_pred), beta=beta
    ),
    forbidden=forbid(library_function(r"soft_fbeta", r"SoftFBeta", r"fbeta_score", r"f1_score")),
    public=(
        seeded_case(1, _batch_case, "labels and probabilities", (8, 1), 1.0),
        seeded_case(2, _batch_case, "labels and probabilities", (10, 1), 2.0),
        seeded_case(3, _batch_case, "several outputs per sample (sum over everything)", (6, 3), 0.5),
    ),
    hidden=(
        seeded_case(4, _batch_case, "labels and probabilities", (12, 1), 0.5),
        seeded_case(5, _batch_case, "labels and probabilities", (5, 2), 3.0),
        seeded_case(6, _batch_case, "hard 0/1 predictions", (9, 1), 2.0, hard=True),
        seeded_case(7, _no_positive_case, (7, 1), 1.0),
    ),
    mistakes=(
        Mistake(
            "you returned the F-beta SCORE; the loss is 1 - F (9.3), so that minimising it raises the score",
            lambda y, p, beta=1.0: _score(y, p, beta),
        ),
        Mistake(
            "beta enters squared: (1 + beta**2) P R / (beta**2 P + R + eps), (9.3)",
            lambda y, p, beta=1.0: 1 - _score(y, p, beta, weight=beta),
        ),
        Mistake(
            "precision and recall have swapped roles, which turns F_beta into F_(1/beta) and weights "
            "precision instead of recall: beta**2 multiplies P in the denominator, beta**2 P + R (9.3), "
            "and P divides TP by TP + FP = sum p, R by TP + FN = sum y, with FP = sum (1 - y) p (9.2)",
            lambda y, p, beta=1.0: 1 - _score(y, p, beta, recall_side=True),
        ),
        Mistake(
            "you thresholded the predictions (p > 0.5): the loss uses the probabilities themselves in the "
            "soft counts (9.2); hard counts have no gradient (pitfall 1)",
            lambda y, p, beta=1.0: 1 - _score(y, (np.asarray(p) > 0.5).astype(float), beta),
        ),
        Mistake(
            "you computed one F-beta per sample (over the last axis) and averaged them; the article's loss "
            "sums the counts over the WHOLE batch first (axis=None): one F-beta for the batch",
            lambda y, p, beta=1.0: np.mean(1 - _score(y, p, beta, axis=-1)),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 09.2 its gradient (9.5)
# --------------------------------------------------------------------------------------


def _gradient(y_true, y_pred, beta=1.0, *, fixed_predicted=False, no_recall=False, no_precision=False):
    """(9.5) with switches for the typical mistakes."""
    y, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    tp = np.sum(y * p)
    a, b = np.sum(p) + EPSILON, np.sum(y) + EPSILON
    precision, recall = tp / a, tp / b
    b2 = beta**2
    d = b2 * precision + recall + EPSILON
    d_precision = y / a if fixed_predicted else (y - precision) / a
    d_recall = y / b
    term_p = 0.0 if no_precision else recall * (recall + EPSILON) * d_precision
    term_r = 0.0 if no_recall else precision * (b2 * precision + EPSILON) * d_recall
    return -(1 + b2) / d**2 * (term_p + term_r)


SOFT_FBETA_GRADIENT = Task(
    task_id="09.2",
    title="gradient of the soft F-beta loss with respect to the probabilities",
    answer="my_soft_fbeta_gradient",
    reference=lambda y_true, y_pred, beta=1.0: gradients.soft_fbeta(
        np.float64(y_true), np.float64(y_pred), beta=beta
    ),
    forbidden=forbid(library_function(r"soft_fbeta", r"SoftFBeta"), autodiff=True),
    public=(
        seeded_case(11, _batch_case, "labels and probabilities", (8, 1), 1.0),
        seeded_case(12, _batch_case, "labels and probabilities", (10, 1), 2.0),
        seeded_case(13, _batch_case, "several outputs per sample", (5, 3), 0.5),
    ),
    hidden=(
        seeded_case(14, _batch_case, "labels and probabilities", (12, 1), 0.5),
        seeded_case(15, _batch_case, "labels and probabilities", (4, 4), 3.0),
        seeded_case(16, _no_positive_case, (6, 1), 2.0),
    ),
    rtol=1e-6,
    atol=1e-10,
    mistakes=(
        Mistake(
            "you treated the denominator of P as a constant: A = TP + FP + eps = sum p + eps also depends on "
            "every p_i, so dP/dp_i = (y_i - P)/A, not y_i/A (9.4)",
            lambda y, p, beta=1.0: _gradient(y, p, beta, fixed_predicted=True),
        ),
        Mistake(
            "the recall term is missing: R = TP/B depends on p_i too, dR/dp_i = y_i/B (9.4)",
            lambda y, p, beta=1.0: _gradient(y, p, beta, no_recall=True),
        ),
        Mistake(
            "the precision term is missing: P = TP/A depends on p_i, dP/dp_i = (y_i - P)/A (9.4); it is the "
            "only term that pushes the negatives down",
            lambda y, p, beta=1.0: _gradient(y, p, beta, no_precision=True),
        ),
        Mistake(
            "sign error: that is the gradient of the SCORE F; the loss is 1 - F, so its gradient is -dF/dp",
            lambda y, p, beta=1.0: -_gradient(y, p, beta),
        ),
        Mistake(
            "beta enters squared: c = 1 + beta**2 and D = beta**2 P + R + eps",
            lambda y, p, beta=1.0: _gradient(y, p, np.sqrt(beta)),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 09.3 a per-sample (multi-label) soft F2 loss with keras.ops
# --------------------------------------------------------------------------------------


def _label_case(rng: np.random.Generator, batch: int, labels: int) -> Case:
    y = (rng.random((batch, labels)) < 0.4).astype(np.float32)
    y[:, 0] = 1.0  # every sample has at least one label
    p = rng.uniform(0.03, 0.97, size=(batch, labels)).astype(np.float32)
    return Case(f"multi-label batch, shape {(batch, labels)}", (y, p))


def _per_sample(beta=2.0, **options):
    return lambda y, p: 1 - _score(y, p, beta, axis=-1, **options)


MULTILABEL_F2 = Task(
    task_id="09.3",
    title="a per-sample soft F2 loss for multi-label outputs, with keras.ops",
    answer="my_multilabel_f2",
    reference=lambda y_true, y_pred: losses.soft_fbeta(
        np.float64(y_true), np.float64(y_pred), beta=2.0, axis=-1
    ),
    backend="keras",
    public=seeded_cases(20, _label_case, [(4, 5), (6, 3)]),
    hidden=seeded_cases(21, _label_case, [(8, 4), (3, 7), (5, 2)]),
    rtol=1e-4,
    atol=1e-6,
    forbidden=forbid(
        library_function(r"soft_fbeta", r"SoftFBeta", r"FBetaScore", r"F1Score", r"fbeta_score", r"f1_score")
    ),
    mistakes=(
        Mistake(
            "that is beta = 1 (soft F1); the task asks for F2, beta = 2: (1 + 4) P R / (4 P + R + eps)",
            _per_sample(1.0),
        ),
        Mistake(
            "precision and recall have swapped roles, which weights precision instead of recall: "
            "beta**2 = 4 multiplies P in the denominator, 4 P + R (9.3), and P divides TP by TP + FP, "
            "with FP = sum (1 - y) p and FN = sum y (1 - p) (9.2)",
            _per_sample(recall_side=True),
        ),
        Mistake(
            "you returned the score F2; the loss is 1 - F2",
            lambda y, p: _score(y, p, 2.0, axis=-1),
        ),
        Mistake(
            "beta enters squared: with beta = 2 the weights are 1 + 4 and 4, not 1 + 2 and 2",
            _per_sample(weight=2.0),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 09.4 what fit reports for a batch-level loss
# --------------------------------------------------------------------------------------


def _soft_f1_loss(y, p, axis=None):
    return 1 - _score(y, p, 1.0, axis=axis)


def _batch_losses(batch_size: int = BATCH_SIZE) -> list[float]:
    y, p = task_data()
    return [
        float(_soft_f1_loss(y[i : i + batch_size], p[i : i + batch_size]))
        for i in range(0, len(y), batch_size)
    ]


def _reported() -> float:
    y, p = task_data()
    values = [
        float(losses.soft_fbeta(y[i : i + BATCH_SIZE], p[i : i + BATCH_SIZE]))
        for i in range(0, len(y), BATCH_SIZE)
    ]
    return float(np.mean(values))


EPOCH_LOSS = Task(
    task_id="09.4",
    title="the epoch loss that fit reports for the soft F1 loss on task_data()",
    answer="epoch_loss",
    kind="value",
    reference=_reported(),
    public=(Case("your value", ()),),
    rtol=1e-6,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that is the soft F1 loss of all 48 samples at once; fit computes the loss per BATCH of 16 "
            "(the counts (9.2) are summed within each batch) and reports the mean of the batch losses",
            lambda: float(_soft_f1_loss(*task_data())),
        ),
        Mistake(
            "that is the mean of per-sample losses (axis=-1); with axis=None each batch of 16 gives one "
            "loss from its own counts (9.2)",
            lambda: float(np.mean(_soft_f1_loss(*task_data(), axis=-1))),
        ),
        Mistake(
            "that is 1 minus the right answer: the loss is 1 - F1, averaged over the batches",
            lambda: 1.0 - _reported(),
            public=False,  # 1 - the answer
        ),
        Mistake(
            "the batches hold 16 samples each (batch_size=16), in the given order",
            lambda: float(np.mean(_batch_losses(32))),
        ),
        Mistake(
            "the batches hold 16 samples each (batch_size=16), in the given order",
            lambda: float(np.mean(_batch_losses(8))),
        ),
        Mistake(
            "that is the loss of the FIRST batch only; fit reports the mean over the three batches",
            lambda: _batch_losses()[0],
        ),
    ),
)

TASKS = (SOFT_FBETA, SOFT_FBETA_GRADIENT, MULTILABEL_F2, EPOCH_LOSS)
