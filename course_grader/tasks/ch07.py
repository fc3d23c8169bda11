"""Graded tasks of chapter 07 (metric learning): contrastive loss and gradient, batch-hard
triplet loss, and a Keras batch-all triplet loss.

Equation numbers in the messages, (4) contrastive, (5) its gradient, (6) the triplet
hinge, (7) batch-all and (8) batch-hard, are those of ``notebooks/07_metric_learning.ipynb``.
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

# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def _pair_case(rng: np.random.Generator, batch: int, dim: int, margin: float) -> Case:
    """0/1 labels (both kinds present) and pairs ``(B, 2, D)`` on both sides of the margin."""
    labels = rng.integers(0, 2, batch).astype(np.float64)
    labels[:2] = [1.0, 0.0]
    pairs = rng.normal(scale=0.8 * margin / np.sqrt(dim), size=(batch, 2, dim))
    return Case(f"{batch} pairs of {dim}-D embeddings, margin={margin}", (labels, pairs), {"margin": margin})


def _batch_case(
    rng: np.random.Generator, batch: int, dim: int, classes: int, margin: float, dtype: str = "float64"
) -> Case:
    """Integer labels (one of them a singleton: no positive) and clustered embeddings ``(B, D)``:
    some anchors satisfy the margin, others violate it."""
    labels = rng.integers(0, classes, batch)
    labels[-1] = classes + 3  # a label nobody else has
    centres = rng.normal(scale=1.0, size=(classes + 4, dim))
    embeddings = (centres[labels] + rng.normal(scale=0.6, size=(batch, dim))).astype(dtype)
    label = f"{batch} embeddings of size {dim}, {classes} classes + one singleton, margin={margin}"
    return Case(label, (labels, embeddings), {"margin": margin})


def _f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _pair_parts(y_true, y_pred):
    """Labels, squared distance and distance of each pair, in float64."""
    pairs = _f64(y_pred)
    squared = np.sum((pairs[:, 0] - pairs[:, 1]) ** 2, axis=-1)
    return _f64(y_true).reshape(-1), squared, np.sqrt(squared)


def _distances(embeddings) -> np.ndarray:
    e = _f64(embeddings)
    return np.sum((e[:, None, :] - e[None, :, :]) ** 2, axis=-1)


# --------------------------------------------------------------------------------------
# 07.1 the contrastive loss (4)
# --------------------------------------------------------------------------------------


def _contrastive_variant(similar, dissimilar):
    def loss(y_true, y_pred, margin=1.0):
        y, squared, d = _pair_parts(y_true, y_pred)
        return y * similar(squared, d, margin) + (1 - y) * dissimilar(squared, d, margin)

    return loss


def _spring(squared, d, margin):
    return squared


def _push(squared, d, margin):
    return np.maximum(margin - d, 0.0) ** 2


CONTRASTIVE = Task(
    task_id="07.1",
    title="contrastive loss",
    answer="my_contrastive",
    reference=lambda y_true, y_pred, margin=1.0: losses.contrastive(y_true, y_pred, margin=margin),
    forbidden=forbid(library_function(r"contrastive\w*", r"Contrastive\w*")),
    public=seeded_cases(0, _pair_case, [(6, 3, 1.0), (8, 2, 0.5)]),
    hidden=seeded_cases(1, _pair_case, [(10, 4, 2.0), (5, 1, 1.0), (7, 6, 0.3)]),
    mistakes=(
        Mistake(
            "your label convention is flipped: in (4) y = 1 marks a SIMILAR pair (pulled together, d**2) "
            "and y = 0 a dissimilar one (pushed out to the margin) -- the paper uses the opposite convention",
            lambda y_true, y_pred, margin=1.0: _contrastive_variant(_spring, _push)(
                1 - _f64(y_true), y_pred, margin
            ),
        ),
        Mistake(
            "that is the paper's version with the factor 1/2 on both terms; (4) drops the 1/2",
            lambda y_true, y_pred, margin=1.0: (
                0.5 * _contrastive_variant(_spring, _push)(y_true, y_pred, margin)
            ),
        ),
        Mistake(
            "the dissimilar term of (4) is SQUARED: [m - d]_+ ** 2, not [m - d]_+",
            _contrastive_variant(_spring, lambda squared, d, margin: np.maximum(margin - d, 0.0)),
        ),
        Mistake(
            "the dissimilar term compares distances, [m - d]_+ ** 2 with d = ||a - b||, not squared "
            "distances [m**2 - d**2]_+",
            _contrastive_variant(_spring, lambda squared, d, margin: np.maximum(margin**2 - squared, 0.0)),
        ),
        Mistake(
            "similar pairs cost the SQUARED distance d**2 in (4), not d",
            _contrastive_variant(lambda squared, d, margin: d, _push),
        ),
        Mistake(
            "that is the loss for margin = 1 whatever margin is passed: use the `margin` argument",
            lambda y_true, y_pred, margin=1.0: losses.contrastive(y_true, y_pred, margin=1.0),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 07.2 its gradient (5), for the sum over the pairs
# --------------------------------------------------------------------------------------


def _gradient_from_coefficient(coefficient):
    """Stack ``c * (a - b)`` and ``-c * (a - b)`` into the ``(B, 2, D)`` gradient."""

    def gradient(y_true, y_pred, margin=1.0):
        pairs = _f64(y_pred)
        y, _, d = _pair_parts(y_true, y_pred)
        u = pairs[:, 0] - pairs[:, 1]
        c = coefficient(y, d, margin)[:, None]
        return np.stack([c * u, -c * u], axis=1)

    return gradient


def _push_ratio(d, margin):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, np.maximum(margin - d, 0.0) / d, 0.0)


CONTRASTIVE_GRADIENT = Task(
    task_id="07.2",
    title="gradient of the contrastive loss",
    answer="my_contrastive_gradient",
    reference=lambda y_true, y_pred, margin=1.0: gradients.contrastive(y_true, y_pred, margin=margin),
    forbidden=forbid(autodiff=True),
    public=seeded_cases(2, _pair_case, [(6, 3, 1.0), (8, 2, 0.5)]),
    hidden=seeded_cases(3, _pair_case, [(9, 4, 1.5), (5, 1, 0.3)]),
    mistakes=(
        Mistake(
            "your gradient with respect to the SECOND member b is missing or wrong: by (5) it is exactly "
            "minus the gradient with respect to a, since the loss depends on a - b only",
            lambda y_true, y_pred, margin=1.0: (
                gradients.contrastive(y_true, y_pred, margin=margin) * np.array([1.0, 0.0])[None, :, None]
            ),
        ),
        Mistake(
            "the factor 2 of (5) is missing: d(d**2)/da = 2(a - b)",
            lambda y_true, y_pred, margin=1.0: 0.5 * gradients.contrastive(y_true, y_pred, margin=margin),
        ),
        Mistake(
            "your gradient is off by 1/B: it is the gradient of the MEAN; the task asks for the gradient "
            "of the SUM of the per-pair losses",
            lambda y_true, y_pred, margin=1.0: (
                gradients.contrastive(y_true, y_pred, margin=margin) / np.shape(y_pred)[0]
            ),
        ),
        Mistake(
            "the push on a dissimilar pair is -2 [m - d]_+ (a - b) / d: divide by d, the derivative of "
            "d = ||a - b|| is (a - b)/d",
            _gradient_from_coefficient(lambda y, d, m: 2.0 * (y - (1 - y) * np.maximum(m - d, 0.0))),
        ),
        Mistake(
            "the signs are reversed: for a similar pair the gradient with respect to a is +2(a - b), "
            "so gradient DESCENT moves a towards b",
            lambda y_true, y_pred, margin=1.0: -gradients.contrastive(y_true, y_pred, margin=margin),
        ),
        Mistake(
            "your label convention is flipped: y = 1 is a SIMILAR pair",
            _gradient_from_coefficient(lambda y, d, m: 2.0 * ((1 - y) - y * _push_ratio(d, m))),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 07.3 batch-hard triplet loss (8)
# --------------------------------------------------------------------------------------


def _hard_variant(distance_fn=_distances, remove_self=True, pick=("max", "min"), hinge=True):
    def loss(labels, embeddings, margin=0.2):
        labels = np.asarray(labels).reshape(-1)
        d = distance_fn(embeddings)
        same = labels[:, None] == labels[None, :]
        positive = same & ~np.eye(len(labels), dtype=bool) if remove_self else same
        negative = ~same
        if pick[0] == "max":
            hardest_positive = np.max(np.where(positive, d, -np.inf), axis=1)
        else:
            hardest_positive = np.min(np.where(positive, d, np.inf), axis=1)
        if pick[1] == "min":
            hardest_negative = np.min(np.where(negative, d, np.inf), axis=1)
        else:
            hardest_negative = np.max(np.where(negative, d, -np.inf), axis=1)
        valid = positive.any(axis=1) & negative.any(axis=1)
        value = hardest_positive - hardest_negative + margin
        value = np.maximum(value, 0.0) if hinge else value
        return np.where(valid, value, 0.0)

    return loss


BATCH_HARD = Task(
    task_id="07.3",
    title="batch-hard triplet loss",
    answer="my_batch_hard",
    reference=lambda labels, embeddings, margin=0.2: losses.triplet(
        labels, embeddings, margin=margin, mining="hard"
    ),
    forbidden=forbid(library_function(r"triplet\w*", r"Triplet\w*")),
    public=seeded_cases(4, _batch_case, [(8, 2, 3, 0.2), (12, 3, 4, 1.0)]),
    hidden=seeded_cases(5, _batch_case, [(10, 4, 2, 0.5), (16, 2, 5, 0.2), (6, 3, 2, 2.0)]),
    mistakes=(
        Mistake(
            "use SQUARED Euclidean distances D_ij = ||e_i - e_j||**2, as FaceNet and (6) do, "
            "not the distances",
            _hard_variant(distance_fn=lambda e: np.sqrt(_distances(e))),
        ),
        Mistake(
            "an anchor is not its own positive: leave out j = i (or: an anchor with no other sample of its "
            "label has no triplet, and its loss is 0)",
            _hard_variant(remove_self=False),
        ),
        Mistake(
            "you took the EASIEST triplet (closest positive, furthest negative); batch-hard (8) takes the "
            "furthest positive and the closest negative",
            _hard_variant(pick=("min", "max")),
        ),
        Mistake(
            "the hinge [.]_+ is missing: an anchor whose negative is already further than its positive by "
            "the margin costs 0, not a negative number",
            _hard_variant(hinge=False),
        ),
        Mistake(
            "that is the loss for margin = 0.2 whatever margin is passed: use the `margin` argument",
            lambda labels, embeddings, margin=0.2: losses.triplet(labels, embeddings, mining="hard"),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 07.4 batch-all triplet loss (7) as a Keras loss
# --------------------------------------------------------------------------------------


def _all_variant(normalise="valid", hinge=True, distance_fn=_distances):
    def loss(labels, embeddings, margin=0.2):
        labels = np.asarray(labels).reshape(-1)
        d = distance_fn(embeddings)
        same = labels[:, None] == labels[None, :]
        positive, negative = same & ~np.eye(len(labels), dtype=bool), ~same
        valid = positive[:, :, None] & negative[:, None, :]
        h = d[:, :, None] - d[:, None, :] + margin
        h = np.maximum(h, 0.0) if hinge else h
        total = np.sum(np.where(valid, h, 0.0), axis=(1, 2))
        if normalise == "valid":
            return total / np.maximum(valid.sum(axis=(1, 2)), 1)
        if normalise == "active":
            return total / np.maximum((valid & (h > 0)).sum(axis=(1, 2)), 1)
        return total

    return loss


KERAS_BATCH_ALL = Task(
    task_id="07.4",
    title="batch-all triplet loss as a Keras loss",
    answer="keras_batch_all",
    reference=lambda labels, embeddings, margin=0.2: losses.triplet(labels, _f64(embeddings), margin=margin),
    backend="keras",
    forbidden=forbid(library_function(r"triplet\w*", r"Triplet\w*")),
    public=seeded_cases(6, _batch_case, [(8, 2, 3, 0.2), (12, 3, 4, 1.0)], dtype="float32"),
    hidden=seeded_cases(7, _batch_case, [(10, 4, 2, 0.5), (16, 2, 5, 0.2)], dtype="float32"),
    rtol=1e-4,
    atol=1e-5,
    mistakes=(
        Mistake(
            "you SUMMED the triplets of each anchor; (7) averages them: divide by |P_i| |N_i|, the number "
            "of valid triplets of the anchor",
            _all_variant(normalise="none"),
        ),
        Mistake(
            "you averaged over the ACTIVE triplets only (those with a positive hinge); (7) divides by all "
            "|P_i| |N_i| valid triplets of the anchor",
            _all_variant(normalise="active"),
        ),
        Mistake(
            "the hinge [.]_+ is missing: each triplet costs max(D_ip - D_in + alpha, 0)",
            _all_variant(hinge=False),
        ),
        Mistake(
            "use SQUARED Euclidean distances D_ij = ||e_i - e_j||**2 (FaceNet), not the distances",
            _all_variant(distance_fn=lambda e: np.sqrt(_distances(e))),
        ),
    ),
)

TASKS = (CONTRASTIVE, CONTRASTIVE_GRADIENT, BATCH_HARD, KERAS_BATCH_ALL)
