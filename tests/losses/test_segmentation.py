"""Segmentation losses: Dice, Tversky and the hybrid BCE + Dice loss.

Dice and Tversky: function values, classes, reductions, configs and bad input against
real Keras, plus the cases where we deliberately differ (their inputs and cases, shared
with the hinge and similarity files, are in ``tests/elementwise_cases.py``).

BCEDice (not in Keras): the NumPy loss and class agree with the ``keras.ops`` version,
with Keras' own Dice and binary cross-entropy at the two ends of ``bce_weight``; the
Keras class serializes and trains; bad input raises a clear error.

The gradients are in ``tests/gradients/test_segmentation.py``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from bce_dice_cases import _masks
from elementwise_cases import _data
from keras_reference import (
    ATOL32,
    ATOL64,
    BACKEND,
    RTOL32,
    RTOL64,
    in_keras_precision,
    keras_class_value,
    keras_function_value,
    keras_loss_call,
    keras_ops_value,
    tolerance64,
)
from loss_cases import REDUCTIONS

import course_lib.gradients as G
import course_lib.keras_losses as KL
import course_lib.losses as L

# --------------------------------------------------------------------------- values


# --------------------------------------------------------------------------- documented facts


def test_tversky_alpha_weighs_the_soft_false_negatives():
    """Keras' docstring says alpha weighs false positives; its code (and ours) weighs
    sum(y * (1 - p)), the soft false negatives.  TP = 1.2, sum y(1-p) = 1.8, sum (1-y)p = 0."""
    y_true, y_pred = np.array([1.0, 1.0, 1.0]), np.array([0.4, 0.4, 0.4])
    ours = L.tversky(y_true, y_pred, alpha=0.9, beta=0.1)
    assert float(ours) == pytest.approx(1 - 1.2 / (1.2 + 0.9 * 1.8 + 1e-7), rel=1e-12)
    assert float(ours) == pytest.approx(0.574468, abs=1e-6)
    assert float(keras_function_value("tversky", y_true, y_pred, alpha=0.9, beta=0.1)) == pytest.approx(
        float(ours), rel=RTOL64
    )
    assert float(ours) != pytest.approx(1 - 1.2 / (1.2 + 0.1 * 1.8), abs=1e-3)  # paper convention: 0.1304


def test_tversky_with_equal_halves_is_dice_and_dice_sums_over_the_batch():
    y_true, y_pred = _data("dice", (2, 4, 4, 1), seed=5)
    # Equal up to where eps sits: Tversky(1/2, 1/2) = 2 TP / (sum y + sum p + 2 eps).
    np.testing.assert_allclose(L.tversky(y_true, y_pred), L.dice(y_true, y_pred), rtol=1e-8)
    per_image = L.dice(y_true, y_pred, axis=(1, 2, 3))
    assert np.shape(L.dice(y_true, y_pred)) == () and per_image.shape == (2,)
    assert float(L.dice(y_true, y_pred)) != pytest.approx(float(np.mean(per_image)), rel=1e-6)


def test_keras_dice_docstring_example():
    y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
    y_pred = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]
    np.testing.assert_allclose(L.Dice(axis=(1, 2, 3), reduction=None)(y_true, y_pred), [0.5, 0.75757575])
    np.testing.assert_allclose(L.Dice()(y_true, y_pred), 0.6164384, rtol=1e-6)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("argument", ["alpha", "beta"])
@pytest.mark.parametrize(
    "value, error",
    [(-0.1, ValueError), (float("nan"), ValueError), ("0.5", TypeError), (None, TypeError)],
)
def test_tversky_rejects_bad_alpha_and_beta(argument, value, error):
    y = np.ones((2, 3))
    with pytest.raises(error, match=argument):
        L.tversky(y, y, **{argument: value})
    with pytest.raises(error, match=argument):
        G.tversky(y, y, **{argument: value})
    with pytest.raises(error, match=argument):
        L.Tversky(**{argument: value})


# --------------------------------------------------------------------------- deliberate deviations


@pytest.mark.parametrize("class_name", ["Dice", "Tversky"])
def test_deviation_per_sample_weight_on_the_single_whole_batch_value_raises(class_name):
    """Keras multiplies the one axis=None value by every weight and averages (= value * mean(w));
    a per-sample weight cannot mean anything for a whole-batch number, so we raise."""
    y_true, y_pred = _data("dice", (2, 3, 4), seed=9, dtype="float32")
    weight = np.array([1.0, 3.0])
    theirs = keras_class_value(class_name, y_true, y_pred, sample_weight=weight)
    value = getattr(L, class_name)(reduction="none")(y_true, y_pred)
    np.testing.assert_allclose(theirs, value * weight.mean(), rtol=RTOL32)
    with pytest.raises(ValueError, match="sample_weight"):
        getattr(L, class_name)()(y_true, y_pred, sample_weight=weight)
    # A scalar weight is fine, and so is a per-image weight with a per-image axis.
    np.testing.assert_allclose(
        getattr(L, class_name)()(y_true, y_pred, sample_weight=2.0), 2 * value, rtol=1e-6
    )
    per_image = getattr(L, class_name)(axis=(1, 2))(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(
        per_image,
        keras_class_value(class_name, y_true, y_pred, sample_weight=weight, axis=(1, 2)),
        rtol=RTOL32,
    )


def test_deviation_mismatched_shapes_raise_where_keras_broadcasts():
    y_true, y_pred = np.ones((4, 1)), np.full((4, 3), 0.5)
    assert np.isfinite(keras_function_value("dice", y_true, y_pred))  # Keras: a number
    with pytest.raises(ValueError, match="same shape"):
        L.dice(y_true, y_pred)


def test_deviation_negative_tversky_weights_raise_where_keras_computes():
    y_true, y_pred = np.array([1.0, 0.0, 1.0]), np.array([0.4, 0.4, 0.4])
    theirs = keras_function_value("tversky", y_true, y_pred, alpha=-0.9, beta=0.1)
    assert float(theirs) > 1  # a "loss" of 4.33, outside [0, 1]
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        L.tversky(y_true, y_pred, alpha=-0.9, beta=0.1)


def test_deviation_axis_out_of_range_is_a_value_error_not_a_backend_error():
    y = np.ones((2, 3))
    with pytest.raises(Exception) as keras_error:
        keras_function_value("dice", y, y, axis=5)
    # Each backend raises its own error (measured, Keras 3.15); only JAX's is a ValueError.
    backend_error = {"tensorflow": "InvalidArgumentError", "jax": "ValueError", "torch": "IndexError"}
    assert type(keras_error.value).__name__ == backend_error[BACKEND]
    assert isinstance(keras_error.value, ValueError) == (BACKEND == "jax")
    with pytest.raises(ValueError, match="axis=5 is out of range for an input of rank 2"):
        L.dice(y, y, axis=5)


def test_deviation_float64_input_stays_float64_in_classes():
    y_true, y_pred = _data("dice", (2, 3), seed=10)
    assert L.Dice()(y_true, y_pred).dtype == np.float64
    assert keras_class_value("Dice", y_true, y_pred).dtype == np.float32  # Keras casts to floatx


# --------------------------------------------------------------------------- BCEDice (not in Keras)

AXES = [None, -1, (1,), (1, 2), (1, 2, 3)]


def _keras_value(y_true, y_pred, **options):
    return keras_ops_value(KL.bce_dice, y_true, y_pred, **options)


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
    np.testing.assert_allclose(ours, expected, **tolerance64(1e-7, 0.0))


def test_clipping_matches_keras_binary_crossentropy_at_0_and_1():
    y_true = np.array([[1.0, 0.0, 1.0, 0.0]])
    y_pred = np.array([[0.0, 1.0, 1.0, 0.0]])
    expected = keras_function_value("binary_crossentropy", y_true, y_pred)
    # On JAX float64 is computed in float32, where the clip 1 - 1e-7 is 1 - 1.19e-7 (8.015
    # there, 8.059 in float64): compare with our loss in that precision.
    ours = L.bce_dice(*in_keras_precision(y_true, y_pred), 1.0, axis=-1)
    np.testing.assert_allclose(ours, expected, **tolerance64(1e-7, 0.0))
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
    theirs = keras_loss_call(KL.BCEDice(**config), y_true, y_pred, sample_weight)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


def test_class_whole_batch_default_and_from_logits():
    y_true, y_pred = _masks(seed=5, dtype="float32", logits=True)
    for config in ({}, {"from_logits": True}, {"from_logits": True, "bce_weight": 0.9}):
        ours = L.BCEDice(**config)(y_true, y_pred)
        theirs = keras_loss_call(KL.BCEDice(**config), y_true, y_pred)
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


def test_numpy_class_refuses_per_sample_weight_on_whole_batch_value():
    """Deliberate difference: with axis=None there is one number for the batch, so a
    per-sample weight has nothing to apply to.  Keras' reduction quietly scales it; we raise."""
    y_true, y_pred = _masks(seed=6, dtype="float32")
    weights = np.array([1.0, 0.0, 1.0], "float32")
    assert np.isfinite(keras_loss_call(KL.BCEDice(), y_true, y_pred, weights))
    with pytest.raises(ValueError, match="sample_weight"):
        L.BCEDice()(y_true, y_pred, sample_weight=weights)


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
