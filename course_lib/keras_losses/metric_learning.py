r"""Keras versions of the metric-learning losses that Keras lacks.

Written with ``keras.ops`` only, so they run on any backend, train a model
with ``fit`` and return **one value per sample** like Keras' own loss
functions.  Each mirrors its NumPy twin in :mod:`course_lib.losses.metric_learning`
(same arguments, same conventions; the tests check value and autodiff gradient
against the twin and its hand-derived gradient):

* :func:`contrastive` -- pairs ``(B, 2, D)``, label 1 = similar, 0 = dissimilar;
* :func:`triplet` -- integer labels ``(B,)`` and embeddings ``(B, D)``, squared
  Euclidean distances, ``mining`` in ``"all"``, ``"hard"``, ``"semi-hard"``;
* :func:`quadruplet` -- batch-hard, two margins;
* :func:`adaptive_triplet` -- margins :math:`\alpha C_{in}/\bar C` from the
  class centres, held constant with ``ops.stop_gradient``.

Like ``keras.losses.circle``, the batch losses attach a mask to their output
(anchors without a positive or a negative are ``False``), so the classes leave
those anchors out of ``"sum_over_batch_size"``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops
from keras.src.backend import (
    set_keras_mask,
)  # what keras.losses.circle uses; not public

from course_lib.losses import metric_learning as numpy_losses
from course_lib.losses._validation import validates_options

__all__ = [
    "AdaptiveTriplet",
    "Contrastive",
    "Quadruplet",
    "Triplet",
    "adaptive_triplet",
    "contrastive",
    "quadruplet",
    "triplet",
]

_INF = float("inf")


def _squared_distances(embeddings):
    """``(B, B)`` squared Euclidean distances, from the differences (exact 0 on the
    diagonal)."""
    difference = ops.expand_dims(embeddings, 1) - ops.expand_dims(embeddings, 0)
    return ops.sum(ops.square(difference), axis=-1)


def _masks(labels, batch):
    """``(same, positive, negative)`` boolean ``(B, B)`` masks from the labels."""
    labels = ops.reshape(labels, (-1,))
    same = ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(labels, 0))
    index = ops.arange(batch)
    diagonal = ops.equal(ops.expand_dims(index, 1), ops.expand_dims(index, 0))
    return same, ops.logical_and(same, ops.logical_not(diagonal)), ops.logical_not(same)


def _prepare(y_true, y_pred):
    """Labels as a flat vector (only compared for equality), embeddings as a tensor."""
    return ops.reshape(ops.convert_to_tensor(y_true), (-1,)), ops.convert_to_tensor(
        y_pred
    )


def _batch_all(distance, positive, negative, margins):
    hinge = (
        ops.expand_dims(distance, 2)
        - ops.expand_dims(distance, 1)
        + ops.expand_dims(margins, 1)
    )
    valid = ops.cast(
        ops.logical_and(ops.expand_dims(positive, 2), ops.expand_dims(negative, 1)),
        distance.dtype,
    )
    count = ops.sum(valid, axis=(1, 2))
    return ops.sum(ops.relu(hinge) * valid, axis=(1, 2)) / ops.maximum(count, 1.0)


def _hardest_positive(distance, positive):
    return ops.max(ops.where(positive, distance, -_INF), axis=1)


def _batch_hard(distance, positive, negative, margins):
    hardest_negative = ops.min(ops.where(negative, distance - margins, _INF), axis=1)
    return ops.relu(_hardest_positive(distance, positive) - hardest_negative)


def _semi_hard(distance, positive, negative, margin):
    anchor_positive = ops.expand_dims(distance, 2)
    anchor_negative = ops.expand_dims(distance, 1)
    further = ops.logical_and(
        ops.expand_dims(negative, 1), ops.greater(anchor_negative, anchor_positive)
    )
    closest_further = ops.min(ops.where(further, anchor_negative, _INF), axis=2)
    furthest = ops.max(ops.where(negative, distance, -_INF), axis=1, keepdims=True)
    chosen = ops.where(ops.any(further, axis=2), closest_further, furthest)
    valid = ops.logical_and(positive, ops.any(negative, axis=1, keepdims=True))
    hinge = ops.where(valid, ops.relu(distance - chosen + margin), 0.0)
    n_positive = ops.sum(ops.cast(positive, distance.dtype), axis=1)
    return ops.sum(hinge, axis=1) / ops.maximum(n_positive, 1.0)


def _with_anchor_mask(values, positive, negative):
    """Zero the anchors without a positive or a negative and mask them out (as
    Keras' circle)."""
    valid = ops.logical_and(ops.any(positive, axis=1), ops.any(negative, axis=1))
    values = ops.where(valid, values, 0.0)
    set_keras_mask(values, valid)
    return values


@validates_options(**numpy_losses.contrastive.option_checks)
def contrastive(y_true, y_pred, margin=1.0):
    r"""Per-pair contrastive loss :math:`y d^2 + (1-y)[m-d]_+^2` (1 = similar pair).

    ``y_pred`` is ``(B, 2, D)``.  The distance is written so that its gradient
    at :math:`d = 0` is 0 instead of NaN (:math:`\sqrt{\cdot}` has an infinite
    slope at 0).
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.reshape(y_true, (-1,)), y_pred.dtype)
    squared = ops.sum(ops.square(y_pred[:, 0] - y_pred[:, 1]), axis=-1)
    positive = ops.greater(squared, 0.0)
    distance = ops.where(positive, ops.sqrt(ops.where(positive, squared, 1.0)), 0.0)
    return y_true * squared + (1.0 - y_true) * ops.square(ops.relu(margin - distance))


@validates_options(**numpy_losses.triplet.option_checks)
def triplet(y_true, y_pred, margin=0.2, mining="all"):
    """Per-anchor triplet loss on squared Euclidean distances; ``mining`` as in
    NumPy."""
    y_true, y_pred = _prepare(y_true, y_pred)
    distance = _squared_distances(y_pred)
    _, positive, negative = _masks(y_true, ops.shape(y_pred)[0])
    if mining == "semi-hard":
        values = _semi_hard(distance, positive, negative, margin)
    else:
        margins = ops.full_like(distance, margin)
        function = _batch_hard if mining == "hard" else _batch_all
        values = function(distance, positive, negative, margins)
    return _with_anchor_mask(values, positive, negative)


@validates_options(**numpy_losses.quadruplet.option_checks)
def quadruplet(y_true, y_pred, margin=0.2, margin2=0.1):
    """Per-anchor batch-hard quadruplet loss (Chen et al., 2017)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    distance = _squared_distances(y_pred)
    _, positive, negative = _masks(y_true, ops.shape(y_pred)[0])
    hardest_positive = _hardest_positive(distance, positive)
    first = _batch_hard(distance, positive, negative, ops.full_like(distance, margin))
    pairs = ops.logical_and(
        ops.logical_and(ops.expand_dims(negative, 2), ops.expand_dims(negative, 1)),
        ops.expand_dims(negative, 0),
    )
    closest_pair = ops.min(
        ops.where(pairs, ops.expand_dims(distance, 0), _INF), axis=(1, 2)
    )
    second = ops.where(
        ops.any(pairs, axis=(1, 2)),
        ops.relu(hardest_positive - closest_pair + margin2),
        0.0,
    )
    return _with_anchor_mask(first + second, positive, negative)


@validates_options(**numpy_losses.adaptive_triplet.option_checks)
def adaptive_triplet(y_true, y_pred, margin=0.2, mining="all"):
    """Per-anchor triplet loss with margins from the class centres (held constant)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    distance = _squared_distances(y_pred)
    same, positive, negative = _masks(y_true, ops.shape(y_pred)[0])
    same = ops.cast(same, y_pred.dtype)
    centres = ops.matmul(same, y_pred) / ops.sum(same, axis=1, keepdims=True)
    centre_distance = _squared_distances(centres)
    negative_f = ops.cast(negative, y_pred.dtype)
    mean = ops.sum(centre_distance * negative_f) / ops.maximum(ops.sum(negative_f), 1.0)
    margins = ops.where(
        ops.greater(mean, 0.0),
        margin * centre_distance / ops.where(ops.greater(mean, 0.0), mean, 1.0),
        ops.full_like(centre_distance, margin),
    )
    margins = ops.stop_gradient(margins)
    function = _batch_hard if mining == "hard" else _batch_all
    return _with_anchor_mask(
        function(distance, positive, negative, margins), positive, negative
    )


class _Wrapper(keras.losses.Loss):
    """A Keras loss class around one of the functions above (keyword options kept
    for ``get_config``)."""

    fn: Any = None

    def __init__(
        self, reduction="sum_over_batch_size", name=None, dtype=None, **options
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.options = type(self).fn.check_options(**options)

    def call(self, y_true, y_pred):
        return type(self).fn.unchecked(y_true, y_pred, **self.options)

    def get_config(self):
        return {**super().get_config(), **self.options}


@keras.saving.register_keras_serializable(package="course_lib")
class Contrastive(_Wrapper):
    """Keras class of :func:`contrastive` (label 1: similar pair)."""

    fn = staticmethod(contrastive)

    def __init__(
        self,
        margin=1.0,
        reduction="sum_over_batch_size",
        name="contrastive",
        dtype=None,
    ):
        super().__init__(reduction, name, dtype, margin=margin)


@keras.saving.register_keras_serializable(package="course_lib")
class Triplet(_Wrapper):
    """Keras class of :func:`triplet`; anchors without a positive or a negative are
    left out."""

    fn = staticmethod(triplet)

    def __init__(
        self,
        margin=0.2,
        mining="all",
        reduction="sum_over_batch_size",
        name="triplet",
        dtype=None,
    ):
        super().__init__(
            reduction,
            name,
            dtype,
            margin=margin,
            mining=mining,
        )


@keras.saving.register_keras_serializable(package="course_lib")
class Quadruplet(_Wrapper):
    """Keras class of :func:`quadruplet`; anchors without a positive or a negative
    are left out."""

    fn = staticmethod(quadruplet)

    def __init__(
        self,
        margin=0.2,
        margin2=0.1,
        reduction="sum_over_batch_size",
        name="quadruplet",
        dtype=None,
    ):
        super().__init__(
            reduction,
            name,
            dtype,
            margin=margin,
            margin2=margin2,
        )


@keras.saving.register_keras_serializable(package="course_lib")
class AdaptiveTriplet(_Wrapper):
    """Keras class of :func:`adaptive_triplet`; anchors without a positive or a
    negative are left out."""

    fn = staticmethod(adaptive_triplet)

    def __init__(
        self,
        margin=0.2,
        mining="all",
        reduction="sum_over_batch_size",
        name="adaptive_triplet",
        dtype=None,
    ):
        super().__init__(
            reduction,
            name,
            dtype,
            margin=margin,
            mining=mining,
        )
