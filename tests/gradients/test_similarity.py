"""Gradient of cosine similarity: ``course_lib.gradients`` against the backend's autodiff on
``keras.losses`` and central finite differences, also where the norm is floored at
epsilon; it is orthogonal to the prediction."""

from __future__ import annotations

import numpy as np
from elementwise_cases import _data
from keras_reference import finite_difference_gradient

import course_lib.gradients as G
import course_lib.losses as L


def test_cosine_gradient_in_the_floored_regime_matches_finite_differences():
    y_true, y_pred = np.array([[1.0, 2.0, -1.0]]), np.array([[1e-9, -2e-9, 3e-9]])
    numeric = finite_difference_gradient(L.cosine_similarity, y_true, y_pred, step=1e-12)
    np.testing.assert_allclose(G.cosine_similarity(y_true, y_pred), numeric, rtol=1e-6)


def test_cosine_gradient_is_orthogonal_to_the_prediction():
    y_true, y_pred = _data("cosine_similarity", (5, 4), seed=8)
    grad = G.cosine_similarity(y_true, y_pred)
    np.testing.assert_allclose(np.sum(grad * y_pred, axis=-1), 0.0, atol=1e-12)
