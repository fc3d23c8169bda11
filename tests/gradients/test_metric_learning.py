"""Gradients of the metric-learning losses, each against the backend's autodiff and
central finite differences of the NumPy loss: Circle against the autodiff of
``keras.losses.circle``; contrastive, triplet, quadruplet and adaptive triplet (not in
Keras) against the autodiff of their ``keras.ops`` twins in ``course_lib.keras_losses``."""

from __future__ import annotations

import numpy as np
import pytest
from keras_reference import (
    ATOL64,
    RTOL64,
    autodiff_gradient,
    finite_difference_gradient,
    tape_gradient,
    tolerance64,
)
from metric_learning_cases import (
    BATCH_CASES,
    CIRCLE_OPTIONS,
    EMB,
    batch_case,
    circle_case,
    pair_case,
    reference_set,
    unit_rows,
)

import course_lib.keras_losses as K
from course_lib.gradients import metric_learning as G
from course_lib.gradients import metric_learning as GM  # the name the Circle tests use
from course_lib.losses import metric_learning as M


def keras_tape(name, y_true, y_pred, **options):
    """The backend's autodiff of the ``keras.ops`` twin ``course_lib.keras_losses.<name>``."""
    return autodiff_gradient(getattr(K, name), y_true, y_pred, **options)


def frozen_margin_adaptive(labels, margins, mining):
    """The adaptive loss with its margins fixed: what its gradient differentiates."""

    def loss(_, embeddings):
        distance = M.squared_distances(embeddings)
        positive, negative = M.same_label_masks(labels)
        part = M.batch_hard if mining == "hard" else M.batch_all
        return part(distance, positive, negative, margins)[0]

    return loss


# --------------------------------------------------------------------------------------
# Circle
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", CIRCLE_OPTIONS)
def test_circle_gradient_matches_tape(options):
    labels, emb = circle_case(16)
    emb = 0.9 * emb  # |e|^2 < 1: the diagonal stays away from the clip at d = 0
    np.testing.assert_allclose(
        GM.circle(labels, emb, **options),
        tape_gradient("circle", labels, emb, **options),
        **tolerance64(1e-9, 1e-10),
    )


def test_circle_gradient_with_a_reference_set_matches_tape():
    labels, emb = circle_case(17)
    ref_labels, ref_emb = reference_set(17)
    kwargs = {"ref_labels": ref_labels, "ref_embeddings": ref_emb, "gamma": 8.0}
    np.testing.assert_allclose(
        GM.circle(labels, emb, **kwargs),
        tape_gradient("circle", labels, emb, **kwargs),
        **tolerance64(1e-9, 1e-10),
    )


@pytest.mark.parametrize("options", CIRCLE_OPTIONS + [{"ref": True, "gamma": 4.0}])
def test_circle_gradient_matches_finite_differences(options):
    options = dict(options)
    labels, emb = circle_case(18)
    emb = 0.9 * emb
    if options.pop("ref", False):
        options["ref_labels"], options["ref_embeddings"] = reference_set(18)
    grad = GM.circle(labels, emb, **options)
    numeric = finite_difference_gradient(M.circle, labels, emb, **options)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6 * np.abs(grad).max())


def test_circle_gradient_where_the_negative_weight_clip_is_active():
    """A negative pair with d > 1 + m has weight 0: no gradient through it (as in Keras)."""
    emb = np.array([[1.0, 0.0], [0.8, 0.6], [-1.0, 0.05]])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = np.array([0, 0, 1])
    np.testing.assert_allclose(
        GM.circle(labels, emb, gamma=3.0),
        tape_gradient("circle", labels, emb, gamma=3.0),
        rtol=RTOL64,
        atol=ATOL64,
    )


def test_circle_gradient_dtype_and_shape():
    labels, emb = circle_case(19)
    assert GM.circle(labels, emb.astype(np.float32)).dtype == np.float32
    assert GM.circle(labels, emb).shape == emb.shape
    assert GM.circle([0, 1, 1], EMB).dtype == np.float32  # lists compute in float32


def test_circle_gradient_of_samples_without_pairs_is_zero():
    emb = unit_rows(np.random.default_rng(20), 3, 2)
    np.testing.assert_array_equal(GM.circle([0, 1, 2], emb), 0.0)
    np.testing.assert_array_equal(tape_gradient("circle", np.array([0, 1, 2]), emb), 0.0)


# --------------------------------------------------------------------------------------
# Contrastive, triplet, quadruplet, adaptive triplet (their Keras twins' tape)
# --------------------------------------------------------------------------------------


def test_contrastive_gradient_is_zero_not_nan_at_distance_zero():
    pairs = np.zeros((2, 2, 3))
    labels = np.array([0.0, 1.0])
    assert np.all(G.contrastive(labels, pairs) == 0.0)
    assert np.all(keras_tape("contrastive", labels, pairs) == 0.0)
    np.testing.assert_allclose(M.contrastive(labels, pairs), [1.0, 0.0])


@pytest.mark.parametrize(("name", "options"), BATCH_CASES)
def test_batch_gradient_matches_gradient_tape_and_finite_differences(name, options):
    labels, emb = batch_case(5)
    ours = getattr(G, name)(labels, emb, **options)
    assert ours.shape == emb.shape and ours.dtype == np.float64
    np.testing.assert_allclose(ours, keras_tape(name, labels, emb, **options), rtol=RTOL64, atol=ATOL64)
    if name == "adaptive_triplet":  # the margins are constants: differentiate with them frozen
        margins = M.adaptive_margins(labels, emb, options.get("margin", 0.2))[0]
        loss, kwargs = frozen_margin_adaptive(labels, margins, options.get("mining", "all")), {}
    else:
        loss, kwargs = getattr(M, name), options
    np.testing.assert_allclose(
        ours, finite_difference_gradient(loss, labels, emb, **kwargs), rtol=1e-5, atol=1e-7
    )


def test_adaptive_gradient_holds_the_margins_constant():
    """Deliberate: unlike a plain autodiff of our formula, the margins get no gradient."""
    labels, emb = batch_case(6)
    full = finite_difference_gradient(M.adaptive_triplet, labels, emb)
    assert not np.allclose(G.adaptive_triplet(labels, emb), full, atol=1e-4)


@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_contrastive_gradient_matches_tape_and_finite_differences(margin):
    labels, pairs = pair_case(1)
    ours = G.contrastive(labels, pairs, margin=margin)
    assert ours.shape == pairs.shape
    np.testing.assert_allclose(
        ours, keras_tape("contrastive", labels, pairs, margin=margin), rtol=RTOL64, atol=ATOL64
    )
    np.testing.assert_allclose(
        ours, finite_difference_gradient(M.contrastive, labels, pairs, margin=margin), rtol=1e-5, atol=1e-7
    )
