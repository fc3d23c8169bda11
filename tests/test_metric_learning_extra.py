"""Contrastive, triplet (three minings), quadruplet and adaptive-margin triplet losses.

Keras has none of them, so each NumPy loss is checked against its Keras twin in
``course_lib.keras_losses`` (written with ``keras.ops``), each hand-derived
gradient against ``tf.GradientTape`` on that twin and against central finite
differences of the NumPy loss, and the Keras classes are shown to train a model.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_reference import ATOL32, ATOL64, RTOL32, RTOL64, finite_difference_gradient

import course_lib.keras_losses as K
from course_lib.gradients import metric_learning as G
from course_lib.losses import metric_learning as M

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]

BATCH_CASES = [
    ("triplet", {}),
    ("triplet", {"mining": "hard"}),
    ("triplet", {"mining": "semi-hard", "margin": 0.5}),
    ("quadruplet", {}),
    ("quadruplet", {"margin": 1.0, "margin2": 2.0}),
    ("adaptive_triplet", {}),
    ("adaptive_triplet", {"mining": "hard", "margin": 1.0}),
]
CLASS_OF = {
    "triplet": "Triplet",
    "quadruplet": "Quadruplet",
    "adaptive_triplet": "AdaptiveTriplet",
    "contrastive": "Contrastive",
}


def batch_case(seed: int, n: int = 10, dim: int = 3, classes: int = 3):
    """Labels with one singleton (no positive: masked out) and random embeddings."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    labels[-1] = classes + 4
    return labels, rng.normal(size=(n, dim))


def pair_case(seed: int, n: int = 8, dim: int = 3):
    """0/1 labels and pairs at distances on both sides of the margin 1."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n).astype(np.float64)
    labels[:2] = [0.0, 1.0]
    return labels, rng.normal(scale=0.5, size=(n, 2, dim))


def keras_values(name, y_true, y_pred, **options):
    return np.asarray(getattr(K, name)(tf.constant(y_true), tf.constant(y_pred), **options))


def keras_tape(name, y_true, y_pred, **options):
    variable = tf.Variable(np.asarray(y_pred))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(getattr(K, name)(tf.constant(y_true), variable, **options))
    return tape.gradient(total, variable).numpy()


def frozen_margin_adaptive(labels, margins, mining):
    """The adaptive loss with its margins fixed: what its gradient differentiates."""

    def loss(_, embeddings):
        distance = M.squared_distances(embeddings)
        positive, negative = M.same_label_masks(labels)
        part = M.batch_hard if mining == "hard" else M.batch_all
        return part(distance, positive, negative, margins)[0]

    return loss


# --------------------------------------------------------------------------------------
# Values: NumPy against the Keras version
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("name", "options"), BATCH_CASES)
def test_batch_loss_matches_its_keras_version_float64(name, options, seed):
    labels, emb = batch_case(seed)
    ours = getattr(M, name)(labels, emb, **options)
    assert ours.shape == (10,) and ours.dtype == np.float64 and ours[-1] == 0.0
    np.testing.assert_allclose(ours, keras_values(name, labels, emb, **options), rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize(("name", "options"), BATCH_CASES)
def test_batch_loss_matches_its_keras_version_float32(name, options):
    labels, emb = batch_case(2)
    emb = emb.astype(np.float32)
    ours = getattr(M, name)(labels, emb, **options)
    assert ours.dtype == np.float32 and getattr(G, name)(labels, emb, **options).dtype == np.float32
    np.testing.assert_allclose(ours, keras_values(name, labels, emb, **options), rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_contrastive_matches_its_keras_version(margin):
    labels, pairs = pair_case(0)
    np.testing.assert_allclose(
        M.contrastive(labels, pairs, margin=margin),
        keras_values("contrastive", labels, pairs, margin=margin),
        rtol=RTOL64,
        atol=ATOL64,
    )
    column = M.contrastive(labels[:, None], pairs.astype(np.float32), margin=margin)
    assert column.dtype == np.float32 and column.shape == (8,)


def test_contrastive_label_convention_one_is_similar():
    """y = 1: the squared distance; y = 0: the squared shortfall below the margin."""
    pairs = np.array([[[0.0, 0.0], [0.6, 0.8]]] * 2 + [[[0.0, 0.0], [3.0, 4.0]]])
    np.testing.assert_allclose(M.contrastive([1, 0, 0], pairs, margin=2.0), [1.0, 1.0, 0.0])


def test_contrastive_gradient_is_zero_not_nan_at_distance_zero():
    pairs = np.zeros((2, 2, 3))
    labels = np.array([0.0, 1.0])
    assert np.all(G.contrastive(labels, pairs) == 0.0)
    assert np.all(keras_tape("contrastive", labels, pairs) == 0.0)
    np.testing.assert_allclose(M.contrastive(labels, pairs), [1.0, 0.0])


def test_triplet_minings_on_a_hand_example():
    """Anchors 0..3 on a line; FaceNet's semi-hard negative is further than the positive."""
    emb = np.array([[0.0, 0.0], [0.5, 0.0], [0.6, 0.2], [1.0, 0.0]])
    labels = [0, 0, 1, 1]
    # D: d01=.25, d02=.40, d03=1, d12=.05, d13=.25, d23=.20
    np.testing.assert_allclose(M.triplet(labels, emb, mining="hard"), [0.05, 0.4, 0.35, 0.15], atol=1e-12)
    np.testing.assert_allclose(M.triplet(labels, emb), [0.025, 0.3, 0.175, 0.075], atol=1e-12)
    # anchor 2 (positive 3 at .20): negatives .40 (further) and .05 -> picks .40: .2 - .4 + .2 = 0
    # anchor 1 (positive 0 at .25): no negative further than .25 -> the furthest, .25: hinge .2
    np.testing.assert_allclose(M.triplet(labels, emb, mining="semi-hard"), [0.05, 0.2, 0.0, 0.15], atol=1e-12)


def test_adaptive_margins_average_alpha_and_grow_with_centre_distance():
    labels, emb = batch_case(3)
    margins, centre_distance = M.adaptive_margins(labels, emb, 0.2)
    negative = labels[:, None] != labels[None, :]
    assert np.isclose(margins[negative].mean(), 0.2)
    order = np.argsort(centre_distance[negative])
    assert np.all(np.diff(margins[negative][order]) >= 0)


def test_adaptive_triplet_equals_triplet_when_all_centres_are_equally_far():
    """Three classes on an equilateral triangle: every adaptive margin is alpha."""
    angles = np.array([0.0, 2.0, 4.0]) * np.pi / 3
    corners = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    offsets = np.array([[0.1, 0.05], [-0.1, -0.05]])
    emb = (corners[:, None, :] + offsets[None, :, :]).reshape(6, 2)
    labels = [0, 0, 1, 1, 2, 2]
    np.testing.assert_allclose(M.adaptive_margins(np.array(labels), emb, 0.2)[0][0, 2:], 0.2)
    for mining in ("all", "hard"):
        np.testing.assert_allclose(
            M.adaptive_triplet(labels, emb, margin=2.0, mining=mining),
            M.triplet(labels, emb, margin=2.0, mining=mining),
            rtol=1e-12,
        )


def test_quadruplet_second_term_needs_three_classes():
    labels, emb = batch_case(4, classes=2)
    labels[-1] = 0  # two classes only: no pair of negatives of different classes
    np.testing.assert_allclose(
        M.quadruplet(labels, emb, margin2=5.0), M.triplet(labels, emb, mining="hard"), rtol=1e-12
    )


# --------------------------------------------------------------------------------------
# Gradients: hand-derived against GradientTape and finite differences
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "options"), BATCH_CASES)
def test_batch_gradient_matches_gradient_tape_and_finite_differences(name, options):
    labels, emb = batch_case(5)
    ours = getattr(G, name)(labels, emb, **options)
    assert ours.shape == emb.shape and ours.dtype == np.float64
    np.testing.assert_allclose(ours, keras_tape(name, labels, emb, **options), rtol=1e-9, atol=1e-12)
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
        ours, keras_tape("contrastive", labels, pairs, margin=margin), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        ours, finite_difference_gradient(M.contrastive, labels, pairs, margin=margin), rtol=1e-5, atol=1e-7
    )


# --------------------------------------------------------------------------------------
# Classes: reductions, weights, masks, Keras classes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "options"), [BATCH_CASES[0], BATCH_CASES[2], BATCH_CASES[3], BATCH_CASES[6]]
)
def test_batch_classes_match_their_keras_classes(name, options, reduction):
    labels, emb = batch_case(7)
    weights = np.linspace(0.0, 2.0, 10)
    ours_cls, keras_cls = getattr(M, CLASS_OF[name]), getattr(K, CLASS_OF[name])
    for sample_weight in (None, weights, weights[:, None], 0.5):
        ours = ours_cls(reduction=reduction, **options)(
            labels, emb.astype(np.float32), sample_weight=sample_weight
        )
        theirs = keras_cls(reduction=reduction, **options)(
            labels, emb.astype(np.float32), sample_weight=sample_weight
        )
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=RTOL32, atol=ATOL32)


def test_batch_classes_leave_out_anchors_without_positive_or_negative():
    labels, emb = batch_case(8)
    values = M.triplet(labels, emb)
    valid = M.valid_anchors(labels)
    assert not valid[-1] and valid.sum() < 10
    assert np.isclose(M.Triplet()(labels, emb), values[valid].mean())


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_contrastive_class_matches_its_keras_class(reduction):
    labels, pairs = pair_case(2)
    pairs = pairs.astype(np.float32)
    weights = np.linspace(0.5, 1.5, 8)
    ours = M.Contrastive(margin=0.8, reduction=reduction)(labels, pairs, sample_weight=weights)
    theirs = K.Contrastive(margin=0.8, reduction=reduction)(labels, pairs, sample_weight=weights)
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=RTOL32, atol=ATOL32)


def test_classes_keep_their_options_and_keras_config_round_trips():
    assert M.Triplet(margin=0.3, mining="hard").get_config()["mining"] == "hard"
    assert M.Quadruplet().name == "quadruplet" and M.AdaptiveTriplet().name == "adaptive_triplet"
    loss = K.Quadruplet(margin=0.3, margin2=0.05)
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(clone, K.Quadruplet) and clone.get_config() == loss.get_config()


def test_keras_classes_train_a_model():
    """Every Keras version is differentiable inside fit() and lowers its loss."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)
    for loss in (K.Triplet(mining="semi-hard"), K.Quadruplet(), K.AdaptiveTriplet(mining="hard")):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
        history = model.fit(x, labels, batch_size=64, epochs=8, verbose=0).history["loss"]
        assert np.all(np.isfinite(history)) and history[-1] < history[0], (loss.name, history)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [M, G], ids=["loss", "gradient"])
@pytest.mark.parametrize("name", ["triplet", "quadruplet", "adaptive_triplet"])
def test_batch_losses_reject_bad_input(module, name):
    labels, emb = batch_case(9)
    fn = getattr(module, name)
    with pytest.raises(ValueError, match="one label per embedding"):
        fn(labels[:-1], emb)
    with pytest.raises(ValueError, match="y_pred must be 2-D"):
        fn(labels, emb[:, :, None])
    with pytest.raises(ValueError, match="integer labels"):
        fn(labels + 0.5, emb)
    with pytest.raises(TypeError, match="y_pred"):
        fn(labels, np.full(emb.shape, "x"))
    with pytest.raises(ValueError, match="margin must be >= 0"):
        fn(labels, emb, margin=-0.1)


@pytest.mark.parametrize("module", [M, G, K], ids=["loss", "gradient", "keras"])
def test_unknown_mining_is_refused(module):
    labels, emb = batch_case(9)
    with pytest.raises(ValueError, match="mining must be one of"):
        module.triplet(labels, emb, mining="semihard")
    with pytest.raises(ValueError, match="mining must be one of"):
        module.adaptive_triplet(labels, emb, mining="semi-hard")
    with pytest.raises(TypeError, match="mining must be a string"):
        module.triplet(labels, emb, mining=None)


def test_classes_reject_bad_options_at_construction():
    for cls in (M.Triplet, K.Triplet):
        with pytest.raises(ValueError, match="mining"):
            cls(mining="batch-hard")
    for cls in (M.Quadruplet, K.Quadruplet):
        with pytest.raises(ValueError, match="margin2"):
            cls(margin2=-1.0)
    for cls in (M.Contrastive, K.Contrastive):
        with pytest.raises(TypeError, match="margin"):
            cls(margin="1")


@pytest.mark.parametrize("module", [M, G], ids=["loss", "gradient"])
def test_contrastive_rejects_bad_input(module):
    labels, pairs = pair_case(3)
    with pytest.raises(ValueError, match=r"1 \(similar pair\) or 0"):
        module.contrastive(labels * 2, pairs)
    with pytest.raises(ValueError, match=r"shape \(B, 2, D\)"):
        module.contrastive(labels, pairs[:, :1])
    with pytest.raises(ValueError, match="one 0/1 label per pair"):
        module.contrastive(labels[:-1], pairs)
    with pytest.raises(ValueError, match="margin must be >= 0"):
        module.contrastive(labels, pairs, margin=-1.0)
