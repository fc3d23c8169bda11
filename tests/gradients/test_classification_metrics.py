"""Gradient of the soft F-beta loss against the backend's autodiff on the ``keras.ops``
version, against ``tf.GradientTape`` on the source article's formula (written with
TensorFlow), and against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from classification_metrics_cases import AXES, _data, article_fbeta
from keras_reference import BACKEND, autodiff_gradient, finite_difference_gradient, tolerance64

import course_lib.gradients as G
import course_lib.losses as L
from course_lib import keras_losses as KL


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_gradient_vs_tape_and_finite_differences(axis, beta):
    y, p = _data((4, 3, 2), seed=7)
    ours = G.soft_fbeta(y, p, beta=beta, axis=axis)
    theirs = autodiff_gradient(KL.soft_fbeta, y, p, beta=beta, axis=axis)
    np.testing.assert_allclose(ours, theirs, **tolerance64(1e-7, 1e-10))
    numeric = finite_difference_gradient(L.soft_fbeta, y, p, beta=beta, axis=axis)
    np.testing.assert_allclose(ours, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="the reference is tf.GradientTape on the article's formula, written with tf.reduce_sum",
)
def test_gradient_shape_dtype_and_article_tape():
    import tensorflow as tf

    y, p = _data((10, 1), seed=8, dtype="float32")
    ours = G.soft_fbeta(y, p[:, 0])  # y_pred (10,) against y_true (10, 1): rank alignment
    assert ours.shape == (10,) and ours.dtype == np.float32
    variable = tf.Variable(p)
    with tf.GradientTape() as tape:
        total = article_fbeta(tf.constant(y), variable)
    np.testing.assert_allclose(ours, tape.gradient(total, variable).numpy()[:, 0], rtol=2e-4, atol=2e-5)
