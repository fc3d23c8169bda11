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
    Axis,
    as_pair,
    check_axis,
    check_bool,
    check_non_negative,
    check_several_axes,
    in_interval,
    validates_options,
)
from course_lib.losses.numerics import (
    EPSILON,
    bce_from_logits,
    bce_from_probabilities,
    sigmoid,
)

__all__ = ["Dice", "dice", "Tversky", "tversky", "BCEDice", "bce_dice"]


@validates_options(axis=check_several_axes)
def dice(y_true: ArrayLike, y_pred: ArrayLike, axis: Axis = None) -> np.ndarray:
    r"""Soft Dice loss over ``axis`` (all axes by default).

    .. math::
        \ell(y, p) = 1 - \frac{2\sum y\,p}{\sum y + \sum p + \epsilon},
        \qquad \epsilon = 10^{-7}

    One minus the soft Dice coefficient (F1 score) of the masks.  Assumes
    :math:`y, p \in [0, 1]`.  With the default ``axis=None`` the result is a
    single number for the whole batch (see
    ``help(course_lib.losses.segmentation)``).
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
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
    overlap = np.sum(y_true * y_pred, axis=axes)
    total = np.sum(y_true, axis=axes) + np.sum(y_pred, axis=axes) + EPSILON
    return 1.0 - 2.0 * overlap / total


@validates_options(
    alpha=check_non_negative, beta=check_non_negative, axis=check_several_axes
)
def tversky(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    alpha: float = 0.5,
    beta: float = 0.5,
    axis: Axis = None,
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
    >>> # 1 - 1.2 / (1.2 + 0.9 * 1.8)
    >>> tversky([1., 1., 1.], [0.4, 0.4, 0.4], alpha=0.9, beta=0.1)
    np.float32(0.5744681)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
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
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """Class form of :func:`tversky` (``alpha`` weighs the soft false negatives).

    Examples
    --------
    >>> # axis=None: one number
    >>> Tversky(alpha=0.9, beta=0.1)([[1., 1., 1.]], [[0.4, 0.4, 0.4]])
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
        super().__init__(
            tversky,
            reduction=reduction,
            name=name,
            dtype=dtype,
            alpha=alpha,
            beta=beta,
            axis=axis,
        )


# --------------------------------------------------------------------------------------
# A hybrid loss: binary cross-entropy plus Dice (not in Keras)
# --------------------------------------------------------------------------------------


@validates_options(
    bce_weight=in_interval(0.0, 1.0), from_logits=check_bool, axis=check_several_axes
)
def bce_dice(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    bce_weight: float = 0.5,
    from_logits: bool = False,
    axis: Axis = None,
) -> np.ndarray:
    r"""Hybrid loss: a weighted sum of binary cross-entropy and the soft Dice loss.

    .. math::
        \ell(y, p) = w\,\overline{\text{BCE}}(y, p) + (1 - w)\,\text{Dice}(y, p),
        \qquad \overline{\text{BCE}}
        = \frac1n \sum -\bigl[y\log p' + (1-y)\log(1-p')\bigr]

    with :math:`w` = ``bce_weight`` and both terms taken over the **same**
    ``axis`` as :func:`dice`: the :math:`n` elements of each sample for a tuple
    such as ``(1, 2, 3)`` (one value per image), or every element of the batch
    for the default ``axis=None`` (one number).  :math:`p' = \operatorname{clip}(p,
    \epsilon, 1-\epsilon)` inside the logarithms only, as in Keras' BCE; Dice
    uses :math:`p` itself.  With ``from_logits=True``, :math:`p = \sigma(z)` and
    the BCE term uses the stable logit form (nothing is clipped).

    Why mix them: BCE gives every pixel its own well-scaled gradient (good
    early in training), Dice measures the overlap regardless of how small the
    foreground is (good for imbalance).  ``bce_weight=1`` is the mean BCE,
    ``bce_weight=0`` is Dice.

    Gradient: :math:`w\,\partial\overline{\text{BCE}} + (1-w)\,\partial\text{Dice}`; for
    logits each term is multiplied by :math:`\sigma'(z) = p(1-p)`, which turns the
    BCE part into :math:`(p - y)/n`.

    Parameters
    ----------
    bce_weight : float in [0, 1], default 0.5
        Weight :math:`w` of the BCE term; Dice gets :math:`1 - w`.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits :math:`z` instead of probabilities.
    axis : int, tuple of ints or None, default None
        Axes both terms run over; ``(1, 2, 3)`` gives one value per image.

    Examples
    --------
    >>> y = [[[1.], [1.]], [[0.], [1.]]]
    >>> p = [[[0.8], [0.6]], [[0.2], [0.9]]]
    >>> bce_dice(y, p, axis=(1, 2))  # 0.5 * BCE + 0.5 * Dice, per image
    array([0.2717..., 0.1535...], dtype=float32)
    >>> # Dice over the whole batch: 1 - 2 * 2.3 / (3 + 2.5)
    >>> bce_dice(y, p, bce_weight=0.0)
    np.float32(0.1636...)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
    if from_logits:
        bce = bce_from_logits(y_true, y_pred)
        y_pred = sigmoid(y_pred)
    else:
        bce = bce_from_probabilities(y_true, y_pred)
    weight = y_pred.dtype.type(bce_weight)
    return weight * np.mean(bce, axis=axes) + (1 - weight) * dice(
        y_true, y_pred, axis=axes
    )


class BCEDice(LossFunctionWrapper):
    """Class form of :func:`bce_dice` (not a Keras loss; same argument style as
    :class:`Dice`).

    Examples
    --------
    >>> y = [[[1.], [1.]], [[0.], [1.]]]
    >>> p = [[[0.8], [0.6]], [[0.2], [0.9]]]
    >>> BCEDice(axis=(1, 2))(y, p)  # mean of the two per-image values
    np.float32(0.2126...)
    """

    def __init__(
        self,
        bce_weight: float = 0.5,
        from_logits: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "bce_dice",
        axis: Axis = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            bce_dice,
            reduction=reduction,
            name=name,
            dtype=dtype,
            bce_weight=bce_weight,
            from_logits=from_logits,
            axis=axis,
        )
