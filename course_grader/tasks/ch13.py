"""Graded tasks of chapter 13 (migrating old Keras loss code).

The learner ports three of the article's (or typical Keras 2) losses to Keras 3's
``keras.ops`` and answers one question on the 1-D reduction trap of
``notebooks/13_migrating_old_code.ipynb``: the triplet loss of section 5 (per
sample), the soft F-beta loss of section 6, a Keras 2 weighted BCE written with
``K.clip``/``K.log``/``K.mean``, and the sum that ``reduction="sum"`` on 1-D data
does not compute (section 2.3).
"""

from __future__ import annotations

import numpy as np

from course_grader.model import Mistake, Task, forbid, library_function, seeded_cases
from course_lib import losses
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch13 import task_data

#: Keras' fuzz factor, ``keras.config.epsilon()``.
EPSILON = 1e-7

#: Keras 2 and tf-addons, the APIs the old code used (keras.ops is the port).
_LEGACY_KERAS = (r"^(import )?(tf_keras|tensorflow_addons)\b",)


# --------------------------------------------------------------------------------------
# 13.1 the article's triplet loss, ported to keras.ops, one value per triplet
# --------------------------------------------------------------------------------------


def _triplet_parts(y_pred):
    anchor, positive, negative = np.split(np.asarray(y_pred, dtype=np.float64), 3, axis=1)
    d_pos = np.sum((anchor - positive) ** 2, axis=1)
    d_neg = np.sum((anchor - negative) ** 2, axis=1)
    return anchor, positive, negative, d_pos, d_neg


def _triplet(y_true, y_pred, alpha=0.2):
    *_, d_pos, d_neg = _triplet_parts(y_pred)
    return np.maximum(d_pos - d_neg + alpha, 0.0)


def _triplet_case(
    rng: np.random.Generator, label: str, batch: int, dim: int, spread: float, alpha: float
) -> Case:
    """``spread``: the scale of the negatives around their anchors."""
    anchor = rng.normal(size=(batch, dim))
    positive = anchor + rng.normal(scale=0.3, size=(batch, dim))
    negative = anchor + rng.normal(scale=spread, size=(batch, dim))
    y_pred = np.concatenate([anchor, positive, negative], axis=1).astype(np.float32)
    y_true = np.zeros((batch, 1), dtype=np.float32)
    return Case(f"{label}, alpha={alpha}", (y_true, y_pred), {"alpha": alpha})


TRIPLET = Task(
    task_id="13.1",
    title="the article's triplet loss with keras.ops, per sample",
    answer="keras_triplet_loss",
    reference=_triplet,
    backend="keras",
    public=seeded_cases(
        0,
        _triplet_case,
        [("mixed easy and hard triplets", 6, 2, 0.5, 0.2), ("4-D embeddings", 5, 4, 0.4, 0.5)],
    ),
    hidden=seeded_cases(
        1, _triplet_case, [("8-D embeddings", 7, 8, 0.3, 0.2), ("3-D, wide margin", 9, 3, 0.5, 1.0)]
    ),
    rtol=1e-4,
    atol=1e-5,
    forbidden=forbid(*_LEGACY_KERAS, library_function(r"triplet\w*", r"Triplet\w*")),
    mistakes=(
        Mistake(
            "you used Euclidean distances ||a - p||; the article's (and FaceNet's) triplet loss compares "
            "SQUARED distances, sum((a - p)**2)",
            lambda y_true, y_pred, alpha=0.2: np.maximum(
                np.sqrt(_triplet_parts(y_pred)[3]) - np.sqrt(_triplet_parts(y_pred)[4]) + alpha, 0.0
            ),
        ),
        Mistake(
            "the hinge max(., 0) is missing: a triplet whose negative is already far enough away "
            "must cost 0, not a negative number",
            lambda y_true, y_pred, alpha=0.2: _triplet_parts(y_pred)[3] - _triplet_parts(y_pred)[4] + alpha,
        ),
        Mistake(
            "positive and negative are swapped: the loss is d(a, p) - d(a, n) + alpha, so it pulls the "
            "positive in and pushes the negative out; mind the order of the split "
            "[anchor | positive | negative]",
            lambda y_true, y_pred, alpha=0.2: np.maximum(
                _triplet_parts(y_pred)[4] - _triplet_parts(y_pred)[3] + alpha, 0.0
            ),
        ),
        Mistake(
            "that is the loss for alpha = 0.2 whatever alpha is passed: use the `alpha` argument",
            lambda y_true, y_pred, alpha=0.2: _triplet(y_true, y_pred, alpha=0.2),
        ),
        Mistake(
            "you averaged the squared differences over the embedding dimension; the squared distance is "
            "their SUM",
            lambda y_true, y_pred, alpha=0.2: np.maximum(
                (_triplet_parts(y_pred)[3] - _triplet_parts(y_pred)[4]) / (np.shape(y_pred)[1] // 3) + alpha,
                0.0,
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 13.2 the article's soft F-beta loss, ported to keras.ops
# --------------------------------------------------------------------------------------


def _soft_counts(y_true, y_pred):
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    return np.sum(y * p), np.sum((1 - y) * p), np.sum(y * (1 - p))


def _fbeta_variant(combine):
    def loss(y_true, y_pred, beta=1.0):
        tp, fp, fn = _soft_counts(y_true, y_pred)
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        return combine(precision, recall, beta)

    return loss


def _one_minus_fbeta(precision, recall, beta):
    return 1 - (1 + beta**2) * precision * recall / (beta**2 * precision + recall + EPSILON)


def _fbeta_case(rng: np.random.Generator, label: str, batch: int, beta: float) -> Case:
    """About a third of the labels are positive."""
    y_true = (rng.random((batch, 1)) < 0.35).astype(np.float32)
    y_true[0, 0] = 1.0
    y_pred = np.clip(0.6 * y_true + rng.random((batch, 1)) * 0.5, 0.01, 0.99).astype(np.float32)
    return Case(f"{label}, beta={beta}", (y_true, y_pred), {"beta": beta})


FBETA = Task(
    task_id="13.2",
    title="the article's soft F-beta loss with keras.ops",
    answer="keras_fbeta_loss",
    reference=_fbeta_variant(_one_minus_fbeta),
    backend="keras",
    public=seeded_cases(2, _fbeta_case, [("12 samples", 12, 1.0), ("20 samples, recall weighted", 20, 2.0)]),
    hidden=seeded_cases(
        3, _fbeta_case, [("15 samples, precision weighted", 15, 0.5), ("30 samples", 30, 3.0)]
    ),
    rtol=1e-4,
    atol=1e-6,
    forbidden=forbid(*_LEGACY_KERAS, library_function(r"FBetaScore", r"F1Score", r"fbeta\w*", r"f1_score")),
    mistakes=(
        Mistake(
            "you returned the F-beta score itself; a loss must go DOWN as the model improves, so return "
            "1 - F_beta",
            _fbeta_variant(lambda p, r, beta: 1 - _one_minus_fbeta(p, r, beta)),
        ),
        Mistake(
            "beta enters squared: F_beta = (1 + beta**2) P R / (beta**2 P + R); you used beta",
            _fbeta_variant(lambda p, r, beta: _one_minus_fbeta(p, r, np.sqrt(beta))),
        ),
        Mistake(
            "precision and recall are swapped in the denominator: it is beta**2 * precision + recall, so "
            "that beta > 1 favours recall",
            _fbeta_variant(lambda p, r, beta: _one_minus_fbeta(r, p, beta)),
        ),
        Mistake(
            "that is 1 - F1 whatever beta is passed: use the `beta` argument",
            _fbeta_variant(lambda p, r, beta: _one_minus_fbeta(p, r, 1.0)),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 13.3 a Keras 2 weighted BCE (K.clip, K.log, K.mean, K.epsilon) ported to keras.ops
# --------------------------------------------------------------------------------------


def _weighted_bce_variant(clip=True, weight_on="positive", reduce=np.mean):
    """The port in float32, as keras.ops computes it (the clip bound 1 - eps rounds in float32)."""

    def loss(y_true, y_pred, pos_weight=2.0):
        y = np.asarray(y_true, dtype=np.float32)
        p = np.asarray(y_pred, dtype=np.float32)
        if clip:
            p = np.clip(p, np.float32(EPSILON), np.float32(1 - EPSILON))
        with np.errstate(divide="ignore", invalid="ignore"):
            positive_term, negative_term = y * np.log(p), (1 - y) * np.log(1 - p)
        w = np.float32(pos_weight)
        if weight_on == "positive":
            elementwise = -(w * positive_term + negative_term)
        elif weight_on == "negative":
            elementwise = -(positive_term + w * negative_term)
        else:
            elementwise = -(positive_term + negative_term)
        return reduce(elementwise.astype(np.float64), axis=-1)

    return loss


def _bce_case(
    rng: np.random.Generator, label: str, shape: tuple[int, int], pos_weight: float, extremes: bool
) -> Case:
    """``extremes``: with exact 0 and 1 probabilities."""
    y_true = (rng.random(shape) < 0.4).astype(np.float32)
    y_pred = rng.uniform(0.05, 0.95, size=shape).astype(np.float32)
    if extremes:
        y_pred[0, 0], y_true[0, 0] = 1.0, 0.0
        y_pred[-1, -1], y_true[-1, -1] = 0.0, 1.0
        y_pred[1, 0], y_true[1, 0] = 1.0, 1.0
    return Case(f"{label}, pos_weight={pos_weight}", (y_true, y_pred), {"pos_weight": pos_weight})


WEIGHTED_BCE = Task(
    task_id="13.3",
    title="a Keras 2 weighted BCE ported to keras.ops",
    answer="keras_weighted_bce",
    reference=_weighted_bce_variant(),
    backend="keras",
    public=seeded_cases(
        4,
        _bce_case,
        [("ordinary probabilities", (5, 3), 2.0, False), ("probabilities 0 and 1", (4, 2), 3.0, True)],
    ),
    hidden=seeded_cases(
        5, _bce_case, [("one output", (6, 1), 0.5, False), ("probabilities 0 and 1, wide", (3, 5), 5.0, True)]
    ),
    rtol=1e-4,
    atol=1e-5,
    forbidden=forbid(*_LEGACY_KERAS),
    forbidden_in_answer=(library_function(r"binary_crossentropy", r"BinaryCrossentropy"),),
    mistakes=(
        Mistake(
            "pos_weight multiplies the wrong term: it weights the POSITIVE term y * log(p), "
            "as in the old code",
            _weighted_bce_variant(weight_on="negative"),
        ),
        Mistake(
            "that is plain BCE: the positive term must be multiplied by `pos_weight`",
            _weighted_bce_variant(weight_on="none"),
        ),
        Mistake(
            "K.mean(..., axis=-1) becomes keras.ops.mean(..., axis=-1): you summed over the last axis",
            _weighted_bce_variant(reduce=np.sum),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 13.4 the sum that reduction="sum" does not compute on 1-D data
# --------------------------------------------------------------------------------------


def _per_sample_bce_from_logits() -> np.ndarray:
    labels, logits = task_data()
    return losses.binary_crossentropy(labels[:, None], logits[:, None], from_logits=True)


def _logits_as_probabilities(dtype) -> float:
    """The 'sum' of BCE on the logits taken as probabilities (clipped to [eps, 1 - eps] in ``dtype``)."""
    labels, logits = (np.asarray(a, dtype=dtype) for a in task_data())
    p = np.clip(logits, dtype(EPSILON), dtype(1 - EPSILON))
    return float(np.sum(-(labels * np.log(p) + (1 - labels) * np.log(1 - p))))


def _intended_sum() -> float:
    return float(np.sum(_per_sample_bce_from_logits()))


INTENDED_SUM = Task(
    task_id="13.4",
    title="the sum over samples that reduction='sum' misses on 1-D data",
    answer="intended_sum",
    kind="value",
    reference=_intended_sum(),
    public=(Case("your value", ()),),
    rtol=1e-5,
    atol=1e-7,
    mistakes=(
        Mistake(
            "that is what the old code returns: on 1-D data the 8 labels are ONE sample, "
            "so 'sum' sums a single per-sample MEAN; reshape to (8, 1) so that each label is a sample",
            lambda: float(np.mean(_per_sample_bce_from_logits())),
        ),
        *(
            Mistake(
                "the inputs are LOGITS: use from_logits=True (or apply the sigmoid first); you treated "
                "them as probabilities",
                lambda dtype=dtype: _logits_as_probabilities(dtype),
            )
            for dtype in (np.float32, np.float64)
        ),
    ),
)

TASKS = (TRIPLET, FBETA, WEIGHTED_BCE, INTENDED_SUM)
