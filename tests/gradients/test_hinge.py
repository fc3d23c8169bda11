"""Gradients of hinge, squared hinge and categorical hinge: ``course_lib.gradients``
against ``tf.GradientTape`` on ``keras.losses`` and central finite differences, away
from the kinks and exactly at them (where TF's subgradient is the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_cases import HINGE, _cases, _data, _smooth_point
from keras_reference import finite_difference_gradient, tape_gradient

import course_lib.gradients as G
import course_lib.losses as L


@pytest.mark.parametrize("name, shape, options", _cases(HINGE, ranks=(1, 2, 3)))
def test_gradient_matches_tape_and_finite_differences(name, shape, options):
    y_true, y_pred = _smooth_point(name, shape, seed=6)
    ours = getattr(G, name)(y_true, y_pred, **options)
    assert ours.shape == y_pred.shape and ours.dtype == np.float64
    tape = tape_gradient(name, y_true, y_pred, **options)
    np.testing.assert_allclose(ours, tape, rtol=1e-9, atol=1e-12)
    numeric = finite_difference_gradient(getattr(L, name), y_true, y_pred, **options)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", HINGE)
def test_gradient_keeps_float32_and_the_shape_of_y_pred(name):
    y_true, y_pred = _data(name, (4, 1), seed=7, dtype="float32")
    grad = getattr(G, name)(y_true, y_pred[:, 0])  # y_pred of rank 1 against (4, 1)
    assert grad.shape == (4,) and grad.dtype == np.float32
    np.testing.assert_allclose(grad, getattr(G, name)(y_true, y_pred)[:, 0], rtol=1e-6)


@pytest.mark.parametrize(
    "name, y_true, y_pred",
    [
        ("hinge", [[1.0, 0.0]], [[1.0, -1.0]]),  # both margins exactly 1
        ("squared_hinge", [[1.0, 0.0]], [[1.0, -1.0]]),
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[0.5, 0.2, 0.2]]),  # tie among wrong classes
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[0.5, 0.0, -2.0]]),  # tie with the true class' 0
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[0.5, -1.0, -2.0]]),  # the true class' 0 wins
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[1.2, 0.2, -2.0]]),  # loss exactly at the kink
    ],
)
def test_gradient_at_kinks_and_floors_equals_tf_autodiff(name, y_true, y_pred):
    y_true, y_pred = np.array(y_true), np.array(y_pred)
    np.testing.assert_allclose(
        getattr(G, name)(y_true, y_pred), tape_gradient(name, y_true, y_pred), rtol=1e-12
    )


def test_hinge_kink_values_spelled_out():
    # margin exactly 1: TF counts the hinge as active -> -t/d
    np.testing.assert_array_equal(G.hinge([[1.0, 0.0]], [[1.0, -1.0]]), [[-0.5, 0.5]])
    # a tie in the max is split equally (TF's reduce_max rule)
    np.testing.assert_array_equal(
        G.categorical_hinge([[1.0, 0.0, 0.0]], [[0.5, 0.2, 0.2]]), [[-1.0, 0.5, 0.5]]
    )
