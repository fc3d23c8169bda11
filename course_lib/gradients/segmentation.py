r"""Gradients of the Dice and Tversky losses with respect to ``y_pred``.

Both losses are :math:`1 - N/D` with sums :math:`N, D` over ``axis``, so the
quotient rule gives, for every element :math:`p` that enters the sums,

.. math::
    \frac{\partial \ell}{\partial p}
    = -\frac{\partial N/\partial p \cdot D - N \cdot \partial D/\partial p}{D^2}
    = \frac{1}{D}\Bigl(\frac{N}{D}\,\frac{\partial D}{\partial p} - \frac{\partial N}{\partial p}\Bigr).

==========  ==========================  ================================================
loss        :math:`N,\ D`               :math:`\partial N/\partial p,\ \partial D/\partial p`
==========  ==========================  ================================================
Dice        :math:`2\sum yp,\ \sum y + \sum p + \epsilon`           :math:`2y,\ 1`
Tversky     :math:`\sum yp,\ \sum yp + \alpha\sum y(1-p) + \beta\sum(1-y)p + \epsilon`
            :math:`y,\ (1-\alpha)y + \beta(1-y)`
==========  ==========================  ================================================

The sums are kept with size-1 axes so that they broadcast back to the shape
of ``y_pred``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.gradients._common import pair_with_shape, shaped_like
from course_lib.losses._validation import EPSILON, check_non_negative
from course_lib.losses.segmentation import Axis, summed_axes

__all__ = ["dice", "tversky"]


def dice(y_true: ArrayLike, y_pred: ArrayLike, axis: Axis = None) -> np.ndarray:
    r"""Gradient of Dice: :math:`\frac{2}{S}\bigl(\frac{\sum yp}{S} - y\bigr)`, :math:`S = \sum y + \sum p + \epsilon`.

    >>> dice([[1., 0.]], [[0.5, 0.5]])  # S = 2, sum yp = 0.5
    array([[-0.75,  0.25]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    axes = summed_axes(axis, y_pred.ndim)
    overlap = np.sum(y_true * y_pred, axis=axes, keepdims=True)
    total = np.sum(y_true, axis=axes, keepdims=True) + np.sum(y_pred, axis=axes, keepdims=True)
    total = total + EPSILON
    return shaped_like(2.0 / total * (overlap / total - y_true), shape, y_pred.dtype)


def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, alpha: float = 0.5, beta: float = 0.5, axis: Axis = None
) -> np.ndarray:
    r"""Gradient of Tversky: :math:`\frac1D\bigl(\frac{\text{TP}}{D}\,((1-\alpha)y + \beta(1-y)) - y\bigr)`.

    :math:`D = \text{TP} + \alpha\sum y(1-p) + \beta\sum(1-y)p + \epsilon` and
    :math:`\text{TP} = \sum yp`.  Note that raising ``alpha`` makes the gradient
    on foreground pixels (:math:`y=1`) steeper: ``alpha`` weighs false negatives.

    >>> tversky([[1., 0.]], [[0.5, 0.5]])  # TP = 0.5, D = 1
    array([[-0.75,  0.25]], dtype=float32)
    """
    alpha = check_non_negative("alpha", alpha)
    beta = check_non_negative("beta", beta)
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    axes = summed_axes(axis, y_pred.ndim)
    overlap = np.sum(y_true * y_pred, axis=axes, keepdims=True)
    missed = np.sum(y_true * (1.0 - y_pred), axis=axes, keepdims=True)
    spurious = np.sum((1.0 - y_true) * y_pred, axis=axes, keepdims=True)
    denominator = overlap + alpha * missed + beta * spurious + EPSILON
    d_denominator = (1.0 - alpha) * y_true + beta * (1.0 - y_true)
    grad = (overlap / denominator * d_denominator - y_true) / denominator
    return shaped_like(grad, shape, y_pred.dtype)
