r"""Keras version of the hybrid BCE + Dice loss of
:mod:`course_lib.losses.segmentation`.

Written with ``keras.ops`` only, so it runs on any backend and trains a model.
It computes exactly the NumPy :func:`course_lib.losses.bce_dice`:

.. math::
    \ell(y, p) = w\,\overline{\text{BCE}}(y, p) + (1 - w)\,\text{Dice}(y, p),

both terms over the same ``axis`` (``None``: the whole batch, one number;
``(1, 2, 3)``: one value per image).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from course_lib.losses import segmentation as numpy_losses
from course_lib.losses._validation import validates_options
from course_lib.losses.numerics import EPSILON

__all__ = ["BCEDice", "bce_dice"]


@validates_options(**numpy_losses.bce_dice.option_checks)
def bce_dice(
    y_true: Any,
    y_pred: Any,
    bce_weight: float = 0.5,
    from_logits: bool = False,
    axis: Any = None,
) -> Any:
    r"""Hybrid :math:`w\,\overline{\text{BCE}} + (1-w)\,\text{Dice}` written with
    ``keras.ops``.

    Probabilities are clipped to :math:`[\epsilon, 1-\epsilon]` inside the
    logarithms only; logits use :math:`\max(z,0) - zy + \log(1+e^{-|z|})`.

    >>> float(bce_dice([[1., 0.]], [[0.5, 0.5]], bce_weight=1.0))  # log 2
    0.6931...
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    if from_logits:
        bce = ops.relu(y_pred) - y_pred * y_true + ops.log1p(ops.exp(-ops.abs(y_pred)))
        y_pred = ops.sigmoid(y_pred)
    else:
        p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
        bce = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    overlap = ops.sum(y_true * y_pred, axis=axis)
    total = ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis) + EPSILON
    dice = 1.0 - 2.0 * overlap / total
    return bce_weight * ops.mean(bce, axis=axis) + (1.0 - bce_weight) * dice


@keras.saving.register_keras_serializable(package="course_lib")
class BCEDice(keras.losses.Loss):
    """Keras loss class of :func:`bce_dice`;
    ``model.compile(loss=BCEDice(axis=(1, 2, 3)))``.

    >>> loss = BCEDice(bce_weight=0.0)
    >>> round(float(loss([[1., 0.]], [[1., 0.]])), 4)  # perfect overlap
    0.0
    """

    def __init__(
        self,
        bce_weight: float = 0.5,
        from_logits: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "bce_dice",
        axis: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        options = bce_dice.check_options(
            bce_weight=bce_weight, from_logits=from_logits, axis=axis
        )
        self.bce_weight = options["bce_weight"]
        self.from_logits = options["from_logits"]
        self.axis = options["axis"]

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return bce_dice.unchecked(
            y_true,
            y_pred,
            bce_weight=self.bce_weight,
            from_logits=self.from_logits,
            axis=self.axis,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "bce_weight": self.bce_weight,
            "from_logits": self.from_logits,
            "axis": self.axis,
        }
