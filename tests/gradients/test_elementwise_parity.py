"""The gradients of the element-wise losses with a Keras twin (hinge family, cosine
similarity, Dice, Tversky), tested once for all of them against the backend's autodiff
and finite differences, at smooth points and at kinks and floors.
"""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_cases import CLASS_OF, HINGE, SEGMENTATION, SIMILARITY, _cases, _data, _smooth_point
from keras_reference import (
    ATOL64,
    BACKEND,
    RTOL64,
    finite_difference_gradient,
    tape_gradient,
    tolerance64,
)

import course_lib.gradients as G
import course_lib.losses as L

ELEMENTWISE = HINGE + SIMILARITY + SEGMENTATION


@pytest.mark.parametrize("name, shape, options", _cases(ELEMENTWISE, ranks=(1, 2, 3)))
def test_gradient_matches_tape_and_finite_differences(name, shape, options):
    y_true, y_pred = _smooth_point(name, shape, seed=6)
    ours = getattr(G, name)(y_true, y_pred, **options)
    assert ours.shape == y_pred.shape and ours.dtype == np.float64
    tape = tape_gradient(name, y_true, y_pred, **options)
    np.testing.assert_allclose(ours, tape, rtol=RTOL64, atol=ATOL64)
    numeric = finite_difference_gradient(getattr(L, name), y_true, y_pred, **options)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(CLASS_OF))
def test_gradient_keeps_float32_and_the_shape_of_y_pred(name):
    y_true, y_pred = _data(name, (4, 1), seed=7, dtype="float32")
    grad = getattr(G, name)(y_true, y_pred[:, 0])  # y_pred of rank 1 against (4, 1)
    assert grad.shape == (4,) and grad.dtype == np.float32
    np.testing.assert_allclose(grad, getattr(G, name)(y_true, y_pred)[:, 0], rtol=1e-6)


#: Where JAX's and PyTorch's autodiff differ from TensorFlow's (and ours) at these kinks
#: (measured, Keras 3.15).  ``"half"``: ``maximum(a, b)`` at a tie gives each argument
#: half the gradient on JAX and PyTorch, all of it to one on TensorFlow (hinge at margin
#: exactly 1: -0.25 instead of -0.5).  ``"nan"``: at a zero prediction JAX and PyTorch
#: differentiate ``x / ||x||`` through the zero norm, TensorFlow its floored form.
OFF_TENSORFLOW = {
    ("hinge", "[[1.0, -1.0]]"): "half",
    ("categorical_hinge", "[[1.2, 0.2, -2.0]]"): "half",
    ("cosine_similarity", "[[0.0, 0.0]]"): "nan",
}


@pytest.mark.parametrize(
    "name, y_true, y_pred",
    [
        ("hinge", [[1.0, 0.0]], [[1.0, -1.0]]),  # both margins exactly 1
        ("squared_hinge", [[1.0, 0.0]], [[1.0, -1.0]]),
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[0.5, 0.2, 0.2]]),  # tie among wrong classes
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[0.5, 0.0, -2.0]]),  # tie with the true class' 0
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[0.5, -1.0, -2.0]]),  # the true class' 0 wins
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[1.2, 0.2, -2.0]]),  # loss exactly at the kink
        ("cosine_similarity", [[1.0, 2.0]], [[0.0, 0.0]]),  # zero prediction: floored regime
        ("cosine_similarity", [[1.0, 2.0]], [[1e-9, 2e-9]]),  # tiny prediction: floored regime
        ("cosine_similarity", [[0.0, 0.0]], [[1.0, 2.0]]),  # zero target: constant loss
    ],
)
def test_gradient_at_kinks_and_floors_equals_tf_autodiff(name, y_true, y_pred):
    expected = OFF_TENSORFLOW.get((name, str(y_pred))) if BACKEND != "tensorflow" else None
    y_true, y_pred = np.array(y_true), np.array(y_pred)
    ours, theirs = getattr(G, name)(y_true, y_pred), tape_gradient(name, y_true, y_pred)
    if expected == "nan":
        assert np.all(np.isnan(theirs)) and np.all(np.isfinite(ours))
    else:  # ours is TensorFlow's subgradient; JAX and PyTorch split a tie evenly
        np.testing.assert_allclose(
            ours * (0.5 if expected == "half" else 1.0), theirs, **tolerance64(1e-12, 0.0)
        )
