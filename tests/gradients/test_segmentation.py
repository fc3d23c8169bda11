"""Gradients of the segmentation losses: Dice and Tversky against ``tf.GradientTape`` on
``keras.losses`` and central finite differences; BCEDice (not in Keras) against
``tf.GradientTape`` on its ``keras.ops`` version and central finite differences, and
where the clip of its BCE part is active."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from bce_dice_cases import _masks
from elementwise_cases import SEGMENTATION, _cases, _data, _smooth_point
from keras_reference import finite_difference_gradient, tape_gradient

import course_lib.gradients as G
import course_lib.keras_losses as KL
import course_lib.losses as L

# --------------------------------------------------------------------------- Dice and Tversky


@pytest.mark.parametrize("name, shape, options", _cases(SEGMENTATION, ranks=(1, 2, 3)))
def test_gradient_matches_tape_and_finite_differences(name, shape, options):
    y_true, y_pred = _smooth_point(name, shape, seed=6)
    ours = getattr(G, name)(y_true, y_pred, **options)
    assert ours.shape == y_pred.shape and ours.dtype == np.float64
    tape = tape_gradient(name, y_true, y_pred, **options)
    np.testing.assert_allclose(ours, tape, rtol=1e-9, atol=1e-12)
    numeric = finite_difference_gradient(getattr(L, name), y_true, y_pred, **options)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", SEGMENTATION)
def test_gradient_keeps_float32_and_the_shape_of_y_pred(name):
    y_true, y_pred = _data(name, (4, 1), seed=7, dtype="float32")
    grad = getattr(G, name)(y_true, y_pred[:, 0])  # y_pred of rank 1 against (4, 1)
    assert grad.shape == (4,) and grad.dtype == np.float32
    np.testing.assert_allclose(grad, getattr(G, name)(y_true, y_pred)[:, 0], rtol=1e-6)


# --------------------------------------------------------------------------- BCEDice (not in Keras)


@pytest.mark.parametrize("axis", [None, (1, 2, 3), -1])
@pytest.mark.parametrize("from_logits", [False, True])
def test_bce_dice_gradient_matches_tape_and_finite_differences(axis, from_logits):
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
