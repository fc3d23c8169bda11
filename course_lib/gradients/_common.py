"""Small helpers shared by the gradient modules."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.losses._validation import as_float_array, as_pair


def pair_with_shape(
    y_true: ArrayLike, y_pred: ArrayLike
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Like :func:`~course_lib.losses._validation.as_pair`, also returning the
    shape ``y_pred`` had before rank alignment (the gradient's shape)."""
    shape = as_float_array(y_pred, "y_pred").shape
    y_true, y_pred = as_pair(y_true, y_pred)
    return y_true, y_pred, shape


def shaped_like(
    grad: np.ndarray, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """Return ``grad`` reshaped to ``y_pred``'s original shape and cast to its dtype."""
    return np.asarray(grad, dtype=dtype).reshape(shape)
