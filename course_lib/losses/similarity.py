r"""Similarity losses: compare the *direction* of two vectors, ignoring their length.

The cosine of the angle between :math:`y` and :math:`\hat y` is the dot product
of the two unit vectors.  Keras returns its *negative*, so that minimising the
loss aligns the prediction with the target:

==============  ================================  =====================
loss value      angle between the vectors         meaning
==============  ================================  =====================
-1              0 degrees                         identical direction
0               90 degrees (or a zero vector)     orthogonal
+1              180 degrees                       opposite direction
==============  ================================  =====================

Lower is better: **-1 is a perfect match**, not +1.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import (
    as_pair,
    check_axis,
    check_several_axes,
    validates_options,
)
from course_lib.losses.numerics import floored_norm

__all__ = ["CosineSimilarity", "cosine_similarity"]


@validates_options(axis=check_several_axes)
def cosine_similarity(
    y_true: ArrayLike, y_pred: ArrayLike, axis: int | tuple[int, ...] | None = -1
) -> np.ndarray:
    r"""Negative cosine similarity along ``axis``.

    .. math::
        \ell(y, \hat y) = -\sum_{j \in \text{axis}} \tilde y_j\, \tilde p_j, \qquad
        \tilde x = \frac{x}{\max(\lVert x\rVert_2,\ \epsilon)}, \quad \epsilon = 10^{-7}

    The value lies in :math:`[-1, 1]` and **-1 means the vectors point the same
    way** (lower is better); 0 means orthogonal.  The norm is floored at
    :math:`\epsilon`, so a zero vector gives 0 instead of NaN, and a vector
    shorter than :math:`\epsilon` is scaled by :math:`1/\epsilon` but *not*
    made unit length.  Gradient, for :math:`\lVert\hat y\rVert \ge \epsilon`:
    :math:`-(\tilde y - (\tilde y\cdot\tilde p)\,\tilde p)/\lVert\hat y\rVert`,
    which is orthogonal to :math:`\hat y` (only its direction matters);
    below the floor it is :math:`-\tilde y/\epsilon`.

    Parameters
    ----------
    axis : int, tuple of ints or None, default -1
        The feature axis (or axes); ``None`` treats the whole array as one vector.

    Examples
    --------
    >>> y_true = [[0., 1.], [1., 1.], [1., 1.]]
    >>> # -1: same direction
    >>> cosine_similarity(y_true, [[1., 0.], [1., 1.], [-1., -1.]])
    array([-0.        , -0.99999994,  0.99999994], dtype=float32)
    >>> cosine_similarity([[1., 1.]], [[0., 0.]])  # a zero vector: 0, not NaN
    array([-0.], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    axes = check_axis(axis, ndim=y_pred.ndim, several=True)
    unit_true = y_true / floored_norm(y_true, axes)
    unit_pred = y_pred / floored_norm(y_pred, axes)
    return -np.sum(unit_true * unit_pred, axis=axes)


class CosineSimilarity(LossFunctionWrapper):
    """Class form of :func:`cosine_similarity`.

    Examples
    --------
    >>> # (0 - 1) / 2
    >>> CosineSimilarity(axis=1)([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
    np.float32(-0.5)
    """

    def __init__(
        self,
        axis: int | tuple[int, ...] | None = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis
        )
