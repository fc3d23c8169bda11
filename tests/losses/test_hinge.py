"""Hinge, squared hinge and categorical hinge: function values, classes, reductions and
bad input against real Keras, plus the cases where we deliberately differ.

The gradients are in ``tests/gradients/test_hinge.py``; the inputs and cases, shared
with the similarity and segmentation files, in ``tests/elementwise_cases.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_cases import _data
from keras_reference import (
    ATOL32,
    ATOL64,
    RTOL32,
    RTOL64,
    keras_class_value,
    keras_function_value,
)

import course_lib.gradients as G
import course_lib.losses as L

# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("labels", ["binary", "signed", "soft"])
@pytest.mark.parametrize("name", ["hinge", "squared_hinge", "categorical_hinge"])
def test_hinge_label_kinds_match_keras(name, labels):
    if name == "categorical_hinge" and labels != "soft":
        labels = "binary"
    y_true, y_pred = _data(name, (6, 4), seed=2, labels=labels)
    ours = getattr(L, name)(y_true, y_pred)
    np.testing.assert_allclose(ours, keras_function_value(name, y_true, y_pred), rtol=RTOL64, atol=ATOL64)


# One test for the classes of three families (hinge, segmentation, similarity) that take a
# (B,) y_true against a (B, 1) y_pred.
def test_class_aligns_a_trailing_axis_of_size_1_like_keras():
    y_true = np.array([1.0, 0.0, 1.0, 1.0], dtype="float32")
    y_pred = np.array([[0.3], [-0.2], [1.4], [0.6]], dtype="float32")
    for class_name in ("Hinge", "SquaredHinge", "Dice", "Tversky", "CosineSimilarity"):
        ours = getattr(L, class_name)(reduction="none")(y_true, y_pred)
        theirs = keras_class_value(class_name, y_true, y_pred, reduction="none")
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32, err_msg=class_name)


# --------------------------------------------------------------------------- documented facts


def test_hinge_converts_labels_only_if_the_whole_batch_is_binary():
    """The trap: one 0.5 anywhere stops the 0 -> -1 conversion for every row."""
    y_pred = np.array([[-0.5, 2.0], [0.0, 2.0]])
    all_binary = np.array([[0.0, 1.0], [1.0, 1.0]])
    one_soft = np.array([[0.0, 1.0], [0.5, 1.0]])
    for y_true in (all_binary, one_soft):
        np.testing.assert_allclose(L.hinge(y_true, y_pred), keras_function_value("hinge", y_true, y_pred))
    # Row 0 is identical in both batches, yet its loss changes: 0.25 -> 0.5.
    assert L.hinge(all_binary, y_pred)[0] == pytest.approx(0.25)
    assert L.hinge(one_soft, y_pred)[0] == pytest.approx(0.5)
    assert G.hinge(one_soft, y_pred)[0, 0] == 0.0  # a 0 label gives a constant loss


def test_categorical_hinge_floors_the_wrong_class_score_at_zero():
    """The true class enters max((1 - y) * p) as 0, so all-negative wrong scores count as 0."""
    y_true, y_pred = np.array([[1.0, 0.0]]), np.array([[-0.5, -3.0]])
    np.testing.assert_allclose(L.categorical_hinge(y_true, y_pred), [1.5])
    np.testing.assert_allclose(keras_function_value("categorical_hinge", y_true, y_pred), [1.5])


# --------------------------------------------------------------------------- bad input


# --------------------------------------------------------------------------- deliberate deviations
