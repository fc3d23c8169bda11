"""Gradients of the regression losses: ``course_lib.gradients`` against
the backend's autodiff on ``keras.losses`` and central finite differences of our loss."""

from __future__ import annotations

import numpy as np
import pytest
from keras_reference import finite_difference_gradient, tape_gradient, tolerance64
from regression_cases import FUNCTIONS, _data, _function

import course_lib.gradients as G
import course_lib.losses as L


@pytest.mark.parametrize("key", FUNCTIONS)
def test_gradient_matches_tape_and_finite_differences(key):
    y_true, y_pred = _data((4, 3), seed=4)
    options = FUNCTIONS[key]
    name = _function(key)
    if options.get("delta") == 0.0:  # pure MAE-like; fine away from ties
        pass
    ours = getattr(G, name)(y_true, y_pred, **options)
    assert ours.shape == y_pred.shape and ours.dtype == np.float64
    theirs = tape_gradient(name, y_true, y_pred, **options)
    np.testing.assert_allclose(ours, theirs, **tolerance64(1e-7, 1e-9))
    numeric = finite_difference_gradient(getattr(L, name), y_true, y_pred, **options)
    np.testing.assert_allclose(ours, numeric, rtol=1e-5, atol=1e-5)


def test_gradient_keeps_the_shape_of_a_rank_1_prediction():
    # y_true (4, 1) against y_pred (4,): the loss aligns ranks, the gradient keeps y_pred's shape.
    y_true = np.array([[1.0], [2.0], [3.0], [4.0]])
    y_pred = np.array([1.5, 2.0, 2.0, 5.0])
    grad = G.mean_squared_error(y_true, y_pred)
    assert grad.shape == (4,)
    np.testing.assert_allclose(grad, 2 * (y_pred - y_true[:, 0]))
