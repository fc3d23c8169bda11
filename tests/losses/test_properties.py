"""Hypothesis property tests: random shapes and values, including the nasty ones.

For every loss we draw seeded inputs of random size, optionally make them
extreme (outliers, probabilities of exactly 0 and 1, logits of +-100, zero
vectors), and check

* parity with Keras (function values, float64; CTC in float32 like TensorFlow),
* the loss' axioms: its range, and its value at a perfect prediction,
* the class with a random mask, weights and reduction against the Keras class.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keras_reference import (
    BACKEND,
    focal_probabilities_off_tensorflow,
    in_keras_precision,
    keras_class_value,
    keras_function_value,
    tolerance64,
)

import course_lib.losses as L
from course_lib.sample_inputs import LOSS_NAMES, sample_inputs

# 20 examples per loss and property by default; HYPOTHESIS_MAX_EXAMPLES=500 for a deep run.
# On CI the search is derandomised so that a green run stays green.
SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "20")),
    derandomize=bool(os.environ.get("CI")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROBABILISTIC = {
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "sparse_categorical_crossentropy",
}  # fmt: skip
ROBUST_TO_OUTLIERS = {
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "hinge", "squared_hinge",
    "categorical_hinge", "cosine_similarity", "poisson",
}  # fmt: skip
CLASS_OF = L.CLASS_OF_FUNCTION


def _make_extreme(name: str, kind: str, y_true, y_pred, options, rng):
    """Turn ordinary inputs into an edge case of the given ``kind`` (or return None)."""
    y_pred = y_pred.copy()
    if kind == "outliers" and name in ROBUST_TO_OUTLIERS:
        y_pred[rng.random(y_pred.shape) < 0.2] *= 1e3
        if name in {"poisson", "mean_squared_logarithmic_error"}:
            y_pred = np.abs(y_pred)
        return y_true, y_pred, options
    if kind == "saturated" and name in PROBABILISTIC | {"kl_divergence", "dice", "tversky"}:
        if name in {"binary_crossentropy", "binary_focal_crossentropy", "dice", "tversky"}:
            exact = rng.random(y_pred.shape) < 0.5
            y_pred[exact] = rng.integers(0, 2, size=int(exact.sum()))
        else:  # a one-hot prediction per row: probabilities of exactly 0 and 1
            y_pred = np.eye(y_pred.shape[-1])[rng.integers(0, y_pred.shape[-1], size=y_pred.shape[0])]
        return y_true, y_pred, options
    if kind == "logits" and name in PROBABILISTIC:
        return (
            y_true,
            rng.choice([-100.0, 100.0], size=y_pred.shape) * rng.random(y_pred.shape),
            {
                **options,
                "from_logits": True,
            },
        )
    if kind == "zeros" and name in {"cosine_similarity", "kl_divergence"}:
        zero_rows = rng.random(y_pred.shape[0]) < 0.5
        (y_pred if name == "cosine_similarity" else y_true)[zero_rows] = 0.0
        return y_true, y_pred, options
    if kind == "plain":
        return y_true, y_pred, options
    return None


@pytest.mark.parametrize("name", LOSS_NAMES)
@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    n_elements=st.integers(1, 200),
    kind=st.sampled_from(["plain", "outliers", "saturated", "logits", "zeros"]),
)
def test_random_inputs_match_keras(name, seed, n_elements, kind):
    rng = np.random.default_rng(seed)
    dtype = "float32" if name == "ctc" else "float64"
    case = _make_extreme(name, kind, *sample_inputs(name, n_elements, seed, dtype), rng)
    if case is None:
        return  # this kind of edge case does not apply to this loss
    y_true, y_pred, options = case
    ours = getattr(L, name)(y_true, y_pred, **options)
    theirs = keras_function_value(name, y_true, y_pred, **options)
    # What Keras computes, where a backend genuinely differs (keras_reference explains):
    # JAX computes float64 in float32 (the clip 1 - 1e-7 becomes 1 - 1.19e-7), and off
    # TensorFlow the focal BCE of large logits clips sigmoid(z) (16.12 instead of |z|).
    if name == "binary_focal_crossentropy" and options.get("from_logits") and BACKEND != "tensorflow":
        y_k, p_k, probability_options = focal_probabilities_off_tensorflow(y_true, y_pred, options)
        as_keras = L.binary_focal_crossentropy(y_k, p_k, **probability_options)
    else:
        as_keras = getattr(L, name)(*in_keras_precision(y_true, y_pred), **options)
    rtol, atol = (2e-5, 2e-5) if dtype == "float32" else (1e-7, 1e-9)
    if name == "log_cosh":
        atol = max(atol, 3e-9)  # Keras' log(2) is a float32 constant even in float64
    tolerance = {"rtol": rtol, "atol": atol} if dtype == "float32" else tolerance64(rtol, atol)
    np.testing.assert_allclose(as_keras, theirs, **tolerance, equal_nan=True)
    assert np.all(np.isfinite(ours)) or kind == "saturated"


# loss -> (lower bound, upper bound) that holds for every valid input
RANGES = {
    "cosine_similarity": (-1 - 1e-6, 1 + 1e-6),
    "dice": (-1e-6, 1 + 1e-6),
    "tversky": (-1e-6, 1 + 1e-6),
    "kl_divergence": (-1e-5, np.inf),  # clipping can make KL a hair negative, as in Keras
    "poisson": (-np.inf, np.inf),  # p - y log p is a NLL up to a constant: it can be negative
}


@pytest.mark.parametrize("name", LOSS_NAMES)
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_elements=st.integers(1, 200))
def test_loss_stays_in_its_range(name, seed, n_elements):
    y_true, y_pred, options = sample_inputs(name, n_elements, seed)
    low, high = RANGES.get(name, (-1e-7, np.inf))
    values = getattr(L, name)(y_true, y_pred, **options)
    assert np.all(values >= low) and np.all(values <= high)


def _perfect_prediction(name, y_true, y_pred):
    if name in {"hinge", "squared_hinge"}:
        return 2.0 * y_true  # margin t * p = 2 > 1
    if name == "categorical_hinge":
        return 2.0 * y_true
    if name in {"sparse_categorical_crossentropy", "categorical_generalized_cross_entropy"}:
        return np.eye(y_pred.shape[-1])[y_true]
    return y_true


# Values at a perfect prediction; clipping at 1e-7 keeps cross-entropies a hair above 0.
PERFECT = {"cosine_similarity": -1.0}
PERFECT_TOLERANCE = {
    "binary_crossentropy": 2e-7, "categorical_crossentropy": 2e-7,
    "sparse_categorical_crossentropy": 2e-6, "binary_focal_crossentropy": 1e-12,
    "categorical_focal_crossentropy": 1e-12, "dice": 1e-6, "tversky": 1e-6, "kl_divergence": 1e-6,
}  # fmt: skip
NO_PERFECT_ZERO = {"poisson", "circle", "ctc"}  # minimum is not 0 (or needs a learned model)


@pytest.mark.parametrize("name", sorted(set(LOSS_NAMES) - NO_PERFECT_ZERO))
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_elements=st.integers(1, 200))
def test_perfect_prediction_gives_the_minimum(name, seed, n_elements):
    y_true, y_pred, options = sample_inputs(name, n_elements, seed)
    if name in {"dice", "tversky"}:
        y_true[..., 0] = 1.0  # an all-empty mask has Dice 1 - 0/eps: no overlap to find
    values = getattr(L, name)(y_true, _perfect_prediction(name, y_true, y_pred), **options)
    np.testing.assert_allclose(values, PERFECT.get(name, 0.0), atol=PERFECT_TOLERANCE.get(name, 1e-12))


@pytest.mark.parametrize("name", LOSS_NAMES)
@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    n_elements=st.integers(2, 200),
    reduction=st.sampled_from(["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]),
    use_mask=st.booleans(),
    use_weights=st.booleans(),
)
def test_class_with_mask_and_weights_matches_keras(name, seed, n_elements, reduction, use_mask, use_weights):
    rng = np.random.default_rng(seed)
    dtype = "float32"
    y_true, y_pred, options = sample_inputs(name, n_elements, seed, dtype)
    loss = getattr(L, CLASS_OF[name])(reduction=reduction, **options)
    values_shape = np.shape(getattr(L, name)(y_true, y_pred, **options))
    mask = rng.random(values_shape) < 0.7 if use_mask and values_shape else None
    weights = rng.uniform(0, 2, size=values_shape).astype(dtype) if use_weights and values_shape else None
    ours = loss(y_true, y_pred, sample_weight=weights, mask=mask)
    theirs = keras_class_value(
        CLASS_OF[name], y_true, y_pred, sample_weight=weights, mask=mask, reduction=reduction, **options
    )
    np.testing.assert_allclose(ours, theirs, rtol=5e-5, atol=5e-5)
