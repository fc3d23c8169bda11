r"""Segmentation losses: overlap between a predicted mask and the true mask.

With soft masks :math:`y, p \in [0, 1]` summed over ``axis``, the soft
confusion counts are

.. math::
    \text{TP} = \sum y\,p, \qquad
    \Sigma_{y(1-p)} = \sum y\,(1 - p)\ \ (\text{soft false negatives}), \qquad
    \Sigma_{(1-y)p} = \sum (1 - y)\,p\ \ (\text{soft false positives}).

Dice and Tversky turn them into a ratio that is 1 for a perfect overlap, and
return one minus it.  Because they are ratios of *sums*, they do not care how
many background pixels there are, which is why they suit small foregrounds.

The batch trap
--------------
With the default ``axis=None`` the sums run over **every** axis, the batch
included: one number per call, not one per image.  Use ``axis=(1, 2, 3)`` on
``(batch, height, width, channels)`` masks for a per-image loss that the
reduction then averages.  A per-sample ``sample_weight`` cannot be applied to
the single number of ``axis=None`` (Keras silently scales it by the mean
weight; we raise a ``ValueError``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import (
    EPSILON,
    as_pair,
    check_axes,
    check_axis_argument,
    check_non_negative,
)

__all__ = ["Dice", "dice", "Tversky", "tversky"]

Axis = int | tuple[int, ...] | None


def summed_axes(axis: Axis, ndim: int) -> tuple[int, ...] | None:
    """Validate ``axis`` against an input of rank ``ndim``; ``None`` means all axes.

    >>> summed_axes(-1, 3), summed_axes(None, 3)
    ((2,), None)
    """
    return check_axes(check_axis_argument(axis), ndim)


def dice(y_true: ArrayLike, y_pred: ArrayLike, axis: Axis = None) -> np.ndarray:
    r"""Soft Dice loss over ``axis`` (all axes by default).

    .. math::
        \ell(y, p) = 1 - \frac{2\sum y\,p}{\sum y + \sum p + \epsilon},
        \qquad \epsilon = 10^{-7}

    One minus the soft Dice coefficient (F1 score) of the masks.  Assumes
    :math:`y, p \in [0, 1]`.  With the default ``axis=None`` the result is a
    single number for the whole batch (see the module docstring).
    Gradient: :math:`\frac{2}{S}\left(\frac{\sum y p}{S} - y\right)` with
    :math:`S = \sum y + \sum p + \epsilon`.

    Parameters
    ----------
    axis : int, tuple of ints or None, default None
        Axes to sum over; ``(1, 2, 3)`` gives one value per image.

    Examples
    --------
    >>> y = [[[1.], [1.]], [[0.], [1.]]]
    >>> p = [[[1.], [0.]], [[0.], [1.]]]
    >>> dice(y, p)  # whole batch: 1 - 2 * 2 / (3 + 2)
    np.float32(0.19999999)
    >>> dice(y, p, axis=(1, 2))  # per image: 1 - 2/3, 1 - 2/2
    array([0.3333333, 0.       ], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    axes = summed_axes(axis, y_pred.ndim)
    overlap = np.sum(y_true * y_pred, axis=axes)
    total = np.sum(y_true, axis=axes) + np.sum(y_pred, axis=axes) + EPSILON
    return 1.0 - 2.0 * overlap / total


def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, alpha: float = 0.5, beta: float = 0.5, axis: Axis = None
) -> np.ndarray:
    r"""Tversky loss over ``axis`` (all axes by default), exactly as Keras computes it.

    .. math::
        \ell(y, p) = 1 - \frac{\text{TP}}
        {\text{TP} + \alpha\,\Sigma_{y(1-p)} + \beta\,\Sigma_{(1-y)p} + \epsilon},
        \qquad \text{TP} = \sum y\,p

    **Naming trap.**  Keras' documentation says ``alpha`` weighs false
    *positives*, but its code multiplies ``alpha`` by
    :math:`\Sigma_{y(1-p)} = \sum y(1-p)`, the soft false **negatives** (and
    ``beta`` by the false positives).  We reproduce the code, i.e. the numbers:
    to penalise missed foreground harder, *raise* ``alpha``.  With
    :math:`\alpha=\beta=\tfrac12` this is :func:`dice`.

    Gradient: with :math:`D` the denominator,
    :math:`\bigl(\text{TP}\,\partial D/D - y\bigr)/D`, where
    :math:`\partial D/\partial p = (1-\alpha)\,y + \beta\,(1-y)`.

    Parameters
    ----------
    alpha : float, default 0.5
        Weight of :math:`\sum y(1-p)` (soft false negatives); must be ``>= 0``.
    beta : float, default 0.5
        Weight of :math:`\sum (1-y)p` (soft false positives); must be ``>= 0``.
    axis : int, tuple of ints or None, default None
        Axes to sum over.

    Examples
    --------
    >>> tversky([1., 1., 1.], [0.4, 0.4, 0.4], alpha=0.9, beta=0.1)  # 1 - 1.2 / (1.2 + 0.9 * 1.8)
    np.float32(0.5744681)
    """
    alpha = check_non_negative("alpha", alpha)
    beta = check_non_negative("beta", beta)
    y_true, y_pred = as_pair(y_true, y_pred)
    axes = summed_axes(axis, y_pred.ndim)
    overlap = np.sum(y_true * y_pred, axis=axes)
    missed = np.sum(y_true * (1.0 - y_pred), axis=axes)
    spurious = np.sum((1.0 - y_true) * y_pred, axis=axes)
    return 1.0 - overlap / (overlap + alpha * missed + beta * spurious + EPSILON)


class Dice(LossFunctionWrapper):
    """Class form of :func:`dice`.  Note ``axis`` comes *after* ``name``, as in Keras.

    Examples
    --------
    >>> y = [[[1.], [1.]], [[0.], [1.]]]
    >>> p = [[[1.], [0.]], [[0.], [1.]]]
    >>> Dice(axis=(1, 2))(y, p)  # mean of the per-image losses 1/3 and 0
    np.float32(0.16666666)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "dice",
        axis: Axis = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        axis = check_axis_argument(axis)
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """Class form of :func:`tversky` (``alpha`` weighs the soft false negatives).

    Examples
    --------
    >>> Tversky(alpha=0.9, beta=0.1)([[1., 1., 1.]], [[0.4, 0.4, 0.4]])  # axis=None: one number
    np.float32(0.574468...)
    """

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "tversky",
        axis: Axis = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        alpha = check_non_negative("alpha", alpha)
        beta = check_non_negative("beta", beta)
        axis = check_axis_argument(axis)
        super().__init__(
            tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis
        )
