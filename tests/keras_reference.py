"""Helpers that compute the *reference* numbers with real Keras / TensorFlow.

Tests compare ``course_lib`` against these.  Nothing here is mocked: every
value comes from ``keras.losses`` and every reference gradient from
``tf.GradientTape`` or from central finite differences of our own loss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras  # noqa: E402  (conftest has silenced TF's logs already)
import numpy as np
import tensorflow as tf

#: Relative/absolute tolerances measured for float32 parity with Keras, asserted by the
#: family test files (tests/losses/test_regression.py, tests/losses/test_probabilistic.py,
#: tests/losses/test_reduction.py, ...).
RTOL32, ATOL32 = 2e-5, 2e-6
#: Float64 parity: Keras computes in float64 too, so only rounding-order noise remains.
RTOL64, ATOL64 = 1e-9, 1e-12


def keras_class_value(
    class_name: str,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    mask: Any = None,
    **config: Any,
) -> np.ndarray:
    """Value of ``keras.losses.<class_name>(**config)(y_true, y_pred, sample_weight)``.

    ``mask`` is attached to ``y_pred`` as Keras' ``_keras_mask``.
    """
    loss = getattr(keras.losses, class_name)(**config)
    dtype = config.get("dtype") or "float32"
    y_pred_t = tf.convert_to_tensor(np.asarray(y_pred), dtype=dtype)
    if mask is not None:
        keras.src.backend.set_keras_mask(y_pred_t, tf.convert_to_tensor(np.asarray(mask, bool)))
    return np.asarray(loss(y_true, y_pred_t, sample_weight=sample_weight))


def keras_function_value(function_name: str, y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
    """Per-sample values of ``keras.losses.<function_name>`` on NumPy inputs (dtype kept)."""
    fn = getattr(keras.losses, function_name)
    return np.asarray(fn(tf.constant(y_true), tf.constant(y_pred), **kwargs))


def tape_gradient(function_name: str, y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
    """``d/dy_pred sum(keras.losses.<function_name>(y_true, y_pred))`` by ``tf.GradientTape``."""
    fn = getattr(keras.losses, function_name)
    y_pred_v = tf.Variable(np.asarray(y_pred))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(fn(tf.constant(y_true), y_pred_v, **kwargs))
    return tape.gradient(total, y_pred_v).numpy()


def finite_difference_gradient(
    loss_fn: Callable[..., np.ndarray], y_true: Any, y_pred: np.ndarray, step: float = 1e-6, **kwargs: Any
) -> np.ndarray:
    """Central differences of ``sum(loss_fn(y_true, y_pred))`` in float64."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    grad = np.zeros_like(y_pred)
    for index in np.ndindex(y_pred.shape):
        up, down = y_pred.copy(), y_pred.copy()
        up[index] += step
        down[index] -= step
        grad[index] = (np.sum(loss_fn(y_true, up, **kwargs)) - np.sum(loss_fn(y_true, down, **kwargs))) / (
            2 * step
        )
    return grad
