r"""Gradients of the hinge losses with respect to ``y_pred``.

Each function has the signature of its loss in :mod:`course_lib.losses.hinge`
and returns :math:`\partial \sum_i \ell_i / \partial \hat y`, shaped like
``y_pred``.  With :math:`d` the size of the last axis, :math:`t` the labels
after Keras' 0/1 -> -1/+1 rule and :math:`m_j = 1 - t_j \hat y_j` the margin
violation:

==================  ====================================================
loss                gradient per element
==================  ====================================================
hinge               :math:`-t_j/d` where :math:`m_j \ge 0`, else 0
squared hinge       :math:`-2 t_j \max(m_j, 0)/d`
categorical hinge   :math:`(1-y_j)\,[j \in \arg\max]/k - y_j` while active
==================  ====================================================

At a kink (:math:`m_j = 0` exactly, or a tie in the categorical ``max``) we
return the value TensorFlow's autodiff returns: ``tf.maximum(a, b)`` sends the
gradient to ``a`` on a tie (so the hinge counts as active), and
``tf.reduce_max`` splits it equally among the :math:`k` tied entries.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.gradients._common import pair_with_shape, shaped_like
from course_lib.losses.hinge import signed_labels

__all__ = ["hinge", "squared_hinge", "categorical_hinge"]


def hinge(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of hinge: :math:`-t_j/d` where :math:`1 - t_j\hat y_j \ge 0`, else 0.

    At the kink (margin exactly 1) the hinge counts as active, as in TF.

    >>> hinge([[0., 1.]], [[-0.5, 2.]])  # t = (-1, 1); only the first is violated
    array([[0.5, 0. ]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    t = signed_labels(y_true)
    active = 1.0 - t * y_pred >= 0
    return shaped_like(
        np.where(active, -t / y_pred.shape[-1], 0.0), shape, y_pred.dtype
    )


def squared_hinge(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of squared hinge: :math:`-2 t_j \max(1 - t_j\hat y_j, 0)/d`.

    Continuous at the margin, so no kink convention is needed.

    >>> squared_hinge([[0., 1.]], [[-0.5, 0.5]])  # t = (-1, 1): -2 t (0.5) / 2
    array([[ 0.5, -0.5]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    t = signed_labels(y_true)
    violation = np.maximum(1.0 - t * y_pred, 0.0)
    return shaped_like(-2.0 * t * violation / y_pred.shape[-1], shape, y_pred.dtype)


def categorical_hinge(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""(Sub)gradient of categorical hinge.

    With :math:`\text{neg} = \max_j (1-y_j)\hat y_j`, attained at the :math:`k`
    entries of the set :math:`M`, and the loss active
    (:math:`\text{neg} - \text{pos} + 1 \ge 0`):

    .. math::
        \frac{\partial\ell}{\partial\hat y_j} = \frac{(1 - y_j)\,[j \in M]}{k} - y_j ,

    and 0 when inactive.  For one-hot labels this is -1 on the true class and
    +1 on the best-scoring wrong class.  Ties follow TF: split equally in the
    max, active at the kink.

    >>> categorical_hinge([[0., 1., 0.]], [[0.6, 1.2, 0.1]])
    array([[ 1., -1.,  0.]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    wrong_scores = (1.0 - y_true) * y_pred
    neg = np.max(wrong_scores, axis=-1, keepdims=True)
    pos = np.sum(y_true * y_pred, axis=-1, keepdims=True)
    is_max = wrong_scores == neg
    share = is_max.astype(y_pred.dtype) / np.sum(is_max, axis=-1, keepdims=True)
    active = neg - pos + 1.0 >= 0
    return shaped_like(
        np.where(active, (1.0 - y_true) * share - y_true, 0.0), shape, y_pred.dtype
    )
