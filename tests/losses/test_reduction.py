"""Reductions, sample weights and masks: the one module every loss shares.

MeanSquaredError is the vehicle (its per-sample values are easy to reason
about); the same code path serves every class.
"""

from __future__ import annotations

import numpy as np
import pytest
from keras_reference import (
    ATOL32,
    RTOL32,
    keras_class_value,
    mask_merge_fails_on_torch,
    raises_mask_merge_error,
)
from loss_cases import REDUCTIONS

import course_lib.losses as L
from course_lib.losses.reduction import reduce_weighted_values

# Per-sample MSE of these rows is [0.5, 0.5, 1.0].
Y_TRUE = np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 1.0]], dtype="float32")
Y_PRED = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]], dtype="float32")
W = np.array([0.5, 2.0, 0.0], dtype="float32")


@pytest.mark.parametrize(
    ("reduction", "unweighted", "weighted"),
    [
        ("sum_over_batch_size", 2.0 / 3, 1.25 / 3),  # divides by N, not by sum(w)
        ("mean", 2.0 / 3, 1.25 / 3),
        ("mean_with_sample_weight", 2.0 / 3, 1.25 / 2.5),
        ("sum", 2.0, 1.25),
    ],
)
def test_reductions_by_hand(reduction, unweighted, weighted):
    loss = L.MeanSquaredError(reduction=reduction)
    assert float(loss(Y_TRUE, Y_PRED)) == pytest.approx(unweighted, rel=1e-6)
    assert float(loss(Y_TRUE, Y_PRED, sample_weight=W)) == pytest.approx(weighted, rel=1e-6)


@pytest.mark.parametrize("reduction", ["none", None])
def test_no_reduction_returns_weighted_per_sample_values(reduction):
    loss = L.MeanSquaredError(reduction=reduction)
    np.testing.assert_allclose(loss(Y_TRUE, Y_PRED), [0.5, 0.5, 1.0])
    np.testing.assert_allclose(loss(Y_TRUE, Y_PRED, sample_weight=W), [0.25, 1.0, 0.0])


@pytest.mark.parametrize("mask", [None, [True, False, True], [False, False, False]])
@pytest.mark.parametrize("weight", [None, "vector", "column", "scalar"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=str)
def test_weights_and_masks_match_keras(reduction, weight, mask):
    sample_weight = {None: None, "vector": W, "column": W[:, None], "scalar": 3.0}[weight]
    ours = L.MeanSquaredError(reduction=reduction)(Y_TRUE, Y_PRED, sample_weight=sample_weight, mask=mask)
    if mask_merge_fails_on_torch(sample_weight, None if mask is None else np.shape(mask)):
        with raises_mask_merge_error():  # Keras on PyTorch, a scalar weight: see keras_reference
            keras_class_value("MeanSquaredError", Y_TRUE, Y_PRED, sample_weight, mask, reduction=reduction)
        return
    theirs = keras_class_value(
        "MeanSquaredError", Y_TRUE, Y_PRED, sample_weight=sample_weight, mask=mask, reduction=reduction
    )
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


def test_masked_mean_averages_over_valid_entries_only():
    mask = [True, False, True]
    assert float(L.MeanSquaredError()(Y_TRUE, Y_PRED, mask=mask)) == pytest.approx(0.75)
    # With weights the divisor is still the number of VALID entries, not sum(w).
    assert float(L.MeanSquaredError()(Y_TRUE, Y_PRED, sample_weight=W, mask=mask)) == pytest.approx(0.125)


# Sequence outputs: y of shape (B, T, F) gives per-step losses (B, T).
SEQ_RNG = np.random.default_rng(7)
SEQ_TRUE = SEQ_RNG.normal(size=(4, 3, 2)).astype("float32")
SEQ_PRED = SEQ_RNG.normal(size=(4, 3, 2)).astype("float32")


@pytest.mark.parametrize("weight_shape", [(4, 1), (4, 3), (1,), ()], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=str)
def test_sequence_weights_match_keras(reduction, weight_shape):
    sample_weight = SEQ_RNG.uniform(0.1, 2.0, size=weight_shape).astype("float32")
    ours = L.MeanSquaredError(reduction=reduction)(SEQ_TRUE, SEQ_PRED, sample_weight=sample_weight)
    theirs = keras_class_value(
        "MeanSquaredError", SEQ_TRUE, SEQ_PRED, sample_weight=sample_weight, reduction=reduction
    )
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


def test_mean_with_sample_weight_divides_by_the_unbroadcast_weights_like_keras():
    """(B, 1) weights on (B, T) losses: Keras divides by sum(w), not T * sum(w). So do we."""
    w = np.array([[1.0], [2.0], [0.5], [0.5]], dtype="float32")
    per_step = L.MeanSquaredError(reduction="none")(SEQ_TRUE, SEQ_PRED)
    ours = L.MeanSquaredError(reduction="mean_with_sample_weight")(SEQ_TRUE, SEQ_PRED, sample_weight=w)
    assert float(ours) == pytest.approx(float(np.sum(per_step * w) / np.sum(w)), rel=1e-6)


def test_per_sample_weight_on_sequences_must_be_a_column_deviation_from_keras():
    """Deliberate deviation. With B == T, Keras silently applies a (B,) weight along
    the TIME axis of (B, T) losses (and fails with a backend error when B != T).
    We refuse and say which shape to use."""
    y = np.ones((3, 3, 2), dtype="float32")
    w = np.array([1.0, 0.0, 0.0], dtype="float32")
    keras_value = keras_class_value("MeanSquaredError", y, 2 * y, sample_weight=w)
    assert np.isfinite(keras_value)  # Keras returns a number...
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\).*\(3, 1\)"):
        L.MeanSquaredError()(y, 2 * y, sample_weight=w)  # ...we explain the mistake


def test_one_weight_per_element_cannot_apply_to_per_sample_losses():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3, 2\)"):
        L.MeanSquaredError()(Y_TRUE, Y_PRED, sample_weight=np.ones((3, 2)))


def test_vector_weight_on_a_single_value_is_refused_deviation_from_keras():
    """Deliberate deviation: a rank-1 y is ONE sample for MSE; Keras would spread four
    weights over that one value and average them."""
    y_true, y_pred = np.array([1.0, 0.0, 1.0, 1.0]), np.array([0.5, 0.5, 0.5, 0.5])
    keras_value = keras_class_value("MeanSquaredError", y_true, y_pred, sample_weight=[0.8, 0.2, 0.5, 1.0])
    assert np.isfinite(keras_value)
    with pytest.raises(ValueError, match="reshape y to"):
        L.MeanSquaredError()(y_true, y_pred, sample_weight=[0.8, 0.2, 0.5, 1.0])
    # The shape that says what is meant, and agrees with Keras:
    ours = L.MeanSquaredError()(y_true[:, None], y_pred[:, None], sample_weight=[0.8, 0.2, 0.5, 1.0])
    theirs = keras_class_value(
        "MeanSquaredError", y_true[:, None], y_pred[:, None], sample_weight=[0.8, 0.2, 0.5, 1.0]
    )
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32)


def test_scalar_losses_are_returned_unreduced():
    value = np.float32(2.0)
    for reduction in REDUCTIONS:
        assert reduce_weighted_values(value, reduction=reduction) == 2.0


def test_zero_total_weight_gives_zero_not_nan():
    loss = L.MeanSquaredError(reduction="mean_with_sample_weight")
    assert float(loss(Y_TRUE, Y_PRED, sample_weight=np.zeros(3))) == 0.0


@pytest.mark.parametrize(
    ("reduction", "error", "message"),
    [
        ("auto", ValueError, "Keras 3 removed 'auto'"),
        ("SUM", ValueError, "lower-case"),
        ("average", ValueError, "reduction must be one of"),
        (1, TypeError, "reduction must be a string or None"),
    ],
)
def test_unknown_reductions_are_refused(reduction, error, message):
    with pytest.raises(error, match=message):
        L.MeanSquaredError(reduction=reduction)


def test_mask_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"mask must have the shape"):
        L.MeanSquaredError()(Y_TRUE, Y_PRED, mask=[True, False])


def test_non_numeric_sample_weight_is_refused():
    with pytest.raises(TypeError, match="sample_weight must contain real numbers"):
        L.MeanSquaredError()(Y_TRUE, Y_PRED, sample_weight=["a", "b", "c"])


def test_dtype_rules():
    y64 = Y_TRUE.astype("float64")
    assert L.MeanSquaredError()(y64, Y_PRED.astype("float64")).dtype == np.float64  # Keras: float32
    assert L.MeanSquaredError()(Y_TRUE, Y_PRED).dtype == np.float32
    assert L.MeanSquaredError()([[1, 2]], [[1, 3]]).dtype == np.float32  # lists and ints: floatx
    assert L.MeanSquaredError(dtype="float64")(Y_TRUE, Y_PRED).dtype == np.float64
    with pytest.raises(TypeError, match="dtype must be a floating dtype"):
        L.MeanSquaredError(dtype="int32")


def test_get_config_round_trips():
    loss = L.Huber(delta=0.3, reduction="sum", name="robust")
    clone = type(loss).from_config(loss.get_config())
    assert clone.get_config() == {"name": "robust", "reduction": "sum", "delta": 0.3}
    assert float(clone(Y_TRUE, Y_PRED)) == float(loss(Y_TRUE, Y_PRED))
