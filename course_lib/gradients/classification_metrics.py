r"""Gradient of the soft F-beta loss with respect to the probabilities ``y_pred``.

Every sum runs over ``axis`` (all axes by default).  Two of the article's
denominators simplify, because :math:`\text{TP} + \text{FP} = \sum p` and
:math:`\text{TP} + \text{FN} = \sum y`:

.. math::
    A = \sum p + \epsilon, \quad B = \sum y + \epsilon, \quad
    P = \text{TP}/A, \quad R = \text{TP}/B, \quad
    D = \beta^2 P + R + \epsilon, \quad F = c\,\frac{P R}{D},\ c = 1 + \beta^2.

For one element :math:`p` of a sum, with label :math:`y`:

1. :math:`\partial\,\text{TP}/\partial p = y`, :math:`\partial A/\partial p = 1`
   and :math:`\partial B/\partial p = 0` (the labels do not move), so
   :math:`\partial P/\partial p = (y - P)/A` and :math:`\partial R/\partial p = y/B`.
2. The quotient rule on :math:`F = c\,PR/D`, with
   :math:`\partial D = \beta^2\,\partial P + \partial R`, collects into

   .. math::
       \frac{\partial F}{\partial p} = \frac{c}{D^2}\Bigl(
       R\,(R + \epsilon)\,\frac{\partial P}{\partial p}
       + P\,(\beta^2 P + \epsilon)\,\frac{\partial R}{\partial p}\Bigr),

   because :math:`D - \beta^2 P = R + \epsilon` and
   :math:`D - R = \beta^2 P + \epsilon`.
3. The loss is :math:`1 - F`, so its gradient is :math:`-\partial F/\partial p`.

Every denominator is at least :math:`\epsilon`, so the gradient is finite
everywhere, also for a batch without positives.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.gradients._common import pair_with_shape, shaped_like
from course_lib.losses import classification_metrics as losses
from course_lib.losses._validation import Axis, check_axis, validates_options
from course_lib.losses.numerics import EPSILON, soft_counts

__all__ = ["soft_fbeta"]


@validates_options(**losses.soft_fbeta.option_checks)
def soft_fbeta(
    y_true: ArrayLike, y_pred: ArrayLike, beta: float = 1.0, axis: Axis = None
) -> np.ndarray:
    r"""Gradient of the soft F-beta loss (summed over its values) w.r.t. ``y_pred``.

    .. math::
        \frac{\partial \ell}{\partial p} = -\frac{1 + \beta^2}{D^2}\Bigl(
        R\,(R + \epsilon)\,\frac{y - P}{A}
        + P\,(\beta^2 P + \epsilon)\,\frac{y}{B}\Bigr)

    with :math:`A = \sum p + \epsilon`, :math:`B = \sum y + \epsilon` and
    :math:`D = \beta^2 P + R + \epsilon` over ``axis`` (derivation in
    ``help(course_lib.gradients.classification_metrics)``).  A wrong positive
    (:math:`y = 1`) is pushed up, a
    negative (:math:`y = 0`) is pushed down with the same force whatever its
    :math:`p`: only the batch's counts matter.

    >>> soft_fbeta([1., 1., 1., 0.], [0.9, 0.9, 0., 0.2])   # P = 0.9, R = 0.6
    array([-0.256, -0.256, -0.256,  0.144], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
    true_positives, false_positives, false_negatives = soft_counts(
        y_true, y_pred, axes, keepdims=True
    )
    predicted = true_positives + false_positives + EPSILON  # A
    actual = true_positives + false_negatives + EPSILON  # B
    precision, recall = true_positives / predicted, true_positives / actual
    beta2 = y_pred.dtype.type(beta**2)
    denominator = beta2 * precision + recall + EPSILON  # D
    d_precision = (y_true - precision) / predicted
    d_recall = y_true / actual
    d_score = (
        (1.0 + beta2)
        / denominator**2
        * (
            recall * (recall + EPSILON) * d_precision
            + precision * (beta2 * precision + EPSILON) * d_recall
        )
    )
    return shaped_like(-d_score, shape, y_pred.dtype)
