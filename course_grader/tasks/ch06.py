"""Graded tasks of chapter 06 (similarity and overlap): per-image Dice, its gradient,
Keras' Tversky ``alpha``, and a Keras BCE + Dice loss.

Equation numbers in the messages, (6.4) the Dice coefficient, (6.5) the soft Dice
loss, (6.6) its gradient, (6.7) Tversky and (6.9) the hybrid BCE + Dice, are those
of ``notebooks/06_similarity_and_overlap.ipynb``.
"""

from __future__ import annotations

import numpy as np

from course_grader.model import (
    Mistake,
    Task,
    forbid,
    library_function,
    seeded_cases,
)
from course_lib import gradients, losses
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch06 import task_data


def _image_axes(y: np.ndarray) -> tuple[int, ...]:
    """Every axis but the batch axis: one value per image."""
    return tuple(range(1, np.ndim(y)))


def _f64(*arrays):
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


def _mask_case(rng: np.random.Generator, shape: tuple[int, ...], empty_first: bool = False) -> Case:
    """Binary masks with soft predictions; with ``empty_first`` the first image has an empty mask."""
    y_true = (rng.uniform(size=shape) < 0.3).astype(np.float64)
    if empty_first:
        y_true[0] = 0.0
    y_pred = rng.uniform(0.05, 0.95, size=shape)
    label = f"shape {shape}" + (", first image with an empty mask" if empty_first else "")
    return Case(label, (y_true, y_pred))


def _sums(y_true, y_pred, axes):
    y, p = _f64(y_true, y_pred)
    return y, p, np.sum(y * p, axis=axes), np.sum(y, axis=axes), np.sum(p, axis=axes)


def _dice_variant(formula):
    """A per-image Dice-like loss ``formula(tp, sum_y, sum_p, y, p, axes)``."""

    def loss(y_true, y_pred):
        axes = _image_axes(y_pred)
        y, p, tp, sum_y, sum_p = _sums(y_true, y_pred, axes)
        return formula(tp, sum_y, sum_p, y, p, axes)

    return loss


# --------------------------------------------------------------------------------------
# 06.1 the per-image soft Dice loss (6.5)
# --------------------------------------------------------------------------------------

DICE = Task(
    task_id="06.1",
    title="per-image soft Dice loss",
    answer="my_dice",
    reference=lambda y_true, y_pred: losses.dice(*_f64(y_true, y_pred), axis=_image_axes(y_pred)),
    forbidden=forbid(library_function(r"dice", r"Dice")),
    forbidden_in_answer=(library_function(r"tversky", r"Tversky"),),
    public=seeded_cases(0, _mask_case, [((3, 4, 4, 1), True), ((2, 5, 5, 1),), ((4, 6),)]),
    hidden=seeded_cases(1, _mask_case, [((5, 3, 3, 1), True), ((2, 6, 6, 2),), ((3, 10),)]),
    mistakes=(
        Mistake(
            "that is the Dice COEFFICIENT (6.4), 1 for a perfect overlap; the loss (6.5) is one minus it",
            _dice_variant(lambda tp, sy, sp, y, p, axes: 2 * tp / (sy + sp + 1e-7)),
        ),
        Mistake(
            "the factor 2 in the numerator of (6.5) is missing: with it a perfect prediction has loss 0",
            _dice_variant(lambda tp, sy, sp, y, p, axes: 1 - tp / (sy + sp + 1e-7)),
        ),
        Mistake(
            "that is the Jaccard (IoU) loss 1 - TP / (sum y + sum p - TP); Dice (6.5) is "
            "1 - 2 TP / (sum y + sum p)",
            _dice_variant(lambda tp, sy, sp, y, p, axes: 1 - tp / (sy + sp - tp + 1e-7)),
        ),
        Mistake(
            "you squared y and p in the denominator (the V-Net variant); Keras' Dice (6.5) uses the plain "
            "sums sum y + sum p",
            _dice_variant(
                lambda tp, sy, sp, y, p, axes: (
                    1 - 2 * tp / (np.sum(y**2, axis=axes) + np.sum(p**2, axis=axes) + 1e-7)
                )
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 06.2 its gradient (6.6), for the sum over the images
# --------------------------------------------------------------------------------------


def _keep(x, ndim):
    return np.reshape(x, np.shape(x) + (1,) * (ndim - 1))


def _dice_gradient_variant(formula):
    def gradient(y_true, y_pred):
        axes = _image_axes(y_pred)
        y, p, tp, sum_y, sum_p = _sums(y_true, y_pred, axes)
        s = _keep(sum_y + sum_p + 1e-7, p.ndim)
        return formula(_keep(tp, p.ndim), s, y, p)

    return gradient


DICE_GRADIENT = Task(
    task_id="06.2",
    title="gradient of the per-image Dice loss",
    answer="my_dice_gradient",
    reference=lambda y_true, y_pred: gradients.dice(*_f64(y_true, y_pred), axis=_image_axes(y_pred)),
    forbidden=forbid(autodiff=True),
    public=seeded_cases(2, _mask_case, [((3, 4, 4, 1),), ((4, 6),)]),
    hidden=seeded_cases(3, _mask_case, [((2, 5, 5, 1), True), ((5, 3, 3, 2),)]),
    mistakes=(
        Mistake(
            "your gradient is off by 1/N: it is the gradient of the MEAN over the images; the task asks "
            "for the gradient of the SUM of the per-image losses",
            lambda y_true, y_pred: (
                gradients.dice(*_f64(y_true, y_pred), axis=_image_axes(y_pred)) / len(y_pred)
            ),
        ),
        Mistake(
            "you summed over the whole batch (axis=None): that is the gradient of ONE Dice loss for all "
            "images together; each image has its own sums S and sum yp in (6.6)",
            lambda y_true, y_pred: gradients.dice(*_f64(y_true, y_pred)),
        ),
        Mistake(
            "the term (sum yp)/S of (6.6) is missing: the denominator S = sum y + sum p also depends on p, "
            "so the quotient rule gives 2/S * ((sum yp)/S - y), not -2y/S",
            _dice_gradient_variant(lambda tp, s, y, p: -2.0 * y / s),
        ),
        Mistake(
            "the factor 2 of (6.6) is missing: differentiate 1 - 2 sum(yp)/S, not 1 - sum(yp)/S",
            _dice_gradient_variant(lambda tp, s, y, p: (tp / s - y) / s),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 06.3 Keras' Tversky with misses weighted 4 times more than false alarms
# --------------------------------------------------------------------------------------


def _tversky_on_data(alpha: float, beta: float, per_image: bool = False) -> float:
    y_true, y_pred = task_data()
    axis = (1, 2, 3) if per_image else None
    return float(np.mean(losses.tversky(y_true, y_pred, alpha=alpha, beta=beta, axis=axis)))


TVERSKY_VALUE = Task(
    task_id="06.3",
    title="Keras' Tversky loss that penalises misses 4 times more than false alarms",
    answer="miss_averse_tversky",
    kind="value",
    reference=_tversky_on_data(0.8, 0.2),
    public=(Case("your value", ()),),
    rtol=1e-6,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that weighs FALSE ALARMS 4 times more: you followed Keras' docstring, but Keras' code "
            "multiplies alpha by the soft false negatives sum y(1-p), see (6.7); swap alpha and beta",
            lambda: _tversky_on_data(0.2, 0.8),
        ),
        Mistake(
            "that is the mean of the per-image losses (axis=(1, 2, 3)); keras.losses.Tversky's default "
            "axis=None computes one loss over the whole batch",
            lambda: _tversky_on_data(0.8, 0.2, per_image=True),
        ),
        Mistake(
            "you weighed false alarms 4 times more AND averaged per-image losses: Keras' alpha multiplies "
            "the false negatives, and its default axis=None sums over the whole batch",
            lambda: _tversky_on_data(0.2, 0.8, per_image=True),
        ),
        Mistake(
            "that is the Dice loss (alpha = beta = 0.5); the question asks for misses weighted 4 times "
            "more than false alarms, with alpha + beta = 1",
            lambda: _tversky_on_data(0.5, 0.5),
        ),
        Mistake(
            "alpha = 4, beta = 1 have the right ratio but the question fixes alpha + beta = 1",
            lambda: _tversky_on_data(4.0, 1.0),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 06.4 the hybrid BCE + Dice (6.9) as a Keras custom loss
# --------------------------------------------------------------------------------------


def _hybrid_case(rng: np.random.Generator, shape: tuple[int, ...], hard: bool = False) -> Case:
    y_true = (rng.uniform(size=shape) < 0.3).astype(np.float32)
    y_pred = rng.uniform(0.05, 0.95, size=shape).astype(np.float32)
    label = f"shape {shape}"
    if hard:
        y_pred[0] = 1.0 - y_true[0]  # confident and wrong: probabilities of exactly 0 and 1
        y_pred[-1] = y_true[-1]
        label += ", predictions of exactly 0 and 1"
    return Case(label, (y_true, y_pred))


def _hybrid_variant(bce_weight=0.5, dice_weight=0.5, reduce_bce=np.mean):
    def loss(y_true, y_pred):
        axes = _image_axes(y_pred)
        # in the inputs' float32, like Keras: clip(1, eps, 1 - eps) is 1 - 1.19e-7 there, not 1 - 1e-7
        y, p = np.asarray(y_true), np.asarray(y_pred)
        q = np.clip(p, 1e-7, 1 - 1e-7)
        bce = -(y * np.log(q) + (1 - y) * np.log(1 - q))
        return bce_weight * reduce_bce(bce, axis=axes) + dice_weight * losses.dice(y, p, axis=axes)

    return loss


KERAS_BCE_DICE = Task(
    task_id="06.4",
    title="BCE + Dice as a Keras custom loss",
    answer="keras_bce_dice",
    reference=_hybrid_variant(),
    backend="keras",
    public=seeded_cases(4, _hybrid_case, [((3, 4, 4, 1), True), ((2, 5, 5, 1),)]),
    hidden=seeded_cases(5, _hybrid_case, [((4, 3, 3, 1), True), ((2, 6, 6, 2),)]),
    rtol=1e-4,
    atol=1e-5,
    forbidden=forbid(
        library_function(
            r"BCEDice", r"bce_dice", r"dice", r"Dice", r"binary_crossentropy", r"BinaryCrossentropy"
        )
    ),
    mistakes=(
        Mistake(
            "you summed the BCE over each image's pixels; (6.9) uses the MEAN BCE over the same axes as Dice",
            _hybrid_variant(reduce_bce=np.sum),
        ),
        Mistake(
            "that is BCE + Dice with both weights 1; (6.9) with w = 0.5 is 0.5 * BCE + 0.5 * Dice",
            _hybrid_variant(bce_weight=1.0, dice_weight=1.0),
        ),
        Mistake(
            "one of the two terms lacks its weight: (6.9) with w = 0.5 gives BOTH terms the weight 0.5",
            _hybrid_variant(bce_weight=1.0, dice_weight=0.5),
        ),
        Mistake(
            "one of the two terms lacks its weight: (6.9) with w = 0.5 gives BOTH terms the weight 0.5",
            _hybrid_variant(bce_weight=0.5, dice_weight=1.0),
        ),
    ),
)

TASKS = (DICE, DICE_GRADIENT, TVERSKY_VALUE, KERAS_BCE_DICE)
