"""Gradient of cosine similarity: ``course_lib.gradients`` against ``tf.GradientTape`` on
``keras.losses`` and central finite differences, also where the norm is floored at
epsilon; it is orthogonal to the prediction."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_cases import SIMILARITY, _cases, _data, _smooth_point
from keras_reference import finite_difference_gradient, tape_gradient

import course_lib.gradients as G
import course_lib.losses as L


@pytest.mark.parametrize("name, shape, options", _cases(SIMILARITY, ranks=(1, 2, 3)))
def test_gradient_matches_tape_and_finite_differences(name, shape, options):
    y_true, y_pred = _smooth_point(name, shape, seed=6)
    ours = getattr(G, name)(y_true, y_pred, **options)
    assert ours.shape == y_pred.shape and ours.dtype == np.float64
    tape = tape_gradient(name, y_true, y_pred, **options)
    np.testing.assert_allclose(ours, tape, rtol=1e-9, atol=1e-12)
    numeric = finite_difference_gradient(getattr(L, name), y_true, y_pred, **options)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", SIMILARITY)
def test_gradient_keeps_float32_and_the_shape_of_y_pred(name):
    y_true, y_pred = _data(name, (4, 1), seed=7, dtype="float32")
    grad = getattr(G, name)(y_true, y_pred[:, 0])  # y_pred of rank 1 against (4, 1)
    assert grad.shape == (4,) and grad.dtype == np.float32
    np.testing.assert_allclose(grad, getattr(G, name)(y_true, y_pred)[:, 0], rtol=1e-6)


@pytest.mark.parametrize(
    "name, y_true, y_pred",
    [
        ("cosine_similarity", [[1.0, 2.0]], [[0.0, 0.0]]),  # zero prediction: floored regime
        ("cosine_similarity", [[1.0, 2.0]], [[1e-9, 2e-9]]),  # tiny prediction: floored regime
        ("cosine_similarity", [[0.0, 0.0]], [[1.0, 2.0]]),  # zero target: constant loss
    ],
)
def test_gradient_at_kinks_and_floors_equals_tf_autodiff(name, y_true, y_pred):
    y_true, y_pred = np.array(y_true), np.array(y_pred)
    np.testing.assert_allclose(
        getattr(G, name)(y_true, y_pred), tape_gradient(name, y_true, y_pred), rtol=1e-12
    )


def test_cosine_gradient_in_the_floored_regime_matches_finite_differences():
    y_true, y_pred = np.array([[1.0, 2.0, -1.0]]), np.array([[1e-9, -2e-9, 3e-9]])
    numeric = finite_difference_gradient(L.cosine_similarity, y_true, y_pred, step=1e-12)
    np.testing.assert_allclose(G.cosine_similarity(y_true, y_pred), numeric, rtol=1e-6)


def test_cosine_gradient_is_orthogonal_to_the_prediction():
    y_true, y_pred = _data("cosine_similarity", (5, 4), seed=8)
    grad = G.cosine_similarity(y_true, y_pred)
    np.testing.assert_allclose(np.sum(grad * y_pred, axis=-1), 0.0, atol=1e-12)
