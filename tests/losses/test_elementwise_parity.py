"""What every element-wise loss with a Keras twin shares, tested once for all of them:
hinge, squared hinge, categorical hinge (``hinge.py``), cosine similarity
(``similarity.py``), Dice and Tversky (``segmentation.py``).

Function values in float32 and float64, the class under every reduction and weight,
constructor signatures and configs, and bad input, against real Keras.  What is
particular to one family stays in its own file (``tests/losses/test_hinge.py``, ...).
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
from elementwise_cases import CLASS_OF, HINGE, SEGMENTATION, SIMILARITY, _cases, _data, _weights
from keras_reference import (
    ATOL32,
    ATOL64,
    RTOL32,
    RTOL64,
    keras_class_value,
    keras_function_value,
    tolerance64,
)
from loss_cases import REDUCTIONS

import course_lib.gradients as G
import course_lib.losses as L

ELEMENTWISE = HINGE + SIMILARITY + SEGMENTATION


@pytest.mark.parametrize("name, shape, options", _cases(ELEMENTWISE))
def test_function_matches_keras_float64(name, shape, options):
    y_true, y_pred = _data(name, shape)
    ours = getattr(L, name)(y_true, y_pred, **options)
    theirs = keras_function_value(name, y_true, y_pred, **options)
    assert np.asarray(ours).dtype == np.float64 and np.shape(ours) == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("name, shape, options", _cases(ELEMENTWISE, ranks=(2, 3)))
def test_function_matches_keras_float32(name, shape, options):
    y_true, y_pred = _data(name, shape, seed=1, dtype="float32")
    ours = getattr(L, name)(y_true, y_pred, **options)
    theirs = keras_function_value(name, y_true, y_pred, **options)
    assert np.asarray(ours).dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=str)
@pytest.mark.parametrize("name, shape, options", _cases(ELEMENTWISE))
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


@pytest.mark.parametrize("name, shape, options", _cases(ELEMENTWISE, ranks=(3,)))
def test_class_with_float64_dtype_matches_keras(name, shape, options):
    y_true, y_pred = _data(name, shape, seed=4)
    ours = getattr(L, CLASS_OF[name])(dtype="float64", **options)(y_true, y_pred)
    theirs = keras_class_value(CLASS_OF[name], y_true, y_pred, dtype="float64", **options)
    assert np.asarray(ours).dtype == np.float64
    np.testing.assert_allclose(ours, theirs, **tolerance64(1e-12, 1e-14))


@pytest.mark.parametrize("class_name", list(CLASS_OF.values()))
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


@pytest.mark.parametrize(
    "loss",
    [L.Tversky(alpha=0.9, beta=0.1, axis=(1,)), L.Dice(axis=[1, 2]), L.CosineSimilarity(axis=0)],
    ids=repr,
)
def test_get_config_round_trips(loss):
    clone = type(loss)(**loss.get_config())
    assert clone.get_config() == loss.get_config()
    assert clone.axis == loss.axis


@pytest.mark.parametrize("name", list(CLASS_OF))
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


@pytest.mark.parametrize("name", ["cosine_similarity", "dice", "tversky"])
def test_bad_axis_is_rejected_in_functions_gradients_and_classes(name):
    y = np.ones((2, 3))
    for fn in (getattr(L, name), getattr(G, name)):
        with pytest.raises(ValueError, match="axis=2 is out of range"):
            fn(y, y, axis=2)
        with pytest.raises(ValueError, match=r"axis=\(1, -1\) repeats"):
            fn(y, y, axis=(1, -1))  # the same axis, only detectable once the rank is known
        with pytest.raises(TypeError, match="axis"):
            fn(y, y, axis=1.0)
    cls = getattr(L, CLASS_OF[name])
    for axis, error in [
        ("1", TypeError),
        (True, TypeError),
        ((1, 1), ValueError),
        ([0, 1.5], TypeError),
    ]:
        with pytest.raises(error, match="axis"):
            cls(axis=axis)
    with pytest.raises(ValueError, match="axis=5 is out of range"):
        cls(axis=5)(y, y)


@pytest.mark.parametrize("name", ["hinge", "squared_hinge", "categorical_hinge", "dice", "tversky"])
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
