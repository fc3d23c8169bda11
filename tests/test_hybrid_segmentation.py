"""The hybrid BCE + Dice loss (not in Keras): the NumPy loss and class, the hand-derived
gradient and the ``keras.ops`` version agree with each other, with Keras' own Dice and
binary cross-entropy at the two ends of ``bce_weight``, with ``tf.GradientTape`` and with
finite differences; bad input raises a clear error."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_reference import (
    ATOL32,
    ATOL64,
    RTOL32,
    RTOL64,
    finite_difference_gradient,
    keras_class_value,
    keras_function_value,
)

import course_lib.gradients as G
import course_lib.keras_losses as KL
import course_lib.losses as L

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]
AXES = [None, -1, (1,), (1, 2), (1, 2, 3)]


def _masks(shape=(3, 4, 4, 1), seed=0, dtype="float64", logits=False):
    """A binary mask and a soft prediction strictly inside (0, 1) (or logits)."""
    rng = np.random.default_rng(seed)
    y_true = (rng.uniform(size=shape) < 0.4).astype(dtype)
    if logits:
        return y_true, rng.normal(scale=2.0, size=shape).astype(dtype)
    return y_true, rng.uniform(0.05, 0.95, size=shape).astype(dtype)


def _keras_value(y_true, y_pred, **options):
    return np.asarray(KL.bce_dice(tf.constant(y_true), tf.constant(y_pred), **options))


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("bce_weight", [0.0, 0.3, 1.0])
def test_numpy_matches_keras_version_float64(axis, from_logits, bce_weight):
    y_true, y_pred = _masks(logits=from_logits)
    options = dict(bce_weight=bce_weight, from_logits=from_logits, axis=axis)
    ours = L.bce_dice(y_true, y_pred, **options)
    theirs = _keras_value(y_true, y_pred, **options)
    assert ours.shape == theirs.shape and ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("axis", [None, (1, 2, 3)])
@pytest.mark.parametrize("from_logits", [False, True])
def test_numpy_matches_keras_version_float32(axis, from_logits):
    y_true, y_pred = _masks(seed=1, dtype="float32", logits=from_logits)
    ours = L.bce_dice(y_true, y_pred, from_logits=from_logits, axis=axis)
    assert ours.dtype == np.float32
    theirs = _keras_value(y_true, y_pred, from_logits=from_logits, axis=axis)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("axis", [None, (1, 2, 3)])
def test_weight_zero_is_keras_dice(axis):
    y_true, y_pred = _masks(seed=2)
    expected = keras_function_value("dice", y_true, y_pred, axis=axis)
    np.testing.assert_allclose(L.bce_dice(y_true, y_pred, bce_weight=0.0, axis=axis), expected, rtol=RTOL64)


@pytest.mark.parametrize("from_logits", [False, True])
def test_weight_one_is_keras_binary_crossentropy_on_the_last_axis(from_logits):
    y_true, y_pred = _masks((4, 6), seed=3, logits=from_logits)
    expected = keras_function_value("binary_crossentropy", y_true, y_pred, from_logits=from_logits)
    ours = L.bce_dice(y_true, y_pred, bce_weight=1.0, from_logits=from_logits, axis=-1)
    np.testing.assert_allclose(ours, expected, rtol=1e-7)


def test_clipping_matches_keras_binary_crossentropy_at_0_and_1():
    y_true = np.array([[1.0, 0.0, 1.0, 0.0]])
    y_pred = np.array([[0.0, 1.0, 1.0, 0.0]])
    expected = keras_function_value("binary_crossentropy", y_true, y_pred)
    np.testing.assert_allclose(L.bce_dice(y_true, y_pred, 1.0, axis=-1), expected, rtol=1e-7)
    assert np.isfinite(L.bce_dice(y_true, y_pred))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [None, "per_sample", "column", "scalar"])
def test_class_matches_keras_class(reduction, weights):
    y_true, y_pred = _masks(seed=4, dtype="float32")
    sample_weight = {
        None: None,
        "per_sample": np.array([0.5, 0.0, 2.0], "float32"),
        "column": np.array([[0.5], [0.0], [2.0]], "float32"),
        "scalar": 0.7,
    }[weights]
    config = dict(bce_weight=0.4, reduction=reduction, axis=(1, 2, 3))
    ours = L.BCEDice(**config)(y_true, y_pred, sample_weight=sample_weight)
    theirs = np.asarray(KL.BCEDice(**config)(y_true, y_pred, sample_weight=sample_weight))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


def test_class_whole_batch_default_and_from_logits():
    y_true, y_pred = _masks(seed=5, dtype="float32", logits=True)
    for config in ({}, {"from_logits": True}, {"from_logits": True, "bce_weight": 0.9}):
        ours = L.BCEDice(**config)(y_true, y_pred)
        theirs = np.asarray(KL.BCEDice(**config)(y_true, y_pred))
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


def test_numpy_class_refuses_per_sample_weight_on_whole_batch_value():
    """Deliberate difference: with axis=None there is one number for the batch, so a
    per-sample weight has nothing to apply to.  Keras' reduction quietly scales it; we raise."""
    y_true, y_pred = _masks(seed=6, dtype="float32")
    weights = np.array([1.0, 0.0, 1.0], "float32")
    assert np.isfinite(np.asarray(KL.BCEDice()(y_true, y_pred, sample_weight=weights)))
    with pytest.raises(ValueError, match="sample_weight"):
        L.BCEDice()(y_true, y_pred, sample_weight=weights)


@pytest.mark.parametrize("axis", [None, (1, 2, 3), -1])
@pytest.mark.parametrize("from_logits", [False, True])
def test_gradient_matches_tape_and_finite_differences(axis, from_logits):
    y_true, y_pred = _masks((2, 3, 3, 1), seed=7, logits=from_logits)
    options = dict(bce_weight=0.35, from_logits=from_logits, axis=axis)
    ours = G.bce_dice(y_true, y_pred, **options)
    variable = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(KL.bce_dice(tf.constant(y_true), variable, **options))
    np.testing.assert_allclose(ours, tape.gradient(total, variable).numpy(), rtol=1e-8, atol=1e-12)
    numeric = finite_difference_gradient(L.bce_dice, y_true, y_pred, **options)
    np.testing.assert_allclose(ours, numeric, rtol=1e-5, atol=1e-8)


def test_gradient_is_zero_for_bce_where_the_clip_is_active_and_keeps_shape_and_dtype():
    y_true = np.array([[1.0], [0.0]], "float32")
    y_pred = np.array([[1.0], [0.0]], "float32")  # clipped: BCE part has no gradient
    grad = G.bce_dice(y_true, y_pred, bce_weight=1.0)
    assert grad.shape == (2, 1) and grad.dtype == np.float32
    np.testing.assert_array_equal(grad, 0.0)
    np.testing.assert_allclose(G.bce_dice(y_true, y_pred, bce_weight=0.0), G.dice(y_true, y_pred))


def test_keras_class_serializes_and_trains():
    loss = KL.BCEDice(bce_weight=0.25, from_logits=True, axis=(1, 2, 3))
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(clone, KL.BCEDice) and clone.axis == (1, 2, 3) and clone.bce_weight == 0.25
    keras.utils.set_random_seed(0)
    y_true, x = _masks((16, 4, 4, 1), seed=8, dtype="float32")
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(1, 1)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss)
    history = model.fit(x, y_true, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0]


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"bce_weight": 1.5}, ValueError, "bce_weight"),
        ({"bce_weight": -0.1}, ValueError, "bce_weight"),
        ({"bce_weight": "0.5"}, TypeError, "bce_weight"),
        ({"from_logits": "yes"}, TypeError, "from_logits"),
        ({"axis": 5}, ValueError, "axis"),
        ({"axis": "1"}, TypeError, "axis"),
    ],
)
def test_bad_options_raise(options, error, match):
    y_true, y_pred = _masks(seed=9)
    for fn in (L.bce_dice, G.bce_dice):
        with pytest.raises(error, match=match):
            fn(y_true, y_pred, **options)
    if "axis" not in options or not isinstance(options["axis"], int):
        with pytest.raises(error, match=match):
            L.BCEDice(**options)
        with pytest.raises(error, match=match):
            KL.BCEDice(**options)


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match="same shape"):
        L.bce_dice(np.zeros((2, 4)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="same shape"):
        G.bce_dice(np.zeros((2, 4)), np.zeros((2, 3)))


def test_registered_in_the_library():
    assert L.get("bce_dice") is L.bce_dice and isinstance(L.get("BCEDice"), L.BCEDice)
    assert keras_class_value("Dice", *_masks(seed=10, dtype="float32")) >= 0  # Keras itself has no BCEDice
    assert not hasattr(keras.losses, "BCEDice")
