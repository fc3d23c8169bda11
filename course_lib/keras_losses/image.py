r"""Keras versions of the image losses of :mod:`course_lib.losses.image`.

The same formulas, written with ``keras.ops`` so that they train a model on
any backend: the window filter is a depthwise 2-D convolution with ``"valid"``
padding (one copy of the window per channel), and autodiff replaces the
hand-derived gradient of :mod:`course_lib.gradients.image`.  Images are
``(B, H, W, C)``; the functions return one value per image, like a Keras loss.

>>> import numpy as np
>>> x = np.linspace(0, 1, 16, dtype="float32").reshape(1, 4, 4, 1)
>>> float(ssim_loss(x, x, window=3)[0])
0.0
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from course_lib.losses import image as numpy_losses
from course_lib.losses._validation import validates_options
from course_lib.losses.image import K1, K2, check_window

__all__ = ["SSIMLoss", "ssim_loss", "SSIML1Loss", "ssim_l1_loss"]


def _filter(x: Any, window: np.ndarray) -> Any:
    r"""Local weighted means :math:`\sum_q w_q x_{p+q}` at the valid positions of
    ``(B, H, W, C)``."""
    channels = x.shape[-1]
    kernel = np.tile(window[:, :, None, None], (1, 1, channels, 1)).astype(
        keras.backend.standardize_dtype(x.dtype)
    )
    return ops.depthwise_conv(x, kernel, strides=1, padding="valid")


def _images(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    if len(y_pred.shape) == 3:
        y_true, y_pred = ops.expand_dims(y_true, -1), ops.expand_dims(y_pred, -1)
    if len(y_pred.shape) != 4 or tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            "y_true and y_pred must be image batches of the same shape "
            "(B, H, W, C) or (B, H, W); "
            f"got {tuple(y_true.shape)} and {tuple(y_pred.shape)}."
        )
    if y_pred.shape[-1] is None:
        raise ValueError("the number of channels of y_pred must be known (not None).")
    return y_true, y_pred


def _ssim_per_image(
    y_true: Any, y_pred: Any, max_val: float, window: np.ndarray
) -> Any:
    c1, c2 = (K1 * max_val) ** 2, (K2 * max_val) ** 2
    # One depthwise convolution filters the five maps at once: x, y, x^2, y^2, xy.
    stacked = ops.concatenate(
        [y_true, y_pred, y_true * y_true, y_pred * y_pred, y_true * y_pred], axis=-1
    )
    mu_x, mu_y, mean_xx, mean_yy, mean_xy = ops.split(
        _filter(stacked, window), 5, axis=-1
    )
    var_x, var_y, cov_xy = (
        mean_xx - mu_x * mu_x,
        mean_yy - mu_y * mu_y,
        mean_xy - mu_x * mu_y,
    )
    numerator = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
    denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    return ops.mean(numerator / denominator, axis=(1, 2, 3))


@validates_options(**numpy_losses.ssim_loss.option_checks)
def ssim_loss(y_true: Any, y_pred: Any, max_val: float = 1.0, window: Any = 7) -> Any:
    r""":math:`1 - \operatorname{SSIM}` per image, as
    :func:`course_lib.losses.ssim_loss`."""
    window = check_window(window)  # the weights, summing to 1
    y_true, y_pred = _images(y_true, y_pred)
    return 1 - _ssim_per_image(y_true, y_pred, max_val, window)


@validates_options(**numpy_losses.ssim_l1_loss.option_checks)
def ssim_l1_loss(
    y_true: Any, y_pred: Any, alpha: float = 0.84, max_val: float = 1.0, window: Any = 7
) -> Any:
    r""":math:`\alpha(1-\operatorname{SSIM}) + (1-\alpha)\ell_1` per image, as
    :func:`course_lib.losses.ssim_l1_loss`."""
    window = check_window(window)  # the weights, summing to 1
    y_true, y_pred = _images(y_true, y_pred)
    structural = 1 - _ssim_per_image(y_true, y_pred, max_val, window)
    return alpha * structural + (1 - alpha) * ops.mean(
        ops.abs(y_true - y_pred), axis=(1, 2, 3)
    )


@keras.saving.register_keras_serializable(package="course_lib")
class SSIMLoss(keras.losses.Loss):
    """Keras class of :func:`ssim_loss`; ``get_config`` round-trips for saving."""

    def __init__(
        self,
        max_val: float = 1.0,
        window: Any = 7,
        reduction: str | None = "sum_over_batch_size",
        name: str = "ssim_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        options = ssim_loss.check_options(max_val=max_val, window=window)
        self.max_val = options["max_val"]
        self.window = options["window"]

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return ssim_loss.unchecked(
            y_true, y_pred, max_val=self.max_val, window=self.window
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_val": self.max_val, "window": self.window}


@keras.saving.register_keras_serializable(package="course_lib")
class SSIML1Loss(keras.losses.Loss):
    """Keras class of :func:`ssim_l1_loss` (Zhao et al. 2017's mix)."""

    def __init__(
        self,
        alpha: float = 0.84,
        max_val: float = 1.0,
        window: Any = 7,
        reduction: str | None = "sum_over_batch_size",
        name: str = "ssim_l1_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        options = ssim_l1_loss.check_options(
            alpha=alpha, max_val=max_val, window=window
        )
        self.alpha = options["alpha"]
        self.max_val = options["max_val"]
        self.window = options["window"]

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return ssim_l1_loss.unchecked(
            y_true, y_pred, alpha=self.alpha, max_val=self.max_val, window=self.window
        )

    def get_config(self) -> dict[str, Any]:
        config = {"alpha": self.alpha, "max_val": self.max_val, "window": self.window}
        return {**super().get_config(), **config}
