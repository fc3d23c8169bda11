"""Gradients of the probabilistic losses: ``course_lib.gradients.probabilistic`` against
the backend's autodiff on ``keras.losses`` (every option, a non-default axis, every rank,
where the clip is active) and against central finite differences of our own loss;
gradient signatures equal the losses'."""

from __future__ import annotations

import numpy as np
import pytest
from keras_reference import (
    ATOL64,
    BACKEND,
    RTOL64,
    finite_difference_gradient,
    in_keras_precision,
    tape_gradient,
)
from loss_cases import parameters
from probabilistic_cases import (
    AXIS_CASES,
    FUNCTION_CASES,
    FUNCTIONS,
    SHAPES,
    case_id,
    close,
    make_data,
)

from course_lib.gradients import probabilistic as G
from course_lib.losses import probabilistic as P

# --------------------------------------------------------------------------------------
# Where the clip is active
# --------------------------------------------------------------------------------------

CLIPPED_GRADIENT_CASES = [
    ("binary_crossentropy", {}, "binary"),
    ("binary_focal_crossentropy", {"gamma": 1.5}, "binary"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True}, "binary"),
    ("categorical_crossentropy", {}, "categorical"),
    ("categorical_crossentropy", {"label_smoothing": 0.1}, "categorical"),
    ("categorical_focal_crossentropy", {}, "categorical"),
    ("sparse_categorical_crossentropy", {}, "sparse"),
    ("kl_divergence", {}, "dist"),
    ("poisson", {}, "counts"),
    ("categorical_generalized_cross_entropy", {"q": 0.5}, "sparse"),
]


@pytest.mark.parametrize("case", CLIPPED_GRADIENT_CASES, ids=case_id)
def test_gradient_where_the_clip_is_active_matches_tape(case):
    """At 0, 1, 1e-9 (clipped: gradient 0) and exactly eps (kept: TF's bounds are inclusive)."""
    name, kwargs, kind = case
    p = np.array([[0.0, 1.0, 1e-9], [1e-7, 0.5, 1.0 - 1e-9], [0.3, 0.3, 0.4], [0.2, 1.5, 0.3]])
    y = {
        "binary": np.array([[1, 0, 1], [1, 0, 0], [1, 1, 0], [0, 1, 0]], "float64"),
        "categorical": np.eye(3)[[0, 0, 2, 1]],
        "sparse": np.array([0, 0, 2, 1]),
        "dist": np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [1, 0, 0], [0, 0.5, 0.5]]),
        "counts": np.array([[0, 1, 2], [3, 0, 1], [0, 0, 0], [1, 1, 1]], "float64"),
    }[kind]
    if kind == "binary":
        p[3, 1] = 0.9  # BCE needs p <= 1
    if name.startswith("categorical_generalized"):
        p[0] = [0.5, 0.2, 0.3]  # keep p_c > 0: the slope -p_c^(q-1) is infinite at 0
    ours = getattr(G, name)(y, p, **kwargs)
    theirs = tape_gradient(name, y, p, **kwargs)
    if BACKEND == "tensorflow":
        close(ours, theirs, "float64")
        return
    # Measured off TensorFlow (Keras 3.15); ours follows TensorFlow, the reference.
    if name == "sparse_categorical_crossentropy":
        # JAX and PyTorch one-hot the labels and take the categorical path, which
        # normalises p before it clips: where the target's p is 1e-7 no gradient flows
        # (row 1: 0 instead of -1e7).  TensorFlow's sparse kernel renormalises after
        # clipping.
        close(G.categorical_crossentropy(np.eye(3)[y], p), theirs, "float64")
        return
    # On JAX float64 is computed in float32, where 1 - 1e-9 is 1 (clipped: no gradient).
    expected = getattr(G, name)(*in_keras_precision(y, p), **kwargs)
    keras_p = in_keras_precision(p)[0]
    if BACKEND == "jax" and name in ("binary_crossentropy", "binary_focal_crossentropy", "kl_divergence"):
        # jax.grad of clip splits the gradient evenly at a bound (as maximum does at a
        # tie): half of it where the clipped p is exactly eps (or 1, KL's upper bound).
        at_bound = (keras_p == np.float32(1e-7)) | ((keras_p == 1.0) & (name == "kl_divergence"))
        expected = np.where(at_bound, 0.5 * expected, expected)
    if BACKEND == "torch" and name == "kl_divergence":
        # PyTorch: KL's clip passes no gradient at p = 1e-7 exactly (-2e6 on TensorFlow).
        expected = np.where(p == 1e-7, 0.0, expected)
    close(expected, theirs, "float64")


# --------------------------------------------------------------------------------------
# Against the tape and finite differences
# --------------------------------------------------------------------------------------

GRADIENT_CASES = FUNCTION_CASES + AXIS_CASES


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_id)
def test_gradient_matches_tape(case):
    name, kwargs, kind = case
    shape = (2, 3, 4) if "axis" in kwargs else (5, 3)
    y_true, y_pred = make_data(kind, shape, kwargs.get("from_logits", False), 3)
    ours = getattr(G, name)(y_true, y_pred, **kwargs)
    assert ours.shape == y_pred.shape and ours.dtype == np.float64
    np.testing.assert_allclose(ours, tape_gradient(name, y_true, y_pred, **kwargs), rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_id)
def test_gradient_matches_finite_differences(case):
    name, kwargs, kind = case
    shape = (2, 3, 4) if "axis" in kwargs else (4, 3)
    y_true, y_pred = make_data(kind, shape, kwargs.get("from_logits", False), 4)
    ours = getattr(G, name)(y_true, y_pred, **kwargs)
    numeric = finite_difference_gradient(getattr(P, name), y_true, y_pred, **kwargs)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("rank", [1, 3, 4])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", FUNCTION_CASES[::2], ids=case_id)
def test_gradient_shape_dtype_and_value_at_other_ranks(case, dtype, rank):
    name, kwargs, kind = case
    y_true, y_pred = make_data(kind, SHAPES[rank], kwargs.get("from_logits", False), rank, dtype)
    ours = getattr(G, name)(y_true, y_pred, **kwargs)
    assert ours.shape == y_pred.shape and ours.dtype == np.dtype(dtype)
    close(ours, tape_gradient(name, y_true, y_pred, **kwargs), dtype)


def test_gradient_keeps_the_shape_y_pred_was_passed_in():
    """A (4,) prediction against (4, 1) targets gets a (4,) gradient."""
    y = np.array([[1.0], [0.0], [1.0], [1.0]])
    z = np.array([-5.4, 8.7, -1.2, -4.6])
    assert G.binary_crossentropy(y, z, from_logits=True).shape == (4,)
    assert G.poisson(y, np.abs(z)).shape == (4,)


def test_gradient_of_logits_is_prediction_minus_target():
    """The textbook results: sigma(z) - y and softmax(z) - y."""
    z = np.array([[0.3, -1.2, 2.0]])
    y = np.array([[0.0, 0.0, 1.0]])
    softmax = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(G.categorical_crossentropy(y, z, from_logits=True), softmax - y)
    np.testing.assert_allclose(G.sparse_categorical_crossentropy([2], z, from_logits=True), softmax - y)
    np.testing.assert_allclose(G.binary_crossentropy(y, z, from_logits=True), (1 / (1 + np.exp(-z)) - y) / 3)


def test_ignored_samples_get_no_gradient():
    ids, z = make_data("sparse_void", (4, 3), True)
    for from_logits in (True, False):
        grad = G.sparse_categorical_crossentropy(ids, np.abs(z), from_logits=from_logits, ignore_class=-1)
        assert np.all(grad[0] == 0) and np.any(grad[1:] != 0)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_gradient_signature_matches_loss(name):
    assert parameters(getattr(G, name)) == parameters(getattr(P, name))
