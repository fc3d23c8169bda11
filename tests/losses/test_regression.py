"""Regression losses (MSE, MAE, MAPE, MSLE, Huber, log-cosh): function values, classes,
reductions, sample weights and bad input against real Keras.

The gradients are in ``tests/gradients/test_regression.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from keras_reference import (
    ATOL32,
    ATOL64,
    RTOL32,
    RTOL64,
    keras_class_value,
    keras_function_value,
    tolerance64,
)
from loss_cases import REDUCTIONS
from regression_cases import FUNCTIONS, _data, _function

import course_lib.gradients as G
import course_lib.losses as L

CLASSES = {
    "MeanSquaredError": {},
    "MeanAbsoluteError": {},
    "MeanAbsolutePercentageError": {},
    "MeanSquaredLogarithmicError": {},
    "Huber": {"delta": 0.7},
    "LogCosh": {},
}


@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4), (2, 2, 3, 2)], ids=str)
@pytest.mark.parametrize("key", FUNCTIONS)
def test_function_matches_keras_float64(key, shape):
    y_true, y_pred = _data(shape)
    ours = getattr(L, _function(key))(y_true, y_pred, **FUNCTIONS[key])
    theirs = keras_function_value(_function(key), y_true, y_pred, **FUNCTIONS[key])
    assert ours.dtype == np.float64 and ours.shape == theirs.shape
    # Keras' log_cosh computes log(2) in float32 and casts it up, an absolute
    # offset of 1.9e-9 in float64; ours uses the float64 log(2).
    atol = max(3e-9, ATOL64) if key == "log_cosh" else ATOL64
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64, atol=atol)


@pytest.mark.parametrize("key", FUNCTIONS)
def test_function_matches_keras_float32(key):
    y_true, y_pred = _data((6, 5), seed=1, dtype="float32")
    ours = getattr(L, _function(key))(y_true, y_pred, **FUNCTIONS[key])
    theirs = keras_function_value(_function(key), y_true, y_pred, **FUNCTIONS[key])
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("weight", [None, "per_sample", "column", "scalar"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=str)
@pytest.mark.parametrize("name", CLASSES)
def test_class_matches_keras(name, reduction, weight):
    y_true, y_pred = _data((6, 3), seed=2, dtype="float32")
    sample_weight = {
        None: None,
        "per_sample": np.array([0.5, 2.0, 0.0, 1.0, 3.0, 0.25]),
        "column": np.array([[0.5], [2.0], [0.0], [1.0], [3.0], [0.25]]),
        "scalar": 2.5,
    }[weight]
    config = {"reduction": reduction, **CLASSES[name]}
    ours = getattr(L, name)(**config)(y_true, y_pred, sample_weight=sample_weight)
    theirs = keras_class_value(name, y_true, y_pred, sample_weight=sample_weight, **config)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("name", CLASSES)
def test_class_with_float64_dtype_matches_keras(name):
    y_true, y_pred = _data((5, 4), seed=3)
    ours = getattr(L, name)(dtype="float64", **CLASSES[name])(y_true, y_pred)
    theirs = keras_class_value(name, y_true, y_pred, dtype="float64", **CLASSES[name])
    assert ours.dtype == np.float64
    atol = 3e-9 if name == "LogCosh" else 1e-14  # Keras' float32 log(2), see above
    np.testing.assert_allclose(ours, theirs, **tolerance64(1e-12, atol))


def test_log_cosh_is_stable_where_naive_cosh_overflows():
    y_true = np.zeros((1, 3), dtype="float32")
    y_pred = np.array([[100.0, -100.0, 1000.0]], dtype="float32")
    with np.errstate(over="ignore"):
        naive = np.mean(np.log(np.cosh(y_pred - y_true)))
    assert np.isinf(naive)
    ours = L.log_cosh(y_true, y_pred)
    np.testing.assert_allclose(ours, keras_function_value("log_cosh", y_true, y_pred), rtol=RTOL32)
    np.testing.assert_allclose(ours, np.mean(np.abs(y_pred)) - np.log(2.0), rtol=1e-6)


def test_article_huber_and_log_cosh_examples():
    # The source article's examples, recomputed by hand: Huber 0.155 = (0.18 + 0.13) / 2,
    # LogCosh = log(cosh(1)) / 4.
    y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]
    assert float(L.Huber()(y_true, y_pred)) == pytest.approx(0.155, rel=1e-6)
    assert float(L.LogCosh()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])) == pytest.approx(
        np.log(np.cosh(1.0)) / 4, rel=1e-6
    )
    assert float(L.MeanAbsoluteError()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])) == 0.5


def test_mse_minimiser_is_the_mean_and_mae_minimiser_is_the_median():
    targets = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    candidates = np.linspace(0, 100, 100001)
    y_true = np.broadcast_to(targets, (candidates.size, targets.size))
    y_pred = np.broadcast_to(candidates[:, None], y_true.shape)
    assert candidates[np.argmin(L.mean_squared_error(y_true, y_pred))] == pytest.approx(
        np.mean(targets), abs=1e-3
    )
    assert candidates[np.argmin(L.mean_absolute_error(y_true, y_pred))] == pytest.approx(
        np.median(targets), abs=1e-3
    )


@pytest.mark.parametrize("delta", [-1.0, float("nan"), "1"])
def test_huber_rejects_a_bad_delta(delta):
    error = TypeError if isinstance(delta, str) else ValueError
    with pytest.raises(error, match="delta"):
        L.huber([[0.0]], [[1.0]], delta=delta)
    with pytest.raises(error, match="delta"):
        L.Huber(delta=delta)
    with pytest.raises(error, match="delta"):
        G.huber([[0.0]], [[1.0]], delta=delta)


def test_keras_accepts_a_negative_delta_and_returns_a_meaningless_number():
    """Deliberate deviation: Keras happily computes Huber with delta < 0."""
    value = keras_function_value("huber", np.array([[0.0]]), np.array([[2.0]]), delta=-1.0)
    assert np.isfinite(value).all()  # Keras: a number; course_lib: ValueError (test above)
