"""Hinge, squared hinge and categorical hinge: function values, classes, reductions and
bad input against real Keras, plus the cases where we deliberately differ.

The gradients are in ``tests/gradients/test_hinge.py``; the inputs and cases, shared
with the similarity and segmentation files, in ``tests/elementwise_cases.py``.
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
from elementwise_cases import CLASS_OF, HINGE, _cases, _data, _weights
from keras_reference import (
    ATOL32,
    ATOL64,
    RTOL32,
    RTOL64,
    keras_class_value,
    keras_function_value,
)
from loss_cases import REDUCTIONS

import course_lib.gradients as G
import course_lib.losses as L

# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("name, shape, options", _cases(HINGE))
def test_function_matches_keras_float64(name, shape, options):
    y_true, y_pred = _data(name, shape)
    ours = getattr(L, name)(y_true, y_pred, **options)
    theirs = keras_function_value(name, y_true, y_pred, **options)
    assert np.asarray(ours).dtype == np.float64 and np.shape(ours) == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("name, shape, options", _cases(HINGE, ranks=(2, 3)))
def test_function_matches_keras_float32(name, shape, options):
    y_true, y_pred = _data(name, shape, seed=1, dtype="float32")
    ours = getattr(L, name)(y_true, y_pred, **options)
    theirs = keras_function_value(name, y_true, y_pred, **options)
    assert np.asarray(ours).dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("labels", ["binary", "signed", "soft"])
@pytest.mark.parametrize("name", ["hinge", "squared_hinge", "categorical_hinge"])
def test_hinge_label_kinds_match_keras(name, labels):
    if name == "categorical_hinge" and labels != "soft":
        labels = "binary"
    y_true, y_pred = _data(name, (6, 4), seed=2, labels=labels)
    ours = getattr(L, name)(y_true, y_pred)
    np.testing.assert_allclose(ours, keras_function_value(name, y_true, y_pred), rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=str)
@pytest.mark.parametrize("name, shape, options", _cases(HINGE))
def test_class_matches_keras_for_every_reduction_and_weight(name, shape, options, reduction):
    y_true, y_pred = _data(name, shape, seed=3, dtype="float32")
    config = {"reduction": reduction, **options}
    values_shape = np.shape(getattr(L, name)(y_true, y_pred, **options))
    loss = getattr(L, CLASS_OF[name])(**config)
    for label, weight in _weights(values_shape).items():
        ours = loss(y_true, y_pred, sample_weight=weight)
        theirs = keras_class_value(CLASS_OF[name], y_true, y_pred, sample_weight=weight, **config)
        assert np.shape(ours) == theirs.shape, label
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32, err_msg=label)


@pytest.mark.parametrize("name, shape, options", _cases(HINGE, ranks=(3,)))
def test_class_with_float64_dtype_matches_keras(name, shape, options):
    y_true, y_pred = _data(name, shape, seed=4)
    ours = getattr(L, CLASS_OF[name])(dtype="float64", **options)(y_true, y_pred)
    theirs = keras_class_value(CLASS_OF[name], y_true, y_pred, dtype="float64", **options)
    assert np.asarray(ours).dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


# One test for the classes of three families (hinge, segmentation, similarity) that take a
# (B,) y_true against a (B, 1) y_pred.
def test_class_aligns_a_trailing_axis_of_size_1_like_keras():
    y_true = np.array([1.0, 0.0, 1.0, 1.0], dtype="float32")
    y_pred = np.array([[0.3], [-0.2], [1.4], [0.6]], dtype="float32")
    for class_name in ("Hinge", "SquaredHinge", "Dice", "Tversky", "CosineSimilarity"):
        ours = getattr(L, class_name)(reduction="none")(y_true, y_pred)
        theirs = keras_class_value(class_name, y_true, y_pred, reduction="none")
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32, err_msg=class_name)


@pytest.mark.parametrize("class_name", [CLASS_OF[name] for name in HINGE])
def test_constructor_signature_and_name_match_keras(class_name):
    ours, theirs = getattr(L, class_name), getattr(keras.losses, class_name)
    ours_params = inspect.signature(ours.__init__).parameters
    theirs_params = inspect.signature(theirs.__init__).parameters
    assert list(ours_params) == list(theirs_params)
    assert [p.default for p in ours_params.values()] == [p.default for p in theirs_params.values()]
    assert ours().name == theirs().name
    for fn_name, class_of in CLASS_OF.items():
        if class_of == class_name:
            ours_fn = inspect.signature(getattr(L, fn_name)).parameters
            theirs_fn = inspect.signature(getattr(keras.losses, fn_name)).parameters
            assert list(ours_fn) == list(theirs_fn)
            assert [p.default for p in ours_fn.values()] == [p.default for p in theirs_fn.values()]


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


@pytest.mark.parametrize("name", HINGE)
def test_mismatched_shapes_strings_and_scalars_are_rejected(name):
    for module in (L, G):
        fn = getattr(module, name)
        with pytest.raises(ValueError, match="y_true and y_pred must have the same shape"):
            fn(np.zeros((4, 3)), np.zeros((4, 2)))
        with pytest.raises(TypeError, match="y_pred"):
            fn([["a"]], [["b"]])
        with pytest.raises(ValueError, match="at least 1-D"):
            fn(1.0, 0.5)
    with pytest.raises(ValueError, match="reduction"):
        getattr(L, CLASS_OF[name])(reduction="auto")
    with pytest.raises(ValueError, match="sample_weight"):
        getattr(L, CLASS_OF[name])()(np.zeros((4, 3)), np.ones((4, 3)), sample_weight=np.ones(3))


# --------------------------------------------------------------------------- deliberate deviations


@pytest.mark.parametrize("name", HINGE)
def test_deviation_functions_align_ranks_where_keras_functions_broadcast(name):
    """Keras' hinge/dice/tversky *functions* multiply a (B, 1) y_true by a (B,) y_pred into a
    (B, B) grid; the classes (Keras' and ours) and our functions align the ranks first."""
    y_true = np.array([[1.0], [0.0], [1.0], [1.0]])
    y_pred = np.array([0.8, 0.3, -0.4, 0.9])
    ours = getattr(L, name)(y_true, y_pred)
    aligned = getattr(L, name)(y_true, y_pred[:, None])
    np.testing.assert_allclose(ours, aligned)
    theirs = keras_function_value(name, y_true, y_pred)
    assert theirs.shape != np.shape(ours) or not np.allclose(theirs, ours)
    keras_class = keras_class_value(
        CLASS_OF[name], y_true.astype("float32"), y_pred.astype("float32"), reduction="none"
    )
    np.testing.assert_allclose(
        getattr(L, CLASS_OF[name])(reduction="none")(y_true, y_pred), keras_class, rtol=RTOL32
    )
