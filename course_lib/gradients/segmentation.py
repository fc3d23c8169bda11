r"""Gradients of the Dice and Tversky losses with respect to ``y_pred``.

Both losses are :math:`1 - N/D` with sums :math:`N, D` over ``axis``, so the
quotient rule gives, for every element :math:`p` that enters the sums,

.. math::
    \frac{\partial \ell}{\partial p}
    = -\frac{N' D - N D'}{D^2}
    = \frac{1}{D}\Bigl(\frac{N}{D}\,D' - N'\Bigr),
    \qquad N' = \frac{\partial N}{\partial p},\ D' = \frac{\partial D}{\partial p}.

* Dice: :math:`N = 2\sum yp`, :math:`D = \sum y + \sum p + \epsilon`, so
  :math:`N' = 2y` and :math:`D' = 1`.
* Tversky: :math:`N = \sum yp`,
  :math:`D = \sum yp + \alpha\sum y(1-p) + \beta\sum(1-y)p + \epsilon`, so
  :math:`N' = y` and :math:`D' = y - \alpha y + \beta(1-y)`.

The sums are kept with size-1 axes so that they broadcast back to the shape
of ``y_pred``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.gradients._common import pair_with_shape, shaped_like
from course_lib.losses import segmentation as losses
from course_lib.losses._validation import Axis, check_axis, validates_options
from course_lib.losses.numerics import (
    EPSILON,
    clip_probability,
    inside_clip,
    sigmoid,
)

__all__ = ["dice", "tversky", "bce_dice"]


@validates_options(**losses.dice.option_checks)
def dice(y_true: ArrayLike, y_pred: ArrayLike, axis: Axis = None) -> np.ndarray:
    r"""Gradient of Dice: :math:`\frac{2}{S}\bigl(\frac{\sum yp}{S} - y\bigr)`.

    Here :math:`S = \sum y + \sum p + \epsilon`, summed over ``axis``.

    >>> dice([[1., 0.]], [[0.5, 0.5]])  # S = 2, sum yp = 0.5
    array([[-0.75,  0.25]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
    overlap = np.sum(y_true * y_pred, axis=axes, keepdims=True)
    total = np.sum(y_true, axis=axes, keepdims=True) + np.sum(
        y_pred, axis=axes, keepdims=True
    )
    total = total + EPSILON
    return shaped_like(2.0 / total * (overlap / total - y_true), shape, y_pred.dtype)


@validates_options(**losses.tversky.option_checks)
def tversky(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    alpha: float = 0.5,
    beta: float = 0.5,
    axis: Axis = None,
) -> np.ndarray:
    r"""Gradient of Tversky: :math:`\frac1D\bigl(\frac{\text{TP}}{D}\,D' - y\bigr)`.

    Here :math:`\text{TP} = \sum yp`, the denominator is
    :math:`D = \text{TP} + \alpha\sum y(1-p) + \beta\sum(1-y)p + \epsilon` (``alpha``
    weighs the soft false negatives, as in Keras' code) and its derivative is
    :math:`D' = (1-\alpha)\,y + \beta\,(1-y)`.

    >>> tversky([[1., 0.]], [[0.5, 0.5]])  # TP = 0.5, D = 1
    array([[-0.75,  0.25]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
    overlap = np.sum(y_true * y_pred, axis=axes, keepdims=True)
    missed = np.sum(y_true * (1.0 - y_pred), axis=axes, keepdims=True)
    spurious = np.sum((1.0 - y_true) * y_pred, axis=axes, keepdims=True)
    denominator = overlap + alpha * missed + beta * spurious + EPSILON
    d_denominator = (1.0 - alpha) * y_true + beta * (1.0 - y_true)
    grad = (overlap / denominator * d_denominator - y_true) / denominator
    return shaped_like(grad, shape, y_pred.dtype)


@validates_options(**losses.bce_dice.option_checks)
def bce_dice(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    bce_weight: float = 0.5,
    from_logits: bool = False,
    axis: Axis = None,
) -> np.ndarray:
    r"""Gradient of the hybrid :math:`w\,\overline{\text{BCE}} + (1-w)\,\text{Dice}`.

    The derivative is linear in the two terms.  With :math:`n` the number of
    elements each value averages (the size of the summed axes):

    * probabilities: :math:`\frac{w}{n}\,\frac{p'-y}{p'(1-p')}` (0 where the clip
      is active) :math:`+\ (1-w)\,\frac{2}{S}\bigl(\frac{\sum yp}{S} - y\bigr)`, the
      Dice gradient of :func:`dice`;
    * logits: by the chain rule through :math:`p = \sigma(z)`,
      :math:`\sigma'(z) = p(1-p)`, giving
      :math:`\frac{w}{n}(p - y) + (1-w)\,p(1-p)\,\partial\text{Dice}/\partial p`.

    >>> # (p - y) / (n p (1 - p)), n = 2
    >>> bce_dice([[1., 0.]], [[0.5, 0.5]], bce_weight=1.0)
    array([[-1.,  1.]], dtype=float32)
    >>> bce_dice([[1., 0.]], [[0., 0.]], bce_weight=1.0,
    ...          from_logits=True)  # (p - y) / n
    array([[-0.25,  0.25]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
    count = (
        y_pred.size if axes is None else int(np.prod([y_pred.shape[a] for a in axes]))
    )
    if from_logits:
        p = sigmoid(y_pred)
        d_bce = (p - y_true) / count
        d_dice = dice(y_true, p, axis=axes) * p * (1.0 - p)
    else:
        p = clip_probability(y_pred)
        d_bce = (
            np.where(inside_clip(y_pred), (p - y_true) / (p * (1.0 - p)), 0.0) / count
        )
        d_dice = dice(y_true, y_pred, axis=axes)
    return shaped_like(
        bce_weight * d_bce + (1.0 - bce_weight) * d_dice, shape, y_pred.dtype
    )
