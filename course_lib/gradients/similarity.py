r"""Gradient of the cosine-similarity loss with respect to ``y_pred``.

With :math:`\tilde x = x / n(x)`, :math:`n(x) = \max(\lVert x\rVert, \epsilon)`
(norms over ``axis``) and :math:`\ell = -\tilde y\cdot\tilde p`:

* above the floor, :math:`\lVert\hat y\rVert \ge \epsilon`, the quotient rule on
  :math:`\hat y / \lVert\hat y\rVert` gives

  .. math::
      \frac{\partial\ell}{\partial\hat y}
      = -\frac{\tilde y - (\tilde y\cdot\tilde p)\,\tilde p}{\lVert\hat y\rVert},

  the part of :math:`-\tilde y` orthogonal to :math:`\hat y`, divided by the
  length: stretching the prediction changes nothing;
* below the floor :math:`\hat y` is only multiplied by the constant
  :math:`1/\epsilon`, so the gradient is :math:`-\tilde y/\epsilon` (huge, and
  finite even at :math:`\hat y = 0`, where TF's autodiff gives the same value).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.gradients._common import pair_with_shape, shaped_like
from course_lib.losses import similarity as losses
from course_lib.losses._validation import check_axis, validates_options
from course_lib.losses.numerics import EPSILON, floored_norm

__all__ = ["cosine_similarity"]


@validates_options(**losses.cosine_similarity.option_checks)
def cosine_similarity(
    y_true: ArrayLike, y_pred: ArrayLike, axis: int | tuple[int, ...] | None = -1
) -> np.ndarray:
    r"""Gradient of the cosine-similarity loss.

    .. math::
        \frac{\partial\ell}{\partial\hat y} = \begin{cases}
            -\bigl(\tilde y - (\tilde y\cdot\tilde p)\,\tilde p\bigr)/\lVert\hat y\rVert
                & \lVert\hat y\rVert \ge \epsilon \\
            -\tilde y/\epsilon & \lVert\hat y\rVert < \epsilon
        \end{cases}

    >>> cosine_similarity([[1., 0.]], [[1., 1.]])  # pushes y_pred towards (1, 0)
    array([[-0.35355338,  0.35355338]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
    unit_true = y_true / floored_norm(y_true, axes)
    norm = np.sqrt(np.sum(np.square(y_pred), axis=axes, keepdims=True))
    norm_pred = np.maximum(norm, EPSILON)  # what floored_norm(y_pred, axes) returns
    unit_pred = y_pred / norm_pred
    cosine = np.sum(unit_true * unit_pred, axis=axes, keepdims=True)
    above_floor = (
        norm >= EPSILON
    )  # on a tie TF's min() picks 1/norm, the unfloored branch
    grad = -(unit_true - np.where(above_floor, cosine * unit_pred, 0.0)) / norm_pred
    return shaped_like(grad, shape, y_pred.dtype)
