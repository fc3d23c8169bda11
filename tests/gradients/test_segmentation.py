"""Gradients of the segmentation losses: Dice and Tversky against the backend's autodiff
on ``keras.losses`` and central finite differences; BCEDice (not in Keras) against the
backend's autodiff on its ``keras.ops`` version and central finite differences, and
where the clip of its BCE part is active."""

from __future__ import annotations

import numpy as np
import pytest
from bce_dice_cases import _masks
from keras_reference import autodiff_gradient, finite_difference_gradient, tolerance64

import course_lib.gradients as G
import course_lib.keras_losses as KL
import course_lib.losses as L

# --------------------------------------------------------------------------- Dice and Tversky


# --------------------------------------------------------------------------- BCEDice (not in Keras)


@pytest.mark.parametrize("axis", [None, (1, 2, 3), -1])
@pytest.mark.parametrize("from_logits", [False, True])
def test_bce_dice_gradient_matches_tape_and_finite_differences(axis, from_logits):
    y_true, y_pred = _masks((2, 3, 3, 1), seed=7, logits=from_logits)
    options = dict(bce_weight=0.35, from_logits=from_logits, axis=axis)
    ours = G.bce_dice(y_true, y_pred, **options)
    theirs = autodiff_gradient(KL.bce_dice, y_true, y_pred, **options)
    np.testing.assert_allclose(ours, theirs, **tolerance64(1e-8, 1e-12))
    numeric = finite_difference_gradient(L.bce_dice, y_true, y_pred, **options)
    np.testing.assert_allclose(ours, numeric, rtol=1e-5, atol=1e-8)


def test_gradient_is_zero_for_bce_where_the_clip_is_active_and_keeps_shape_and_dtype():
    y_true = np.array([[1.0], [0.0]], "float32")
    y_pred = np.array([[1.0], [0.0]], "float32")  # clipped: BCE part has no gradient
    grad = G.bce_dice(y_true, y_pred, bce_weight=1.0)
    assert grad.shape == (2, 1) and grad.dtype == np.float32
    np.testing.assert_array_equal(grad, 0.0)
    np.testing.assert_allclose(G.bce_dice(y_true, y_pred, bce_weight=0.0), G.dice(y_true, y_pred))
