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


def tolerance64(rtol: float = 1e-9, atol: float = 1e-12) -> dict[str, float]:
    """``rtol`` and ``atol`` for comparing a float64 result with Keras (a value or an
    autodiff gradient): the float64 tolerances given, on TensorFlow; off it, float32
    parity (at least ``RTOL64``/``ATOL64``), for the reason above.  Use as
    ``np.testing.assert_allclose(ours, theirs, **tolerance64(1e-7, 1e-9))``."""
    if BACKEND == "tensorflow":
        return {"rtol": rtol, "atol": atol}
    return {"rtol": max(rtol, RTOL64), "atol": max(atol, ATOL64)}


def in_keras_precision(*arrays: Any) -> tuple[Any, ...]:
    """``arrays`` in the precision Keras computes them in: on JAX (without x64) float64
    arrays become float32; on the other backends they are returned as they are.

    Where that rounding changes the answer, not just its last digits, a float64 test
    compares Keras with our loss on these arrays: at the clip ``1 - 1e-7``, which
    float32 rounds to ``1 - 1.19e-7`` (BCE of a certain wrong prediction: 15.94 on JAX,
    16.12 in float64), and at ``1 - 1e-9``, which float32 rounds to 1 (clipped).
    """
    if BACKEND != "jax":
        return arrays
    return tuple(np.asarray(a, np.float32) if np.asarray(a).dtype == np.float64 else a for a in arrays)


def focal_probabilities_off_tensorflow(
    y_true: Any, logits: Any, options: dict[str, Any]
) -> tuple[Any, Any, dict[str, Any]]:
    """What Keras' ``binary_focal_crossentropy(from_logits=True)`` computes with off
    TensorFlow: ``(y_true, p, options)`` such that our loss of the *probabilities* ``p``
    (``options`` without ``from_logits``) is Keras' value on JAX and PyTorch.

    Keras takes ``p = sigmoid(z)``.  TensorFlow then computes the cross-entropy from the
    logits (``|z|`` for a certain wrong prediction: 100 at ``z = -100``, ``y = 1``), JAX
    and PyTorch clip ``p`` to ``[eps, 1 - eps]`` (``-log(1e-7) = 16.12``, from
    ``|z|`` of about 16 on), so there the clipped elements get no gradient either.  Our
    loss follows TensorFlow.  ``p`` is in :func:`in_keras_precision` (JAX: float32).
    """
    z = np.asarray(logits)
    p = (1.0 / (1.0 + np.exp(-z.astype(np.float64)))).astype(z.dtype)
    y_true, p = in_keras_precision(y_true, p)
    return y_true, p, {key: value for key, value in options.items() if key != "from_logits"}


def mask_merge_fails_on_torch(sample_weight: Any, mask_shape: tuple[int, ...] | None) -> bool:
    """Whether Keras 3.15 on PyTorch raises merging a mask into ``sample_weight``.

    ``keras.src.losses.loss.apply_mask`` multiplies in place (``sample_weight *=
    float_mask``), and PyTorch cannot store a broadcast result in a smaller tensor: a
    scalar weight, or a ``(B, 1)`` weight against a ``(B, T)`` mask, raises
    ``RuntimeError: output with shape [...] doesn't match the broadcast shape [...]``.
    The mask is the one given or the one the loss attaches (Circle: ``loss > 0``; the
    ignored class; ``course_lib.keras_losses``' batch losses: the valid anchors).
    TensorFlow and JAX multiply out of place.  This mirrors Keras' rank alignment
    (``squeeze_or_expand_to_same_rank``) and then asks whether the product is bigger.
    """
    if BACKEND != "torch" or sample_weight is None or mask_shape is None:
        return False
    mask, weight = tuple(mask_shape), np.shape(sample_weight)
    if len(mask) == len(weight) + 1 and mask[-1] == 1:
        if len(weight) == 1:
            weight = weight + (1,)
        else:
            mask = mask[:-1]
    elif len(weight) == len(mask) + 1 and weight[-1] == 1:
        if len(mask) == 1:
            mask = mask + (1,)
        else:
            weight = weight[:-1]
    return np.broadcast_shapes(mask, weight) != weight


def raises_mask_merge_error() -> Any:
    """``pytest.raises`` for the PyTorch failure described in :func:`mask_merge_fails_on_torch`."""
    import pytest

    return pytest.raises(RuntimeError, match="doesn't match the broadcast shape")


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


def keras_ops_value(fn: Callable[..., Any], y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
    """``fn(y_true, y_pred, **kwargs)`` for a loss written with ``keras.ops`` (those in
    ``course_lib.keras_losses``), on NumPy inputs converted to the backend's tensors."""
    y_true, y_pred = ops.convert_to_tensor(np.asarray(y_true)), ops.convert_to_tensor(np.asarray(y_pred))
    return ops.convert_to_numpy(fn(y_true, y_pred, **kwargs))


def keras_loss_call(loss: Any, y_true: Any, y_pred: Any, sample_weight: Any = None) -> np.ndarray:
    """``loss(y_true, y_pred, sample_weight)`` for a Keras loss *object*, inputs as tensors."""
    weights = None if sample_weight is None else ops.convert_to_tensor(np.asarray(sample_weight))
    return ops.convert_to_numpy(
        loss(ops.convert_to_tensor(np.asarray(y_true)), ops.convert_to_tensor(np.asarray(y_pred)), weights)
    )


def autodiff_gradient(fn: Callable[..., Any], y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
    """``d/dy_pred sum(fn(y_true, y_pred))`` by the backend's autodiff, for any Keras
    (``keras.ops``) loss function ``fn``."""
    return backend_gradient(BACKEND, fn, np.asarray(y_true), np.asarray(y_pred), **kwargs)


def tape_gradient(function_name: str, y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
    """``d/dy_pred sum(keras.losses.<function_name>(y_true, y_pred))`` by the backend's autodiff."""
    return autodiff_gradient(getattr(keras.losses, function_name), y_true, y_pred, **kwargs)


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
