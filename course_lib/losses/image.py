r"""Image losses: compare two images by *structure*, not pixel by pixel.

MSE and MAE treat an image as a bag of independent pixels.  The structural
similarity index (SSIM) of Wang, Bovik, Sheikh and Simoncelli (2004, "Image
quality assessment: from error visibility to structural similarity", IEEE TIP
13(4)) compares *local statistics* instead.  For every position :math:`p` of a
small window :math:`w` (non-negative weights that sum to 1) slid over the
image, with :math:`x` the reference (``y_true``) and :math:`y` the estimate
(``y_pred``):

.. math::
    \mu_x = \sum_q w_q x_{p+q}, \quad
    \sigma_x^2 = \sum_q w_q x_{p+q}^2 - \mu_x^2, \quad
    \sigma_{xy} = \sum_q w_q x_{p+q} y_{p+q} - \mu_x \mu_y,

.. math::
    \operatorname{SSIM}_p =
        \frac{(2\mu_x\mu_y + C_1)\,(2\sigma_{xy} + C_2)}
             {(\mu_x^2 + \mu_y^2 + C_1)\,(\sigma_x^2 + \sigma_y^2 + C_2)},
    \qquad C_1 = (0.01 L)^2,\; C_2 = (0.03 L)^2,

with :math:`L` the dynamic range (``max_val``).  The first factor compares
brightness, the second contrast and structure; both are 1 only for identical
patches.  The window slides over *valid* positions only (no padding), and the
SSIM of an image is the mean of :math:`\operatorname{SSIM}_p` over positions
and channels.  The loss is :math:`1 - \operatorname{SSIM}`.

Zhao, Gallo, Frosio and Kautz (2017, "Loss Functions for Image Restoration
with Neural Networks", IEEE TCI 3(1)) mix a structural term with L1:
:math:`\alpha(1-\operatorname{SSIM}) + (1-\alpha)\,\ell_1` with
:math:`\alpha = 0.84`.  They use the multi-scale SSIM and a Gaussian-weighted
L1; :func:`ssim_l1_loss` keeps the single-scale SSIM and the plain L1, so that
every term is explicit.

Keras has no SSIM loss; :func:`tf.image.ssim` is the reference (it uses an
11x11 Gaussian window with :math:`\sigma = 1.5`: pass
``window=gaussian_window(11, 1.5)`` to reproduce it).

Shapes: images are ``(B, H, W, C)`` (channels last) or ``(B, H, W)`` (one
channel); the functions return one value per image, shape ``(B,)``.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import (
    OptionCheck,
    as_float_array,
    as_pair,
    check_real,
    in_interval,
    validates_options,
)

__all__ = [
    "SSIMLoss", "ssim_loss",
    "SSIML1Loss", "ssim_l1_loss",
]  # fmt: skip

#: Wang et al.'s constants: :math:`C_1 = (K_1 L)^2`, :math:`C_2 = (K_2 L)^2`.
K1, K2 = 0.01, 0.03


def gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    r"""A 1-D Gaussian window :math:`w_i \propto e^{-(i - c)^2 / (2\sigma^2)}`,
    summing to 1.

    Passed as ``window=`` it is used separably, :math:`w_{ij} = w_i w_j` --
    the window of Wang et al. (2004) and of :func:`tf.image.ssim` for
    ``gaussian_window(11, 1.5)``.

    >>> gaussian_window(3, 1.0)
    array([0.27406862, 0.45186276, 0.27406862])
    """
    size = _check_window_size(size)
    sigma = check_real(sigma, "sigma")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0; got {sigma}.")
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    weights = np.exp(-np.square(offsets) / (2.0 * sigma**2))
    return weights / weights.sum()


def _check_window_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, Integral):
        raise TypeError(f"window size must be an int; got {size!r}.")
    if size < 1:
        raise ValueError(f"window size must be >= 1; got {size}.")
    return int(size)


def check_window(window: Any) -> np.ndarray:
    """Return ``window`` as a 2-D float64 array of weights that sum to 1.

    An int ``k`` gives the uniform ``k x k`` window; a 1-D array ``w`` gives the
    separable window :math:`w_i w_j`; a 2-D array is used as it is.  Weights must
    be finite and non-negative with a positive sum; they are normalised to sum 1.

    >>> check_window(2)
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    if isinstance(window, (bool, Integral)):
        size = _check_window_size(window)
        return np.full((size, size), 1.0 / size**2)
    weights = as_float_array(window, "window", np.float64)
    if weights.ndim == 1:
        weights = np.outer(weights, weights)
    if weights.ndim != 2 or weights.size == 0:
        raise ValueError(
            "window must be an int, a 1-D or a 2-D array of weights; "
            f"got shape {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(
            "window weights must be finite, non-negative and have a positive sum."
        )
    return weights / weights.sum()


def check_max_val(value: Any, name: str = "max_val") -> float:
    """The dynamic range :math:`L > 0` of the images (1 for [0, 1], 255 for 8-bit)."""
    value = check_real(value, name)
    if value <= 0:
        raise ValueError(
            f"{name} must be > 0 (the dynamic range of the images); got {value}."
        )
    return value


def check_window_option(value: Any, name: str = "window") -> Any:
    """Check ``window`` with :func:`check_window` but keep it readable: an int
    stays an int, an array becomes a list (what ``get_config`` shows)."""
    check_window(value)
    return (
        value
        if isinstance(value, Integral)
        else np.asarray(value, dtype=np.float64).tolist()
    )


#: The options of the SSIM index and of both SSIM losses.
SSIM_OPTIONS: dict[str, OptionCheck] = {
    "max_val": check_max_val,
    "window": check_window_option,
}


def as_images(
    y_true: ArrayLike, y_pred: ArrayLike, window: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of image batches; return them as ``(B, H, W, C)``.

    ``(B, H, W)`` gets a channel axis; the window must fit inside ``H x W``.
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    if y_pred.ndim == 3:
        y_true, y_pred = y_true[..., np.newaxis], y_pred[..., np.newaxis]
    if y_pred.ndim != 4:
        raise ValueError(
            "images must have shape (batch, height, width, channels) or "
            "(batch, height, width); "
            f"got shape {y_pred.shape}."
        )
    if window.shape[0] > y_pred.shape[1] or window.shape[1] > y_pred.shape[2]:
        raise ValueError(
            f"the {window.shape[0]}x{window.shape[1]} window does not fit in images of "
            f"{y_pred.shape[1]}x{y_pred.shape[2]} pixels; use a smaller window."
        )
    return y_true, y_pred


def local_filter(x: np.ndarray, window: np.ndarray) -> np.ndarray:
    r"""Weighted local means :math:`\sum_q w_q x_{p+q}` at every *valid* position.

    A 2-D cross-correlation over axes 1 and 2 of ``(B, H, W, C)``, giving
    ``(B, H-k_1+1, W-k_2+1, C)``; vectorised with a sliding-window view.

    >>> local_filter(np.arange(9.).reshape(1, 3, 3, 1), check_window(2))[..., 0]
    array([[[2., 3.],
            [5., 6.]]])
    """
    patches = sliding_window_view(
        x, window.shape, axis=(1, 2)
    )  # (B, H', W', C, k1, k2)
    return np.einsum("bhwcij,ij->bhwc", patches, window.astype(x.dtype), optimize=True)


def ssim_map(
    y_true: np.ndarray, y_pred: np.ndarray, max_val: float, window: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:math:`\\operatorname{SSIM}_p` at every valid position, and the local statistics
    (``mu_x, mu_y, a1, a2, b1, b2``) that the gradient reuses."""
    dtype = y_pred.dtype.type
    c1, c2 = dtype((K1 * max_val) ** 2), dtype((K2 * max_val) ** 2)
    mu_x, mu_y = local_filter(y_true, window), local_filter(y_pred, window)
    var_x = local_filter(y_true * y_true, window) - mu_x * mu_x
    var_y = local_filter(y_pred * y_pred, window) - mu_y * mu_y
    cov_xy = local_filter(y_true * y_pred, window) - mu_x * mu_y
    terms = {
        "mu_x": mu_x,
        "mu_y": mu_y,
        "a1": 2 * mu_x * mu_y + c1,
        "a2": 2 * cov_xy + c2,
        "b1": mu_x * mu_x + mu_y * mu_y + c1,
        "b2": var_x + var_y + c2,
    }
    values = terms["a1"] * terms["a2"] / (terms["b1"] * terms["b2"])
    return values, terms


@validates_options(**SSIM_OPTIONS)
def ssim(
    y_true: ArrayLike, y_pred: ArrayLike, max_val: float = 1.0, window: Any = 7
) -> np.ndarray:
    r"""The SSIM index of each image pair,
    :math:`\frac{1}{P C}\sum_{p,c}\operatorname{SSIM}_{p,c}`.

    A *metric* in :math:`[-1, 1]` (1 only for identical images); see the module
    docstring for the formula.  ``window=7`` is the uniform 7x7 window.

    >>> x = np.linspace(0, 1, 16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> ssim(x, x, window=3)
    array([1.], dtype=float32)
    """
    window = check_window(window)  # the weights, summing to 1
    y_true, y_pred = as_images(y_true, y_pred, window)
    values, _ = ssim_map(y_true, y_pred, max_val, window)
    return np.mean(values, axis=(1, 2, 3))


@validates_options(**SSIM_OPTIONS)
def ssim_loss(
    y_true: ArrayLike, y_pred: ArrayLike, max_val: float = 1.0, window: Any = 7
) -> np.ndarray:
    r"""SSIM loss of each image: :math:`\ell = 1 - \operatorname{SSIM}(y, \hat y)`.

    .. math::
        \ell = 1 - \frac{1}{P\,C}\sum_{p, c}
        \frac{(2\mu_y\mu_{\hat y} + C_1)(2\sigma_{y\hat y} + C_2)}
             {(\mu_y^2 + \mu_{\hat y}^2 + C_1)(\sigma_y^2 + \sigma_{\hat y}^2 + C_2)}

    over the :math:`P` valid window positions and :math:`C` channels, with
    :math:`C_1 = (0.01L)^2`, :math:`C_2 = (0.03L)^2`.  It lies in
    :math:`[0, 2]` and is 0 only for identical images.  It is blind to errors
    that leave local means, variances and correlations unchanged, and weights
    an error by the local contrast: the same error costs more in a flat region
    than in a textured one.

    Parameters
    ----------
    y_true, y_pred : arrays, shape ``(B, H, W, C)`` or ``(B, H, W)``
        Reference and restored images.
    max_val : float, default 1.0
        Dynamic range :math:`L` of the images (1 for [0, 1], 255 for 8-bit).
    window : int or array, default 7
        An int ``k`` for the uniform ``k x k`` window; a 1-D array (such as
        :func:`gaussian_window`) for a separable window; or a 2-D array.

    Examples
    --------
    >>> x = np.linspace(0, 1, 16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> ssim_loss(x, x, window=3)
    array([0.], dtype=float32)
    >>> ssim_loss(x, 1 - x, window=3)  # inverted contrast: correlation -1
    array([1.846...], dtype=float32)
    """
    return 1 - ssim.unchecked(y_true, y_pred, max_val=max_val, window=window)


@validates_options(alpha=in_interval(0.0, 1.0), **SSIM_OPTIONS)
def ssim_l1_loss(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    alpha: float = 0.84,
    max_val: float = 1.0,
    window: Any = 7,
) -> np.ndarray:
    r"""The mixed loss of Zhao et al. (2017):
    :math:`\alpha(1-\operatorname{SSIM}) + (1-\alpha)\,\ell_1`.

    .. math::
        \ell = \alpha\,\bigl(1 - \operatorname{SSIM}(y, \hat y)\bigr)
             + (1-\alpha)\,\frac{1}{HWC}\sum_{h,w,c} |y_{hwc} - \hat y_{hwc}|

    SSIM keeps edges and local contrast; L1 anchors the brightness and colour
    that SSIM barely sees in flat regions.  ``alpha = 0.84`` is the paper's
    value (there with MS-SSIM and a Gaussian-weighted L1; here the plain
    single-scale SSIM and the plain L1).

    Parameters
    ----------
    alpha : float, default 0.84
        Weight of the SSIM term, in :math:`[0, 1]` (1: pure SSIM loss, 0: pure L1).
    max_val, window
        As in :func:`ssim_loss`.

    Examples
    --------
    >>> x = np.linspace(0, 1, 16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> ssim_l1_loss(x, x + 0.1, window=3)  # 0.84 * 0.0198 + 0.16 * 0.1
    array([0.0326...], dtype=float32)
    """
    window = check_window(window)  # the weights, summing to 1
    y_true, y_pred = as_images(y_true, y_pred, window)
    structural = 1 - np.mean(
        ssim_map(y_true, y_pred, max_val, window)[0], axis=(1, 2, 3)
    )
    l1 = np.mean(np.abs(y_true - y_pred), axis=(1, 2, 3))
    return alpha * structural + (1 - alpha) * l1


class SSIMLoss(LossFunctionWrapper):
    """Class form of :func:`ssim_loss`: one value per image, then the reduction.

    Examples
    --------
    >>> x = np.linspace(0, 1, 16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> SSIMLoss(window=3)(x, x)
    np.float32(0.0)
    """

    def __init__(
        self,
        max_val: float = 1.0,
        window: Any = 7,
        reduction: str | None = "sum_over_batch_size",
        name: str = "ssim_loss",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            ssim_loss,
            reduction=reduction,
            name=name,
            dtype=dtype,
            max_val=max_val,
            window=window,
        )


class SSIML1Loss(LossFunctionWrapper):
    """Class form of :func:`ssim_l1_loss` (Zhao et al. 2017's mix, ``alpha = 0.84``).

    Examples
    --------
    >>> x = np.linspace(0, 1, 16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> SSIML1Loss(alpha=0.0, window=3)(x, x + 0.5)  # alpha = 0: plain L1
    np.float32(0.5)
    """

    def __init__(
        self,
        alpha: float = 0.84,
        max_val: float = 1.0,
        window: Any = 7,
        reduction: str | None = "sum_over_batch_size",
        name: str = "ssim_l1_loss",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            ssim_l1_loss,
            reduction=reduction,
            name=name,
            dtype=dtype,
            alpha=alpha,
            max_val=max_val,
            window=window,
        )
