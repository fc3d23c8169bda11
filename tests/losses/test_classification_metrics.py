"""Soft F-beta loss: NumPy twin vs the keras.ops version vs the article's formula.

Keras has no F-beta loss, so the references are (1) the source article's
``custom_fbeta_loss`` written with ``tf.reduce_sum`` (what ``K.sum`` was) and
(2) our ``keras.ops`` version in :mod:`course_lib.keras_losses`: values, classes,
reductions, saving the Keras class, bad input.  The gradient is in
``tests/gradients/test_classification_metrics.py``.
"""

from __future__ import annotations

import os
import tempfile

import keras
import numpy as np
import pytest
from classification_metrics_cases import AXES, _data, article_fbeta
from keras_reference import ATOL32, ATOL64, BACKEND, RTOL32, RTOL64, keras_loss_call, keras_ops_value

import course_lib.gradients as G
import course_lib.losses as L
from course_lib import keras_losses as KL


def _axis_for(axis, ndim):
    if axis == (1, 2) and ndim < 3:
        return None
    return axis


@pytest.mark.skipif(
    BACKEND != "tensorflow", reason="the reference is the article's formula, written with tf.reduce_sum"
)
@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_article_formula(beta, dtype):
    import tensorflow as tf

    y, p = _data((12, 1), seed=1, dtype=dtype)
    ours = L.soft_fbeta(y, p, beta=beta)
    theirs = article_fbeta(tf.constant(y), tf.constant(p), beta=beta).numpy()
    assert ours.dtype == np.dtype(dtype) and ours.shape == ()
    rtol, atol = (1e-9, 1e-12) if dtype == "float64" else (RTOL32, ATOL32)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def test_article_hand_value():
    """P = 0.9, R = 0.6, so 1 - F1 = 1 - 2 * 0.54 / 1.5 = 0.28."""
    value = L.soft_fbeta(np.array([1.0, 1.0, 1.0, 0.0]), np.array([0.9, 0.9, 0.0, 0.2]))
    assert value == pytest.approx(0.28, abs=1e-6)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("shape", [(6,), (5, 3), (3, 4, 2)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numpy_matches_keras_ops_version(axis, shape, dtype):
    axis = _axis_for(axis, len(shape))
    y, p = _data(shape, seed=len(shape), dtype=dtype)
    ours = L.soft_fbeta(y, p, beta=1.5, axis=axis)
    theirs = keras_ops_value(KL.soft_fbeta, y, p, beta=1.5, axis=axis)
    assert ours.shape == theirs.shape and ours.dtype == np.dtype(dtype)
    rtol, atol = (RTOL64, ATOL64) if dtype == "float64" else (RTOL32, ATOL32)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    "reduction", ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]
)
@pytest.mark.parametrize("weight", [None, "per_sample", "column", "scalar"])
def test_class_matches_keras_class_per_sample_axis(reduction, weight):
    y, p = _data((6, 3), seed=4)
    sample_weight = {
        None: None,
        "per_sample": np.array([0.5, 1.0, 0.0, 2.0, 1.0, 0.3]),
        "column": np.array([[0.5], [1.0], [0.0], [2.0], [1.0], [0.3]]),
        "scalar": 0.7,
    }[weight]
    ours = L.SoftFBeta(beta=2.0, axis=-1, reduction=reduction, dtype="float64")(
        y, p, sample_weight=sample_weight
    )
    theirs = keras_loss_call(
        KL.SoftFBeta(beta=2.0, axis=-1, reduction=reduction, dtype="float64"), y, p, sample_weight
    )
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_class_whole_batch_axis_none(reduction):
    y, p = _data((8, 1), seed=5)
    ours = L.SoftFBeta(reduction=reduction, dtype="float64")(y, p, sample_weight=0.5)
    theirs = keras_loss_call(KL.SoftFBeta(reduction=reduction, dtype="float64"), y, p, 0.5)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64)
    assert np.shape(ours) == ()


def test_deliberate_difference_per_sample_weight_on_a_batch_level_loss():
    """Keras multiplies the batch's single loss by the MEAN weight; we refuse per-sample weights."""
    y, p = _data((8, 1), seed=6)
    weights = np.array([1.0, 0, 0, 0, 0, 0, 0, 1.0])
    theirs = float(keras_loss_call(KL.SoftFBeta(dtype="float64"), y, p, weights))
    assert theirs == pytest.approx(float(L.soft_fbeta(y, p)) * weights.mean(), rel=RTOL64)
    with pytest.raises(ValueError, match="sample_weight"):
        L.SoftFBeta()(y, p, sample_weight=weights)


def test_no_positives_is_finite():
    """A batch without positives has loss 1 and a finite gradient: every denominator holds epsilon."""
    y, p = np.zeros((5, 1)), np.full((5, 1), 0.3)
    assert float(L.soft_fbeta(y, p)) == pytest.approx(1.0)
    assert np.all(np.isfinite(G.soft_fbeta(y, p)))


def test_hard_predictions_give_the_usual_fbeta():
    from sklearn.metrics import fbeta_score

    rng = np.random.default_rng(9)
    y, p = (rng.random(40) < 0.3).astype(float), (rng.random(40) < 0.4).astype(float)
    for beta in [0.5, 1.0, 2.0]:
        assert 1 - float(L.soft_fbeta(y, p, beta=beta)) == pytest.approx(
            fbeta_score(y, p, beta=beta), abs=1e-6
        )


def test_keras_class_saves_and_reloads():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss=KL.SoftFBeta(beta=2.0))
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    model.fit(x, (x[:, :1] > 0).astype("float32"), epochs=1, verbose=0)  # builds the optimizer
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded.loss, KL.SoftFBeta) and reloaded.loss.beta == 2.0
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: L.soft_fbeta([1.0, 0.0], [0.5, 0.5], beta=-1.0), ValueError, "beta"),
        (lambda: L.soft_fbeta([1.0, 0.0], [0.5, 0.5], beta="2"), TypeError, "beta"),
        (lambda: L.soft_fbeta([1.0, 0.0], [0.5, 0.5, 0.5]), ValueError, "same shape"),
        (lambda: L.soft_fbeta([[1.0, 0.0]], [[0.5, 0.5]], axis=2), ValueError, "axis"),
        (lambda: L.soft_fbeta([1.0, 0.0], ["a", "b"]), TypeError, "y_pred"),
        (lambda: L.SoftFBeta(beta=float("nan")), ValueError, "beta"),
        (lambda: L.SoftFBeta(axis="1"), TypeError, "axis"),
        (lambda: G.soft_fbeta([1.0, 0.0], [0.5, 0.5], beta=-0.5), ValueError, "beta"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
