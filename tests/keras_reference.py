"""Helpers that compute the *reference* numbers with real Keras, on whichever backend
``KERAS_BACKEND`` selects (TensorFlow by default; JAX and PyTorch in the backend runs).

Tests compare ``course_lib`` against these.  Nothing here is mocked: every value comes
from ``keras.losses`` and every reference gradient from the backend's automatic
differentiation (``tf.GradientTape``, ``jax.grad``, ``torch.autograd``: see
``course_lib.compare.backend_gradient``) or from central finite differences of our own
loss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras  # noqa: E402  (conftest has silenced TF's logs already)
import numpy as np
from keras import ops

from course_lib.compare import backend_gradient

BACKEND = keras.backend.backend()

#: Relative/absolute tolerances measured for float32 parity with Keras, asserted by the
#: family test files (tests/losses/test_regression.py, tests/losses/test_probabilistic.py,
#: tests/losses/test_reduction.py, ...).
RTOL32, ATOL32 = 2e-5, 2e-6
#: Float64 parity: on TensorFlow Keras computes in float64 too, so only rounding-order
#: noise remains.  JAX (without x64) casts float64 input to float32, and on PyTorch
#: ``keras.ops.mean`` computes in float32, so there float64 parity is float32 parity.
RTOL64, ATOL64 = (1e-9, 1e-12) if BACKEND == "tensorflow" else (RTOL32, ATOL32)


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
    y_pred_t = ops.convert_to_tensor(np.asarray(y_pred), dtype=dtype)
    if mask is not None:
        keras.src.backend.set_keras_mask(y_pred_t, ops.convert_to_tensor(np.asarray(mask, bool)))
    weights = None if sample_weight is None else ops.convert_to_tensor(np.asarray(sample_weight))
    return ops.convert_to_numpy(
        loss(ops.convert_to_tensor(np.asarray(y_true)), y_pred_t, sample_weight=weights)
    )


def keras_function_value(function_name: str, y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
    """Per-sample values of ``keras.losses.<function_name>`` on NumPy inputs (dtype kept)."""
    fn = getattr(keras.losses, function_name)
    values = fn(
        ops.convert_to_tensor(np.asarray(y_true)), ops.convert_to_tensor(np.asarray(y_pred)), **kwargs
    )
    return ops.convert_to_numpy(values)


def tape_gradient(function_name: str, y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
    """``d/dy_pred sum(keras.losses.<function_name>(y_true, y_pred))`` by the backend's autodiff."""
    fn = getattr(keras.losses, function_name)
    return backend_gradient(BACKEND, fn, np.asarray(y_true), np.asarray(y_pred), **kwargs)


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
