r"""Regression losses: how far is a real-valued prediction from its target?

Each function returns one value per sample by averaging over the last axis,
so ``y`` of shape ``(batch, d)`` gives ``(batch,)``.  Each class wraps its
function and adds ``sample_weight`` and the reduction (see ``reduction.py``).

=========================  ===========================  ==========================
loss                       first-principles origin      minimiser of the expected loss
=========================  ===========================  ==========================
mean squared error         Gaussian likelihood          conditional mean
mean absolute error        Laplace likelihood           conditional median
Huber                      robust statistics (M-est.)   between mean and median
log-cosh                   smooth Huber                 between mean and median
MSLE                       Gaussian on ``log(1+y)``     geometric-type mean
MAPE                       relative error               a weighted median
=========================  ===========================  ==========================
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import (
    as_pair,
    check_non_negative,
    validates_options,
)
from course_lib.losses.numerics import EPSILON

__all__ = [
    "MeanSquaredError", "mean_squared_error",
    "MeanAbsoluteError", "mean_absolute_error",
    "MeanAbsolutePercentageError", "mean_absolute_percentage_error",
    "MeanSquaredLogarithmicError", "mean_squared_logarithmic_error",
    "Huber", "huber",
    "LogCosh", "log_cosh",
]  # fmt: skip


def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Mean squared error over the last axis.

    .. math:: \ell(y, \hat y) = \frac{1}{d}\sum_{j=1}^{d} (y_j - \hat y_j)^2

    It is the negative log-likelihood of a Gaussian with fixed variance, up to
    constants, so its minimiser is the conditional *mean*.  Gradient:
    :math:`\partial \ell / \partial \hat y_j = 2(\hat y_j - y_j)/d`.

    Examples
    --------
    >>> mean_squared_error([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    array([0.5, 0.5], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Mean absolute error over the last axis.

    .. math:: \ell(y, \hat y) = \frac{1}{d}\sum_{j} |y_j - \hat y_j|

    The negative log-likelihood of a Laplace distribution: its minimiser is the
    conditional *median*, so single outliers pull it far less than MSE.
    Gradient: :math:`\operatorname{sign}(\hat y_j - y_j)/d` (0 at a tie).

    Examples
    --------
    >>> mean_absolute_error([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    array([0.5, 0.5], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    return np.mean(np.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Mean absolute percentage error over the last axis.

    .. math::
        \ell(y, \hat y)
        = \frac{100}{d}\sum_j \frac{|y_j - \hat y_j|}{\max(|y_j|, \epsilon)},
        \qquad \epsilon = 10^{-7}

    A relative error: it assumes targets far from zero.  A zero target is
    divided by :math:`\epsilon` and gives an enormous loss, as in Keras.

    Examples
    --------
    >>> mean_absolute_percentage_error([[100., 200.]], [[110., 180.]])
    array([10.], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    relative = np.abs(y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON)
    return 100.0 * np.mean(relative, axis=-1)


def mean_squared_logarithmic_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Mean squared logarithmic error over the last axis.

    .. math::
        \ell(y, \hat y) = \frac{1}{d}\sum_j
        \bigl(\log(1 + \max(\hat y_j, \epsilon)) - \log(1 + \max(y_j, \epsilon))\bigr)^2

    MSE on :math:`\log(1+y)`: it penalises *ratios*, suits positive targets
    spanning orders of magnitude, and (as in Keras) clamps negative inputs to
    :math:`\epsilon` rather than rejecting them.

    Examples
    --------
    >>> mean_squared_logarithmic_error([[0., 1.]], [[0., np.e * 2 - 1]])
    array([0.5], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    log_ratio = np.log1p(np.maximum(y_pred, EPSILON)) - np.log1p(
        np.maximum(y_true, EPSILON)
    )
    return np.mean(np.square(log_ratio), axis=-1)


@validates_options(delta=check_non_negative)
def huber(y_true: ArrayLike, y_pred: ArrayLike, delta: float = 1.0) -> np.ndarray:
    r"""Huber loss over the last axis.

    With the error :math:`e = \hat y - y`,

    .. math::
        h_\delta(e) = \begin{cases}
            \tfrac12 e^2 & |e| \le \delta \\
            \delta |e| - \tfrac12 \delta^2 & |e| > \delta
        \end{cases}

    Quadratic (MSE-like, efficient) for small errors and linear (MAE-like,
    robust) for large ones; the two pieces meet with equal value and slope at
    :math:`|e| = \delta`.  Gradient: :math:`\operatorname{clip}(e, -\delta, \delta)/d`.

    Parameters
    ----------
    delta : float, default 1.0
        Where the quadratic part ends; must be ``>= 0``.

    Examples
    --------
    >>> # 1/8 + (2 - 1/2), 0 + (2 - 1/2)
    >>> huber([[0., 1.], [0., 0.]], [[0.5, -1.], [2., 0.]])
    array([0.8125, 0.75  ], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = np.abs(error)
    quadratic = 0.5 * np.square(error)
    linear = delta * abs_error - 0.5 * delta**2
    return np.mean(np.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Logarithm of the hyperbolic cosine of the error, averaged over the last axis.

    .. math:: \ell(y, \hat y) = \frac1d \sum_j \log\cosh(\hat y_j - y_j)

    :math:`\log\cosh e \approx e^2/2` for small :math:`e` and :math:`|e| - \log 2`
    for large :math:`e`: a Huber loss with :math:`\delta=1` that is smooth
    everywhere.  ``cosh`` overflows float32 beyond :math:`|e| \approx 89`, so we
    factor out the larger exponential:
    :math:`\log\cosh e = |e| + \log(1 + e^{-2|e|}) - \log 2`, where the
    exponential is at most 1.  (Keras writes the same quantity as
    :math:`e + \operatorname{softplus}(-2e) - \log 2`.)
    Gradient: :math:`\tanh(e)/d`.

    Examples
    --------
    >>> log_cosh([[0., 1.], [0., 0.]], [[1., 1.], [0., 0.]])
    array([0.2168904, 0.       ], dtype=float32)
    >>> log_cosh([[0.]], [[100.]])  # cosh(100) would overflow float32
    array([99.30685], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    abs_error = np.abs(y_pred - y_true)
    log_2 = y_pred.dtype.type(np.log(2.0))
    return np.mean(abs_error + np.log1p(np.exp(-2.0 * abs_error)) - log_2, axis=-1)


class MeanSquaredError(LossFunctionWrapper):
    """Class form of :func:`mean_squared_error`, with reduction and ``sample_weight``.

    Examples
    --------
    >>> MeanSquaredError()([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    np.float32(0.5)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_error",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            mean_squared_error, reduction=reduction, name=name, dtype=dtype
        )


class MeanAbsoluteError(LossFunctionWrapper):
    """Class form of :func:`mean_absolute_error`.

    Examples
    --------
    >>> MeanAbsoluteError(reduction="sum")([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    np.float32(1.0)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_error",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            mean_absolute_error, reduction=reduction, name=name, dtype=dtype
        )


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Class form of :func:`mean_absolute_percentage_error`."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_percentage_error",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype
        )


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Class form of :func:`mean_squared_logarithmic_error`."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_logarithmic_error",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype
        )


class Huber(LossFunctionWrapper):
    """Class form of :func:`huber`.  Note Keras names the class' loss ``"huber_loss"``.

    Examples
    --------
    >>> Huber()([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    np.float32(0.155)
    """

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            huber, reduction=reduction, name=name, dtype=dtype, delta=delta
        )


class LogCosh(LossFunctionWrapper):
    """Class form of :func:`log_cosh`.

    Examples
    --------
    >>> LogCosh()([[0., 1.], [0., 0.]], [[1., 1.], [0., 0.]])
    np.float32(0.10844...)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "log_cosh",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)
