r"""Hinge losses: margin-based losses for real-valued *scores* (not probabilities).

A hinge loss is zero once a prediction is on the right side of the decision
boundary by a margin of at least 1, and grows linearly (or quadratically)
otherwise.  It is the loss of the support vector machine: it cares only about
the sign and the margin of a score, never about calibrated probabilities.

=================  ================================================  ================
loss               per-sample value                                  labels
=================  ================================================  ================
hinge              :math:`\frac1d\sum_j \max(1 - t_j\hat y_j, 0)`    :math:`t_j=\pm1`
squared hinge      :math:`\frac1d\sum_j \max(1 - t_j\hat y_j, 0)^2`  :math:`t_j=\pm1`
categorical hinge  :math:`\max(\text{neg} - \text{pos} + 1, 0)`      one-hot
=================  ================================================  ================

The label trap
--------------
:func:`hinge` and :func:`squared_hinge` accept 0/1 labels and turn them into
-1/+1 with :math:`t = 2y - 1`, **but only if every entry of the whole**
``y_true`` **array is exactly 0 or 1** (Keras decides once per call, for the
whole batch).  If a single entry is anything else -- a smoothed label 0.9, a
-1, a 0.5 -- *nothing* is converted, the 0 labels stay 0, and those entries
contribute a constant 1 to the loss with zero gradient.  Pass -1/+1 labels to
be safe.  :func:`categorical_hinge` never converts labels.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import as_pair

__all__ = [
    "Hinge", "hinge",
    "SquaredHinge", "squared_hinge",
    "CategoricalHinge", "categorical_hinge",
]  # fmt: skip


def signed_labels(y_true: np.ndarray) -> np.ndarray:
    r"""Keras' label rule for (squared) hinge: :math:`t = 2y - 1` if *all* of
    ``y_true`` is 0/1.

    Otherwise ``y_true`` is returned unchanged, for every entry.  This is a trap:
    one smoothed label (0.9) or a single -1 in the batch and the 0 labels stay 0,
    so those entries add a constant 1 to the loss with zero gradient.  Pass -1/+1
    labels to be safe.

    >>> signed_labels(np.array([0., 1.]))
    array([-1.,  1.])
    >>> signed_labels(np.array([0., 0.5]))  # one non-binary entry: nothing converted
    array([0. , 0.5])
    """
    is_binary = np.all((y_true == 0) | (y_true == 1))
    return 2.0 * y_true - 1.0 if is_binary else y_true


def hinge(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Hinge loss over the last axis.

    .. math:: \ell(t, \hat y) = \frac1d \sum_{j=1}^{d} \max(1 - t_j \hat y_j,\ 0)

    Assumes labels :math:`t_j \in \{-1, +1\}` (0/1 labels are converted only if
    the *whole* ``y_true`` is 0/1: see :func:`signed_labels`) and raw scores
    :math:`\hat y_j`.  A score with the right sign and :math:`|\hat y_j| \ge 1`
    costs nothing.  Gradient: :math:`-t_j/d` where :math:`1 - t_j\hat y_j \ge 0`,
    else 0 (at the kink, margin exactly 1, we use :math:`-t_j/d`, as TF does).

    Examples
    --------
    >>> hinge([[0., 1.]], [[-0.5, 2.]])  # t = (-1, 1): (0.5 + 0) / 2
    array([0.25], dtype=float32)
    >>> hinge([[0., 1.], [0.5, 1.]], [[-0.5, 2.], [0., 2.]])  # the 0.5 stops conversion
    array([0.5, 0.5], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    margin = 1.0 - signed_labels(y_true) * y_pred
    return np.mean(np.maximum(margin, 0.0), axis=-1)


def squared_hinge(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Squared hinge loss over the last axis.

    .. math:: \ell(t, \hat y) = \frac1d \sum_{j} \max(1 - t_j \hat y_j,\ 0)^2

    Same labels and label trap as :func:`hinge`.  Squaring makes the loss
    differentiable at the margin and punishes large violations harder.
    Gradient: :math:`-2 t_j \max(1 - t_j\hat y_j, 0)/d`.

    Examples
    --------
    >>> squared_hinge([[0., 1.]], [[-0.5, 2.]])  # (0.5^2 + 0) / 2
    array([0.125], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    margin = 1.0 - signed_labels(y_true) * y_pred
    return np.mean(np.square(np.maximum(margin, 0.0)), axis=-1)


def categorical_hinge(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Multi-class (Crammer--Singer style) hinge loss over the last axis.

    .. math::
        \ell(y, \hat y) = \max\bigl(\text{neg} - \text{pos} + 1,\ 0\bigr), \qquad
        \text{pos} = \sum_j y_j \hat y_j, \quad
        \text{neg} = \max_j\, (1 - y_j)\,\hat y_j

    Assumes one-hot ``y_true`` and raw scores: the loss is zero once the true
    class' score beats every other score by at least 1.  Labels are never
    converted.  Caveat: the true class enters ``neg`` as :math:`(1-1)\hat y_c = 0`,
    so ``neg`` is never below 0; if all wrong-class scores are negative the
    loss is :math:`\max(1 - \hat y_c, 0)`, not the textbook
    :math:`\max(1 + \max_{j\ne c}\hat y_j - \hat y_c, 0)`.

    Gradient (where the hinge is active, the kink included): :math:`-y_j`, plus
    :math:`(1 - y_j)/k` on each of the :math:`k` entries that attain ``neg``
    (TF splits ties equally); 0 where the hinge is inactive.

    Examples
    --------
    >>> categorical_hinge([[0., 1., 0.]], [[0.6, 1.2, 0.1]])  # 0.6 - 1.2 + 1
    array([0.4], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1.0 - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


class Hinge(LossFunctionWrapper):
    """Class form of :func:`hinge` (mind the label trap: see :func:`signed_labels`).

    Examples
    --------
    >>> Hinge()([[0., 1.], [1., 0.]], [[-0.5, 2.], [0.5, 0.]])  # (0.25 + 0.75) / 2
    np.float32(0.5)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "hinge",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Class form of :func:`squared_hinge`.

    Examples
    --------
    >>> SquaredHinge(reduction="sum")([[0., 1.], [1., 0.]], [[-0.5, 2.], [0.5, 0.]])
    np.float32(0.75)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "squared_hinge",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Class form of :func:`categorical_hinge`.

    Examples
    --------
    >>> CategoricalHinge()([[0., 1., 0.], [1., 0., 0.]],
    ...                    [[0.6, 1.2, 0.1], [2., 0., 0.]])
    np.float32(0.2)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_hinge",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)
