r"""The soft F-beta loss for Keras 3, written with ``keras.ops``.

The source article wrote it with ``keras.backend.sum`` and ``K.epsilon()``.
Keras 3 removed the maths functions from ``keras.backend`` (``import
keras.backend as K; K.sum`` raises ``AttributeError``); ``keras.ops.sum`` is
their backend-independent replacement and ``keras.config.epsilon()`` the
epsilon.  The formula and the axis semantics are those of the NumPy twin,
:func:`course_lib.losses.soft_fbeta`: with ``axis=None`` one number per batch.

:class:`SoftFBeta` shows what a ``keras.losses.Loss`` subclass needs in order
to be saved with a model and loaded again: ``call`` for the maths,
``get_config`` for its own arguments, and registration under a package name
with ``keras.saving.register_keras_serializable``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["SoftFBeta", "soft_fbeta"]


@keras.saving.register_keras_serializable(package="course_lib")
def soft_fbeta(y_true: Any, y_pred: Any, beta: float = 1.0, axis: Any = None) -> Any:
    r"""Soft F-beta loss :math:`1 - F_\beta` of the soft counts, summed over ``axis``.

    A plain function ``(y_true, y_pred) -> loss``: pass it to ``compile``
    directly (``beta=1``); it is registered, so a model compiled with it can be
    saved and reloaded.  For another ``beta`` use :class:`SoftFBeta`, which
    saves its ``beta``; a ``lambda`` cannot be reloaded safely.
    ``axis=None`` (the article's choice) returns one number for the whole batch.

    >>> float(soft_fbeta(ops.array([1., 1., 1., 0.]), ops.array([0.9, 0.9, 0., 0.2])))
    0.28000...
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    epsilon = keras.config.epsilon()
    true_positives = ops.sum(y_true * y_pred, axis=axis)
    false_positives = ops.sum((1.0 - y_true) * y_pred, axis=axis)
    false_negatives = ops.sum(y_true * (1.0 - y_pred), axis=axis)
    precision = true_positives / (true_positives + false_positives + epsilon)
    recall = true_positives / (true_positives + false_negatives + epsilon)
    beta2 = beta**2
    score = (1.0 + beta2) * precision * recall / (beta2 * precision + recall + epsilon)
    return 1.0 - score


@keras.saving.register_keras_serializable(package="course_lib")
class SoftFBeta(keras.losses.Loss):
    """Soft F-beta loss as a ``keras.losses.Loss``: holds ``beta`` and ``axis``,
    saves and reloads.

    >>> loss = SoftFBeta(beta=2.0)
    >>> loss.get_config()
    {'name': 'soft_fbeta', 'reduction': 'sum_over_batch_size',
     'beta': 2.0, 'axis': None}
    >>> float(loss(ops.array([[1.], [1.], [1.], [0.]]),
    ...            ops.array([[0.9], [0.9], [0.], [0.2]])))
    0.35714...
    """

    def __init__(
        self,
        beta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "soft_fbeta",
        axis: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.beta = float(beta)
        self.axis = tuple(axis) if isinstance(axis, list) else axis

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return soft_fbeta(y_true, y_pred, beta=self.beta, axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta": self.beta, "axis": self.axis}
