r"""Losses made from classification metrics: the soft F-beta loss.

Precision, recall and the F-beta score count hard decisions, so their gradient
with respect to the model's output is zero almost everywhere: a model cannot
learn from them.  Replace the counts by *soft* counts of probabilities
:math:`p \in [0, 1]` and labels :math:`y \in [0, 1]`,

.. math::
    \text{TP} = \sum y\,p, \qquad
    \text{FP} = \sum (1 - y)\,p, \qquad
    \text{FN} = \sum y\,(1 - p),

and the score becomes a smooth function of :math:`p` that gradient descent can
push up.  With hard 0/1 predictions the soft counts *are* the usual counts.

Axis semantics
--------------
F-beta is a property of a **set** of predictions, not of one prediction.  With
the default ``axis=None`` the sums run over **every** axis, the batch included,
as in the source article's ``custom_fbeta_loss``: one number per batch, like
Keras' ``Dice`` with ``axis=None``.  This is the form to use for a binary
classifier with outputs of shape ``(batch, 1)``.  Its price: the loss of a batch
depends on which other samples are in it, so it is not an average of
per-sample terms, and a per-sample ``sample_weight`` cannot be applied to it
(Keras silently multiplies the one number by the mean weight; we raise a
``ValueError``).

``axis=-1`` sums over the last axis only: one F-beta per sample over its labels
(the "example-based" F-beta of multi-label classification, outputs
``(batch, labels)``).  For a single output per sample that is degenerate: a
negative sample has :math:`\text{TP} = 0`, hence loss 1 whatever it predicts.
``axis=0`` gives one F-beta per label (their reduction is the macro average).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import (
    Axis,
    as_pair,
    check_axis,
    check_non_negative,
    check_several_axes,
    validates_options,
)
from course_lib.losses.numerics import EPSILON, soft_counts

__all__ = ["SoftFBeta", "soft_fbeta"]


@validates_options(beta=check_non_negative, axis=check_several_axes)
def soft_fbeta(
    y_true: ArrayLike, y_pred: ArrayLike, beta: float = 1.0, axis: Axis = None
) -> np.ndarray:
    r"""Soft F-beta loss: one minus the F-beta score of the soft counts, summed over
    ``axis``.

    Exactly the source article's formula, with Keras' :math:`\epsilon = 10^{-7}`
    in each of the three denominators:

    .. math::
        P = \frac{\text{TP}}{\text{TP} + \text{FP} + \epsilon}, \qquad
        R = \frac{\text{TP}}{\text{TP} + \text{FN} + \epsilon}, \qquad
        \ell = 1 - \frac{(1 + \beta^2)\,P\,R}{\beta^2 P + R + \epsilon}.

    :math:`\beta > 1` weighs recall more, :math:`\beta < 1` precision, and
    :math:`\beta = 0` gives :math:`1 - P`.  Assumes probabilities
    :math:`p \in [0, 1]` (a sigmoid output) and labels :math:`y \in [0, 1]`.
    Gradient: see :func:`course_lib.gradients.classification_metrics.soft_fbeta`.

    Parameters
    ----------
    beta : float, default 1.0
        :math:`\beta \ge 0`: recall counts :math:`\beta` times as much as precision.
    axis : int, tuple of ints or None, default None
        Axes to sum the counts over.  ``None`` (the article's choice) gives **one
        number for the whole batch**; ``-1`` one value per sample (see
        ``help(course_lib.losses.classification_metrics)``).

    Examples
    --------
    >>> y = [1., 1., 1., 0.]
    >>> p = [0.9, 0.9, 0., 0.2]  # TP = 1.8, FP = 0.2, FN = 1.2: P = 0.9, R = 0.6
    >>> soft_fbeta(y, p)          # 1 - 2 * 0.54 / 1.5
    np.float32(0.2800001)
    >>> # one per sample
    >>> soft_fbeta([[1., 0.], [1., 1.]], [[0.8, 0.4], [0.5, 1.]], axis=-1)
    array([0.27272743, 0.14285725], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
    true_positives, false_positives, false_negatives = soft_counts(y_true, y_pred, axes)
    precision = true_positives / (true_positives + false_positives + EPSILON)
    recall = true_positives / (true_positives + false_negatives + EPSILON)
    beta2 = y_pred.dtype.type(beta**2)
    score = (1.0 + beta2) * precision * recall / (beta2 * precision + recall + EPSILON)
    return 1.0 - score


class SoftFBeta(LossFunctionWrapper):
    """Class form of :func:`soft_fbeta`.

    With the default ``axis=None`` the loss is already one number per batch, so
    the reduction has nothing left to average and a per-sample
    ``sample_weight`` is refused (only a scalar weight applies).

    Examples
    --------
    >>> # 1 - 5 PR / (4P + R)
    >>> SoftFBeta(beta=2.0)([[1.], [1.], [1.], [0.]], [[0.9], [0.9], [0.], [0.2]])
    np.float32(0.35714287)
    """

    def __init__(
        self,
        beta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "soft_fbeta",
        axis: Axis = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            soft_fbeta,
            reduction=reduction,
            name=name,
            dtype=dtype,
            beta=beta,
            axis=axis,
        )
