r"""Gradients of the image losses with respect to ``y_pred``, derived by hand.

Write :math:`x` for ``y_true``, :math:`y` for ``y_pred`` and let :math:`F` be
the window filter, :math:`(Fz)_p = \sum_q w_q z_{p+q}`.  SSIM at position
:math:`p` depends on :math:`y` only through three local moments,

.. math:: m = F y, \qquad s = F(y^2), \qquad c = F(x y),

since :math:`\mu_y = m`, :math:`\sigma_y^2 = s - m^2`,
:math:`\sigma_{xy} = c - \mu_x m`.
With :math:`A_1 = 2\mu_x\mu_y + C_1`, :math:`A_2 = 2\sigma_{xy} + C_2`,
:math:`B_1 = \mu_x^2 + \mu_y^2 + C_1`, :math:`B_2 = \sigma_x^2 + \sigma_y^2 + C_2`
and :math:`S = A_1 A_2 / (B_1 B_2)`, the quotient rule gives

.. math::
    \frac{\partial S}{\partial m} = S\Bigl(\frac{2\mu_x}{A_1} - \frac{2\mu_x}{A_2}
        - \frac{2\mu_y}{B_1} + \frac{2\mu_y}{B_2}\Bigr), \qquad
    \frac{\partial S}{\partial s} = -\frac{S}{B_2}, \qquad
    \frac{\partial S}{\partial c} = \frac{2S}{A_2}.

:math:`F` is linear, so the chain rule back to the pixels needs its adjoint
:math:`F^\top`: the *full* correlation with the flipped window (every pixel
collects the weights of every window position that covered it).  With
:math:`P C` the number of positions and channels,

.. math::
    \frac{\partial (1 - \overline{S})}{\partial y} = -\frac{1}{PC}\Bigl(
        F^\top\!\frac{\partial S}{\partial m}
        + 2y\, F^\top\!\frac{\partial S}{\partial s}
        + x\, F^\top\!\frac{\partial S}{\partial c}\Bigr).

This is the gradient in Appendix B of Wang et al. (2004), written for a
general window.  The mixed loss adds :math:`(1-\alpha)\operatorname{sign}(y - x)/(HWC)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from course_lib.gradients._common import shaped_like
from course_lib.losses import image as losses
from course_lib.losses._validation import as_float_array, validates_options
from course_lib.losses.image import (
    as_images,
    check_window,
    local_filter,
    ssim_map,
)

__all__ = ["ssim_loss", "ssim_l1_loss"]


def local_filter_adjoint(g: np.ndarray, window: np.ndarray) -> np.ndarray:
    r"""The adjoint :math:`F^\top` of :func:`~course_lib.losses.image.local_filter`.

    Pads ``g`` of shape ``(B, H', W', C)`` by :math:`k-1` zeros on each side and
    correlates with the flipped window, giving ``(B, H, W, C)``.  It satisfies
    :math:`\langle F x, g\rangle = \langle x, F^\top g\rangle`:

    >>> from course_lib.losses.image import check_window
    >>> rng = np.random.default_rng(0)
    >>> x, g, w = rng.random((1, 5, 4, 2)), rng.random((1, 3, 2, 2)), check_window(3)
    >>> bool(np.isclose(np.sum(local_filter(x, w) * g),
    ...                 np.sum(x * local_filter_adjoint(g, w))))
    True
    """
    k1, k2 = window.shape
    padded = np.pad(g, ((0, 0), (k1 - 1, k1 - 1), (k2 - 1, k2 - 1), (0, 0)))
    return local_filter(padded, window[::-1, ::-1])


def one_minus_ssim_gradient(
    y_true: np.ndarray, y_pred: np.ndarray, max_val: float, window: np.ndarray
) -> np.ndarray:
    """Gradient of :math:`\\sum_i (1 - \\mathrm{SSIM}_i)` on ``(B, H, W, C)`` images."""
    values, t = ssim_map(y_true, y_pred, max_val, window)
    d_mean = values * (
        2 * t["mu_x"] / t["a1"]
        - 2 * t["mu_x"] / t["a2"]
        - 2 * t["mu_y"] / t["b1"]
        + 2 * t["mu_y"] / t["b2"]
    )
    d_square = -values / t["b2"]
    d_cross = 2 * values / t["a2"]
    count = values.shape[1] * values.shape[2] * values.shape[3]
    grad = (
        local_filter_adjoint(d_mean, window)
        + 2 * y_pred * local_filter_adjoint(d_square, window)
        + y_true * local_filter_adjoint(d_cross, window)
    )
    return -grad / count


@validates_options(**losses.ssim_loss.option_checks)
def ssim_loss(
    y_true: ArrayLike, y_pred: ArrayLike, max_val: float = 1.0, window: Any = 7
) -> np.ndarray:
    r"""Gradient of :math:`1 - \operatorname{SSIM}`.

    The derivation is in ``help(course_lib.gradients.image)``.

    >>> x = np.linspace(0, 1, 16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> g = ssim_loss(x, x, window=3)  # at a minimum
    >>> g.shape, float(np.abs(g).max())
    ((1, 4, 4, 1), 0.0)
    """
    shape = as_float_array(y_pred, "y_pred").shape
    window = check_window(window)  # the weights, summing to 1
    y_true, y_pred = as_images(y_true, y_pred, window)
    return shaped_like(
        one_minus_ssim_gradient(y_true, y_pred, max_val, window), shape, y_pred.dtype
    )


@validates_options(**losses.ssim_l1_loss.option_checks)
def ssim_l1_loss(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    alpha: float = 0.84,
    max_val: float = 1.0,
    window: Any = 7,
) -> np.ndarray:
    r"""Gradient of :math:`\alpha(1 - \operatorname{SSIM}) + (1-\alpha)\ell_1`:
    :math:`\alpha\,\partial(1-\operatorname{SSIM})/\partial y +
    (1-\alpha)\operatorname{sign}(y - x)/(HWC)`.

    >>> x = np.zeros((1, 2, 2, 1), dtype=np.float32)
    >>> ssim_l1_loss(x, x + 0.5, alpha=0.0, window=1)[0, ..., 0]  # pure L1: sign / 4
    array([[0.25, 0.25],
           [0.25, 0.25]], dtype=float32)
    """
    shape = as_float_array(y_pred, "y_pred").shape
    window = check_window(window)  # the weights, summing to 1
    y_true, y_pred = as_images(y_true, y_pred, window)
    pixels = y_pred.shape[1] * y_pred.shape[2] * y_pred.shape[3]
    grad = alpha * one_minus_ssim_gradient(y_true, y_pred, max_val, window)
    grad = grad + (1 - alpha) * np.sign(y_pred - y_true) / pixels
    return shaped_like(grad, shape, y_pred.dtype)
