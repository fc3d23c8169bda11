"""Cosine similarity: function values, the class, reductions, configs and bad input
against real Keras, plus the cases where we deliberately differ.

The gradient is in ``tests/gradients/test_similarity.py``; the inputs and cases, shared
with the hinge and segmentation files, in ``tests/elementwise_cases.py``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras_reference import (
    ATOL32,
    RTOL32,
    keras_function_value,
    tolerance64,
)

import course_lib.losses as L

# --------------------------------------------------------------------------- values


# --------------------------------------------------------------------------- documented facts


def test_cosine_similarity_is_minus_one_for_identical_directions():
    y = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    p = np.array([[2.0, 4.0, 6.0], [0.0, 1.0, 0.0], [-1.0, -1.0, 0.0], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(L.cosine_similarity(y, p), [-1.0, 0.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(
        keras_function_value("cosine_similarity", y, p), [-1.0, 0.0, 1.0, 0.0], **tolerance64(1e-7, 1e-15)
    )


def test_cosine_similarity_floors_the_norm_at_epsilon():
    y = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], dtype="float32")
    p = np.array([[1e-9, 1e-9, 1e-9], [0.0, 0.0, 0.0]], dtype="float32")  # tiny, zero
    ours = L.cosine_similarity(y, p)
    np.testing.assert_allclose(
        ours, keras_function_value("cosine_similarity", y, p), rtol=RTOL32, atol=ATOL32
    )
    # Scaled by 1/eps = 1e7, not made unit length: -3 * (1/sqrt(3)) * 0.01.
    np.testing.assert_allclose(ours, [-np.sqrt(3) * 0.01, 0.0], rtol=1e-5)


# --------------------------------------------------------------------------- bad input


# --------------------------------------------------------------------------- deliberate deviations


def test_deviation_cosine_similarity_config_keeps_its_axis():
    """Keras' CosineSimilarity.get_config() drops ``axis``, so a clone silently reverts to -1."""
    theirs = keras.losses.CosineSimilarity(axis=0)
    assert "axis" not in theirs.get_config()
    ours = L.CosineSimilarity(axis=0)
    assert ours.get_config()["axis"] == 0
    assert L.CosineSimilarity.from_config(ours.get_config()).axis == 0
