"""The value tolerance of ``compare_class`` follows the reduction.

Keras' ``log_cosh`` subtracts a float32 ``log 2`` even in float64, 1.9e-9 off
per element.  A per-sample tolerance of 5e-9 covers one value, but
``reduction="sum"`` adds N such offsets, so ``compare_class`` reduces the
per-sample tolerances exactly as the loss reduces its values.
"""

from __future__ import annotations

import numpy as np
import pytest
from keras_reference import BACKEND

import course_lib.losses as losses
from course_lib.compare import _reduced_tolerance, compare_class

Y_TRUE = np.zeros((40, 1))
Y_PRED = np.linspace(-2.0, 2.0, 40).reshape(-1, 1)


@pytest.mark.parametrize(
    "reduction", ["sum", "sum_over_batch_size", "mean", "mean_with_sample_weight", "none", None]
)
@pytest.mark.parametrize("sample_weight", [None, 3.0, np.linspace(0.0, 2.0, 40)])
def test_log_cosh_matches_keras_under_every_reduction(reduction, sample_weight):
    verdict = compare_class("LogCosh", Y_TRUE, Y_PRED, sample_weight=sample_weight, reduction=reduction)
    assert verdict.ok, verdict


def test_the_sum_really_exceeds_the_per_sample_tolerance():
    """Without scaling, the sum over 40 samples would fail (the offsets add up)."""
    verdict = compare_class("LogCosh", Y_TRUE, Y_PRED, reduction="sum", dtype="float64")
    if BACKEND == "jax":
        # JAX (without x64) computes float64 input in float32: the sum is 2.6e-6 off,
        # beyond any float64 tolerance, and the verdict says why.
        assert not verdict.ok and "computes partly in float32" in str(verdict)
        return
    rtol, atol = verdict.value_tolerance
    assert verdict.value_error > atol
    assert verdict.value_error < 40 * 2e-9


@pytest.mark.parametrize(
    ("reduction", "factor"), [("sum", 40.0), ("sum_over_batch_size", 1.0), ("mean_with_sample_weight", 1.0)]
)
def test_reduced_tolerance_is_the_reduction_of_the_per_sample_tolerances(reduction, factor):
    loss = losses.MeanAbsoluteError(reduction=reduction, dtype="float64")
    y_pred = np.full((40, 1), 2.0)  # every per-sample loss is 2
    allowed = _reduced_tolerance(loss, Y_TRUE, y_pred, None, 1e-9, 5e-9)
    np.testing.assert_allclose(allowed, factor * (5e-9 + 1e-9 * 2.0), rtol=1e-12)


def test_weights_count_by_absolute_value():
    loss = losses.MeanAbsoluteError(reduction="sum", dtype="float64")
    weights = np.array([1.0, -2.0, 0.0])
    allowed = _reduced_tolerance(loss, np.zeros((3, 1)), np.zeros((3, 1)), weights, 0.0, 1e-9)
    np.testing.assert_allclose(allowed, 3e-9, rtol=1e-12)


def test_a_real_mismatch_under_sum_is_still_caught():
    """Huber with different deltas differs by far more than N * atol."""
    ours_delta, keras_delta = 0.5, 1.0
    ours = losses.Huber(delta=ours_delta, reduction="sum", dtype="float64")(Y_TRUE, Y_PRED)
    theirs = losses.Huber(delta=keras_delta, reduction="sum", dtype="float64")(Y_TRUE, Y_PRED)
    allowed = _reduced_tolerance(
        losses.Huber(reduction="sum", dtype="float64"), Y_TRUE, Y_PRED, None, 1e-9, 5e-9
    )
    assert abs(ours - theirs) > 1e3 * allowed
