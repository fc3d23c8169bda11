r"""Gradients of the regression losses with respect to ``y_pred``.

Each function has the signature of its loss in
:mod:`course_lib.losses.regression` and returns
:math:`\partial \sum_i \ell_i / \partial \hat y`, shaped like ``y_pred``.
With :math:`d` the size of the last axis and :math:`e = \hat y - y`:

==================  ====================================================
loss                gradient per element
==================  ====================================================
MSE                 :math:`2e/d`
MAE                 :math:`\operatorname{sign}(e)/d`
MAPE                :math:`100\,\operatorname{sign}(e) / (d \max(|y|,\epsilon))`
MSLE                :math:`2 r / (d(1+\hat y))` where :math:`\hat y>\epsilon`, else 0
Huber               :math:`\operatorname{clip}(e, -\delta, \delta)/d`
log-cosh            :math:`\tanh(e)/d`
==================  ====================================================
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.gradients._common import pair_with_shape, shaped_like
from course_lib.losses import regression as losses
from course_lib.losses._validation import validates_options
from course_lib.losses.numerics import EPSILON

__all__ = [
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
]


def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of MSE: :math:`\partial\ell/\partial\hat y_j = 2(\hat y_j - y_j)/d`.

    >>> mean_squared_error([[0., 1.]], [[1., 1.]])
    array([[1., 0.]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    return shaped_like(2.0 * (y_pred - y_true) / y_pred.shape[-1], shape, y_pred.dtype)


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of MAE: :math:`\operatorname{sign}(\hat y_j - y_j)/d`, 0 at a tie.

    >>> mean_absolute_error([[0., 1.]], [[2., -1.]])
    array([[ 0.5, -0.5]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    return shaped_like(np.sign(y_pred - y_true) / y_pred.shape[-1], shape, y_pred.dtype)


def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of MAPE:
    :math:`100\operatorname{sign}(\hat y_j - y_j)/(d\max(|y_j|,\epsilon))`.

    >>> mean_absolute_percentage_error([[100., 200.]], [[110., 180.]])
    array([[ 0.5 , -0.25]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    scale = 100.0 / (y_pred.shape[-1] * np.maximum(np.abs(y_true), EPSILON))
    return shaped_like(np.sign(y_pred - y_true) * scale, shape, y_pred.dtype)


def mean_squared_logarithmic_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of MSLE.

    With :math:`r_j = \log(1+\max(\hat y_j,\epsilon)) - \log(1+\max(y_j,\epsilon))`,
    :math:`\partial\ell/\partial\hat y_j = 2 r_j / (d\,(1 + \hat y_j))` where
    :math:`\hat y_j > \epsilon`, and 0 where the clamp is active.

    >>> mean_squared_logarithmic_error([[0.]], [[np.e - 1]])
    array([[0.73575...]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    clamped = np.maximum(y_pred, EPSILON)
    log_ratio = np.log1p(clamped) - np.log1p(np.maximum(y_true, EPSILON))
    grad = 2.0 * log_ratio / (y_pred.shape[-1] * (1.0 + clamped))
    return shaped_like(np.where(y_pred > EPSILON, grad, 0.0), shape, y_pred.dtype)


@validates_options(**losses.huber.option_checks)
def huber(y_true: ArrayLike, y_pred: ArrayLike, delta: float = 1.0) -> np.ndarray:
    r"""Gradient of Huber:
    :math:`\operatorname{clip}(\hat y_j - y_j, -\delta, \delta)/d`.

    Inside the quadratic zone the gradient is the error itself; outside it is
    capped at :math:`\pm\delta`, which is why an outlier cannot dominate a fit.

    >>> huber([[0., 0.]], [[0.5, 3.]], delta=1.0)
    array([[0.25, 0.5 ]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    return shaped_like(
        np.clip(y_pred - y_true, -delta, delta) / y_pred.shape[-1], shape, y_pred.dtype
    )


def log_cosh(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of log-cosh: :math:`\tanh(\hat y_j - y_j)/d`, a smooth sign function.

    >>> log_cosh([[0.]], [[100.]])
    array([[1.]], dtype=float32)
    """
    y_true, y_pred, shape = pair_with_shape(y_true, y_pred)
    return shaped_like(np.tanh(y_pred - y_true) / y_pred.shape[-1], shape, y_pred.dtype)
